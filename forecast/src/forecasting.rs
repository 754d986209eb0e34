//! Forecast the next target dose of a patient series (CDSi chapter 7): conditional
//! skip in the forecast context, forecast need (complete / aged out), and the
//! earliest, recommended, past-due and latest dates.

use crate::context::{in_effect, Ctx, Dose};
use crate::day::Day;
use crate::evaluation::{age_at, Evaluated};
use crate::interval::reference_date;
use crate::schedule::compiled::Series;
use crate::skip::{should_skip, SkipInput};
use crate::types::SeriesStatus;

/// Forecast dates of the next dose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Dates {
    pub earliest: Option<Day>,
    pub recommended: Option<Day>,
    pub past_due: Option<Day>,
    pub latest: Option<Day>,
}

/// The forecast of one patient series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeriesForecast {
    pub status: SeriesStatus,
    /// Index of the target dose forecast (when not complete).
    pub target: Option<usize>,
    pub dates: Dates,
}

pub(crate) fn forecast(
    ctx: &Ctx,
    series: &Series,
    doses: &[Dose],
    ev: &Evaluated,
    completed_groups: &[(u32, Day)],
    with_dates: bool,
) -> SeriesForecast {
    let n = series.doses.len();
    let mut t = ev.next;
    if t < n && !series.doses[t].forecast_skips.is_empty() {
        let mut input = SkipInput {
            ctx,
            doses,
            statuses: &ev.statuses,
            valid: ev.valid_count,
            reference: ctx.assessment,
            completed_groups,
            inclusive: true,
        };
        while t < n && !series.doses[t].forecast_skips.is_empty() {
            // CDSi 7.1 (conditional skip, forecast context): the target dose is
            // not needed if its conditions are met when it could be given, i.e.
            // at the later of the assessment date and the date its minimum
            // intervals allow after the patient's doses (DTaP: "7 years or older
            // at the earliest forecasted date for next dose"; Hib dose 3: "not
            // required for those 12 months or older" when the 4-week interval
            // ends after the first birthday). Not at its own minimum age: COVID-19
            // dose 2 (minimum age 65) is "not needed if under 65" today.
            input.reference = ctx
                .assessment
                .max(interval_earliest(ctx, series, t, doses, ev));
            if !should_skip(&series.doses[t].forecast_skips, &input) {
                break;
            }
            t += 1;
        }
    }
    if t >= n {
        return SeriesForecast {
            status: SeriesStatus::Complete,
            target: None,
            dates: Dates::default(),
        };
    }
    let td = &series.doses[t];
    let age = age_at(td, ctx.assessment);
    let max = age.and_then(|a| a.max).map(|m| ctx.age(m));
    if max.is_some_and(|m| ctx.assessment >= m) {
        return SeriesForecast {
            status: SeriesStatus::AgedOut,
            target: Some(t),
            dates: Dates::default(),
        };
    }
    if !with_dates {
        // Dates are only needed for series that can be selected; the caller asks
        // again with dates for those (a pure speed-up).
        return SeriesForecast {
            status: SeriesStatus::NotComplete,
            target: Some(t),
            dates: Dates::default(),
        };
    }
    let earliest = earliest_date(ctx, series, t, doses, ev);
    // Age-based recommended and past-due dates take precedence; intervals only
    // supply them when the target dose has no age-based ones.
    let age_rec = age.and_then(|a| a.earliest_rec).map(|m| ctx.age(m));
    let age_past_due = age
        .and_then(|a| a.latest_rec)
        .map(|m| ctx.age(m).plus_days(-1));
    let mut int_rec: Option<Day> = None;
    let mut int_past_due: Option<Day> = None;
    let previous = ev.previous.map(|p| &doses[p]);
    for iv in td
        .intervals
        .iter()
        .filter(|iv| in_effect(ctx.assessment, iv.effective, iv.cessation))
    {
        let Some(r) = reference_date(iv, ctx, previous, &ev.satisfied, ctx.assessment, false)
        else {
            continue;
        };
        if let Some(m) = iv.earliest_rec {
            let d = m.after(r);
            int_rec = Some(int_rec.map_or(d, |x| x.max(d)));
        }
        if let Some(m) = iv.latest_rec {
            let d = m.after(r).plus_days(-1);
            int_past_due = Some(int_past_due.map_or(d, |x| x.max(d)));
        }
    }
    let recommended = age_rec.or(int_rec);
    let past_due = age_past_due.or(int_past_due);
    let recommended = recommended.map_or(earliest, |r| r.max(earliest));
    let past_due = past_due.map(|p| p.max(earliest));
    let latest = max.map(|m| m.plus_days(-1));
    if latest.is_some_and(|l| earliest > l) {
        // The dose can no longer be given before the maximum age.
        return SeriesForecast {
            status: SeriesStatus::AgedOut,
            target: Some(t),
            dates: Dates::default(),
        };
    }
    SeriesForecast {
        status: SeriesStatus::NotComplete,
        target: Some(t),
        dates: Dates {
            earliest: Some(earliest),
            recommended: Some(recommended),
            past_due,
            latest,
        },
    }
}

/// The earliest date of target dose `t` (CDSi 7, earliest date): the latest of
/// its minimum age, the minimum intervals that apply, the end of live virus
/// conflicts, the last dose administered, the series' minimum age to start (no
/// valid dose yet) and the season start.
fn earliest_date(ctx: &Ctx, series: &Series, t: usize, doses: &[Dose], ev: &Evaluated) -> Day {
    let td = &series.doses[t];
    let age = age_at(td, ctx.assessment);
    let mut earliest = age
        .and_then(|a| a.min.or(a.abs_min))
        .map(|m| ctx.age(m))
        .unwrap_or(ctx.dob);
    earliest = earliest.max(interval_earliest(ctx, series, t, doses, ev));
    // Live virus: a live vaccine cannot be forecast inside a conflict window.
    if !td.live_conflicts.is_empty() {
        for p in &ctx.live_doses {
            let first = td.live_conflicts.partition_point(|(prev, _)| *prev < p.cvx);
            for (_, end) in td.live_conflicts[first..]
                .iter()
                .take_while(|(prev, _)| *prev == p.cvx)
            {
                earliest = earliest.max(end.after(p.date));
            }
        }
    }
    // A series cannot start before its minimum age to start.
    if ev.valid_count == 0 {
        if let Some(m) = series.min_age_to_start {
            earliest = earliest.max(ctx.age(m));
        }
    }
    if let Some(s) = td.season_start {
        earliest = earliest.max(s);
    }
    earliest
}

/// The earliest date of target dose `t` as its minimum intervals allow (and never
/// before a dose already administered, e.g. an inadvertent one): the date the
/// next dose could first be given after the patient's doses, whatever the age.
fn interval_earliest(ctx: &Ctx, series: &Series, t: usize, doses: &[Dose], ev: &Evaluated) -> Day {
    let td = &series.doses[t];
    let mut earliest = doses.last().map_or(ctx.dob, |d| d.date);
    let previous = ev.previous.map(|p| &doses[p]);
    for iv in td
        .intervals
        .iter()
        .filter(|iv| in_effect(ctx.assessment, iv.effective, iv.cessation))
    {
        let Some(m) = iv.min.or(iv.abs_min) else {
            continue;
        };
        if let Some(r) = reference_date(iv, ctx, previous, &ev.satisfied, ctx.assessment, false) {
            earliest = earliest.max(m.after(r));
        }
    }
    earliest
}
