//! The shipped model and thresholds.
//!
//! The m/u-probabilities are the expectation–maximization estimates (`crate::estimate`, no
//! labels used) over the comparison vectors of the four development files of
//! `shared/matching/`; `identity/tests/defaults.rs` re-estimates them and fails if these drift
//! from what the data gives (run it with `IDENTITY_PRINT_DEFAULTS=1 -- --nocapture` to print new
//! values after changing a comparator). Birth date and gender come out uninformative because
//! every pair of those files shares them; a registry re-estimates on its own candidate pairs.
//!
//! The thresholds were chosen on the same files' labels (`crate::calibrate::choose_thresholds`)
//! for the most exact agreement with at most 0.1 % of `Not a Match` pairs linked, counting pairs
//! that one file labels `Match` and another `Not a Match` as possible matches.

use crate::compare::Field;
use crate::config::Thresholds;
use crate::model::{FieldProbabilities, Model};

/// Decision thresholds, in bits.
pub const THRESHOLDS: Thresholds = Thresholds {
    match_at: 6.61,
    possible_at: -0.26,
};

/// Share of pairs EM put in the "same person" class.
const PRIOR: f64 = 0.5045;

/// (field, m per level, u per level), in [`Field::ALL`] order.
type Row = (Field, &'static [f64], &'static [f64]);

#[rustfmt::skip]
const PROBABILITIES: [Row; 13] = [
        (Field::GivenName, &[0.884830, 0.034170, 0.033280, 0.000087, 0.047633], &[0.102128, 0.005244, 0.005621, 0.001707, 0.885299]),
        (Field::MiddleName, &[0.943267, 0.026237, 0.028161, 0.002336], &[0.107125, 0.151890, 0.008343, 0.732642]),
        (Field::FamilyName, &[0.964217, 0.035532, 0.000087, 0.000163], &[0.434400, 0.016180, 0.000976, 0.548444]),
        (Field::BirthDate, &[0.932855, 0.014220, 0.036977, 0.015948], &[0.933654, 0.014451, 0.036362, 0.015532]),
        (Field::Gender, &[0.999913, 0.000087], &[0.999911, 0.000089]),
        (Field::MotherMaidenName, &[0.927772, 0.030969, 0.041258], &[0.222922, 0.001497, 0.775580]),
        (Field::GuardianGivenName, &[0.999630, 0.000177, 0.000193], &[0.424031, 0.001260, 0.574709]),
        (Field::GuardianFamilyName, &[0.998882, 0.000492, 0.000627], &[0.459121, 0.006488, 0.534391]),
        (Field::Address, &[0.925444, 0.001343, 0.033799, 0.000122, 0.039291], &[0.151623, 0.000127, 0.004207, 0.003142, 0.840901]),
        (Field::Phone, &[0.929707, 0.034621, 0.035671], &[0.161910, 0.004341, 0.833749]),
        (Field::SsnHash, &[0.898977, 0.101023], &[0.121731, 0.878269]),
        (Field::Medicaid, &[0.955633, 0.009475, 0.034892], &[0.028052, 0.001068, 0.970880]),
        (Field::Mrn, &[0.000757, 0.999243], &[0.208681, 0.791319]),
];

/// The estimated model.
pub fn model() -> Model {
    Model {
        prior: PRIOR,
        fields: PROBABILITIES
            .iter()
            .map(|(field, m, u)| FieldProbabilities {
                field: *field,
                m: m.to_vec(),
                u: u.to_vec(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_configuration_is_valid() {
        assert_eq!(crate::MatchConfig::default().validate(), Ok(()));
    }
}
