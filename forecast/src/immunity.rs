//! Evidence of immunity and contraindications (CDSi 7.2/7.3) from the patient's
//! observation codes.

use crate::context::Ctx;
use crate::schedule::compiled::Precautions;

/// Does the patient have evidence of immunity to the antigen?
pub(crate) fn is_immune(antigen: &Precautions, ctx: &Ctx) -> bool {
    if antigen.immune_history.iter().any(|c| ctx.obs.contains(*c)) {
        return true;
    }
    antigen
        .immune_born_before
        .iter()
        .any(|(born_before, exclusions)| {
            ctx.dob < *born_before && !exclusions.iter().any(|c| ctx.obs.contains(*c))
        })
}

/// Is the whole antigen contraindicated at the assessment date?
pub(crate) fn is_contraindicated(antigen: &Precautions, ctx: &Ctx) -> bool {
    if ctx.obs.is_empty() {
        return false;
    }
    antigen
        .antigen_contraindications
        .iter()
        .any(|(code, window)| ctx.obs.contains(*code) && ctx.within(ctx.assessment, *window))
}

/// Is a vaccine (CVX) contraindicated for the patient at the assessment date?
pub(crate) fn vaccine_contraindicated(antigen: &Precautions, ctx: &Ctx, cvx: u16) -> bool {
    if ctx.obs.is_empty() {
        return false;
    }
    antigen
        .vaccine_contraindications
        .iter()
        .any(|(code, vaccines)| {
            ctx.obs.contains(*code)
                && vaccines
                    .iter()
                    .any(|v| v.cvx == cvx && ctx.within(ctx.assessment, v.window))
        })
}
