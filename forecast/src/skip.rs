//! Conditional skip (CDSi 6.3 / 7.1): a target dose is skipped when its conditions
//! are met at the reference date — the date administered when evaluating, the
//! assessment date when forecasting.

use crate::context::{in_effect, Ctx, Dose};
use crate::schedule::model::{
    ConditionType, ConditionalSkip, DoseCountLogic, Logic, SkipCondition, SkipContext, SkipSet,
};
use crate::types::EvaluationStatus;
use chrono::NaiveDate;

/// What a skip condition may look at.
pub(crate) struct SkipInput<'a> {
    pub ctx: &'a Ctx<'a>,
    /// The antigen's doses that count: those before the dose being evaluated, or
    /// all of them when forecasting.
    pub doses: &'a [Dose],
    /// Their evaluation statuses so far (same length as `doses`).
    pub statuses: &'a [EvaluationStatus],
    pub reference: NaiveDate,
    /// Series groups with a complete series, with the date each was completed.
    pub completed_groups: &'a [(u32, NaiveDate)],
    /// Whether a series completed on the reference date counts (forecasting) or
    /// only one completed before it (evaluating the dose given that day).
    pub inclusive: bool,
}

/// Is the target dose skipped in `context`?
#[inline]
pub(crate) fn should_skip(
    skips: &[ConditionalSkip],
    context: SkipContext,
    input: &SkipInput,
) -> bool {
    for cs in skips {
        if (cs.context == context || cs.context == SkipContext::Both) && skip_met(cs, input) {
            return true;
        }
    }
    false
}

fn skip_met(cs: &ConditionalSkip, input: &SkipInput) -> bool {
    match cs.set_logic {
        Some(Logic::Or) => {
            for set in &cs.sets {
                if set_met(set, input) {
                    return true;
                }
            }
            false
        }
        Some(Logic::And) => {
            for set in &cs.sets {
                if !set_met(set, input) {
                    return false;
                }
            }
            true
        }
        None => cs.sets.first().is_some_and(|set| set_met(set, input)),
    }
}

fn set_met(set: &SkipSet, input: &SkipInput) -> bool {
    if !in_effect(input.reference, set.effective, set.cessation) {
        return false;
    }
    if set.condition_logic == Some(Logic::Or) {
        for c in &set.conditions {
            if condition_met(c, input) {
                return true;
            }
        }
        false
    } else {
        for c in &set.conditions {
            if !condition_met(c, input) {
                return false;
            }
        }
        true
    }
}

fn condition_met(c: &SkipCondition, input: &SkipInput) -> bool {
    let ctx = input.ctx;
    match c.kind {
        ConditionType::Age => ctx.age_in(input.reference, c.begin_age, c.end_age),
        ConditionType::Interval => match (input.doses.last(), c.interval) {
            (Some(prev), Some(iv)) => input.reference >= iv.add_to(prev.date),
            _ => false,
        },
        ConditionType::CompletedSeries => input.completed_groups.iter().any(|(g, d)| {
            c.series_groups.contains(g)
                && (*d < input.reference || (input.inclusive && *d == input.reference))
        }),
        ConditionType::VaccineCountByAge
        | ConditionType::VaccineCountByDate
        | ConditionType::VaccineCountByDateAndAge => {
            let by_age = c.kind != ConditionType::VaccineCountByDate;
            let by_date = c.kind != ConditionType::VaccineCountByAge;
            // Age window as dates, computed once per condition.
            let from = if by_age {
                c.begin_age.map(|a| ctx.at_age(a))
            } else {
                None
            };
            let until = if by_age {
                c.end_age.map(|a| ctx.at_age(a))
            } else {
                None
            };
            let mut count = 0u32;
            for (d, st) in input.doses.iter().zip(input.statuses) {
                if (!c.valid_only || *st == EvaluationStatus::Valid)
                    && from.is_none_or(|f| d.date >= f)
                    && until.is_none_or(|u| d.date < u)
                    && (!by_date
                        || (c.start_date.is_none_or(|s| d.date >= s)
                            && c.end_date.is_none_or(|e| d.date < e)))
                    && (c.vaccine_types.is_empty() || c.vaccine_types.contains(&d.cvx))
                {
                    count += 1;
                }
            }
            let want = c.dose_count.unwrap_or(0);
            match c.dose_count_logic {
                Some(DoseCountLogic::GreaterThan) => count > want,
                Some(DoseCountLogic::EqualTo) => count == want,
                Some(DoseCountLogic::LessThan) => count < want,
                None => false,
            }
        }
    }
}
