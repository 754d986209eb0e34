//! Read-your-writes pins shared through Redis (see `crate::replica`): the WAL position a
//! principal's last write reached, so any instance can tell whether a replica has it yet.

use std::time::Duration;

use super::redis_tier::Call;
use super::{RecordCache, Tier};

/// What the shared tier knows of a principal's last write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PinLookup {
    /// The WAL position (0: no write within the pin's lifetime).
    Found(u64),
    /// No shared tier: this instance's own pins are all there is.
    NotShared,
    /// The shared tier is unreachable: a write through another instance may be missing.
    Unknown,
}

/// Raises the pin, never lowers it: two writes finishing out of order leave the later one.
const RAISE: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1";

impl RecordCache {
    pub(crate) async fn pin(&self, principal: &str) -> PinLookup {
        let Tier::Redis(tier, _) = &self.inner.tier else {
            return PinLookup::NotShared;
        };
        let mut cmd = redis::cmd("GET");
        cmd.arg(tier.named_key("pin", principal));
        match tier.run(&cmd, Call::Read, 1).await {
            Ok(v) => match redis::from_redis_value::<Option<u64>>(v) {
                Ok(lsn) => PinLookup::Found(lsn.unwrap_or(0)),
                Err(_) => PinLookup::Unknown,
            },
            Err(_) => PinLookup::Unknown,
        }
    }

    /// Shares a writer's pin. A failure is not the writer's: its write is committed, and every
    /// instance reads from the primary while the shared tier is down.
    pub(crate) async fn set_pin(&self, principal: &str, lsn: u64, ttl: Duration) {
        let Tier::Redis(tier, _) = &self.inner.tier else {
            return;
        };
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(RAISE)
            .arg(1)
            .arg(tier.named_key("pin", principal))
            .arg(lsn)
            .arg(ttl.as_secs().max(1));
        let _ = tier.run(&cmd, Call::Invalidate, 1).await;
    }
}
