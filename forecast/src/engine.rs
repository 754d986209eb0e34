//! The whole-patient pipeline: gather history, then per antigen select relevant
//! series, evaluate and forecast each, pick the best series, apply immunity and
//! contraindications; finally roll antigens up to vaccine groups and doses.

use crate::context::{Ctx, CtxBuffers, Dose};
use crate::day::Day;
use crate::evaluation::{evaluate, Evaluated};
use crate::forecasting::{forecast as forecast_series, Dates, SeriesForecast};
use crate::schedule::{gender_index, Schedule};
use crate::series_select::{best, prioritized, Cand, Cands, Picks};
use crate::types::{
    Antigen, AntigenEntry, DoseEvaluation, EvaluationStatus, ObservationDate, Patient,
    PatientForecast, PerAntigen, SeriesStatus,
};
use crate::{history, immunity, rollup, selection};
use chrono::NaiveDate;
use std::borrow::Cow;
use std::cell::RefCell;

/// The forecast of one antigen.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AntigenResult {
    pub status: Option<SeriesStatus>,
    pub dose_number: Option<u32>,
    pub dates: Dates,
    /// CVX codes recommended for the next dose (inline: no allocation).
    pub vaccines: CvxList,
    /// Index (in the antigen's series) of the best series.
    pub series: Option<usize>,
}

/// A short inline list of CVX codes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CvxList {
    buf: [u16; 32],
    len: u8,
}

impl CvxList {
    fn push(&mut self, cvx: u16) {
        if (self.len as usize) < self.buf.len() && !self.as_slice().contains(&cvx) {
            self.buf[self.len as usize] = cvx;
            self.len += 1;
        }
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn as_slice(&self) -> &[u16] {
        &self.buf[..self.len as usize]
    }
}

impl Extend<u16> for CvxList {
    fn extend<I: IntoIterator<Item = u16>>(&mut self, iter: I) {
        for v in iter {
            self.push(v);
        }
    }
}

/// Reusable working memory for one patient.
#[derive(Default)]
struct PatientScratch {
    ctx: CtxBuffers,
    gathered: Vec<Vec<Dose>>,
    results: Vec<AntigenResult>,
    work: Scratch,
}

/// Reusable working memory for one antigen.
#[derive(Default)]
struct Scratch {
    relevant: Vec<usize>,
    evals: Vec<Evaluated>,
    forecasts: Vec<SeriesForecast>,
    completed: Vec<(u32, Day)>,
    /// Per relevant series: how many `completed` entries it may see.
    group_visible: Vec<usize>,
    /// Per relevant series: what series selection compares.
    cands: Vec<Cand>,
    /// Dose statuses of the best series merged with the other groups' ones.
    merged: Evaluated,
    /// Whether every series is forecast, also those whose forecast selection
    /// does not need ([`debug_antigens`] shows every series).
    every_forecast: bool,
}

/// Runs the CDSi engine for `patient` at `assessment_date`.
pub fn forecast(
    schedule: &Schedule,
    patient: &Patient,
    assessment_date: NaiveDate,
) -> PatientForecast {
    forecast_with_dates(schedule, patient, &[], assessment_date)
}

/// [`forecast`] with the dates of some of the patient's observations, from which
/// CDSi measures some intervals (6.5, "from relevant observation": Hib 6 months
/// after a stem cell transplant, MMR 6 months after antiretroviral therapy). An
/// interval from an observation whose date is not given does not apply.
pub fn forecast_with_dates(
    schedule: &Schedule,
    patient: &Patient,
    observation_dates: &[ObservationDate],
    assessment_date: NaiveDate,
) -> PatientForecast {
    let mut doses: Vec<DoseEvaluation> = patient
        .doses
        .iter()
        .map(|_| DoseEvaluation {
            status: EvaluationStatus::Extraneous,
            reason: None,
            per_antigen: PerAntigen::new(),
        })
        .collect();
    thread_local! {
        // Working memory reused across forecasts on the same thread.
        static SCRATCH: RefCell<PatientScratch> = RefCell::new(PatientScratch::default());
    }
    let vaccine_groups = SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let scratch = &mut *guard;
        let ctx = Ctx::new(
            schedule,
            patient,
            assessment_date,
            observation_dates,
            std::mem::take(&mut scratch.ctx),
        );
        let mut gathered = std::mem::take(&mut scratch.gathered);
        gathered.resize_with(schedule.antigens.len(), Vec::new);
        history::gather(schedule, &ctx, &mut gathered);
        let results = &mut scratch.results;
        results.clear();
        results.resize(schedule.antigens.len(), AntigenResult::default());
        for (a, recs) in gathered.iter().enumerate() {
            if let Some(of) = twin_to_copy(schedule, &ctx, &gathered, a) {
                // Same rules, same doses: the earlier antigen's verdicts.
                for d in recs {
                    let dose = &mut doses[d.index as usize];
                    let verdict = dose
                        .per_antigen
                        .iter()
                        .find(|(x, _, _)| x.0 as usize == of)
                        .map(|(_, s, r)| (*s, r.clone()));
                    if let Some((s, r)) = verdict {
                        record_entry(dose, (Antigen(a as u8), s, r));
                    }
                }
                results[a] = results[of];
                continue;
            }
            let ev = antigen(schedule, &ctx, a, recs, &mut scratch.work, &mut results[a]);
            if let Some(ev) = ev {
                for (k, d) in recs.iter().enumerate() {
                    let (s, r) = (ev.statuses[k], ev.reasons[k]);
                    record(
                        &mut doses[d.index as usize],
                        Antigen(a as u8),
                        s,
                        r.as_str(),
                    );
                }
            }
        }
        let vaccine_groups = schedule
            .groups
            .iter()
            .map(|g| {
                // The last dose containing any antigen of the group.
                let last = g
                    .antigens
                    .iter()
                    .filter_map(|&a| gathered[a as usize].last().map(|d| d.date))
                    .max();
                rollup::rollup(schedule, g, &scratch.results, last)
            })
            .collect();
        scratch.gathered = gathered;
        scratch.ctx = ctx.into_buffers();
        vaccine_groups
    });
    for d in doses.iter_mut().filter(|d| d.per_antigen.is_empty()) {
        d.reason = Some(Cow::Borrowed("Vaccine not in the schedule"));
    }
    PatientForecast {
        vaccine_groups,
        doses,
    }
}

/// Adds one antigen's verdict to a dose. The dose's own verdict is the one of the
/// highest rank among its antigens (the later one on ties): a problem with any
/// antigen makes the dose not valid, otherwise it is valid if it counted for any.
#[inline]
fn record(
    d: &mut DoseEvaluation,
    antigen: Antigen,
    status: EvaluationStatus,
    reason: Option<&'static str>,
) {
    if d.per_antigen.is_empty() || status.rank() >= d.status.rank() {
        d.status = status;
        d.reason = reason.map(Cow::Borrowed);
    }
    d.per_antigen
        .push((antigen, status, reason.map(Cow::Borrowed)));
}

/// [`record`] for an entry already made (a twin's copy).
fn record_entry(d: &mut DoseEvaluation, entry: AntigenEntry) {
    if d.per_antigen.is_empty() || entry.1.rank() >= d.status.rank() {
        d.status = entry.1;
        d.reason.clone_from(&entry.2);
    }
    d.per_antigen.push(entry);
}

/// The earlier antigen whose forecast antigen `a` can take for this patient: one
/// with the same rules (see [`crate::schedule::twins`]), the same doses, and no
/// dose or observation on which the two differ.
fn twin_to_copy(schedule: &Schedule, ctx: &Ctx, gathered: &[Vec<Dose>], a: usize) -> Option<usize> {
    let twin = schedule.antigens[a].twin.as_ref()?;
    let (mine, theirs) = (&gathered[a], &gathered[twin.of]);
    let usable = (!twin.observations_differ || ctx.obs.is_empty())
        && mine.len() == theirs.len()
        && mine.iter().zip(theirs).all(|(x, y)| x.index == y.index)
        && !twin.cvx.meets(&ctx.cvx_seen);
    usable.then_some(twin.of)
}

/// Per-antigen summary lines (series chosen, status, dates) for debugging.
#[doc(hidden)]
pub fn debug_antigens(
    schedule: &Schedule,
    patient: &Patient,
    observation_dates: &[ObservationDate],
    assessment_date: NaiveDate,
) -> Vec<String> {
    let ctx = Ctx::new(
        schedule,
        patient,
        assessment_date,
        observation_dates,
        CtxBuffers::default(),
    );
    let mut gathered: Vec<Vec<Dose>> = vec![Vec::new(); schedule.antigens.len()];
    history::gather(schedule, &ctx, &mut gathered);
    let mut scratch = Scratch {
        every_forecast: true,
        ..Scratch::default()
    };
    let mut out = Vec::new();
    for (a, recs) in gathered.iter().enumerate() {
        let mut res = AntigenResult::default();
        // An antigen that returns before selection leaves the previous one's lists.
        scratch.relevant.clear();
        scratch.forecasts.clear();
        antigen(schedule, &ctx, a, recs, &mut scratch, &mut res);
        let mut line = format!(
            "{}: {:?} #{:?} {:?} via {:?}",
            schedule.antigens[a].data.antigen,
            res.status,
            res.dose_number,
            res.dates,
            res.series
                .map(|s| &schedule.antigens[a].data.series[s].name)
        );
        for k in 0..scratch.relevant.len() {
            let s = &schedule.antigens[a].data.series[scratch.relevant[k]];
            line.push_str(&format!(
                "\n      [{}] g{} {:?} next={} t={:?} sat={:?} valid={} {:?} {:?}",
                s.name,
                s.series_group,
                scratch.forecasts[k].status,
                scratch.evals[k].next,
                scratch.forecasts[k].target,
                scratch.evals[k]
                    .satisfied
                    .iter()
                    .filter(|x| x.is_some())
                    .count(),
                scratch.evals[k].valid_count,
                scratch.forecasts[k].dates.earliest,
                scratch.evals[k].statuses
            ));
        }
        out.push(line);
    }
    out
}

/// The best series with its evaluation and forecast.
struct Candidate<'a> {
    series: &'a crate::schedule::compiled::Series,
    eval: &'a Evaluated,
    forecast: &'a SeriesForecast,
}

fn td_is_counted_recurring(td: &crate::schedule::compiled::TargetDose) -> bool {
    td.recurring && !td.seasonal
}

fn antigen<'s>(
    schedule: &Schedule,
    ctx: &Ctx,
    a: usize,
    recs: &[Dose],
    scratch: &'s mut Scratch,
    res: &mut AntigenResult,
) -> Option<&'s Evaluated> {
    let def = &schedule.antigens[a];
    let all = &def.series;
    if ctx.obs.is_empty() && def.standard_by_gender[gender_index(ctx.gender)].is_empty() {
        // Risk series only, and no observation to indicate one.
        return None;
    }
    selection::relevant_series(def, ctx, recs, &mut scratch.relevant);
    let n = scratch.relevant.len();
    if n == 0 {
        // No relevant series: no forecast (series selection would find none).
        return None;
    }
    if scratch.evals.len() < n {
        scratch.evals.resize_with(n, Evaluated::default);
    }
    scratch.forecasts.clear();
    scratch.group_visible.clear();
    // Series are evaluated group by group so that "completed series" skip
    // conditions see the completion dates of the groups before.
    scratch.completed.clear();
    let mut visible = 0;
    let mut current_group = u32::MAX;
    for k in 0..n {
        let s = &all[scratch.relevant[k]];
        if s.series_group != current_group {
            visible = scratch.completed.len();
            current_group = s.series_group;
        }
        evaluate(
            schedule,
            ctx,
            s,
            recs,
            &scratch.completed[..visible],
            &mut scratch.evals[k],
        );
        let in_process = scratch.evals[k].valid_count > 0;
        let f = if !in_process && s.needs_a_dose && !scratch.every_forecast {
            // Not complete without a valid dose, and not in process: its status
            // (not complete, or aged out) matters only if selection prioritizes
            // it, and then its dates are computed with it below.
            SeriesForecast {
                status: SeriesStatus::NotComplete,
                target: None,
                dates: Dates::default(),
            }
        } else {
            forecast_series(
                ctx,
                s,
                recs,
                &scratch.evals[k],
                &scratch.completed[..visible],
                in_process,
            )
        };
        if f.status == SeriesStatus::Complete {
            if let Some(done) = scratch.evals[k].satisfied.iter().flatten().max() {
                scratch.completed.push((s.series_group, *done));
            }
        }
        scratch.forecasts.push(f);
        scratch.group_visible.push(visible);
    }
    scratch.cands.clear();
    for k in 0..n {
        let cand = Cand::new(
            all,
            scratch.relevant[k],
            &scratch.evals[k],
            &scratch.forecasts[k],
        );
        scratch.cands.push(cand);
    }
    // One prioritized series per series group (groups are contiguous: the
    // relevant series are in series-group order).
    let first_dose = recs.first().map(|d| d.date);
    let mut prio = Picks::new();
    let mut start = 0;
    while start < n {
        let g = all[scratch.relevant[start]].series_group;
        let end = start
            + scratch.relevant[start..]
                .iter()
                .take_while(|&&i| all[i].series_group == g)
                .count();
        let cands = Cands {
            all,
            list: &scratch.cands,
        };
        if let Some(p) = prioritized(cands, start, end, ctx, first_dose) {
            prio.push(p);
        }
        start = end;
    }
    // Dates of the prioritized series that were not computed yet.
    for p in prio.iter() {
        let f = scratch.forecasts[p];
        if f.status == SeriesStatus::NotComplete && scratch.evals[p].valid_count == 0 {
            let visible = scratch.group_visible[p];
            let f = forecast_series(
                ctx,
                &all[scratch.relevant[p]],
                recs,
                &scratch.evals[p],
                &scratch.completed[..visible],
                true,
            );
            scratch.forecasts[p] = f;
            scratch.cands[p] = Cand::new(all, scratch.relevant[p], &scratch.evals[p], &f);
        }
    }
    let cands = Cands {
        all,
        list: &scratch.cands,
    };
    // A single relevant series is the best one (selection has nothing to compare).
    let chosen = if n == 1 {
        Some(0)
    } else {
        best(cands, &prio, ctx)
    };
    let b = chosen?;
    let c = Candidate {
        series: &all[scratch.relevant[b]],
        eval: &scratch.evals[b],
        forecast: &scratch.forecasts[b],
    };
    res.series = Some(scratch.relevant[b]);
    let status = if immunity::is_immune(&def.precautions, ctx) {
        SeriesStatus::Immune
    } else if immunity::is_contraindicated(&def.precautions, ctx) {
        SeriesStatus::Contraindicated
    } else {
        c.forecast.status
    };
    res.status = Some(status);
    let mut seasonal_number = false;
    if status == SeriesStatus::NotComplete {
        if let Some(t) = c.forecast.target {
            // Skipped target doses do not count: the number is the count of satisfied
            // target doses before this one, plus one.
            let mut number =
                c.eval.satisfied[..t].iter().filter(|d| d.is_some()).count() as u32 + 1;
            // Boosters of a recurring dose count, except seasonal ones (each season
            // restarts the count).
            let td = &c.series.doses[t];
            if t == c.eval.next && td_is_counted_recurring(td) {
                number += c.eval.recurring_hits;
            }
            if let (true, Some(start)) = (td.recurring, td.season_start) {
                // A seasonal recurring dose is numbered within its season.
                let in_season = recs
                    .iter()
                    .zip(&c.eval.statuses)
                    .filter(|(d, s)| d.date >= start && **s == EvaluationStatus::Valid)
                    .count() as u32;
                number = in_season + 1;
                seasonal_number = true;
            }
            res.dose_number = Some(number);
            res.dates = c.forecast.dates;
            let td = &c.series.doses[t];
            // Vaccines flagged for forecasting; when none are flagged, every
            // preferable vaccine usable at the earliest date.
            let on = c.forecast.dates.earliest.map(|e| e.max(ctx.assessment));
            let usable = |v: &&crate::schedule::compiled::Preferable| {
                (ctx.obs.is_empty()
                    || !immunity::vaccine_contraindicated(&def.precautions, ctx, v.cvx))
                    && on.is_none_or(|on| ctx.within(on, v.window))
            };
            res.vaccines.extend(
                td.preferable_vaccines
                    .iter()
                    .filter(|v| v.forecast)
                    .filter(usable)
                    .map(|v| v.cvx),
            );
            if res.vaccines.is_empty() {
                res.vaccines
                    .extend(td.preferable_vaccines.iter().filter(usable).map(|v| v.cvx));
            }
        }
    }
    // A dose valid in the prioritized series of another series group (e.g. the
    // standard childhood series when a risk series is the best one) is valid.
    let contributes = |p: usize| {
        p != b
            && scratch.forecasts[p].status != SeriesStatus::AgedOut
            && all[scratch.relevant[p]].series_type
                != crate::schedule::model::SeriesType::EvaluationOnly
    };
    if !prio.iter().any(contributes) {
        return Some(&scratch.evals[b]);
    }
    let merged = &mut scratch.merged;
    merged.statuses.clear();
    merged
        .statuses
        .extend_from_slice(&scratch.evals[b].statuses);
    merged.reasons.clear();
    merged.reasons.extend_from_slice(&scratch.evals[b].reasons);
    let mut added = 0;
    for p in prio.iter().filter(|&p| contributes(p)) {
        for (k, s) in scratch.evals[p].statuses.iter().enumerate() {
            if *s == EvaluationStatus::Valid && merged.statuses[k] != EvaluationStatus::Valid {
                merged.statuses[k] = EvaluationStatus::Valid;
                merged.reasons[k] = crate::evaluation::Reason::None;
                added += 1;
            }
        }
    }
    // The forecast dose number is the next of the patient's valid doses of the
    // antigen (CDSi forecast output, chapter 7: dose number), and a dose valid in
    // the prioritized series of another series group is valid (chapter 8), so
    // those doses count too: sickle cell disease after a complete PCV13 series
    // and one PPSV23 forecasts dose 6, not dose 2 of the risk series. A season's
    // number stays its own.
    if !seasonal_number {
        if let Some(n) = res.dose_number.as_mut() {
            *n += added;
        }
    }
    Some(&scratch.merged)
}
