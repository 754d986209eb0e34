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

/// What selection looks at of one relevant series, copied out of its evaluation
/// and forecast so that the comparisons below read one small record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cand {
    /// Index of the series in the antigen's series.
    pub index: usize,
    pub status: SeriesStatus,
    pub valid: u32,
    /// Target doses not yet satisfied.
    pub remaining: usize,
    pub earliest: Option<Day>,
}

impl Cand {
    pub fn new(all: &[Series], index: usize, eval: &Evaluated, forecast: &SeriesForecast) -> Self {
        Cand {
            index,
            status: forecast.status,
            valid: eval.valid_count,
            remaining: all[index].doses.len().saturating_sub(eval.next),
            earliest: forecast.dates.earliest,
        }
    }
    fn done(&self) -> bool {
        matches!(self.status, SeriesStatus::Complete | SeriesStatus::Immune)
    }
}

/// The relevant series of an antigen with their candidates.
#[derive(Clone, Copy)]
pub(crate) struct Cands<'a> {
    pub all: &'a [Series],
    pub list: &'a [Cand],
}

impl<'a> Cands<'a> {
    fn series(&self, pos: usize) -> &'a Series {
        &self.all[self.list[pos].index]
    }
    fn risk(&self, pos: usize) -> bool {
        self.series(pos).series_type == SeriesType::Risk
    }
}

/// A short list of candidate positions on the stack (an antigen has fewer than 32
/// relevant series), so series selection does not allocate.
#[derive(Clone, Copy)]
pub(crate) struct Picks {
    buf: [u8; 32],
    len: usize,
}

impl Picks {
    pub fn new() -> Self {
        Picks {
            buf: [0; 32],
            len: 0,
        }
    }
    pub fn push(&mut self, pos: usize) {
        if self.len < self.buf.len() {
            self.buf[self.len] = pos as u8;
            self.len += 1;
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn first(&self) -> Option<usize> {
        self.iter().next()
    }
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.buf[..self.len].iter().map(|&p| p as usize)
    }
}

/// How complete series compare: most valid doses first, then series preference.
type CompleteRank = (std::cmp::Reverse<u32>, Option<u32>);

/// The prioritized series of the series group at positions `start..end`.
pub(crate) fn prioritized(
    cands: Cands,
    start: usize,
    end: usize,
    ctx: &Ctx,
    first_dose: Option<Day>,
) -> Option<usize> {
    if end - start <= 1 {
        return (start < end).then_some(start);
    }
    // A series the patient started after its maximum age to start is not in process.
    let started_in_time = |pos: usize| {
        cands.risk(pos)
            || first_dose.is_none_or(|d| {
                cands
                    .series(pos)
                    .max_age_to_start
                    .is_none_or(|m| d < ctx.age(m))
            })
    };
    // A complete series wins (the one with the most valid doses, then preference).
    let mut complete: Option<(usize, CompleteRank)> = None;
    let mut in_process = Picks::new();
    for pos in start..end {
        let c = &cands.list[pos];
        if c.done() && started_in_time(pos) {
            let key = (
                std::cmp::Reverse(c.valid),
                cands.series(pos).series_preference,
            );
            if complete.is_none_or(|(_, best)| key < best) {
                complete = Some((pos, key));
            }
        } else if complete.is_none() && c.valid > 0 && started_in_time(pos) {
            in_process.push(pos);
        }
    }
    if let Some((pos, _)) = complete {
        return Some(pos);
    }
    // In-process series (at least one valid dose) are scored.
    match in_process.len() {
        0 => {}
        1 => return in_process.first(),
        _ => return Some(best_by_score(cands, &in_process)),
    }
    // Nothing started: the default series.
    Some(
        (start..end)
            .find(|&pos| cands.series(pos).default_series)
            .unwrap_or(start),
    )
}

fn best_by_score(cands: Cands, ids: &Picks) -> usize {
    let list = cands.list;
    let max_valid = ids.iter().map(|i| list[i].valid).max().unwrap_or(0);
    let min_remaining = ids.iter().map(|i| list[i].remaining).min().unwrap_or(0);
    let score = |c: &Cand| -> i32 {
        i32::from(c.valid == max_valid) + i32::from(c.remaining == min_remaining)
            - i32::from(c.status == SeriesStatus::AgedOut)
    };
    let mut ids = ids.iter();
    let Some(mut best) = ids.next() else {
        return 0;
    };
    let mut best_score = score(&list[best]);
    for i in ids {
        let si = score(&list[i]);
        if si > best_score
            || (si == best_score
                && cands.series(i).series_preference < cands.series(best).series_preference)
        {
            best = i;
            best_score = si;
        }
    }
    best
}

/// The best series across the prioritized series of each group.
pub(crate) fn best(cands: Cands, prioritized: &Picks, ctx: &Ctx) -> Option<usize> {
    let list = cands.list;
    // A series group the patient is too young to start (and has not started) does
    // not compete yet (e.g. the 50+ pneumococcal group for a child).
    let mut alive = Picks::new();
    for p in prioritized.iter() {
        if list[p].done()
            || cands
                .series(p)
                .min_age_to_start
                .is_none_or(|m| ctx.assessment >= ctx.age(m))
        {
            alive.push(p);
        }
    }
    if alive.len() == 0 {
        alive = *prioritized;
    }
    // A series is unnecessary once a series of one of its equivalent series groups
    // is complete.
    let done_group = |g: u32| {
        alive
            .iter()
            .any(|p| list[p].done() && cands.series(p).series_group == g)
    };
    let mut kept = Picks::new();
    for q in alive.iter() {
        let equivalent = &cands.series(q).equivalent_series_groups;
        if list[q].done() || !equivalent.iter().any(|g| done_group(*g)) {
            kept.push(q);
        }
    }
    // In-process series still due come first, then complete ones, then series
    // not yet started; risk series before standard ones, then the earliest due.
    let due = |started: bool| {
        kept.iter()
            .filter(|&i| {
                list[i].status == SeriesStatus::NotComplete && (list[i].valid > 0) == started
            })
            .min_by_key(|&i| {
                (
                    !cands.risk(i),
                    list[i].earliest,
                    cands.series(i).series_group,
                )
            })
    };
    due(true)
        .or_else(|| {
            kept.iter()
                .filter(|&i| list[i].done())
                .min_by_key(|&i| (!cands.risk(i), cands.series(i).series_group))
        })
        .or_else(|| due(false))
        .or_else(|| kept.first())
        .or_else(|| prioritized.first())
}
