//! Registry guards: facts that overrule the score. A probabilistic score adds evidence, and
//! twins share almost everything a score rewards (birth date, family name, mother, address,
//! phone); two records that name different birth orders, or multiples with different first
//! names, are two children however high the score. Likewise two different identifiers from an
//! authority that issues one per person.

use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Field};
use crate::config::UniqueAuthority;
use crate::normalize::fold;
use crate::prepared::PreparedRecord;

/// Which guard decided, and how far it lowered the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Guard {
    /// Both records state a birth order and they differ, in a multiple birth: never one person.
    BirthOrderDiffers,
    /// One of several born together, and the first names differ outright: never one person.
    MultipleBirthGivenNameDiffers,
    /// Two different identifiers from an authority trusted to issue one per person: at most a
    /// possible match, for a person to look at.
    IdentifierConflict,
    /// The first names differ outright (not a typo, a nickname, an initial or a first name
    /// entered as the middle one) while everything else may agree: the picture of a twin or a
    /// sibling, so a person looks before the records are joined.
    GivenNameDiffers,
}

impl Guard {
    /// Whether the guard rules the pair out entirely (otherwise it only forbids linking it
    /// automatically).
    pub fn excludes(self) -> bool {
        matches!(
            self,
            Guard::BirthOrderDiffers | Guard::MultipleBirthGivenNameDiffers
        )
    }
}

/// The first guard that applies to the pair, if any.
pub fn check(
    a: &PreparedRecord,
    b: &PreparedRecord,
    comparison: &Comparison,
    unique: &[UniqueAuthority],
) -> Option<Guard> {
    let multiple = a.multiple_birth.is_multiple() || b.multiple_birth.is_multiple();
    if let (Some(x), Some(y)) = (a.multiple_birth.order, b.multiple_birth.order) {
        if x != y && (multiple || x > 1 || y > 1) {
            return Some(Guard::BirthOrderDiffers);
        }
    }
    let given_differs = comparison.level(Field::GivenName) == Some(4);
    if multiple && given_differs {
        return Some(Guard::MultipleBirthGivenNameDiffers);
    }
    if given_differs {
        return Some(Guard::GivenNameDiffers);
    }
    for rule in unique {
        let authority = fold(&rule.authority);
        let values = |r: &PreparedRecord| {
            r.identifiers
                .iter()
                .filter(|i| i.kind == rule.kind && i.authority == authority)
                .map(|i| i.value.clone())
                .collect::<Vec<_>>()
        };
        let (xs, ys) = (values(a), values(b));
        if !xs.is_empty() && !ys.is_empty() && !xs.iter().any(|x| ys.contains(x)) {
            return Some(Guard::IdentifierConflict);
        }
    }
    None
}
