//! A loopback TCP proxy a test controls, placed between one instance and Redis: it can cut the
//! instance off (a partition) or hold what the instance sends (a Redis that never receives a
//! command), without disturbing other clients of the same server.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const OPEN: u8 = 0;
const HOLD: u8 = 1;
const CUT: u8 = 2;

pub struct TcpProxy {
    port: u16,
    mode: Arc<AtomicU8>,
    /// Bumped to make every live connection re-read the mode (and close when cut).
    changed: watch::Sender<u8>,
}

impl TcpProxy {
    /// Forwards a free loopback port to `127.0.0.1:upstream`.
    pub async fn start(upstream: u16) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let mode = Arc::new(AtomicU8::new(OPEN));
        let (changed, _) = watch::channel(OPEN);
        let (m, tx) = (mode.clone(), changed.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if m.load(Ordering::Acquire) == CUT {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, m.clone(), tx.subscribe()));
            }
        });
        TcpProxy {
            port,
            mode,
            changed,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.set(CUT);
    }

    /// Keeps connections open but forwards nothing the client sends (replies already on the
    /// way still arrive): commands are neither executed nor answered.
    pub fn hold(&self) {
        self.set(HOLD);
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::Release);
        let _ = self.changed.send(mode);
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    mode: Arc<AtomicU8>,
    mut changed: watch::Receiver<u8>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up_mode = mode.clone();
    let mut up_changed = changed.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            tokio::select! {
                n = cr.read(&mut buf) => {
                    let Ok(n) = n else { return };
                    if n == 0 { return; }
                    match up_mode.load(Ordering::Acquire) {
                        OPEN => if sw.write_all(&buf[..n]).await.is_err() { return },
                        HOLD => {} // swallowed: never reaches Redis
                        _ => return,
                    }
                }
                r = up_changed.changed() => {
                    if r.is_err() || up_mode.load(Ordering::Acquire) == CUT { return; }
                }
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            tokio::select! {
                n = sr.read(&mut buf) => {
                    let Ok(n) = n else { return };
                    if n == 0 { return; }
                    if mode.load(Ordering::Acquire) == CUT { return; }
                    if cw.write_all(&buf[..n]).await.is_err() { return; }
                }
                r = changed.changed() => {
                    if r.is_err() || mode.load(Ordering::Acquire) == CUT { return; }
                }
            }
        }
    };
    // Either direction ending closes both halves (they are dropped with this task).
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}
