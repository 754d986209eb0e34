//! Select relevant patient series (CDSi 5.2/8.1): standard series whose gender
//! requirement the patient meets, and risk series the patient has an indication for
//! at the assessment date. Within a series group only the series of the highest
//! series priority (A before B before C) that is relevant are kept.

use crate::context::Ctx;
use crate::schedule::model::{SeriesData, SeriesType};
use crate::schedule::{gender_bit, SeriesMeta};

/// Is the series relevant for the patient at the assessment date?
pub(crate) fn is_relevant(series: &SeriesData, meta: &SeriesMeta, ctx: &Ctx) -> bool {
    if meta.genders & gender_bit(ctx.gender) == 0 {
        return false;
    }
    match series.series_type {
        SeriesType::Standard | SeriesType::EvaluationOnly => true,
        SeriesType::Risk if ctx.obs.is_empty() => false,
        SeriesType::Risk => series.indications.iter().any(|i| {
            ctx.obs.contains(i.code) && ctx.age_in(ctx.assessment, i.begin_age, i.end_age)
        }),
    }
}

/// Pruning (for speed, no effect on results): a non-default standard series the
/// patient is too young to start, or started (or would start) after its maximum age
/// to start, can never be selected, so it is not evaluated.
fn could_matter(series: &SeriesData, ctx: &Ctx, first_dose: Option<chrono::NaiveDate>) -> bool {
    if series.default_series || series.series_type == SeriesType::Risk {
        return true;
    }
    let start = first_dose.unwrap_or(ctx.assessment);
    if series
        .max_age_to_start
        .is_some_and(|m| start >= ctx.at_age(m))
    {
        return false;
    }
    if first_dose.is_none()
        && series
            .min_age_to_start
            .is_some_and(|m| ctx.assessment < ctx.at_age(m))
    {
        return false;
    }
    true
}

/// Fills `out` with the relevant series (indices into `all`, in `order`), keeping
/// per series group only the best series priority present.
pub(crate) fn relevant_series(
    all: &[SeriesData],
    meta: &[SeriesMeta],
    order: &[usize],
    ctx: &Ctx,
    first_dose: Option<chrono::NaiveDate>,
    out: &mut Vec<usize>,
) {
    out.clear();
    out.extend(order.iter().copied().filter(|&i| {
        is_relevant(&all[i], &meta[i], ctx) && could_matter(&all[i], ctx, first_dose)
    }));
    // Best (lowest) priority letter per series group, then keep only those.
    let priority = |i: usize| meta[i].priority;
    let mut best: [(u32, u8); 16] = [(u32::MAX, b'Z'); 16];
    let mut groups = 0;
    for &i in out.iter() {
        let g = all[i].series_group;
        if let Some(k) = best[..groups].iter().position(|(bg, _)| *bg == g) {
            best[k].1 = best[k].1.min(priority(i));
        } else if groups < best.len() {
            best[groups] = (g, priority(i));
            groups += 1;
        }
    }
    out.retain(|&i| {
        let g = all[i].series_group;
        best[..groups]
            .iter()
            .find(|(bg, _)| *bg == g)
            .is_none_or(|(_, p)| priority(i) <= *p)
    });
}
