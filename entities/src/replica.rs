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
//!
//! A replica only proposes: what a scan on it returns is re-checked against the row scope on
//! the primary (`Store::admitted_on_primary`), so a lock, an opt-out or a removed guardian
//! link the replica has not replayed yet is never served or counted.
//!
//! Trust: the read URL must be a streaming standby of the primary — in recovery, with the
//! primary's system identifier — at start-up and at every probe. A probe
//! ([`PROBE_INTERVAL`]) also measures the lag as the age of the newest primary WAL position
//! the replica has replayed; past the configured bound, or when the replica stops being a
//! standby (promoted, replaced), scans go to the primary until a probe finds it fit again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use policies::Principal;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cache::{PinLookup, RecordCache};
use crate::StoreError;

/// How long a pin is kept. A replica more than this far behind is a failed replica; reads
/// would then be stale for a writer whose pin expired, which the lag alarm must catch first.
pub(crate) const PIN_TTL: Duration = Duration::from_secs(300);

/// How often the replica's standing and lag are probed.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// A replica pool and the pins of this instance's writers.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) db: DatabaseConnection,
    /// The highest WAL position the replica is known to have replayed. Replay only moves
    /// forward, so a pin at or below it needs no round trip to check.
    replayed: AtomicU64,
    pins: moka::sync::Cache<String, u64>,
    /// Whether the last probe found a standby of the primary within the lag bound.
    fit: AtomicBool,
    max_lag: Duration,
    /// Primary WAL positions and when they were read, oldest first: the lag is the age of
    /// the newest one the replica has replayed.
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// What a replica said about itself.
#[derive(Debug)]
struct Standing {
    in_recovery: bool,
    system_identifier: i64,
    replayed: Option<u64>,
}

/// Where a read runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadTarget {
    Primary,
    Replica,
}

impl Replica {
    /// Connects the replica after proving it is a streaming standby of `primary`, and starts
    /// its probe (which ends when the replica is dropped).
    pub(crate) async fn new(
        db: DatabaseConnection,
        primary: DatabaseConnection,
        max_lag: Duration,
    ) -> Result<Arc<Replica>, StoreError> {
        let expected = system_identifier(&primary).await?;
        let standing = standing(&db).await?;
        refuse_unless_standby(&standing, expected)?;
        let replica = Arc::new(Replica {
            db,
            replayed: AtomicU64::new(standing.replayed.unwrap_or(0)),
            pins: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(PIN_TTL)
                .build(),
            fit: AtomicBool::new(true),
            max_lag,
            samples: Mutex::new(VecDeque::new()),
        });
        tokio::spawn(probe(Arc::downgrade(&replica), primary, expected));
        Ok(replica)
    }

    /// Whether scans may use the replica at all (see the module doc).
    pub(crate) fn is_fit(&self) -> bool {
        self.fit.load(Ordering::Acquire)
    }

    /// One probe: the primary's position now, the replica's standing, the lag.
    async fn check(&self, primary: &DatabaseConnection, expected: i64) -> Result<(), StoreError> {
        let now = write_position(primary).await?;
        let standing = standing(&self.db).await?;
        refuse_unless_standby(&standing, expected)?;
        let replayed = standing.replayed.unwrap_or(0);
        self.replayed.fetch_max(replayed, Ordering::AcqRel);
        let lag = {
            let mut samples = match self.samples.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            samples.push_back((Instant::now(), now));
            lag_of(&mut samples, replayed)
        };
        if lag > self.max_lag {
            return Err(StoreError::Unavailable(format!(
                "the read replica is {} ms behind (bound {} ms)",
                lag.as_millis(),
                self.max_lag.as_millis()
            )));
        }
        Ok(())
    }

    /// Where `principal`'s next scan may run.
    pub(crate) async fn target(&self, principal: &Principal, cache: &RecordCache) -> ReadTarget {
        if !self.is_fit() {
            return ReadTarget::Primary;
        }
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

/// Probes the replica every [`PROBE_INTERVAL`] while it exists; a failed probe takes it out
/// of use (logged once per change), a passing one puts it back.
async fn probe(replica: Weak<Replica>, primary: DatabaseConnection, expected: i64) {
    let mut tick = tokio::time::interval(PROBE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(replica) = replica.upgrade() else {
            return;
        };
        let result = replica.check(&primary, expected).await;
        let was_fit = replica.fit.swap(result.is_ok(), Ordering::AcqRel);
        match result {
            Err(e) if was_fit => {
                tracing::warn!(error = %e, "read replica out of use; scans go to the primary")
            }
            Ok(()) if !was_fit => tracing::info!("read replica back in use"),
            _ => {}
        }
    }
}

/// How old the replica's data may be: the age of the newest primary position in `samples`
/// that it has replayed (everything the primary had then, it has). Older samples are dropped.
/// When it has not reached even the oldest sample, that sample's age: a lower bound that
/// grows until it catches up.
fn lag_of(samples: &mut VecDeque<(Instant, u64)>, replayed: u64) -> Duration {
    while samples.len() > MAX_SAMPLES {
        samples.pop_front();
    }
    while samples.len() > 1 && samples[1].1 <= replayed {
        samples.pop_front();
    }
    match samples.front() {
        // It has the newest sample: nothing is missing.
        Some((_, lsn)) if *lsn <= replayed && samples.len() == 1 => Duration::ZERO,
        Some((at, _)) => at.elapsed(),
        None => Duration::ZERO,
    }
}

/// Samples kept at most (a replica this far behind is long out of use).
const MAX_SAMPLES: usize = 10_000;

/// Refuses a database that is not a streaming standby of the primary whose system identifier
/// is `expected`: a restored copy, a logical subscriber or another database of the primary's
/// own cluster is not in recovery; a standby of another cluster has another identifier.
fn refuse_unless_standby(standing: &Standing, expected: i64) -> Result<(), StoreError> {
    if !standing.in_recovery {
        return Err(StoreError::Invalid(
            "DATABASE_READ_URL is not a streaming standby (pg_is_in_recovery() is false):              a primary, a restored copy or a logical subscriber is not a read replica"
                .into(),
        ));
    }
    if standing.system_identifier != expected {
        return Err(StoreError::Invalid(format!(
            "DATABASE_READ_URL is a standby of another cluster (system identifier {}, the              primary's is {expected})",
            standing.system_identifier
        )));
    }
    Ok(())
}

async fn system_identifier(db: &DatabaseConnection) -> Result<i64, StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT system_identifier AS id FROM pg_control_system()",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no system identifier returned".into()))?;
    Ok(row.try_get("", "id")?)
}

async fn standing(db: &DatabaseConnection) -> Result<Standing, StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_is_in_recovery() AS in_recovery, \
                    (SELECT system_identifier FROM pg_control_system()) AS id, \
                    pg_last_wal_replay_lsn()::text AS lsn",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no replica standing returned".into()))?;
    let lsn: Option<String> = row.try_get("", "lsn")?;
    Ok(Standing {
        in_recovery: row.try_get("", "in_recovery")?,
        system_identifier: row.try_get("", "id")?,
        replayed: lsn.as_deref().and_then(parse_lsn),
    })
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

/// How far the replica has replayed. Only a standby is used (see [`refuse_unless_standby`]);
/// a database that stopped being one reports nothing replayed until a probe retires it.
async fn replay_position(replica: &DatabaseConnection) -> Result<u64, StoreError> {
    position(
        replica,
        "SELECT COALESCE(pg_last_wal_replay_lsn(), '0/0'::pg_lsn)::text AS lsn",
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
    use super::{lag_of, parse_lsn};
    use std::collections::VecDeque;
    use std::time::{Duration, Instant};

    #[test]
    fn lag_is_the_age_of_the_newest_replayed_primary_position() {
        let now = Instant::now();
        let ago = |ms| now - Duration::from_millis(ms);
        let mut samples: VecDeque<_> = [(ago(3000), 10), (ago(2000), 20), (ago(1000), 30)].into();
        // Caught up with the newest: no lag, and only that sample is kept.
        assert_eq!(lag_of(&mut samples.clone(), 30), Duration::ZERO);
        // Has 20 but not 30: as old as the sample of 20.
        let lag = lag_of(&mut samples, 25);
        assert!(lag >= Duration::from_millis(2000) && lag < Duration::from_millis(2900));
        assert_eq!(samples.len(), 2);
        // Behind every sample: at least as old as the oldest.
        let mut behind: VecDeque<_> = [(ago(5000), 10), (ago(10), 11)].into();
        assert!(lag_of(&mut behind, 5) >= Duration::from_millis(5000));
    }

    #[test]
    fn lsns_order_as_the_wal() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1/100000000"), None);
    }
}
