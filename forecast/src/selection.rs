//! Select relevant patient series (CDSi 5.2/8.1): standard series whose gender
//! requirement the patient meets, and risk series the patient has an indication for
//! at the assessment date. Within a series group only the series of the highest
//! series priority (A before B before C) that is relevant are kept.

use crate::context::{Ctx, Dose};
use crate::day::Day;
use crate::schedule::compiled::Series;
use crate::schedule::model::SeriesType;
use crate::schedule::{gender_index, AntigenDef};

/// Pruning (for speed, no effect on results): a non-default standard series the
/// patient is too young to start, or started (or would start) after its maximum age
/// to start, can never be selected, so it is not evaluated.
fn could_matter(series: &Series, ctx: &Ctx, first_dose: Option<Day>) -> bool {
    if series.default_series || series.series_type == SeriesType::Risk {
        return true;
    }
    let start = first_dose.unwrap_or(ctx.assessment);
    if series.max_age_to_start.is_some_and(|m| start >= ctx.age(m)) {
        return false;
    }
    if first_dose.is_none()
        && series
            .min_age_to_start
            .is_some_and(|m| ctx.assessment < ctx.age(m))
    {
        return false;
    }
    true
}

/// Fills `out` with the relevant series for the antigen's doses `recs` (indices
/// into the antigen's series, in series group order), keeping per series group only
/// the best series priority present. One pass, a series group at a time (the
/// series are ordered by group).
pub(crate) fn relevant_series(def: &AntigenDef, ctx: &Ctx, recs: &[Dose], out: &mut Vec<usize>) {
    let all = &def.series;
    let first_dose = recs.first().map(|d| d.date);
    let last_dose = recs.last().map(|d| d.date);
    out.clear();
    // The gender requirement is already applied by `order_by_gender`; without
    // observations no risk series is relevant.
    let order = if ctx.obs.is_empty() {
        &def.standard_by_gender[gender_index(ctx.gender)]
    } else {
        &def.order_by_gender[gender_index(ctx.gender)]
    };
    let mut next = 0;
    while next < order.len() {
        let group = all[order[next]].series_group;
        let start = out.len();
        while let Some(&i) = order.get(next).filter(|&&i| all[i].series_group == group) {
            next += 1;
            let s = &all[i];
            let keep = match s.series_type {
                SeriesType::Risk => {
                    !ctx.obs.is_empty()
                        && s.indications.iter().any(|ind| {
                            ctx.obs.contains(ind.code) && ctx.within(ctx.assessment, ind.window)
                        })
                }
                SeriesType::Standard | SeriesType::EvaluationOnly => {
                    s.default_series || could_matter(s, ctx, first_dose)
                }
            };
            if keep {
                out.push(i);
            }
        }
        if def.mixed_priorities {
            keep_best_priority(def, start, out);
        }
        drop_unreachable(all, ctx, last_dose, start, out);
    }
}

/// Keeps, of the series group at `out[start..]`, only the series of the best
/// priority present.
fn keep_best_priority(def: &AntigenDef, start: usize, out: &mut Vec<usize>) {
    let priority = |i: usize| def.series_meta[i].priority;
    let Some(best) = out[start..].iter().map(|&i| priority(i)).min() else {
        return;
    };
    let mut kept = start;
    for pos in start..out.len() {
        if priority(out[pos]) <= best {
            out[kept] = out[pos];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// Pruning (for speed, no effect on results). Series selection prioritizes in each
/// series group a complete series, else an in-process one (with a valid dose), else
/// the default series, else the group's first. A series that is none of the last
/// two, that no dose of the patient is old enough to count for, and that cannot be
/// complete without a valid dose is never chosen (nor does it complete a group for
/// "completed series" skip conditions), so it is not evaluated. `out[start..]` is
/// one series group.
fn drop_unreachable(
    all: &[Series],
    ctx: &Ctx,
    last_dose: Option<Day>,
    start: usize,
    out: &mut Vec<usize>,
) {
    // Positions (from `start`) of the series no dose can count for.
    let mut hopeless = 0u64;
    for (pos, &i) in out[start..].iter().enumerate().take(64) {
        let s = &all[i];
        if s.prunable && !could_count(s, ctx, last_dose) {
            hopeless |= 1 << pos;
        }
    }
    if hopeless == 0 {
        return;
    }
    let has_default = out[start..].iter().any(|&i| all[i].default_series);
    let mut kept = start;
    for pos in start..out.len() {
        let s = &all[out[pos]];
        let k = pos - start;
        let fallback = s.default_series || (!has_default && k == 0);
        if fallback || k >= 64 || hopeless & (1 << k) == 0 {
            out[kept] = out[pos];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// Could some dose (all are on or before `last_dose`) be old enough to be valid?
fn could_count(s: &Series, ctx: &Ctx, last_dose: Option<Day>) -> bool {
    last_dose.is_some_and(|last| s.first_valid_ages.iter().any(|&a| last >= ctx.age(a)))
}
