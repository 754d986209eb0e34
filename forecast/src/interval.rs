//! Interval reference points (CDSi 6.5): an interval is measured from the previous
//! dose, from the dose that satisfied a given target dose, or from the most recent
//! dose of given vaccine types.

use crate::context::{Ctx, Dose};
use crate::schedule::model::IntervalData;
use chrono::NaiveDate;

/// The date an interval is measured from, if it applies.
///
/// `previous` is the previous dose eligible as a reference; `satisfied` holds, per
/// target dose, the date of the dose that satisfied it; `before` bounds the "most
/// recent" search (the date being evaluated, or the assessment date).
#[inline]
pub(crate) fn reference_date(
    iv: &IntervalData,
    ctx: &Ctx,
    previous: Option<&Dose>,
    satisfied: &[Option<NaiveDate>],
    before: NaiveDate,
    strictly_before: bool,
) -> Option<NaiveDate> {
    if iv.from_previous {
        return previous.map(|d| d.date);
    }
    if let Some(t) = iv.from_target_dose {
        return satisfied.get(t as usize - 1).copied().flatten();
    }
    if !iv.from_most_recent.is_empty() {
        return ctx
            .doses
            .iter()
            .filter(|d| {
                (if strictly_before {
                    d.date < before
                } else {
                    d.date <= before
                }) && iv.from_most_recent.contains(&d.cvx)
            })
            .map(|d| d.date)
            .max();
    }
    // Intervals from an observation's date need dated observations (not modelled).
    None
}
