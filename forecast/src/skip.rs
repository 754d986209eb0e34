//! Conditional skip (CDSi 6.3 / 7.1): a target dose is skipped when its conditions
//! are met at the reference date — the date administered when evaluating, the
//! assessment date when forecasting.

use crate::context::{in_effect, Ctx, Dose};
use crate::day::Day;
use crate::schedule::compiled::{Condition, ConditionSet, Count, Skip};
use crate::schedule::model::DoseCountLogic;
use crate::types::EvaluationStatus;

/// What a skip condition may look at.
pub(crate) struct SkipInput<'a> {
    pub ctx: &'a Ctx<'a>,
    /// The antigen's doses that count: those before the dose being evaluated, or
    /// all of them when forecasting.
    pub doses: &'a [Dose],
    /// Their evaluation statuses so far (same length as `doses`).
    pub statuses: &'a [EvaluationStatus],
    /// How many of those are valid.
    pub valid: u32,
    pub reference: Day,
    /// Series groups with a complete series, with the date each was completed.
    pub completed_groups: &'a [(u32, Day)],
    /// Whether a series completed on the reference date counts (forecasting) or
    /// only one completed before it (evaluating the dose given that day).
    pub inclusive: bool,
}

/// Is the target dose skipped? `skips` are those of the context (evaluation or
/// forecast) being run.
#[inline]
pub(crate) fn should_skip(skips: &[Skip], input: &SkipInput) -> bool {
    skips.iter().any(|cs| skip_met(cs, input))
}

fn skip_met(cs: &Skip, input: &SkipInput) -> bool {
    if cs.any_set {
        cs.sets.iter().any(|set| set_met(set, input))
    } else {
        cs.sets.iter().all(|set| set_met(set, input))
    }
}

fn set_met(set: &ConditionSet, input: &SkipInput) -> bool {
    if !in_effect(input.reference, set.effective, set.cessation) {
        return false;
    }
    if set.any {
        set.conditions.iter().any(|c| condition_met(c, input))
    } else {
        set.conditions.iter().all(|c| condition_met(c, input))
    }
}

fn condition_met(c: &Condition, input: &SkipInput) -> bool {
    let ctx = input.ctx;
    match c {
        Condition::Age(window) => ctx.within(input.reference, *window),
        Condition::Interval(span) => match (input.doses.last(), span) {
            (Some(prev), Some(span)) => input.reference >= span.after(prev.date),
            _ => false,
        },
        Condition::CompletedSeries(groups) => input.completed_groups.iter().any(|(g, d)| {
            groups.contains(g)
                && (*d < input.reference || (input.inclusive && *d == input.reference))
        }),
        Condition::Count(count) => count_met(count, input),
    }
}

fn count_met(c: &Count, input: &SkipInput) -> bool {
    let count = if c.any_dose {
        // Every dose (or every valid one) counts: known without a pass.
        if c.valid_only {
            input.valid
        } else {
            input.doses.len() as u32
        }
    } else {
        count_doses(c, input)
    };
    match c.logic {
        Some(DoseCountLogic::GreaterThan) => count > c.want,
        Some(DoseCountLogic::EqualTo) => count == c.want,
        Some(DoseCountLogic::LessThan) => count < c.want,
        None => false,
    }
}

fn count_doses(c: &Count, input: &SkipInput) -> u32 {
    let ctx = input.ctx;
    // The age window as dates, resolved once per condition.
    let (from, until) = (ctx.age(c.window.begin), ctx.age(c.window.end));
    let mut count = 0u32;
    for (d, st) in input.doses.iter().zip(input.statuses) {
        if (!c.valid_only || *st == EvaluationStatus::Valid)
            && d.date >= from
            && d.date < until
            && d.date >= c.start
            && d.date < c.end
            && (c.vaccine_types.is_empty() || c.vaccine_types.contains(d.cvx))
        {
            count += 1;
        }
    }
    count
}
