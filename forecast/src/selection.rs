//! Select relevant patient series (CDSi 5.2/8.1): standard series whose gender
//! requirement the patient meets, and risk series the patient has an indication for
//! at the assessment date. Within a series group only the series of the highest
//! series priority (A before B before C) that is relevant are kept.

use crate::context::Ctx;
use crate::schedule::model::{SeriesData, SeriesType};
use crate::types::Gender;

fn gender_ok(series: &SeriesData, gender: Gender) -> bool {
    if series.required_gender.is_empty() {
        return true;
    }
    let name = match gender {
        Gender::Female => "Female",
        Gender::Male => "Male",
        Gender::Unknown => "Unknown",
    };
    series
        .required_gender
        .iter()
        .any(|g| g.eq_ignore_ascii_case(name))
}

/// Is the series relevant for the patient at the assessment date?
pub(crate) fn is_relevant(series: &SeriesData, ctx: &Ctx) -> bool {
    if !gender_ok(series, ctx.gender) {
        return false;
    }
    match series.series_type {
        SeriesType::Standard | SeriesType::EvaluationOnly => true,
        SeriesType::Risk => series.indications.iter().any(|i| {
            ctx.obs.contains(i.code) && ctx.age_in(ctx.assessment, i.begin_age, i.end_age)
        }),
    }
}

/// Fills `out` with the relevant series (indices into `all`, in `order`), keeping
/// per series group only the best series priority present.
pub(crate) fn relevant_series(
    all: &[SeriesData],
    order: &[usize],
    ctx: &Ctx,
    out: &mut Vec<usize>,
) {
    out.clear();
    out.extend(order.iter().copied().filter(|&i| is_relevant(&all[i], ctx)));
    let snapshot_len = out.len();
    let mut keep = [true; 64];
    for a in 0..snapshot_len.min(64) {
        for b in 0..snapshot_len.min(64) {
            let (sa, sb) = (&all[out[a]], &all[out[b]]);
            if sa.series_group == sb.series_group && sb.series_priority < sa.series_priority {
                keep[a] = false;
            }
        }
    }
    let mut k = 0;
    out.retain(|_| {
        let r = k >= 64 || keep[k];
        k += 1;
        r
    });
}
