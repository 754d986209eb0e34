//! Select the best patient series (CDSi chapter 8): one prioritized series per
//! series group (complete first, then in-process by score, then the series the
//! patient may start now), then one best series across the groups.

use crate::context::Ctx;
use crate::day::Day;
use crate::evaluation::Evaluated;
use crate::forecasting::SeriesForecast;
use crate::schedule::compiled::Series;
use crate::schedule::model::SeriesType;
use crate::types::SeriesStatus;

/// A candidate: a relevant series with its evaluation and forecast.
#[derive(Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub series: &'a Series,
    pub eval: &'a Evaluated,
    pub forecast: &'a SeriesForecast,
}

/// The relevant series of an antigen as parallel slices (no per-antigen
/// allocation): candidate `k` is `all[relevant[k]]`, `evals[k]`, `forecasts[k]`.
pub(crate) struct Cands<'a> {
    pub all: &'a [Series],
    pub relevant: &'a [usize],
    pub evals: &'a [Evaluated],
    pub forecasts: &'a [SeriesForecast],
}

impl<'a> Cands<'a> {
    #[inline]
    pub fn at(&self, k: usize) -> Candidate<'a> {
        Candidate {
            series: &self.all[self.relevant[k]],
            eval: &self.evals[k],
            forecast: &self.forecasts[k],
        }
    }
}

/// A small fixed-capacity list of indices on the stack (series groups have
/// < 32 series), so series selection does not allocate.
#[derive(Clone, Copy)]
pub(crate) struct Idx {
    buf: [usize; 32],
    len: usize,
}

impl Idx {
    pub fn collect(it: impl Iterator<Item = usize>) -> Self {
        let mut i = Idx {
            buf: [0; 32],
            len: 0,
        };
        for v in it {
            if i.len < 32 {
                i.buf[i.len] = v;
                i.len += 1;
            }
        }
        i
    }
    pub fn as_slice(&self) -> &[usize] {
        &self.buf[..self.len]
    }
    /// Keeps the entries whose position has its bit set in `mask`.
    pub fn retain_positions(&mut self, mask: u64) {
        let mut w = 0;
        for r in 0..self.len {
            if mask & (1 << r) != 0 {
                self.buf[w] = self.buf[r];
                w += 1;
            }
        }
        self.len = w;
    }
}

fn done(s: SeriesStatus) -> bool {
    matches!(s, SeriesStatus::Complete | SeriesStatus::Immune)
}

/// The prioritized series of one series group (`members` index `cands`).
pub(crate) fn prioritized(
    cands: &Cands,
    members: &[usize],
    ctx: &Ctx,
    first_dose: Option<Day>,
) -> Option<usize> {
    if members.len() <= 1 {
        return members.first().copied();
    }
    let pref = |i: &&usize| cands.at(**i).series.series_preference;
    // A series the patient started after its maximum age to start is not in process.
    let started_in_time = |i: usize| {
        let s = cands.at(i).series;
        s.series_type == SeriesType::Risk
            || first_dose.is_none_or(|d| s.max_age_to_start.is_none_or(|m| d < ctx.age(m)))
    };
    // A complete series wins (the one with the most valid doses, then preference).
    if let Some(c) = members
        .iter()
        .filter(|&&i| done(cands.at(i).forecast.status) && started_in_time(i))
        .min_by_key(|i| (std::cmp::Reverse(cands.at(**i).eval.valid_count), pref(i)))
    {
        return Some(*c);
    }
    // In-process series (at least one valid dose) are scored.
    let in_process = Idx::collect(
        members
            .iter()
            .copied()
            .filter(|&i| cands.at(i).eval.valid_count > 0 && started_in_time(i)),
    );
    let in_process = in_process.as_slice();
    match in_process.len() {
        0 => {}
        1 => return Some(in_process[0]),
        _ => return Some(best_by_score(cands, in_process)),
    }
    // Nothing started: the default series.
    members
        .iter()
        .find(|&&i| cands.at(i).series.default_series)
        .or(members.first())
        .copied()
}

fn best_by_score(cands: &Cands, ids: &[usize]) -> usize {
    let max_valid = ids
        .iter()
        .map(|&i| cands.at(i).eval.valid_count)
        .max()
        .unwrap_or(0);
    let remaining = |i: usize| {
        cands
            .at(i)
            .series
            .doses
            .len()
            .saturating_sub(cands.at(i).eval.next)
    };
    let min_remaining = ids.iter().map(|&i| remaining(i)).min().unwrap_or(0);
    let score = |i: usize| -> i32 {
        let c = &cands.at(i);
        let mut s = 0;
        if c.eval.valid_count == max_valid {
            s += 1;
        }
        if remaining(i) == min_remaining {
            s += 1;
        }
        if c.forecast.status == SeriesStatus::AgedOut {
            s -= 1;
        }
        s
    };
    let mut best = ids[0];
    for &i in &ids[1..] {
        let (sb, si) = (score(best), score(i));
        if si > sb
            || (si == sb
                && cands.at(i).series.series_preference < cands.at(best).series.series_preference)
        {
            best = i;
        }
    }
    best
}

/// The best series across the prioritized series of each group.
pub(crate) fn best(cands: &Cands, prioritized: &[usize], ctx: &Ctx) -> Option<usize> {
    // A series group the patient is too young to start (and has not started) does
    // not compete yet (e.g. the 50+ pneumococcal group for a child).
    let mut alive = Idx::collect(prioritized.iter().copied().filter(|&p| {
        let c = &cands.at(p);
        done(c.forecast.status)
            || c.series
                .min_age_to_start
                .is_none_or(|m| ctx.assessment >= ctx.age(m))
    }));
    if alive.as_slice().is_empty() {
        alive = Idx::collect(prioritized.iter().copied());
    }
    // A series is unnecessary once a series of one of its equivalent series groups
    // is complete.
    let mut keep = 0u64;
    {
        let snapshot = alive.as_slice();
        let done_group = |g: u32| {
            snapshot
                .iter()
                .any(|&p| done(cands.at(p).forecast.status) && cands.at(p).series.series_group == g)
        };
        for (pos, &q) in snapshot.iter().enumerate() {
            if done(cands.at(q).forecast.status)
                || !cands
                    .at(q)
                    .series
                    .equivalent_series_groups
                    .iter()
                    .any(|g| done_group(*g))
            {
                keep |= 1 << pos;
            }
        }
    }
    alive.retain_positions(keep);
    // In-process series still due come first, then complete ones, then series
    // not yet started; risk series before standard ones, then the earliest due.
    let due = |started: bool| {
        alive
            .as_slice()
            .iter()
            .copied()
            .filter(|&i| {
                cands.at(i).forecast.status == SeriesStatus::NotComplete
                    && (cands.at(i).eval.valid_count > 0) == started
            })
            .min_by_key(|&i| {
                let c = &cands.at(i);
                (
                    c.series.series_type != SeriesType::Risk,
                    c.forecast.dates.earliest,
                    c.series.series_group,
                )
            })
    };
    if let Some(i) = due(true) {
        return Some(i);
    }
    if let Some(i) = alive
        .as_slice()
        .iter()
        .filter(|&&i| done(cands.at(i).forecast.status))
        .min_by_key(|&&i| {
            (
                cands.at(i).series.series_type != SeriesType::Risk,
                cands.at(i).series.series_group,
            )
        })
    {
        return Some(*i);
    }
    if let Some(i) = due(false) {
        return Some(i);
    }
    alive.as_slice().first().or(prioritized.first()).copied()
}
