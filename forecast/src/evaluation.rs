//! Evaluate each dose of an antigen against the target doses of one patient series
//! (CDSi chapter 6): conditional skip, age (with the four-day grace period between
//! the absolute minimum and the minimum), preferable and allowable intervals, live
//! virus conflicts, preferable and allowable vaccines.

use crate::context::{in_effect, Ctx, Dose};
use crate::day::Day;
use crate::interval::reference_date;
use crate::schedule::compiled::{AgeReq, Series, TargetDose};
use crate::schedule::Schedule;
use crate::skip::{should_skip, SkipInput};
use crate::types::EvaluationStatus;

/// Why a dose got its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    None,
    TooYoung,
    TooOld,
    TooSoon,
    LiveVirusConflict,
    NotPreferableOrAllowable,
    Inadvertent,
    SeriesComplete,
    GracePeriod,
}

impl Reason {
    #[inline]
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Reason::None => return None,
            Reason::TooYoung => "Too young",
            Reason::TooOld => "Too old",
            Reason::TooSoon => "Too soon",
            Reason::LiveVirusConflict => "Live virus conflict",
            Reason::NotPreferableOrAllowable => "Not a preferable or allowable vaccine",
            Reason::Inadvertent => "Inadvertent administration",
            Reason::SeriesComplete => "Not needed: series already complete",
            Reason::GracePeriod => "Grace period",
        })
    }
}

/// The result of evaluating one patient series.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluated {
    pub statuses: Vec<EvaluationStatus>,
    pub reasons: Vec<Reason>,
    /// Per target dose: the date of the dose that satisfied it.
    pub satisfied: Vec<Option<Day>>,
    /// Index of the next unsatisfied target dose after evaluation.
    pub next: usize,
    pub valid_count: u32,
    /// Valid doses that satisfied the current (recurring) target dose.
    pub recurring_hits: u32,
    /// Index of the last dose usable as "previous dose" for intervals.
    pub previous: Option<usize>,
}

/// Selects the age requirement in effect at `date`.
#[inline]
pub(crate) fn age_at(dose: &TargetDose, date: Day) -> Option<&AgeReq> {
    match dose.ages.as_slice() {
        // A single requirement applies whether in effect or not.
        [only] => Some(only),
        ages => ages
            .iter()
            .find(|a| in_effect(date, a.effective, a.cessation))
            .or(ages.first()),
    }
}

/// Evaluates `doses` (one antigen's, in date order) against `series`.
pub(crate) fn evaluate(
    schedule: &Schedule,
    ctx: &Ctx,
    series: &Series,
    doses: &[Dose],
    completed_groups: &[(u32, Day)],
    out: &mut Evaluated,
) {
    let n = series.doses.len();
    out.statuses.clear();
    out.reasons.clear();
    out.satisfied.clear();
    out.satisfied.resize(n, None);
    out.valid_count = 0;
    out.recurring_hits = 0;
    out.previous = None;
    let mut t = 0usize;
    let mut ages: Option<(&AgeReq, AgeDates)> = None;
    for (i, dose) in doses.iter().enumerate() {
        while t < n && !series.doses[t].evaluation_skips.is_empty() {
            let input = SkipInput {
                ctx,
                doses: &doses[..i],
                statuses: &out.statuses[..i],
                valid: out.valid_count,
                reference: dose.date,
                completed_groups,
                inclusive: false,
            };
            if should_skip(&series.doses[t].evaluation_skips, &input) {
                t += 1;
            } else {
                break;
            }
        }
        if t >= n {
            out.statuses.push(EvaluationStatus::Extraneous);
            out.reasons.push(Reason::SeriesComplete);
            continue;
        }
        let td = &series.doses[t];
        if td.inadvertent_vaccines.contains(dose.cvx) {
            out.statuses.push(EvaluationStatus::NotValid);
            out.reasons.push(Reason::Inadvertent);
            continue;
        }
        let reason = evaluate_dose(schedule, ctx, td, doses, i, out, &mut ages);
        if reason == Reason::TooOld {
            // Given past the target dose's maximum age: it cannot count (CDSi: extraneous).
            out.statuses.push(EvaluationStatus::Extraneous);
            out.reasons.push(reason);
            continue;
        }
        if matches!(reason, Reason::None | Reason::GracePeriod) {
            out.statuses.push(EvaluationStatus::Valid);
            out.satisfied[t] = Some(dose.date);
            out.valid_count += 1;
            if td.recurring {
                out.recurring_hits += 1;
            } else {
                out.recurring_hits = 0;
                t += 1;
            }
        } else {
            out.statuses.push(EvaluationStatus::NotValid);
        }
        out.reasons.push(reason);
        out.previous = Some(i);
    }
    out.next = t;
}

/// Resolved minimum, absolute minimum and maximum age dates.
type AgeDates = (Option<Day>, Option<Day>, Option<Day>);

#[allow(clippy::too_many_arguments)]
fn evaluate_dose<'s>(
    schedule: &Schedule,
    ctx: &Ctx,
    td: &'s TargetDose,
    doses: &[Dose],
    i: usize,
    ev: &Evaluated,
    ages: &mut Option<(&'s AgeReq, AgeDates)>,
) -> Reason {
    let dose = &doses[i];
    let date = dose.date;
    let mut grace = false;
    // Age.
    if let Some(age) = age_at(td, date) {
        // The age dates of one age requirement are resolved once per series
        // evaluation (consecutive doses usually face the same target dose).
        let (min, abs_min, max) = match ages {
            Some((p, dates)) if std::ptr::eq(*p, age) => *dates,
            _ => {
                let min = age.min.map(|d| ctx.age(d));
                let dates = (
                    min,
                    age.abs_min.map(|d| ctx.age(d)).or(min),
                    age.max.map(|m| ctx.age(m)),
                );
                *ages = Some((age, dates));
                dates
            }
        };
        if abs_min.is_some_and(|a| date < a) {
            return Reason::TooYoung;
        }
        if min.is_some_and(|m| date < m) {
            // Between the absolute minimum and the minimum: the four-day grace period.
            grace = true;
        }
        if max.is_some_and(|m| date >= m) {
            return Reason::TooOld;
        }
    }
    // Preferable intervals, falling back to allowable intervals.
    let previous = ev.previous.map(|p| &doses[p]);
    let mut interval_ok = true;
    for iv in td
        .intervals
        .iter()
        .filter(|iv| in_effect(date, iv.effective, iv.cessation))
    {
        let Some(r) = reference_date(iv, ctx, previous, &ev.satisfied, date, true) else {
            continue;
        };
        let min = iv.min.map(|d| d.after(r));
        let abs_min = match (iv.abs_min, iv.min, min) {
            (None, _, _) => min,
            // Same months: the dates differ by the day terms only.
            (Some(a), Some(m), Some(md)) if a.months == m.months => {
                Some(md.plus_days(a.days - m.days))
            }
            (Some(a), _, _) => Some(a.after(r)),
        };
        if abs_min.is_some_and(|a| date < a) {
            interval_ok = false;
            break;
        }
        if min.is_some_and(|m| date < m) {
            grace = true;
        }
    }
    if !interval_ok {
        let allowed = td
            .allowable_intervals
            .iter()
            .filter(|iv| in_effect(date, iv.effective, iv.cessation))
            .any(|iv| {
                reference_date(iv, ctx, previous, &ev.satisfied, date, true)
                    .is_some_and(|r| iv.abs_min.is_none_or(|a| date >= a.after(r)))
            });
        if !allowed {
            return Reason::TooSoon;
        }
    }
    // Live virus conflicts with any earlier live dose of the patient.
    if let Some(conflicts) = schedule
        .live
        .get(dose.cvx as usize)
        .filter(|c| !c.is_empty())
    {
        for p in ctx.live_doses.iter().take_while(|p| p.date < date) {
            let first = conflicts.partition_point(|c| c.previous_cvx < p.cvx);
            for c in conflicts[first..]
                .iter()
                .take_while(|c| c.previous_cvx == p.cvx)
            {
                let prev_valid = doses
                    .iter()
                    .position(|d| d.index == p.index)
                    .is_none_or(|k| {
                        ev.statuses
                            .get(k)
                            .is_none_or(|s| *s == EvaluationStatus::Valid)
                    });
                let begin = c.begin.after(p.date);
                let end = if prev_valid {
                    c.min_end.after(p.date)
                } else {
                    c.end.after(p.date)
                };
                if date >= begin && date < end {
                    return Reason::LiveVirusConflict;
                }
            }
        }
    }
    // Preferable, then allowable vaccine.
    let preferable = td.preferable_vaccines.iter().any(|v| {
        v.cvx == dose.cvx
            && ctx.within(date, v.window)
            && v.mvx.as_deref().is_none_or(|m| {
                ctx.mvx(dose.index)
                    .is_none_or(|x| x.eq_ignore_ascii_case(m))
            })
    });
    if !preferable {
        let allowable = td
            .allowable_vaccines
            .iter()
            .any(|v| v.cvx == dose.cvx && ctx.within(date, v.window));
        if !allowable {
            return Reason::NotPreferableOrAllowable;
        }
    }
    if grace {
        Reason::GracePeriod
    } else {
        Reason::None
    }
}
