//! Evaluating a student against the requirements of their grade: pure, on the forecasting
//! engine's verdicts.

use chrono::{Datelike, Days, Months, NaiveDate};
use forecast::{
    DoseEvaluation, EvaluationStatus, PatientForecast, SeriesStatus, VaccineGroup,
    VaccineGroupForecast,
};

use crate::compliance::{
    Compliance, ComplianceStatus, Exemption, ExemptionKind, RequirementStatus,
};
use crate::evidence::ImmunityEvidence;
use crate::requirements::{Check, Condition, DoseOption, ImmunityRule, Requirements, VaccineDef};

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
    /// Documented immunity on file (histories of disease, laboratory evidence).
    pub immunity: Vec<ImmunityEvidence>,
    /// When the student was first enrolled at the school or child-care facility: the start of
    /// the completion window for a started series. `None`: no window.
    pub enrolled_on: Option<NaiveDate>,
}

/// A dose that counts for a requirement: its date and CVX code.
#[derive(Debug, Clone, Copy)]
struct Counted {
    date: NaiveDate,
    cvx: Option<u16>,
}

/// What [`Requirements::status`] judges one requirement on.
struct Judged<'a> {
    rule: std::sync::Arc<str>,
    vaccine: &'a VaccineDef,
    doses_counted: u32,
    doses_required: u32,
    met: bool,
    group: Option<&'a VaccineGroupForecast>,
}

impl Requirements {
    /// The student's standing on `on` (the check date; the forecast must be as of it too).
    /// Rules whose grades do not include the student's, or whose ages do not include the
    /// student's age on `on`, do not apply and are not listed.
    pub fn evaluate(
        &self,
        student: &Student<'_>,
        forecast: &PatientForecast,
        on: NaiveDate,
    ) -> Compliance {
        let mut requirements = Vec::new();
        for rule in self.rules.iter().filter(|r| {
            r.grades.iter().any(|g| g == student.grade)
                && r.ages
                    .is_none_or(|a| a.contains(student.date_of_birth, on, 0))
        }) {
            match &rule.check {
                Check::Doses {
                    vaccine,
                    options,
                    count_from_birthday,
                    immunity,
                } => {
                    let v = &self.vaccines[*vaccine];
                    let from = count_from_birthday
                        .map(|y| self.birthday_less_grace(student.date_of_birth, y));
                    let doses = counted(v, student, from);
                    let immune = documented_immunity(immunity, v.group, &student.immunity);
                    // The first option met, in file order: the full requirement when it is
                    // met, so a complete series reads "5 of 5" rather than "5 of 4".
                    let met = options
                        .iter()
                        .find(|o| self.satisfied(o, &doses, student, on))
                        .map(|o| o.doses);
                    let required = met.unwrap_or_else(|| {
                        options
                            .iter()
                            .filter(|o| self.open(o, &doses, student, on))
                            .map(|o| o.doses)
                            .min()
                            .unwrap_or(count(doses.len()) + 1)
                    });
                    requirements.push(self.status(
                        Judged {
                            rule: rule.id.clone(),
                            vaccine: v,
                            doses_counted: count(doses.len()),
                            doses_required: required,
                            met: immune || met.is_some(),
                            group: forecast.group(v.group),
                        },
                        student,
                        on,
                    ));
                }
                Check::UpToDate { vaccines, immunity } => {
                    for v in vaccines.iter().map(|i| &self.vaccines[*i]) {
                        let n = count(counted(v, student, None).len());
                        let group = forecast.group(v.group);
                        let documented = !immunity.is_empty()
                            && documented_immunity(immunity, v.group, &student.immunity);
                        let (met, required) = match group {
                            _ if documented => (true, n),
                            Some(g) => match g.status {
                                SeriesStatus::Immune => (immunity.is_empty(), n + 1),
                                SeriesStatus::Complete
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
                            Judged {
                                rule: rule.id.clone(),
                                vaccine: v,
                                doses_counted: n,
                                doses_required: required,
                                met,
                                group,
                            },
                            student,
                            on,
                        ));
                    }
                }
            }
        }
        let status = requirements
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(ComplianceStatus::Compliant);
        let in_progress_until = if status == ComplianceStatus::InProgress {
            requirements
                .iter()
                .filter(|r| r.status == ComplianceStatus::InProgress)
                .filter_map(|r| r.in_progress_until)
                .min()
        } else {
            None
        };
        Compliance {
            status,
            requirements,
            in_progress_until,
        }
    }

    /// Unmet requirements are exempt when an exemption covers the group, otherwise in
    /// progress while the engine's next dose is not yet past due, or while a started series
    /// is within the completion window after enrollment. An unmet requirement the engine
    /// schedules nothing for (its series complete, aged out, contraindicated) cannot be met
    /// on schedule: not compliant.
    fn status(&self, j: Judged<'_>, student: &Student<'_>, on: NaiveDate) -> RequirementStatus {
        let exemption = student
            .exemptions
            .iter()
            .filter(|e| e.covers(j.vaccine.group, on))
            .map(|e| e.kind)
            .min_by_key(|k| match k {
                ExemptionKind::Medical => 0,
                ExemptionKind::NonMedical => 1,
            });
        let scheduled = j.group.filter(|g| g.status == SeriesStatus::NotComplete);
        // The last day of each reason to be in progress that holds on `on`.
        let on_schedule = scheduled.and_then(|g| match g.past_due_date {
            None => Some(None),
            Some(d) if d > on => Some(d.pred_opt()),
            Some(_) => None,
        });
        let in_window = self
            .window_last_day(student)
            .filter(|last| j.doses_counted >= 1 && scheduled.is_some() && *last >= on);
        let (status, in_progress_until) = if j.met {
            (ComplianceStatus::Compliant, None)
        } else if exemption.is_some() {
            (ComplianceStatus::Exempt, None)
        } else {
            match (on_schedule, in_window) {
                (None, None) => (ComplianceStatus::NotCompliant, None),
                (Some(a), b) => (ComplianceStatus::InProgress, a.max(b)),
                (None, b) => (ComplianceStatus::InProgress, b),
            }
        };
        let next_due_date = match status {
            ComplianceStatus::InProgress | ComplianceStatus::NotCompliant => {
                scheduled.and_then(|g| g.recommended_date.or(g.earliest_date))
            }
            ComplianceStatus::Compliant | ComplianceStatus::Exempt => None,
        };
        RequirementStatus {
            vaccine: j.vaccine.name.clone(),
            rule: j.rule,
            doses_counted: j.doses_counted,
            doses_required: j.doses_required,
            status,
            exemption: if status == ComplianceStatus::Exempt {
                exemption
            } else {
                None
            },
            next_due_date,
            in_progress_until,
        }
    }

    /// The last day of the completion window: the day before the window has passed since
    /// the student's enrollment.
    fn window_last_day(&self, student: &Student<'_>) -> Option<NaiveDate> {
        let window = self.completion_window?;
        window.after(student.enrolled_on?).pred_opt()
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

    /// The dates of the doses that count towards `o`: of its CVX codes and given at its
    /// ages, when it names them.
    fn option_dates(&self, o: &DoseOption, doses: &[Counted], s: &Student<'_>) -> Vec<NaiveDate> {
        doses
            .iter()
            .filter(|d| {
                o.cvx
                    .as_ref()
                    .is_none_or(|codes| d.cvx.is_some_and(|c| codes.contains(&c)))
            })
            .filter(|d| {
                o.given_at
                    .is_none_or(|a| a.contains(s.date_of_birth, d.date, self.grace_days))
            })
            .map(|d| d.date)
            .collect()
    }

    fn satisfied(&self, o: &DoseOption, doses: &[Counted], s: &Student<'_>, on: NaiveDate) -> bool {
        let dates = self.option_dates(o, doses, s);
        count(dates.len()) >= o.doses && o.conditions.iter().all(|c| self.holds(*c, &dates, s, on))
    }

    /// Whether the option can still be met by doses yet to come: its age conditions hold
    /// now, and each dose condition holds already or concerns doses not given yet. An
    /// alternate schedule (restricted to some CVX codes or ages) is open only to a student
    /// on it: at least one dose given, every dose so far fitting it, and its ages not past.
    fn open(&self, o: &DoseOption, doses: &[Counted], s: &Student<'_>, on: NaiveDate) -> bool {
        let dates = self.option_dates(o, doses, s);
        if o.cvx.is_some() || o.given_at.is_some() {
            let ages_open = o
                .given_at
                .is_none_or(|a| a.before.is_none_or(|b| on < b.after(s.date_of_birth)));
            if dates.is_empty() || dates.len() != doses.len() || !ages_open {
                return false;
            }
        }
        o.conditions.iter().all(|c| {
            self.holds(*c, &dates, s, on)
                || matches!(c, Condition::DoseOnOrAfterBirthday { .. })
                    && count(dates.len()) < o.doses
        })
    }
}

/// Whether documented immunity on file meets a rule that accepts it: documented by someone
/// the rule accepts and, when the rule dates the disease, known to have occurred before then.
fn documented_immunity(
    rules: &[ImmunityRule],
    group: VaccineGroup,
    evidence: &[ImmunityEvidence],
) -> bool {
    evidence.iter().filter(|e| e.group == group).any(|e| {
        rules.iter().any(|r| {
            r.documented_by.contains(&e.documented_by)
                && r.disease_before
                    .is_none_or(|before| e.disease_on.is_some_and(|d| d < before))
        })
    })
}

/// The doses that count for `v`: valid for the group's antigens (none of them judged not
/// valid or substandard), of a listed CVX code if the vaccine lists any, and given on or
/// after `from`; in date order.
fn counted(v: &VaccineDef, student: &Student<'_>, from: Option<NaiveDate>) -> Vec<Counted> {
    let mut doses: Vec<Counted> = student
        .doses
        .iter()
        .filter(|d| from.is_none_or(|f| d.date_given >= f))
        .map(|d| (d, d.cvx.trim().parse::<u16>().ok()))
        .filter(|(_, cvx)| {
            v.cvx
                .as_ref()
                .is_none_or(|codes| cvx.is_some_and(|c| codes.contains(&c)))
        })
        .filter(|(d, _)| {
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
        .map(|(d, cvx)| Counted {
            date: d.date_given,
            cvx,
        })
        .collect();
    doses.sort_unstable_by_key(|d| d.date);
    doses
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
