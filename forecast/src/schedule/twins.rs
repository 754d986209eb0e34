//! Antigens with the same rules. Diphtheria and tetanus (and measles, mumps and
//! rubella) have schedules that differ only in some CVX codes — a vaccine that
//! carries one antigen but not the other, listed as allowable or counted by a skip
//! condition of one only — and in what only observations reach (indications,
//! risk series, immunity, contraindications). For a patient who has the same
//! doses of both, none with one of those codes, and (when observation codes differ)
//! no observation, the engine would run the same logic on the same input twice;
//! it runs it once and copies the result.

use super::compiled::{
    AgedCvx, Condition, ConditionSet, CvxSet, Interval, IntervalFrom, Precautions, Series, Skip,
    TargetDose,
};
use super::model::SeriesType;
use super::AntigenDef;

/// An antigen whose rules are those of an earlier one, except as noted.
#[derive(Debug, Clone)]
pub(crate) struct Twin {
    /// The earlier antigen (index in the schedule).
    pub of: usize,
    /// CVX codes the two treat differently: a patient with a dose of one of these
    /// needs both computed.
    pub cvx: CvxSet,
    /// Whether the two differ in observation codes (indications, immunity,
    /// contraindications): then only patients without observations share.
    pub observations_differ: bool,
}

/// The first antigen before `b` whose rules are those of `b`, if any. Antigens
/// with risk series only are left out: without observations there is nothing to
/// compute for them, and with observations nothing to share.
pub(crate) fn find(antigens: &[AntigenDef], b: &AntigenDef) -> Option<Twin> {
    if b.standard_by_gender.iter().all(Vec::is_empty) {
        return None;
    }
    antigens.iter().enumerate().find_map(|(of, a)| {
        let mut diff = Differences::default();
        diff.antigen(a, b).then(|| Twin {
            of,
            cvx: CvxSet::of(&diff.cvx),
            observations_differ: diff.observations,
        })
    })
}

/// The differences found so far between two antigens that may still be twins.
#[derive(Default)]
struct Differences {
    cvx: Vec<u16>,
    observations: bool,
}

impl Differences {
    fn antigen(&mut self, a: &AntigenDef, b: &AntigenDef) -> bool {
        a.series_meta == b.series_meta
            && a.order_by_gender == b.order_by_gender
            && a.standard_by_gender == b.standard_by_gender
            && a.mixed_priorities == b.mixed_priorities
            && a.series.len() == b.series.len()
            && a.series
                .iter()
                .zip(&b.series)
                .all(|(x, y)| self.series(x, y))
            && self.precautions(&a.precautions, &b.precautions)
    }

    fn series(&mut self, x: &Series, y: &Series) -> bool {
        if x.series_type == SeriesType::Risk && y.series_type == SeriesType::Risk {
            // Only a patient with an observation (an indication) can have a risk
            // series: any difference is one for such patients only.
            let mut risk = Differences::default();
            if !risk.series_body(x, y) || !risk.cvx.is_empty() || risk.observations {
                self.observations = true;
            }
            return true;
        }
        self.series_body(x, y)
    }

    fn series_body(&mut self, x: &Series, y: &Series) -> bool {
        if x.indications != y.indications {
            self.observations = true;
        }
        x.series_type == y.series_type
            && x.series_group == y.series_group
            && x.default_series == y.default_series
            && x.series_preference == y.series_preference
            && x.min_age_to_start == y.min_age_to_start
            && x.max_age_to_start == y.max_age_to_start
            && x.equivalent_series_groups == y.equivalent_series_groups
            && x.needs_a_dose == y.needs_a_dose
            && x.prunable == y.prunable
            && x.first_valid_ages == y.first_valid_ages
            && x.doses.len() == y.doses.len()
            && x.doses.iter().zip(&y.doses).all(|(d, e)| self.dose(d, e))
    }

    fn dose(&mut self, d: &TargetDose, e: &TargetDose) -> bool {
        // Preferable vaccines are named in forecasts, so they must be the same.
        self.cvx_set(&d.inadvertent_vaccines, &e.inadvertent_vaccines);
        self.aged_cvx(&d.allowable_vaccines, &e.allowable_vaccines);
        d.ages == e.ages
            && d.preferable_vaccines == e.preferable_vaccines
            && d.live_conflicts == e.live_conflicts
            && d.recurring == e.recurring
            && d.seasonal == e.seasonal
            && d.season_start == e.season_start
            && self.intervals(&d.intervals, &e.intervals)
            && self.intervals(&d.allowable_intervals, &e.allowable_intervals)
            && self.skips(&d.evaluation_skips, &e.evaluation_skips)
            && self.skips(&d.forecast_skips, &e.forecast_skips)
    }

    fn intervals(&mut self, a: &[Interval], b: &[Interval]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(i, j)| {
                let same_from = match (&i.from, &j.from) {
                    (IntervalFrom::MostRecent(x), IntervalFrom::MostRecent(y)) => {
                        self.cvx_set(x, y);
                        true
                    }
                    (x, y) => x == y,
                };
                same_from
                    && i.effective == j.effective
                    && i.cessation == j.cessation
                    && i.abs_min == j.abs_min
                    && i.min == j.min
                    && i.earliest_rec == j.earliest_rec
                    && i.latest_rec == j.latest_rec
            })
    }

    fn skips(&mut self, a: &[Skip], b: &[Skip]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.any_set == y.any_set
                    && x.sets.len() == y.sets.len()
                    && x.sets.iter().zip(&y.sets).all(|(s, t)| self.set(s, t))
            })
    }

    fn set(&mut self, s: &ConditionSet, t: &ConditionSet) -> bool {
        s.effective == t.effective
            && s.cessation == t.cessation
            && s.any == t.any
            && s.conditions.len() == t.conditions.len()
            && s.conditions
                .iter()
                .zip(&t.conditions)
                .all(|(c, d)| match (c, d) {
                    (Condition::Count(c), Condition::Count(d)) => {
                        // An empty list means any vaccine: not a list of codes.
                        let comparable = c.vaccine_types.is_empty() == d.vaccine_types.is_empty();
                        if comparable {
                            self.cvx_set(&c.vaccine_types, &d.vaccine_types);
                        }
                        comparable
                            && c.window == d.window
                            && c.start == d.start
                            && c.end == d.end
                            && c.valid_only == d.valid_only
                            && c.want == d.want
                            && c.logic == d.logic
                    }
                    (c, d) => c == d,
                })
    }

    fn precautions(&mut self, p: &Precautions, q: &Precautions) -> bool {
        // Immunity by birth date applies without observations.
        let born_before = |p: &Precautions| p.immune_born_before.iter().map(|(d, _)| *d).collect();
        let same_dates: bool = {
            let (a, b): (Vec<_>, Vec<_>) = (born_before(p), born_before(q));
            a == b
        };
        if p != q {
            self.observations = true;
        }
        same_dates
    }

    /// Codes in one set only.
    fn cvx_set(&mut self, a: &CvxSet, b: &CvxSet) {
        self.cvx.extend(a.codes().filter(|&c| !b.contains(c)));
        self.cvx.extend(b.codes().filter(|&c| !a.contains(c)));
    }

    /// Codes usable in one list only, or within other age windows.
    fn aged_cvx(&mut self, a: &[AgedCvx], b: &[AgedCvx]) {
        let windows = |list: &[AgedCvx], cvx: u16| {
            list.iter()
                .filter(|v| v.cvx == cvx)
                .map(|v| v.window)
                .collect::<Vec<_>>()
        };
        for v in a.iter().chain(b) {
            if windows(a, v.cvx) != windows(b, v.cvx) {
                self.cvx.push(v.cvx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Schedule;

    fn twin_of(schedule: &Schedule, name: &str) -> Option<String> {
        let def = schedule
            .antigens
            .iter()
            .find(|a| a.data.antigen == name)
            .expect("antigen in schedule");
        def.twin
            .as_ref()
            .map(|t| schedule.antigens[t.of].data.antigen.clone())
    }

    #[test]
    fn antigens_with_the_same_rules_are_found() {
        let schedule = Schedule::embedded().expect("embedded schedule");
        assert_eq!(twin_of(schedule, "Tetanus").as_deref(), Some("Diphtheria"));
        assert_eq!(twin_of(schedule, "Mumps").as_deref(), Some("Measles"));
        assert_eq!(twin_of(schedule, "Rubella").as_deref(), Some("Measles"));
        assert_eq!(twin_of(schedule, "Pertussis"), None);
        assert_eq!(twin_of(schedule, "Diphtheria"), None);
        let twins = schedule
            .antigens
            .iter()
            .filter(|a| a.twin.is_some())
            .count();
        assert_eq!(twins, 3);
    }

    #[test]
    fn twins_differ_only_in_the_codes_they_list() {
        let schedule = Schedule::embedded().expect("embedded schedule");
        let tetanus = schedule
            .antigens
            .iter()
            .find(|a| a.data.antigen == "Tetanus")
            .and_then(|a| a.twin.as_ref())
            .expect("tetanus has a twin");
        // Tetanus toxoid (CVX 35) carries tetanus only; DTaP (20) both.
        assert!(tetanus.cvx.contains(35));
        assert!(!tetanus.cvx.contains(20));
        let mumps = schedule
            .antigens
            .iter()
            .find(|a| a.data.antigen == "Mumps")
            .and_then(|a| a.twin.as_ref())
            .expect("mumps has a twin");
        // Monovalent mumps vaccine (7) differs; MMRV (94) only in a risk series
        // (an infant travel dose), which needs an observation.
        assert!(mumps.cvx.contains(7));
        assert!(!mumps.cvx.contains(94));
        assert!(mumps.observations_differ);
    }

    #[test]
    fn copying_a_twin_gives_what_computing_it_gives() {
        use crate::{forecast, Gender, Patient, PatientDose};
        use chrono::{Days, NaiveDate};
        let schedule = Schedule::embedded().expect("embedded schedule");
        let mut alone = schedule.clone();
        for a in &mut alone.antigens {
            a.twin = None;
        }
        // Doses that carry both twins, one of them only, or neither.
        let cvx = [
            "20", "106", "110", "115", "09", "113", "35", "112", "28", "03", "94", "05", "04",
            "07", "38", "21", "08",
        ];
        let observations = ["", "042", "080", "087", "020", "022", "165"];
        let mut state: u64 = 7;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let on = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        for _ in 0..3_000 {
            let dob = on - Days::new(next(30 * 365));
            let doses = (0..next(12))
                .map(|_| PatientDose {
                    date_given: dob + Days::new(next(20 * 365)),
                    cvx: cvx[next(cvx.len() as u64) as usize].to_string(),
                    mvx: None,
                })
                .collect();
            let observation = observations[next(observations.len() as u64) as usize];
            let patient = Patient {
                date_of_birth: dob,
                gender: if next(2) == 0 {
                    Gender::Female
                } else {
                    Gender::Male
                },
                doses,
                observations: [observation]
                    .iter()
                    .filter(|o| !o.is_empty())
                    .map(|o| o.to_string())
                    .collect(),
            };
            assert_eq!(
                forecast(schedule, &patient, on),
                forecast(&alone, &patient, on),
                "{patient:?}"
            );
        }
    }
}
