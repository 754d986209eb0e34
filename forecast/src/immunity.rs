//! Evidence of immunity and contraindications (CDSi 7.2/7.3) from the patient's
//! observation codes.

use crate::context::Ctx;
use crate::schedule::model::AntigenData;

/// Does the patient have evidence of immunity to the antigen?
pub(crate) fn is_immune(antigen: &AntigenData, ctx: &Ctx) -> bool {
    if antigen
        .immunity
        .clinical_history
        .iter()
        .any(|c| ctx.obs.contains(*c))
    {
        return true;
    }
    antigen
        .immunity
        .birth_date
        .iter()
        .any(|b| ctx.dob < b.born_before && !b.exclusions.iter().any(|c| ctx.obs.contains(*c)))
}

/// Is the whole antigen contraindicated at the assessment date?
pub(crate) fn is_contraindicated(antigen: &AntigenData, ctx: &Ctx) -> bool {
    if ctx.obs.is_empty() {
        return false;
    }
    antigen
        .contraindications
        .antigen
        .iter()
        .any(|c| ctx.obs.contains(c.code) && ctx.age_in(ctx.assessment, c.begin_age, c.end_age))
}

/// Is a vaccine (CVX) contraindicated for the patient at the assessment date?
pub(crate) fn vaccine_contraindicated(antigen: &AntigenData, ctx: &Ctx, cvx: u16) -> bool {
    if ctx.obs.is_empty() {
        return false;
    }
    antigen.contraindications.vaccine.iter().any(|c| {
        ctx.obs.contains(c.code)
            && c.vaccines
                .iter()
                .any(|v| v.cvx == cvx && ctx.age_in(ctx.assessment, v.begin_age, v.end_age))
    })
}
