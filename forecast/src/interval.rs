//! Interval reference points (CDSi 6.5): an interval is measured from the previous
//! dose, from the dose that satisfied a given target dose, from the most recent
//! dose of given vaccine types, or from the date of an observation.

use crate::context::{Ctx, Dose};
use crate::day::Day;
use crate::schedule::compiled::{Interval, IntervalFrom};

/// The date an interval is measured from, if it applies.
///
/// `previous` is the previous dose eligible as a reference; `satisfied` holds, per
/// target dose, the date of the dose that satisfied it; `before` bounds the "most
/// recent" search (the date being evaluated, or the assessment date).
#[inline]
pub(crate) fn reference_date(
    iv: &Interval,
    ctx: &Ctx,
    previous: Option<&Dose>,
    satisfied: &[Option<Day>],
    before: Day,
    strictly_before: bool,
) -> Option<Day> {
    match &iv.from {
        IntervalFrom::PreviousDose => previous.map(|d| d.date),
        IntervalFrom::TargetDose(t) => satisfied.get(*t).copied().flatten(),
        // The patient's doses are in date order: the last match is the most recent.
        IntervalFrom::MostRecent(cvx) => ctx
            .doses
            .iter()
            .rev()
            .find(|d| {
                (if strictly_before {
                    d.date < before
                } else {
                    d.date <= before
                }) && cvx.contains(d.cvx)
            })
            .map(|d| d.date),
        // CDSi 6.5: from the date of the relevant observation, when it is known.
        IntervalFrom::Observation(code) => ctx.observation_date(*code),
    }
}
