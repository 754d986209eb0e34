//! Evaluating a student against the requirements of their grade: pure, on the forecasting
//! engine's verdicts.

use chrono::{Datelike, Days, Months, NaiveDate};
use forecast::{
    DoseEvaluation, EvaluationStatus, PatientForecast, SeriesStatus, VaccineGroupForecast,
};

use crate::compliance::{
    Compliance, ComplianceStatus, Exemption, ExemptionKind, RequirementStatus,
};
use crate::requirements::{Check, Condition, DoseOption, Requirements, VaccineDef};

/// A dose as given, beside the engine's evaluation of it.
#[derive(Debug, Clone, Copy)]
pub struct EvaluatedDose<'a> {
    pub date_given: NaiveDate,
    pub cvx: &'a str,
    pub evaluation: &'a DoseEvaluation,
}

/// What the requirements are checked on.
#[derive(Debug, Clone)]
pub struct Student<'a> {
    pub date_of_birth: NaiveDate,
    /// The enrollment's grade code (`K`, `7`, `CC`, …).
    pub grade: &'a str,
    /// Doses in date order, each with the engine's evaluation.
    pub doses: Vec<EvaluatedDose<'a>>,
    pub exemptions: Vec<Exemption>,
}

impl Requirements {
    /// The student's standing on `on` (the check date; the forecast must be as of it too).
    pub fn evaluate(
        &self,
        student: &Student<'_>,
        forecast: &PatientForecast,
        on: NaiveDate,
    ) -> Compliance {
        let mut requirements = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.grades.iter().any(|g| g == student.grade))
        {
            match &rule.check {
                Check::Doses {
                    vaccine,
                    options,
                    count_from_birthday,
                    immunity_meets,
                } => {
                    let v = &self.vaccines[*vaccine];
                    let from = count_from_birthday
                        .map(|y| self.birthday_less_grace(student.date_of_birth, y));
                    let dates = counted(v, student, from);
                    let group = forecast.group(v.group);
                    let immune =
                        *immunity_meets && group.is_some_and(|g| g.status == SeriesStatus::Immune);
                    // The first option met, in file order: the full requirement when it is
                    // met, so a complete series reads "5 of 5" rather than "5 of 4".
                    let met = options
                        .iter()
                        .find(|o| self.satisfied(o, &dates, student, on))
                        .map(|o| o.doses);
                    let required = met.unwrap_or_else(|| {
                        options
                            .iter()
                            .filter(|o| self.open(o, &dates, student, on))
                            .map(|o| o.doses)
                            .min()
                            .unwrap_or(count(&dates) + 1)
                    });
                    requirements.push(self.status(
                        rule.id.clone(),
                        v,
                        count(&dates),
                        required,
                        immune || met.is_some(),
                        group,
                        student,
                        on,
                    ));
                }
                Check::UpToDate { vaccines } => {
                    for v in vaccines.iter().map(|i| &self.vaccines[*i]) {
                        let n = count(&counted(v, student, None));
                        let group = forecast.group(v.group);
                        let (met, required) = match group {
                            Some(g) => match g.status {
                                SeriesStatus::Complete
                                | SeriesStatus::Immune
                                | SeriesStatus::AgedOut
                                | SeriesStatus::NotRecommended => (true, n),
                                SeriesStatus::NotComplete => {
                                    (false, g.dose_number.unwrap_or(0).max(n + 1))
                                }
                                SeriesStatus::Contraindicated => (false, n + 1),
                            },
                            None => (false, n + 1),
                        };
                        requirements.push(self.status(
                            rule.id.clone(),
                            v,
                            n,
                            required,
                            met,
                            group,
                            student,
                            on,
                        ));
                    }
                }
            }
        }
        Compliance {
            status: requirements
                .iter()
                .map(|r| r.status)
                .max()
                .unwrap_or(ComplianceStatus::Compliant),
            requirements,
        }
    }

    /// Unmet requirements are exempt when an exemption covers the group, otherwise in
    /// progress while the engine's next dose is not yet past due. An unmet requirement the
    /// engine schedules nothing for (its series complete, aged out, contraindicated) cannot
    /// be met on schedule: not compliant.
    #[expect(clippy::too_many_arguments, reason = "one requirement's every input")]
    fn status(
        &self,
        rule: std::sync::Arc<str>,
        v: &VaccineDef,
        doses_counted: u32,
        doses_required: u32,
        met: bool,
        group: Option<&VaccineGroupForecast>,
        student: &Student<'_>,
        on: NaiveDate,
    ) -> RequirementStatus {
        let exemption = student
            .exemptions
            .iter()
            .filter(|e| e.covers(v.group, on))
            .map(|e| e.kind)
            .min_by_key(|k| match k {
                ExemptionKind::Medical => 0,
                ExemptionKind::NonMedical => 1,
            });
        let scheduled = group.filter(|g| g.status == SeriesStatus::NotComplete);
        let status = if met {
            ComplianceStatus::Compliant
        } else if exemption.is_some() {
            ComplianceStatus::Exempt
        } else {
            match scheduled {
                Some(g) if g.past_due_date.is_none_or(|d| d > on) => ComplianceStatus::InProgress,
                _ => ComplianceStatus::NotCompliant,
            }
        };
        let next_due_date = match status {
            ComplianceStatus::InProgress | ComplianceStatus::NotCompliant => {
                scheduled.and_then(|g| g.recommended_date.or(g.earliest_date))
            }
            ComplianceStatus::Compliant | ComplianceStatus::Exempt => None,
        };
        RequirementStatus {
            vaccine: v.name.clone(),
            rule,
            doses_counted,
            doses_required,
            status,
            exemption: if status == ComplianceStatus::Exempt {
                exemption
            } else {
                None
            },
            next_due_date,
        }
    }

    fn birthday_less_grace(&self, dob: NaiveDate, years: u32) -> NaiveDate {
        birthday(dob, years)
            .checked_sub_days(Days::new(u64::from(self.grace_days)))
            .unwrap_or(NaiveDate::MIN)
    }

    fn holds(
        &self,
        c: Condition,
        dates: &[NaiveDate],
        student: &Student<'_>,
        on: NaiveDate,
    ) -> bool {
        match c {
            Condition::DoseOnOrAfterBirthday { dose, years } => {
                let from = self.birthday_less_grace(student.date_of_birth, years);
                dates.iter().skip(dose as usize - 1).any(|d| *d >= from)
            }
            Condition::AgeAtLeast { years } => {
                age_in_years(student.date_of_birth, on) >= i64::from(years)
            }
        }
    }

    fn satisfied(
        &self,
        o: &DoseOption,
        dates: &[NaiveDate],
        s: &Student<'_>,
        on: NaiveDate,
    ) -> bool {
        count(dates) >= o.doses && o.conditions.iter().all(|c| self.holds(*c, dates, s, on))
    }

    /// Whether the option can still be met by doses yet to come: its age conditions hold
    /// now, and each dose condition holds already or concerns doses not given yet.
    fn open(&self, o: &DoseOption, dates: &[NaiveDate], s: &Student<'_>, on: NaiveDate) -> bool {
        o.conditions.iter().all(|c| {
            self.holds(*c, dates, s, on)
                || matches!(c, Condition::DoseOnOrAfterBirthday { .. }) && count(dates) < o.doses
        })
    }
}

/// Dates of the doses that count for `v`: valid for the group's antigens (none of them
/// judged not valid or substandard), of a listed CVX code if the vaccine lists any, and
/// given on or after `from`.
fn counted(v: &VaccineDef, student: &Student<'_>, from: Option<NaiveDate>) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = student
        .doses
        .iter()
        .filter(|d| from.is_none_or(|f| d.date_given >= f))
        .filter(|d| {
            v.cvx.as_ref().is_none_or(|codes| {
                d.cvx
                    .trim()
                    .parse::<u16>()
                    .is_ok_and(|c| codes.contains(&c))
            })
        })
        .filter(|d| {
            let mut verdicts = d
                .evaluation
                .per_antigen
                .iter()
                .filter(|(a, _, _)| v.antigens.contains(a))
                .map(|(_, s, _)| *s)
                .peekable();
            verdicts.peek().is_some()
                && verdicts
                    .all(|s| matches!(s, EvaluationStatus::Valid | EvaluationStatus::Extraneous))
                && d.evaluation
                    .per_antigen
                    .iter()
                    .any(|(a, s, _)| v.antigens.contains(a) && *s == EvaluationStatus::Valid)
        })
        .map(|d| d.date_given)
        .collect();
    dates.sort_unstable();
    dates
}

fn count(dates: &[NaiveDate]) -> u32 {
    u32::try_from(dates.len()).unwrap_or(u32::MAX)
}

/// The `years`-th birthday; 29 February falls on 28 February in common years.
fn birthday(dob: NaiveDate, years: u32) -> NaiveDate {
    dob.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

fn age_in_years(dob: NaiveDate, on: NaiveDate) -> i64 {
    let mut age = i64::from(on.year()) - i64::from(dob.year());
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}
