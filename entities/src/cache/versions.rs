//! Version stamps: what makes a cached record provably current.
//!
//! Every cached record is stored under the stamp its person had when the read that filled it
//! began, and is served only while that stamp is still the person's stamp. A write gives the
//! person a fresh random stamp after it commits and before it acknowledges, so a fill racing
//! with a write can at worst store a record nobody will ever read again.
//!
//! Stamps expire (they would otherwise accumulate for every person ever written), and an
//! expired stamp reads as 0 again. That is safe because stamps live longer than records: a
//! record stored under 0 before a write has expired before that write's stamp does.

use std::time::Duration;

use uuid::Uuid;

/// A new stamp: random, so two instances never hand out the same one, and never 0 (which
/// means "no write within the stamp lifetime").
pub(crate) fn fresh_version() -> u64 {
    rand::random::<u64>() | 1
}

/// The in-process stamps of the memory backend.
pub(crate) struct MemoryVersions {
    stamps: moka::sync::Cache<Uuid, u64>,
}

impl MemoryVersions {
    pub(crate) fn new(ttl: Duration) -> MemoryVersions {
        MemoryVersions {
            stamps: moka::sync::Cache::builder().time_to_live(ttl).build(),
        }
    }

    pub(crate) fn get(&self, id: Uuid) -> u64 {
        self.stamps.get(&id).unwrap_or(0)
    }

    pub(crate) fn restamp(&self, id: Uuid) {
        self.stamps.insert(id, fresh_version());
    }
}
