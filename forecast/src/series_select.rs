//! Select the best patient series (CDSi chapter 8): one prioritized series per
//! series group (complete first, then in-process by score, then the series the
//! patient may start now), then one best series across the groups.

use crate::context::Ctx;
use crate::evaluation::Evaluated;
use crate::forecasting::SeriesForecast;
use crate::schedule::model::{SeriesData, SeriesType};
use crate::types::SeriesStatus;

/// A candidate: a relevant series with its evaluation and forecast.
pub(crate) struct Candidate<'a> {
    pub series: &'a SeriesData,
    pub eval: &'a Evaluated,
    pub forecast: SeriesForecast,
}

fn done(s: SeriesStatus) -> bool {
    matches!(s, SeriesStatus::Complete | SeriesStatus::Immune)
}

/// The prioritized series of one series group (`members` index `cands`).
pub(crate) fn prioritized(
    cands: &[Candidate],
    members: &[usize],
    ctx: &Ctx,
    first_dose: Option<chrono::NaiveDate>,
) -> Option<usize> {
    if members.len() <= 1 {
        return members.first().copied();
    }
    let pref = |i: &&usize| cands[**i].series.series_preference;
    // A series the patient started after its maximum age to start is not in process.
    let started_in_time = |i: usize| {
        let s = cands[i].series;
        s.series_type == SeriesType::Risk
            || first_dose.is_none_or(|d| ctx.age_in(d, None, s.max_age_to_start))
    };
    // A complete series wins (the one with the most valid doses, then preference).
    if let Some(c) = members
        .iter()
        .filter(|&&i| done(cands[i].forecast.status) && started_in_time(i))
        .min_by_key(|i| (std::cmp::Reverse(cands[**i].eval.valid_count), pref(i)))
    {
        return Some(*c);
    }
    // In-process series (at least one valid dose) are scored.
    let in_process: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| cands[i].eval.valid_count > 0 && started_in_time(i))
        .collect();
    match in_process.len() {
        0 => {}
        1 => return Some(in_process[0]),
        _ => return Some(best_by_score(cands, &in_process)),
    }
    // Nothing started: the default series.
    members
        .iter()
        .find(|&&i| cands[i].series.default_series)
        .or(members.first())
        .copied()
}

fn best_by_score(cands: &[Candidate], ids: &[usize]) -> usize {
    let max_valid = ids
        .iter()
        .map(|&i| cands[i].eval.valid_count)
        .max()
        .unwrap_or(0);
    let remaining = |i: usize| {
        cands[i]
            .series
            .doses
            .len()
            .saturating_sub(cands[i].eval.next)
    };
    let min_remaining = ids.iter().map(|&i| remaining(i)).min().unwrap_or(0);
    let score = |i: usize| -> i32 {
        let c = &cands[i];
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
                && cands[i].series.series_preference < cands[best].series.series_preference)
        {
            best = i;
        }
    }
    best
}

/// The best series across the prioritized series of each group.
pub(crate) fn best(cands: &[Candidate], prioritized: &[usize], ctx: &Ctx) -> Option<usize> {
    // A series group the patient is too young to start (and has not started) does
    // not compete yet (e.g. the 50+ pneumococcal group for a child).
    let mut alive: Vec<usize> = prioritized
        .iter()
        .copied()
        .filter(|&p| {
            let c = &cands[p];
            done(c.forecast.status)
                || c.series
                    .min_age_to_start
                    .is_none_or(|m| ctx.assessment >= ctx.at_age(m))
        })
        .collect();
    if alive.is_empty() {
        alive = prioritized.to_vec();
    }
    // A series is unnecessary once a series of one of its equivalent series groups
    // is complete.
    let done_groups: Vec<u32> = alive
        .iter()
        .filter(|&&p| done(cands[p].forecast.status))
        .map(|&p| cands[p].series.series_group)
        .collect();
    alive.retain(|&q| {
        done(cands[q].forecast.status)
            || !cands[q]
                .series
                .equivalent_series_groups
                .iter()
                .any(|g| done_groups.contains(g))
    });
    // In-process series still due come first, then complete ones, then series
    // not yet started; risk series before standard ones, then the earliest due.
    let due = |started: bool| {
        alive
            .iter()
            .copied()
            .filter(|&i| {
                cands[i].forecast.status == SeriesStatus::NotComplete
                    && (cands[i].eval.valid_count > 0) == started
            })
            .min_by_key(|&i| {
                let c = &cands[i];
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
        .iter()
        .filter(|&&i| done(cands[i].forecast.status))
        .min_by_key(|&&i| {
            (
                cands[i].series.series_type != SeriesType::Risk,
                cands[i].series.series_group,
            )
        })
    {
        return Some(*i);
    }
    if let Some(i) = due(false) {
        return Some(i);
    }
    alive.first().or(prioritized.first()).copied()
}
