//! The Fellegi–Sunter model: for each field and agreement level, the probability of that level
//! among pairs that are one person (m) and among pairs that are two people (u). A pair's score is
//! the sum over the fields both records state of log2(m/u): agreement on a rarely shared value
//! counts for much, disagreement on a reliable field counts against, silence counts for nothing.
//! The probabilities are estimated from unlabelled candidate pairs by expectation–maximization
//! ([`estimate`]), so they follow the registry's own data quality rather than anyone's guess.

use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Field};
use crate::error::IdentityError;

/// No probability is taken below this: a level never seen in one class must not weigh infinitely.
const FLOOR: f64 = 1e-4;
/// Bound on one field's weight, in bits, for the same reason.
const MAX_WEIGHT: f64 = 16.0;

/// m- and u-probabilities of one field's levels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldProbabilities {
    pub field: Field,
    /// P(level | same person), one per level of [`Field::levels`].
    pub m: Vec<f64>,
    /// P(level | different people).
    pub u: Vec<f64>,
}

/// The model: per field probabilities and the share of candidate pairs that are one person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// P(same person) among the pairs the model was estimated on; reported, not used to score.
    pub prior: f64,
    /// One entry per field of [`Field::ALL`], in that order.
    pub fields: Vec<FieldProbabilities>,
}

impl Model {
    /// Checks the shape (every field once, in order, one probability per level, each in (0, 1],
    /// each distribution summing to 1): a configured model is untrusted input.
    pub fn validate(&self) -> Result<(), IdentityError> {
        if self.fields.len() != Field::ALL.len() {
            return Err(IdentityError::InvalidModel(format!(
                "{} fields, expected {}",
                self.fields.len(),
                Field::ALL.len()
            )));
        }
        for (probabilities, field) in self.fields.iter().zip(Field::ALL) {
            let name = field.name();
            if probabilities.field != field {
                return Err(IdentityError::InvalidModel(format!(
                    "field `{}` where `{name}` belongs",
                    probabilities.field.name()
                )));
            }
            for (label, p) in [("m", &probabilities.m), ("u", &probabilities.u)] {
                if p.len() != field.levels().len() {
                    return Err(IdentityError::InvalidModel(format!(
                        "{name}: {} {label}-probabilities for {} levels",
                        p.len(),
                        field.levels().len()
                    )));
                }
                if p.iter().any(|x| !x.is_finite() || *x <= 0.0 || *x > 1.0) {
                    return Err(IdentityError::InvalidModel(format!(
                        "{name}: an {label}-probability outside (0, 1]"
                    )));
                }
                let sum: f64 = p.iter().sum();
                if (sum - 1.0).abs() > 1e-3 {
                    return Err(IdentityError::InvalidModel(format!(
                        "{name}: {label}-probabilities sum to {sum:.4}, not 1"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The weight, in bits, of one field at one level (0 for an unknown level).
    pub fn weight(&self, field: Field, level: u8) -> f64 {
        let Some(p) = self.fields.get(field.index()) else {
            return 0.0;
        };
        match (p.m.get(level as usize), p.u.get(level as usize)) {
            (Some(m), Some(u)) => (m.max(FLOOR) / u.max(FLOOR))
                .log2()
                .clamp(-MAX_WEIGHT, MAX_WEIGHT),
            _ => 0.0,
        }
    }

    /// The pair's total weight: the sum of its stated fields' weights.
    pub fn score(&self, comparison: &Comparison) -> f64 {
        Field::ALL
            .iter()
            .filter_map(|&f| comparison.level(f).map(|l| self.weight(f, l)))
            .sum()
    }

    /// A neutral starting point for [`estimate`]: agreement likely among matches, each level
    /// equally likely among non-matches.
    pub fn starting_point() -> Self {
        let fields = Field::ALL
            .iter()
            .map(|&field| {
                let n = field.levels().len();
                // m: 0.8 on full agreement, the rest halving down the levels.
                let mut m: Vec<f64> = (0..n)
                    .map(|l| {
                        if l == 0 {
                            0.8
                        } else {
                            0.2 / (1u32 << l) as f64
                        }
                    })
                    .collect();
                let total: f64 = m.iter().sum();
                m.iter_mut().for_each(|x| *x /= total);
                // u: most mass on disagreement.
                let mut u: Vec<f64> = (0..n)
                    .map(|l| {
                        if l + 1 == n {
                            0.7
                        } else {
                            0.3 / (n - 1) as f64
                        }
                    })
                    .collect();
                let total: f64 = u.iter().sum();
                u.iter_mut().for_each(|x| *x /= total);
                FieldProbabilities { field, m, u }
            })
            .collect();
        Model { prior: 0.5, fields }
    }
}

/// What [`estimate`] did.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub model: Model,
    pub iterations: usize,
    /// Whether the parameters stopped moving before the iteration bound.
    pub converged: bool,
}

/// Estimates m- and u-probabilities from unlabelled comparison vectors by expectation–maximization
/// (the standard two-class latent model with fields independent within a class; Winkler 1988).
/// The class with the higher m on full agreement of the given name is the "same person" class.
pub fn estimate(
    pairs: &[Comparison],
    start: &Model,
    max_iterations: usize,
) -> Result<Estimate, IdentityError> {
    start.validate()?;
    if pairs.is_empty() {
        return Err(IdentityError::NoPairs);
    }
    let mut model = start.clone();
    let mut converged = false;
    let mut iterations = 0;
    while iterations < max_iterations {
        iterations += 1;
        let prior = model.prior.clamp(1e-6, 1.0 - 1e-6);
        // Expected counts, with half a pair of smoothing per level.
        let mut m_counts: Vec<Vec<f64>> = Field::ALL
            .iter()
            .map(|f| vec![0.5; f.levels().len()])
            .collect();
        let mut u_counts = m_counts.clone();
        let mut posterior_sum = 0.0;
        for pair in pairs {
            let mut log_m = prior.ln();
            let mut log_u = (1.0 - prior).ln();
            for (i, p) in model.fields.iter().enumerate() {
                if let Some(l) = pair.0[i] {
                    let l = l as usize;
                    log_m += p.m.get(l).copied().unwrap_or(FLOOR).max(FLOOR).ln();
                    log_u += p.u.get(l).copied().unwrap_or(FLOOR).max(FLOOR).ln();
                }
            }
            // g = P(same | pair), computed without overflow.
            let g = 1.0 / (1.0 + (log_u - log_m).clamp(-700.0, 700.0).exp());
            posterior_sum += g;
            for (i, level) in pair.0.iter().enumerate() {
                if let Some(l) = level {
                    if let (Some(mc), Some(uc)) = (
                        m_counts[i].get_mut(*l as usize),
                        u_counts[i].get_mut(*l as usize),
                    ) {
                        *mc += g;
                        *uc += 1.0 - g;
                    }
                }
            }
        }
        let mut change: f64 = 0.0;
        let normalize = |counts: &[f64]| {
            let total: f64 = counts.iter().sum();
            counts.iter().map(|c| c / total).collect::<Vec<f64>>()
        };
        for (i, p) in model.fields.iter_mut().enumerate() {
            let m = normalize(&m_counts[i]);
            let u = normalize(&u_counts[i]);
            for (old, new) in p.m.iter().zip(&m).chain(p.u.iter().zip(&u)) {
                change = change.max((old - new).abs());
            }
            p.m = m;
            p.u = u;
        }
        let prior_new = posterior_sum / pairs.len() as f64;
        change = change.max((prior_new - model.prior).abs());
        model.prior = prior_new;
        if change < 1e-6 {
            converged = true;
            break;
        }
    }
    // Label switching: the "same person" class is the one where full agreement on the given
    // name is likelier.
    if let Some(given) = model.fields.get(Field::GivenName.index()) {
        if given.m.first() < given.u.first() {
            for p in &mut model.fields {
                std::mem::swap(&mut p.m, &mut p.u);
            }
            model.prior = 1.0 - model.prior;
        }
    }
    Ok(Estimate {
        model,
        iterations,
        converged,
    })
}
