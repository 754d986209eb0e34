//! `PgCluster`: a private PostgreSQL server on a loopback port, for tests that stop it, restart
//! it or stream it to a replica — things no test may do to the shared server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A PostgreSQL cluster in a temporary directory, stopped on drop.
pub struct PgCluster {
    pub port: u16,
    data: PathBuf,
    bin: PathBuf,
    _dir: tempfile::TempDir,
}

/// PostgreSQL's tools, from `pg_config` or the Debian layout.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect("an initdb under /usr/lib/postgresql")
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs a PostgreSQL tool, as the `postgres` user when the tests run as root (the server
/// refuses to run as root).
fn run(bin: &Path, tool: &str, args: &[&str]) {
    let path = bin.join(tool);
    let mut cmd = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    let out = cmd.args(args).output().expect("run a PostgreSQL tool");
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chown_to_postgres(path: &Path) {
    if running_as_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .expect("chown");
        assert!(status.success(), "chown {path:?}");
    }
}

impl PgCluster {
    /// Creates and starts a new primary (trust authentication, replication allowed).
    pub fn start() -> PgCluster {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("izgraph-pg-")
            .tempdir()
            .expect("temp dir");
        chown_to_postgres(dir.path());
        let data = dir.path().join("data");
        let data_s = data.to_string_lossy().into_owned();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let cluster = PgCluster {
            port: free_port(),
            data,
            bin,
            _dir: dir,
        };
        cluster.configure(&[
            "wal_level = replica",
            "max_wal_senders = 4",
            "max_connections = 60",
            "shared_buffers = 32MB",
        ]);
        cluster.start_server();
        cluster
    }

    /// A streaming replica of this cluster, from `pg_basebackup`, running on its own port.
    pub fn replica(&self) -> PgCluster {
        let dir = tempfile::Builder::new()
            .prefix("izgraph-pg-replica-")
            .tempdir()
            .expect("temp dir");
        chown_to_postgres(dir.path());
        let data = dir.path().join("data");
        let data_s = data.to_string_lossy().into_owned();
        let port = self.port.to_string();
        run(
            &self.bin,
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &data_s,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        let replica = PgCluster {
            port: free_port(),
            data,
            bin: self.bin.clone(),
            _dir: dir,
        };
        replica.configure(&["hot_standby = on"]);
        replica.start_server();
        replica
    }

    /// Appends settings (port and socket directory always) to `postgresql.auto.conf`.
    fn configure(&self, extra: &[&str]) {
        use std::io::Write;
        let socket_dir = self.data.parent().expect("data has a parent");
        let mut lines = vec![
            format!("port = {}", self.port),
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!("unix_socket_directories = '{}'", socket_dir.display()),
            "fsync = on".to_owned(),
        ];
        lines.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.auto.conf"))
            .expect("open postgresql.auto.conf");
        writeln!(f, "\n{}", lines.join("\n")).expect("write settings");
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data_s = self.data.to_string_lossy().into_owned();
        let log = self.data.parent().expect("parent").join("server.log");
        let log_s = log.to_string_lossy().into_owned();
        let mut all = vec!["-D", &data_s, "-l", &log_s];
        all.extend_from_slice(args);
        run(&self.bin, "pg_ctl", &all);
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) {
        self.pg_ctl(&["-w", "-t", "60", "start"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server the way an orchestrator does (`fast`: sessions are terminated,
    /// committed work is kept).
    pub fn stop_server(&self) {
        self.pg_ctl(&["-w", "-t", "60", "-m", "fast", "stop"]);
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` (the server must be a primary).
    pub async fn create_database(&self, name: &str) {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(self.url("postgres"))
            .await
            .expect("connect to the private server");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        admin.close().await.ok();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data_s = self.data.to_string_lossy().into_owned();
        let path = self.bin.join("pg_ctl");
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = cmd
            .args(["-D", &data_s, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
