//! Forecasts kept across requests: a value the gateway owns (like the `Store`), bounded in
//! bytes, with counters for metrics, and a per-request limit on distinct assessment dates.
//!
//! Each kept forecast carries the inputs it was computed from and is served only when they
//! equal the record's (see `forecasts`), so what this bounds is memory, never freshness.
//! Weights are estimated from each forecast's own allocations, so a request that asks many
//! dates for many persons evicts older entries instead of growing the process.

use std::borrow::Cow;
use std::collections::HashSet;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use crate::forecasts::{ForecastOf, PersonForecast};
use crate::ApiError;

/// How forecasts are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForecastCacheConfig {
    /// The most memory kept forecasts may take, estimated (0: keep none).
    pub max_bytes: u64,
    /// How long one is kept without being used.
    pub ttl: std::time::Duration,
    /// Distinct `asOf` dates one request may ask forecasts for: each date is a forecast per
    /// person read, so the dates of one request multiply its cost and what it leaves kept.
    pub max_dates_per_request: usize,
}

impl Default for ForecastCacheConfig {
    fn default() -> Self {
        ForecastCacheConfig {
            max_bytes: 64 * 1024 * 1024,
            ttl: std::time::Duration::from_secs(3600),
            max_dates_per_request: 4,
        }
    }
}

/// A snapshot for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForecastCacheStatus {
    pub entries: u64,
    /// Estimated bytes held.
    pub bytes: u64,
    pub max_bytes: u64,
    pub hits: u64,
    pub misses: u64,
    /// Entries removed to stay within `max_bytes`.
    pub evictions: u64,
}

struct Inner {
    config: ForecastCacheConfig,
    kept: moka::sync::Cache<ForecastOf, Arc<PersonForecast>>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: Arc<AtomicU64>,
}

/// The kept forecasts; clones share them.
#[derive(Clone)]
pub struct ForecastCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ForecastCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForecastCache")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Default for ForecastCache {
    fn default() -> Self {
        ForecastCache::new(ForecastCacheConfig::default())
    }
}

impl ForecastCache {
    pub fn new(config: ForecastCacheConfig) -> ForecastCache {
        let evictions = Arc::new(AtomicU64::new(0));
        let counted = evictions.clone();
        let kept = moka::sync::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|_: &ForecastOf, f: &Arc<PersonForecast>| {
                u32::try_from(approx_bytes(f)).unwrap_or(u32::MAX)
            })
            .time_to_live(config.ttl)
            .eviction_listener(move |_, _, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        ForecastCache {
            inner: Arc::new(Inner {
                config,
                kept,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                evictions,
            }),
        }
    }

    pub fn config(&self) -> ForecastCacheConfig {
        self.inner.config
    }

    pub(crate) fn get(&self, key: &ForecastOf) -> Option<Arc<PersonForecast>> {
        let found = self.inner.kept.get(key);
        let counter = if found.is_some() {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub(crate) fn insert(&self, key: ForecastOf, forecast: Arc<PersonForecast>) {
        if self.inner.config.max_bytes > 0 {
            self.inner.kept.insert(key, forecast);
        }
    }

    /// Counters and size (pending evictions applied first, so the size is current).
    pub fn status(&self) -> ForecastCacheStatus {
        let i = &self.inner;
        i.kept.run_pending_tasks();
        ForecastCacheStatus {
            entries: i.kept.entry_count(),
            bytes: i.kept.weighted_size(),
            max_bytes: i.config.max_bytes,
            hits: i.hits.load(Ordering::Relaxed),
            misses: i.misses.load(Ordering::Relaxed),
            evictions: i.evictions.load(Ordering::Relaxed),
        }
    }
}

/// The distinct `asOf` dates a request asked for so far.
#[derive(Debug, Default)]
pub(crate) struct DatesAsked(Mutex<HashSet<NaiveDate>>);

impl DatesAsked {
    /// Notes `date`; refuses it when it would be one distinct date more than `max`.
    pub(crate) fn note(&self, date: NaiveDate, max: usize) -> Result<(), ApiError> {
        let mut dates = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if dates.contains(&date) || dates.len() < max {
            dates.insert(date);
            return Ok(());
        }
        Err(ApiError::BadInput(format!(
            "a request may ask forecasts for at most {max} distinct asOf dates"
        )))
    }
}

#[allow(
    clippy::ptr_arg,
    reason = "only the Cow says whether the text is owned (counted) or static (free)"
)]
fn cow_bytes(c: &Cow<'static, str>) -> usize {
    match c {
        Cow::Owned(s) => s.capacity(),
        Cow::Borrowed(_) => 0,
    }
}

/// What a kept forecast takes in memory: the entry, its key, and everything it allocated.
pub(crate) fn approx_bytes(f: &PersonForecast) -> usize {
    // moka's own bookkeeping per entry, measured roughly.
    const ENTRY_OVERHEAD: usize = 128;
    let fc = &f.forecast;
    let groups: usize = fc
        .vaccine_groups
        .iter()
        .map(|g| {
            g.vaccines.capacity() * size_of::<Cow<'static, str>>()
                + g.vaccines.iter().map(cow_bytes).sum::<usize>()
                + g.reason.as_ref().map_or(0, cow_bytes)
        })
        .sum();
    let doses: usize = fc
        .doses
        .iter()
        .map(|d| {
            d.reason.as_ref().map_or(0, cow_bytes)
                + d.per_antigen
                    .iter()
                    .map(|(_, _, r)| r.as_ref().map_or(0, cow_bytes))
                    .sum::<usize>()
                + if d.per_antigen.len() > 4 {
                    d.per_antigen.len() * size_of::<forecast::AntigenEntry>()
                } else {
                    0
                }
        })
        .sum();
    let findings: usize = f
        .findings
        .iter()
        .map(|c| {
            size_of::<entities::model::contraindication::Model>()
                + c.recorded_by.capacity()
                + c.vaccine_group.as_ref().map_or(0, String::capacity)
                + c.reason.as_ref().map_or(0, String::capacity)
        })
        .sum();
    ENTRY_OVERHEAD
        + size_of::<ForecastOf>()
        + size_of::<PersonForecast>()
        + fc.vaccine_groups.capacity() * size_of::<forecast::VaccineGroupForecast>()
        + groups
        + fc.doses.capacity() * size_of::<forecast::DoseEvaluation>()
        + doses
        + f.dose_ids.capacity() * size_of::<uuid::Uuid>()
        + f.doses_given.capacity() * size_of::<(NaiveDate, String)>()
        + f.doses_given
            .iter()
            .map(|(_, s)| s.capacity())
            .sum::<usize>()
        + findings
        + f.mvx_bytes()
}
