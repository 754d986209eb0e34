//! The gateway instances under test: `izgraph serve` processes, as deployed, not the
//! `Application` in-process, so the two instances share nothing but PostgreSQL, Redis and
//! the signing key, and the load generator's own CPU use is not inside their runtime.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long an instance may take to print its address and then answer `/readyz`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("starting {path}: {source} (build it with `cargo build --release -p gateway`, or pass --izgraph PATH)")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("gateway {index} did not print its address within {START_TIMEOUT:?}; its log:\n{log}")]
    NoAddress { index: usize, log: String },
    #[error("gateway {index} at {base} was not ready within {START_TIMEOUT:?}; its log:\n{log}")]
    NotReady {
        index: usize,
        base: String,
        log: String,
    },
    #[error("gateway log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One running instance.
#[derive(Debug)]
pub struct Instance {
    pub base: String,
    pub log: PathBuf,
    child: Child,
}

/// The running instances. Dropping this kills them (`kill_on_drop`), so an error or a
/// ctrl-c anywhere in the benchmark leaves no gateway behind.
#[derive(Debug, Default)]
pub struct Gateways {
    pub instances: Vec<Instance>,
}

/// The last lines of a log, for an error message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Gateways {
    /// Starts `count` instances of `izgraph serve` with `env`, each on a free loopback port,
    /// logging to `log_dir`, and waits until every one answers `/readyz`.
    pub async fn start(
        izgraph: &Path,
        env: &[(&str, String)],
        count: usize,
        log_dir: &Path,
    ) -> Result<Gateways, GatewayError> {
        let mut gateways = Gateways::default();
        let mut stdouts = Vec::new();
        for index in 0..count {
            let log = log_dir.join(format!("gateway-{index}.log"));
            let file = std::fs::File::create(&log).map_err(|source| GatewayError::Log {
                path: log.clone(),
                source,
            })?;
            let mut child = Command::new(izgraph)
                .arg("serve")
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .env("IZGRAPH_LISTEN", "127.0.0.1:0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(file))
                .kill_on_drop(true)
                .spawn()
                .map_err(|source| GatewayError::Spawn {
                    path: izgraph.to_owned(),
                    source,
                })?;
            stdouts.push(child.stdout.take());
            gateways.instances.push(Instance {
                base: String::new(),
                log,
                child,
            });
        }
        for (index, (instance, stdout)) in gateways.instances.iter_mut().zip(stdouts).enumerate() {
            let no_address = || GatewayError::NoAddress {
                index,
                log: tail(&instance.log),
            };
            let mut lines = BufReader::new(stdout.ok_or_else(no_address)?).lines();
            let address = tokio::time::timeout(START_TIMEOUT, async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(rest) = line.split_once("listening on ").map(|(_, r)| r) {
                        return rest.strip_suffix("/graphql").map(str::to_owned);
                    }
                }
                None
            })
            .await
            .ok()
            .flatten()
            .ok_or_else(no_address)?;
            instance.base = address;
            // Keep reading so a later line on stdout never meets a closed pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        }
        let client = reqwest::Client::new();
        for (index, instance) in gateways.instances.iter().enumerate() {
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                let ready = client
                    .get(format!("{}/readyz", instance.base))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(GatewayError::NotReady {
                        index,
                        base: instance.base.clone(),
                        log: tail(&instance.log),
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(gateways)
    }

    pub fn bases(&self) -> Vec<String> {
        self.instances.iter().map(|i| i.base.clone()).collect()
    }

    /// Stops every instance and waits for it to exit.
    pub async fn stop(mut self) {
        for instance in &mut self.instances {
            let _ = instance.child.kill().await;
        }
    }
}
