//! The benchmark's synthetic population, shared by the criterion benchmark and the
//! `profile` example so that instruction counts and forecasts/s measure the same
//! persons: 100,000 children aged 0-18 with realistic histories (doses roughly on
//! schedule, with late, missing and too-early doses), from a fixed seed.

use chrono::{Duration as Days, NaiveDate};
use forecast::{Gender, Patient, PatientDose};

/// Persons in the benchmark population.
pub const POPULATION: usize = 100_000;

/// SplitMix64: a tiny deterministic generator (no external dependency needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The routine childhood visits: (age in days, CVX codes given).
const VISITS: &[(i64, &[&str])] = &[
    (0, &["08"]),
    (61, &["20", "10", "49", "133", "116", "08"]),
    (122, &["20", "10", "49", "133", "116"]),
    (183, &["20", "10", "133", "08", "141"]),
    (365, &["03", "21", "83", "133", "48"]),
    (456, &["20"]),
    (548, &["83", "141"]),
    (1461, &["20", "10", "94"]),
    (4018, &["115", "114", "165"]),
    (4200, &["165"]),
    (5844, &["114"]),
];

/// The first `count` persons of the population assessed at `assessment` (the
/// sequence does not depend on `count`).
pub fn population(assessment: NaiveDate, count: usize) -> Vec<Patient> {
    let mut rng = Rng(0x1234_5678);
    (0..count)
        .map(|_| {
            let age_days = rng.below(18 * 365 + 1) as i64;
            let dob = assessment - Days::days(age_days);
            let mut doses = Vec::new();
            for (age, cvxs) in VISITS {
                let r = rng.below(100);
                if r < 8 {
                    continue; // missed visit
                }
                let shift = match r {
                    8..=10 => -(rng.below(20) as i64), // too early: some invalid
                    11..=30 => rng.below(200) as i64,  // late
                    _ => rng.below(10) as i64,
                };
                let date = dob + Days::days((age + shift).max(0));
                if date > assessment {
                    break;
                }
                for cvx in *cvxs {
                    if rng.below(100) < 3 {
                        continue; // one vaccine of the visit skipped
                    }
                    doses.push(PatientDose {
                        date_given: date,
                        cvx: (*cvx).to_string(),
                        mvx: None,
                    });
                }
            }
            Patient {
                date_of_birth: dob,
                gender: if rng.below(2) == 0 {
                    Gender::Female
                } else {
                    Gender::Male
                },
                doses,
                observations: Vec::new(),
            }
        })
        .collect()
}
