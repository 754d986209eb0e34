//! Read replicas: which connection a read runs on.
//!
//! Scans — searches, rosters, access-log queries, directory lists — run on the replica, where
//! they cost the primary nothing. Lookups of records by id stay on the primary: the record
//! cache absorbs them, and a record read from a lagging replica could be stored in the cache
//! under a stamp a newer write already made, serving the old record to everyone.
//!
//! Read-your-writes: every write remembers, per principal, the primary's WAL position after it
//! committed (a *pin*). Until the replica has replayed that far, the principal's scans go to the
//! primary. With Redis the pins are shared, so the instance a load balancer picks for the next
//! request knows of the write made through another; when Redis is unreachable, nobody can tell
//! whose writes a replica lacks, so every scan goes to the primary until it is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use policies::Principal;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cache::{PinLookup, RecordCache};
use crate::StoreError;

/// How long a pin is kept. A replica more than this far behind is a failed replica; reads
/// would then be stale for a writer whose pin expired, which the lag alarm must catch first.
pub(crate) const PIN_TTL: Duration = Duration::from_secs(300);

/// A replica pool and the pins of this instance's writers.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) db: DatabaseConnection,
    /// The highest WAL position the replica is known to have replayed. Replay only moves
    /// forward, so a pin at or below it needs no round trip to check.
    replayed: AtomicU64,
    pins: moka::sync::Cache<String, u64>,
}

/// Where a read runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadTarget {
    Primary,
    Replica,
}

impl Replica {
    pub(crate) fn new(db: DatabaseConnection) -> Replica {
        Replica {
            db,
            replayed: AtomicU64::new(0),
            pins: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(PIN_TTL)
                .build(),
        }
    }

    /// Where `principal`'s next scan may run.
    pub(crate) async fn target(&self, principal: &Principal, cache: &RecordCache) -> ReadTarget {
        let key = principal_key(principal);
        let local = self.pins.get(&key).unwrap_or(0);
        let shared = match cache.pin(&key).await {
            PinLookup::Found(lsn) => lsn,
            PinLookup::NotShared => 0,
            PinLookup::Unknown => return ReadTarget::Primary,
        };
        let needed = local.max(shared);
        if needed == 0 || needed <= self.replayed.load(Ordering::Acquire) {
            return ReadTarget::Replica;
        }
        match replay_position(&self.db).await {
            Ok(at) => {
                self.replayed.fetch_max(at, Ordering::AcqRel);
                if at >= needed {
                    self.pins.invalidate(&key);
                    ReadTarget::Replica
                } else {
                    ReadTarget::Primary
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "read replica unreachable; reading from the primary");
                ReadTarget::Primary
            }
        }
    }

    /// Remembers that `principal` wrote up to `lsn` on the primary.
    pub(crate) async fn pin(&self, principal: &Principal, lsn: u64, cache: &RecordCache) {
        let key = principal_key(principal);
        let kept = self.pins.get(&key).unwrap_or(0);
        self.pins.insert(key.clone(), kept.max(lsn));
        cache.set_pin(&key, lsn, PIN_TTL).await;
    }
}

/// One writer: the same person using the same role for the same organization.
fn principal_key(p: &Principal) -> String {
    let org = p.org.map(|o| o.simple().to_string()).unwrap_or_default();
    format!("{}:{org}:{}", p.role.as_str(), p.subject)
}

/// The primary's current WAL position (after a commit: at or past that commit).
pub(crate) async fn write_position(primary: &DatabaseConnection) -> Result<u64, StoreError> {
    position(primary, "SELECT pg_current_wal_lsn()::text AS lsn").await
}

/// How far the replica has replayed. A database that is not in recovery (a replica URL that
/// names a primary) has everything it wrote.
async fn replay_position(replica: &DatabaseConnection) -> Result<u64, StoreError> {
    position(
        replica,
        "SELECT COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text AS lsn",
    )
    .await
}

async fn position(db: &DatabaseConnection, sql: &str) -> Result<u64, StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no WAL position returned".into()))?;
    let text: String = row.try_get("", "lsn")?;
    parse_lsn(&text).ok_or_else(|| StoreError::Corrupt(format!("WAL position `{text}`")))
}

/// `16/B374D848` → one number, ordered as the WAL is.
fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    (hi <= u64::from(u32::MAX) && lo <= u64::from(u32::MAX)).then_some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn lsns_order_as_the_wal() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1/100000000"), None);
    }
}
