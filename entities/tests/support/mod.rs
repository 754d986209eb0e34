//! Private Redis servers for tests: each test starts its own, so stopping one (to test an
//! outage) disturbs no other test, and no test depends on a shared server's state.

pub mod redis_cluster;
pub mod redis_server;
pub mod store;
#[allow(dead_code, reason = "not every test binary uses the proxy")]
pub mod tcp_proxy;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `redis-server` can be run here. When it cannot, the tests that need a private server
/// say so and skip; when it can, they must pass.
pub fn redis_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A loopback port that was free a moment ago, with `port + offset` free too (a cluster node
/// also listens on its bus port, `port + 10000`). Another process may still take it before
/// the server binds, so callers retry with a new port when the server does not come up.
pub fn free_port(offset: u16) -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("local addr").port();
        if offset == 0 {
            return port;
        }
        let Some(extra) = port.checked_add(offset) else {
            continue;
        };
        if std::net::TcpListener::bind(("127.0.0.1", extra)).is_ok() {
            return port;
        }
    }
}

/// Starts `redis-server` with `args` on `port` and waits until it accepts connections. `None`
/// when it exits first (typically: the port was taken meanwhile).
pub fn spawn_redis(port: u16, args: &[String]) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `redis-cli -p port args…` and returns its standard output.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills a server started by [`spawn_redis`].
pub fn kill(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        c.kill().ok();
        c.wait().ok();
    }
}
