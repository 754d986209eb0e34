//! One private `redis-server` on a free loopback port.

use std::process::Child;

use super::{free_port, kill, spawn_redis};

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Extra `redis-server` arguments (kept for restarts).
    args: Vec<String>,
}

impl RedisServer {
    /// Starts a server; `None` when `redis-server` is not installed.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_with(&[])
    }

    /// Starts a server with extra arguments (`--requirepass …`, `--maxmemory …`).
    pub fn start_with(args: &[&str]) -> Option<RedisServer> {
        if !super::redis_installed() {
            return None;
        }
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        for _ in 0..10 {
            let port = free_port(0);
            if let Some(child) = spawn_redis(port, &args) {
                return Some(RedisServer {
                    port,
                    child: Some(child),
                    args,
                });
            }
        }
        panic!("redis-server did not start on any of 10 free ports");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    #[allow(dead_code, reason = "not every test binary needs the port")]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (its data is gone: no persistence).
    pub fn stop(&mut self) {
        kill(&mut self.child);
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a
    /// Redis that hangs.
    #[allow(dead_code, reason = "not every test binary pauses a server")]
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a [`RedisServer::pause`]d server.
    #[allow(dead_code, reason = "not every test binary pauses a server")]
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::process::Command::new("kill")
            .arg(which)
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill {which} {pid}");
    }

    /// Starts it again, empty, on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn_redis(self.port, &self.args).expect("restart redis-server"));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.resume();
        }
        self.stop();
    }
}
