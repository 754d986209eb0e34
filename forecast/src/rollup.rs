//! Vaccine group forecast (CDSi chapter 9): a single-antigen group takes its
//! antigen's forecast; a multi-antigen group (MMR, DTaP/Tdap/Td) combines them —
//! any antigen still due makes the group due; when the group must be administered
//! as a whole (MMR) the latest dates win, otherwise the earliest.

use crate::day::Day;
use crate::engine::AntigenResult;
use crate::schedule::{GroupDef, Schedule};
use crate::types::{SeriesStatus, VaccineGroupForecast};
use std::borrow::Cow;

pub(crate) fn rollup(
    schedule: &Schedule,
    g: &GroupDef,
    results: &[AntigenResult],
    last_dose: Option<Day>,
) -> VaccineGroupForecast {
    let parts = || {
        g.antigens
            .iter()
            .map(|&a| &results[a as usize])
            .filter(|r| r.status.is_some())
    };
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
    let Some(first) = parts().next() else {
        out.reason = Some(Cow::Borrowed("No relevant patient series"));
        return out;
    };
    let st = |s: SeriesStatus| parts().filter(move |r| r.status == Some(s));
    let any = |s: SeriesStatus| st(s).next().is_some();
    let status = if g.administer_full && any(SeriesStatus::Contraindicated) {
        SeriesStatus::Contraindicated
    } else if any(SeriesStatus::NotComplete) {
        SeriesStatus::NotComplete
    } else if parts().all(|r| r.status == Some(SeriesStatus::Immune)) {
        SeriesStatus::Immune
    } else if any(SeriesStatus::Contraindicated) {
        SeriesStatus::Contraindicated
    } else if parts().all(|r| {
        matches!(
            r.status,
            Some(SeriesStatus::Complete | SeriesStatus::Immune)
        )
    }) {
        SeriesStatus::Complete
    } else if any(SeriesStatus::AgedOut) {
        SeriesStatus::AgedOut
    } else {
        first.status.unwrap_or(SeriesStatus::NotRecommended)
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
    if status == SeriesStatus::NotComplete {
        let due = || st(SeriesStatus::NotComplete);
        let min = |f: fn(&AntigenResult) -> Option<Day>| due().filter_map(f).min();
        let max = |f: fn(&AntigenResult) -> Option<Day>| due().filter_map(f).max();
        let (mut earliest, mut recommended, mut past_due);
        if g.administer_full {
            // The whole group is given at once: not before every antigen allows it,
            // but recommended (and past due) as soon as any antigen needs it.
            earliest = max(|r| r.dates.earliest);
            recommended = min(|r| r.dates.recommended).max(earliest);
            past_due = min(|r| r.dates.past_due).map(|p| earliest.map_or(p, |e| p.max(e)));
        } else {
            earliest = min(|r| r.dates.earliest);
            recommended = min(|r| r.dates.recommended);
            past_due = min(|r| r.dates.past_due);
        }
        // Never before a dose of the group already given.
        if let (Some(e), Some(l)) = (earliest, last_dose) {
            if l > e {
                earliest = Some(l);
                recommended = recommended.map(|r| r.max(l));
                past_due = past_due.map(|p| p.max(l));
            }
        }
        out.earliest_date = earliest.map(Day::to_date);
        out.recommended_date = recommended.map(Day::to_date);
        out.past_due_date = past_due.map(Day::to_date);
        out.latest_date = due().filter_map(|r| r.dates.latest).min().map(Day::to_date);
        // The dose number is the highest among the antigens still due (e.g. the
        // diphtheria/tetanus count when pertussis restarts with Tdap).
        let numbers = due().filter_map(|r| r.dose_number);
        out.dose_number = if g.administer_full {
            numbers.min()
        } else {
            numbers.max()
        };
        let mut cvx = crate::engine::CvxList::default();
        cvx.extend(due().flat_map(|r| r.vaccines.as_slice().iter().copied()));
        out.vaccines = cvx
            .as_slice()
            .iter()
            .map(|&v| schedule.cvx_text[v as usize].clone())
            .collect();
    }
    out
}
