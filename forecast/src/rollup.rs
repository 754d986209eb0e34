//! Vaccine group forecast (CDSi chapter 9): a single-antigen group takes its
//! antigen's forecast; a multi-antigen group (MMR, DTaP/Tdap/Td) combines them —
//! any antigen still due makes the group due; when the group must be administered
//! as a whole (MMR) the latest dates win, otherwise the earliest.

use crate::day::Day;
use crate::engine::{AntigenResult, CvxList};
use crate::schedule::{GroupDef, Schedule};
use crate::types::{SeriesStatus, VaccineGroupForecast};
use std::borrow::Cow;

/// The group's antigens that are still due, folded in one pass.
struct Due {
    earliest_min: Option<Day>,
    earliest_max: Option<Day>,
    recommended_min: Option<Day>,
    past_due_min: Option<Day>,
    latest_min: Option<Day>,
    number_min: Option<u32>,
    number_max: Option<u32>,
    vaccines: CvxList,
}

/// The smaller / larger of the values present.
fn min_of<T: Ord>(acc: Option<T>, v: Option<T>) -> Option<T> {
    match (acc, v) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
fn max_of<T: Ord>(acc: Option<T>, v: Option<T>) -> Option<T> {
    match (acc, v) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl Due {
    /// The fold of a single antigen.
    fn of(r: &AntigenResult) -> Self {
        Due {
            earliest_min: r.dates.earliest,
            earliest_max: r.dates.earliest,
            recommended_min: r.dates.recommended,
            past_due_min: r.dates.past_due,
            latest_min: r.dates.latest,
            number_min: r.dose_number,
            number_max: r.dose_number,
            vaccines: r.vaccines,
        }
    }

    fn add(&mut self, r: &AntigenResult) {
        self.earliest_min = min_of(self.earliest_min, r.dates.earliest);
        self.earliest_max = max_of(self.earliest_max, r.dates.earliest);
        self.recommended_min = min_of(self.recommended_min, r.dates.recommended);
        self.past_due_min = min_of(self.past_due_min, r.dates.past_due);
        self.latest_min = min_of(self.latest_min, r.dates.latest);
        self.number_min = min_of(self.number_min, r.dose_number);
        self.number_max = max_of(self.number_max, r.dose_number);
        self.vaccines.extend(r.vaccines.as_slice().iter().copied());
    }
}

pub(crate) fn rollup(
    schedule: &Schedule,
    g: &GroupDef,
    results: &[AntigenResult],
    last_dose: Option<Day>,
) -> VaccineGroupForecast {
    let mut out = VaccineGroupForecast {
        vaccine_group: g.group,
        status: SeriesStatus::NotRecommended,
        dose_number: None,
        earliest_date: None,
        recommended_date: None,
        past_due_date: None,
        latest_date: None,
        vaccines: Vec::new(),
        reason: None,
    };
    // The statuses of the antigens that have a forecast, and the due ones folded.
    let mut first = None;
    let (mut any_contraindicated, mut any_aged_out) = (false, false);
    let (mut all_immune, mut all_done) = (true, true);
    let mut due: Option<Due> = None;
    for r in g.antigens.iter().map(|&a| &results[a as usize]) {
        let Some(s) = r.status else {
            continue;
        };
        any_contraindicated |= s == SeriesStatus::Contraindicated;
        any_aged_out |= s == SeriesStatus::AgedOut;
        all_immune &= s == SeriesStatus::Immune;
        all_done &= matches!(s, SeriesStatus::Complete | SeriesStatus::Immune);
        if s == SeriesStatus::NotComplete {
            match due.as_mut() {
                Some(due) => due.add(r),
                None => due = Some(Due::of(r)),
            }
        }
        first.get_or_insert(s);
    }
    let Some(first) = first else {
        out.reason = Some(Cow::Borrowed("No relevant patient series"));
        return out;
    };
    let status = if g.administer_full && any_contraindicated {
        SeriesStatus::Contraindicated
    } else if due.is_some() {
        SeriesStatus::NotComplete
    } else if all_immune {
        SeriesStatus::Immune
    } else if any_contraindicated {
        SeriesStatus::Contraindicated
    } else if all_done {
        SeriesStatus::Complete
    } else if any_aged_out {
        SeriesStatus::AgedOut
    } else {
        first
    };
    out.status = status;
    out.reason = Some(Cow::Borrowed(match status {
        SeriesStatus::NotComplete => "Next dose due",
        SeriesStatus::Complete => "Series complete",
        SeriesStatus::Immune => "Evidence of immunity",
        SeriesStatus::Contraindicated => "Contraindicated",
        SeriesStatus::AgedOut => "Aged out: past the maximum age",
        SeriesStatus::NotRecommended => "Not recommended",
    }));
    if let (SeriesStatus::NotComplete, Some(due)) = (status, due) {
        let (mut earliest, mut recommended, mut past_due);
        if g.administer_full {
            // The whole group is given at once: not before every antigen allows it,
            // but recommended (and past due) as soon as any antigen needs it.
            earliest = due.earliest_max;
            recommended = due.recommended_min.max(earliest);
            past_due = due.past_due_min.map(|p| earliest.map_or(p, |e| p.max(e)));
        } else {
            earliest = due.earliest_min;
            recommended = due.recommended_min;
            past_due = due.past_due_min;
        }
        // Never before a dose of the group already given.
        if let (Some(e), Some(l)) = (earliest, last_dose) {
            if l > e {
                earliest = Some(l);
                recommended = recommended.map(|r| r.max(l));
                past_due = past_due.map(|p| p.max(l));
            }
        }
        // Recommended and past due are often the earliest date: converted once.
        let as_date = |d: Option<Day>, earliest_date: Option<chrono::NaiveDate>| {
            if d == earliest {
                earliest_date
            } else {
                d.map(Day::to_date)
            }
        };
        out.earliest_date = earliest.map(Day::to_date);
        out.recommended_date = as_date(recommended, out.earliest_date);
        out.past_due_date = as_date(past_due, out.earliest_date);
        out.latest_date = due.latest_min.map(Day::to_date);
        // The dose number is the highest among the antigens still due (e.g. the
        // diphtheria/tetanus count when pertussis restarts with Tdap); the lowest
        // when the whole group is given at once.
        out.dose_number = if g.administer_full {
            due.number_min
        } else {
            due.number_max
        };
        out.vaccines = due
            .vaccines
            .as_slice()
            .iter()
            .map(|&v| Cow::Borrowed(schedule.cvx_text[v as usize].as_str()))
            .collect();
    }
    out
}
