//! A private three-master Redis Cluster on loopback ports (no replicas, no persistence).
//!
//! Nodes are started with a short `cluster-node-timeout`, so an outage test sees both phases of
//! a master's death within a few seconds: first only that master's slots fail, then the
//! survivors mark it failed and refuse every key (`CLUSTERDOWN`) until it is back.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use super::{free_port, kill, redis_cli, redis_installed, spawn_redis};

/// How long the survivors wait before marking a silent master as failed.
pub const NODE_TIMEOUT_MS: u64 = 1000;

/// The cluster bus listens on the client port plus this.
const BUS_OFFSET: u16 = 10000;

struct Node {
    port: u16,
    child: Option<Child>,
}

pub struct RedisCluster {
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// Starts three masters and joins them into a cluster; `None` when `redis-server` is not
    /// installed. Retries with new ports when one was taken between picking and binding.
    pub fn start() -> Option<RedisCluster> {
        if !redis_installed() {
            return None;
        }
        for _ in 0..10 {
            let mut cluster = RedisCluster {
                dir: tempfile::tempdir().expect("temp dir"),
                nodes: Vec::new(),
            };
            while cluster.nodes.len() < 3 {
                let port = free_port(BUS_OFFSET);
                if cluster
                    .nodes
                    .iter()
                    .any(|n| n.port.abs_diff(port) == BUS_OFFSET)
                {
                    continue;
                }
                match spawn_redis(port, &cluster.args(port)) {
                    Some(child) => cluster.nodes.push(Node {
                        port,
                        child: Some(child),
                    }),
                    None => break,
                }
            }
            if cluster.nodes.len() < 3 {
                continue;
            }
            let addrs: Vec<String> = cluster
                .ports()
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect();
            let mut args = vec!["--cluster", "create"];
            args.extend(addrs.iter().map(String::as_str));
            args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
            let out = redis_cli(cluster.nodes[0].port, &args);
            assert!(
                out.contains("[OK] All 16384 slots covered"),
                "redis-cli --cluster create failed:\n{out}"
            );
            cluster.wait_ok();
            return Some(cluster);
        }
        panic!("the Redis Cluster did not start on any of 10 sets of free ports");
    }

    fn config_file(&self, port: u16) -> PathBuf {
        self.dir.path().join(format!("nodes-{port}.conf"))
    }

    fn args(&self, port: u16) -> Vec<String> {
        vec![
            "--cluster-enabled".into(),
            "yes".into(),
            "--cluster-config-file".into(),
            self.config_file(port).display().to_string(),
            "--cluster-node-timeout".into(),
            NODE_TIMEOUT_MS.to_string(),
            "--dir".into(),
            self.dir.path().display().to_string(),
        ]
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `redis+cluster://h1:p1,h2:p2,h3:p3`.
    pub fn cluster_url(&self) -> String {
        let nodes: Vec<String> = self
            .ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// `redis://h1:p1,redis://h2:p2,redis://h3:p3`: the other way to name a cluster.
    pub fn node_list_url(&self) -> String {
        let nodes: Vec<String> = self
            .ports()
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect();
        nodes.join(",")
    }

    /// Waits until every running node sees the whole cluster healthy: state ok, all slots
    /// served, three masters known.
    pub fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let infos: Vec<String> = self
                .nodes
                .iter()
                .filter(|n| n.child.is_some())
                .map(|n| redis_cli(n.port, &["cluster", "info"]))
                .collect();
            let ok = infos.iter().all(|i| {
                i.contains("cluster_state:ok")
                    && i.contains("cluster_slots_ok:16384")
                    && i.contains("cluster_known_nodes:3")
            });
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not become healthy: {infos:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills master `i`; its data is gone (no persistence), its slots stay assigned to it.
    pub fn stop_node(&mut self, i: usize) {
        kill(&mut self.nodes[i].child);
    }

    /// Starts master `i` again from its `nodes.conf` (same id, same slots, no data) and waits
    /// for the cluster to be healthy.
    pub fn restart_node(&mut self, i: usize) {
        self.stop_node(i);
        let port = self.nodes[i].port;
        let child = spawn_redis(port, &self.args(port)).expect("restart cluster node");
        self.nodes[i].child = Some(child);
        self.wait_ok();
    }

    /// The keys matching `pattern` stored on master `i`.
    pub fn keys_on(&self, i: usize, pattern: &str) -> Vec<String> {
        redis_cli(self.nodes[i].port, &["--scan", "--pattern", pattern])
            .lines()
            .map(str::to_owned)
            .filter(|k| !k.is_empty())
            .collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            kill(&mut node.child);
        }
    }
}
