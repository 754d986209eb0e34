//! Gather and organize the immunization history (CDSi chapter 5): each dose is
//! mapped to the antigens its CVX contains (respecting the association's age window)
//! and each antigen gets its doses in date order.

use crate::context::{Ctx, Dose};
use crate::schedule::Schedule;

/// Fills `out[antigen]` with the antigen's doses (in date order).
pub(crate) fn gather(schedule: &Schedule, ctx: &Ctx, out: &mut [Vec<Dose>]) {
    for v in out.iter_mut() {
        v.clear();
    }
    for d in &ctx.doses {
        let Some(assocs) = schedule.cvx.get(d.cvx as usize) else {
            continue;
        };
        for a in assocs {
            if ctx.within(d.date, a.window) {
                if let Some(v) = out.get_mut(a.antigen as usize) {
                    v.push(*d);
                }
            }
        }
    }
}
