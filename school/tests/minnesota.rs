//! Minnesota's rules on hand-built students, evaluated on the real forecasting engine's
//! verdicts: one test per rule row of `shared/spec/school-requirements.md`.

use chrono::{Months, NaiveDate};
use forecast::{
    Gender, Patient, PatientDose, PatientForecast, Schedule, SeriesStatus, VaccineGroup,
};
use school::{
    Compliance, ComplianceStatus, EvaluatedDose, Exemption, ExemptionKind, RequirementStatus,
    Requirements, Student,
};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

fn schedule() -> &'static Schedule {
    Schedule::embedded().expect("embedded schedule")
}

fn minnesota() -> Requirements {
    Requirements::embedded("MN", schedule()).expect("Minnesota's file loads")
}

/// A child: date of birth, doses `(cvx, date)`, exemptions, and a check date.
struct Child {
    dob: NaiveDate,
    grade: &'static str,
    doses: Vec<(&'static str, NaiveDate)>,
    exemptions: Vec<Exemption>,
}

impl Child {
    fn new(dob: &str, grade: &'static str) -> Child {
        Child {
            dob: d(dob),
            grade,
            doses: Vec::new(),
            exemptions: Vec::new(),
        }
    }

    /// Adds a dose `months` months after birth (plus `days`).
    fn at(mut self, cvx: &'static str, months: u32, days: u64) -> Child {
        let date = self
            .dob
            .checked_add_months(Months::new(months))
            .expect("date")
            + chrono::Days::new(days);
        self.doses.push((cvx, date));
        self
    }

    fn on(mut self, cvx: &'static str, date: &str) -> Child {
        self.doses.push((cvx, d(date)));
        self
    }

    /// A complete, on-time childhood history (HepB, DTaP, Polio, MMR, Varicella) through
    /// the 4–6 year doses.
    fn childhood_series(self) -> Child {
        self.at("08", 0, 0)
            .at("08", 2, 0)
            .at("08", 6, 0)
            .at("20", 2, 0)
            .at("20", 4, 0)
            .at("20", 6, 0)
            .at("20", 15, 0)
            .at("20", 50, 0)
            .at("10", 2, 0)
            .at("10", 4, 0)
            .at("10", 6, 0)
            .at("10", 50, 0)
            .at("03", 12, 0)
            .at("03", 50, 0)
            .at("21", 12, 0)
            .at("21", 50, 0)
    }

    fn forecast(&self, on: NaiveDate) -> PatientForecast {
        let mut doses = self.doses.clone();
        doses.sort_by_key(|(_, date)| *date);
        let patient = Patient {
            date_of_birth: self.dob,
            gender: Gender::Female,
            doses: doses
                .iter()
                .map(|(cvx, date)| PatientDose {
                    date_given: *date,
                    cvx: (*cvx).into(),
                    mvx: None,
                })
                .collect(),
            observations: vec![],
        };
        forecast::forecast(schedule(), &patient, on)
    }

    fn evaluate_with(&self, forecast: &PatientForecast, on: NaiveDate) -> Compliance {
        let mut doses = self.doses.clone();
        doses.sort_by_key(|(_, date)| *date);
        let student = Student {
            date_of_birth: self.dob,
            grade: self.grade,
            doses: doses
                .iter()
                .zip(&forecast.doses)
                .map(|((cvx, date), evaluation)| EvaluatedDose {
                    date_given: *date,
                    cvx,
                    evaluation,
                })
                .collect(),
            exemptions: self.exemptions.clone(),
        };
        minnesota().evaluate(&student, forecast, on)
    }

    fn evaluate(&self, on: &str) -> Compliance {
        let on = d(on);
        self.evaluate_with(&self.forecast(on), on)
    }
}

fn req<'a>(c: &'a Compliance, vaccine: &str) -> &'a RequirementStatus {
    c.requirements
        .iter()
        .find(|r| &*r.vaccine == vaccine)
        .unwrap_or_else(|| panic!("no {vaccine} requirement in {c:#?}"))
}

const CHECK: &str = "2026-09-15";

#[test]
fn a_fourth_dtap_on_or_after_the_fourth_birthday_completes_the_series_with_four_doses() {
    // Born 2021-03-01: 4th birthday 2025-03-01.
    let base = || {
        Child::new("2021-03-01", "K")
            .at("20", 2, 0)
            .at("20", 4, 0)
            .at("20", 6, 0)
    };
    let after = base().on("20", "2025-03-10").evaluate(CHECK);
    let dtap = req(&after, "DTaP");
    assert_eq!(dtap.status, ComplianceStatus::Compliant, "{dtap:?}");
    assert_eq!((dtap.doses_counted, dtap.doses_required), (4, 4));

    let before = base().on("20", "2024-12-01").evaluate(CHECK);
    let dtap = req(&before, "DTaP");
    assert_ne!(dtap.status, ComplianceStatus::Compliant, "{dtap:?}");
    assert_eq!((dtap.doses_counted, dtap.doses_required), (4, 5));
    assert!(dtap.next_due_date.is_some(), "a fifth dose is scheduled");
}

#[test]
fn the_four_day_grace_period_applies_to_the_fourth_birthday() {
    let child = Child::new("2021-03-01", "K")
        .at("20", 2, 0)
        .at("20", 4, 0)
        .at("20", 6, 0)
        .on("20", "2025-02-26");
    assert_eq!(req(&child.evaluate(CHECK), "DTaP").doses_required, 4);
    let early = Child::new("2021-03-01", "K")
        .at("20", 2, 0)
        .at("20", 4, 0)
        .at("20", 6, 0)
        .on("20", "2025-02-24");
    assert_eq!(req(&early.evaluate(CHECK), "DTaP").doses_required, 5);
}

#[test]
fn a_third_polio_dose_after_the_fourth_birthday_is_enough() {
    let after = Child::new("2021-03-01", "K")
        .at("10", 2, 0)
        .at("10", 4, 0)
        .on("10", "2025-04-01")
        .evaluate(CHECK);
    let polio = req(&after, "Polio");
    assert_eq!(polio.status, ComplianceStatus::Compliant, "{polio:?}");
    assert_eq!((polio.doses_counted, polio.doses_required), (3, 3));

    let before = Child::new("2021-03-01", "K")
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 18, 0)
        .evaluate(CHECK);
    let polio = req(&before, "Polio");
    assert_ne!(polio.status, ComplianceStatus::Compliant, "{polio:?}");
    assert_eq!((polio.doses_counted, polio.doses_required), (3, 4));
}

#[test]
fn an_mmr_dose_before_the_first_birthday_does_not_count() {
    let early = Child::new("2020-01-10", "1")
        .on("03", "2020-12-01")
        .on("03", "2021-03-01")
        .evaluate(CHECK);
    let mmr = req(&early, "MMR");
    assert_eq!((mmr.doses_counted, mmr.doses_required), (1, 2), "{mmr:?}");
    assert_ne!(mmr.status, ComplianceStatus::Compliant);

    let on_time = Child::new("2020-01-10", "1")
        .on("03", "2021-01-10")
        .on("03", "2024-02-01")
        .evaluate(CHECK);
    let mmr = req(&on_time, "MMR");
    assert_eq!(mmr.status, ComplianceStatus::Compliant, "{mmr:?}");
    assert_eq!(mmr.doses_counted, 2);
}

#[test]
fn grade_seven_needs_tdap_and_menacwy() {
    // 12 years old in grade 7 with the childhood series.
    let without = Child::new("2014-03-01", "7").childhood_series();
    let c = without.evaluate(CHECK);
    assert_eq!(req(&c, "DTaP").status, ComplianceStatus::Compliant);
    let tdap = req(&c, "Tdap");
    assert_eq!((tdap.doses_counted, tdap.doses_required), (0, 1));
    assert_ne!(tdap.status, ComplianceStatus::Compliant);
    let men = req(&c, "MenACWY");
    assert_eq!((men.doses_counted, men.doses_required), (0, 1));
    assert_ne!(c.status, ComplianceStatus::Compliant);

    let with = Child::new("2014-03-01", "7")
        .childhood_series()
        .on("115", "2025-04-01")
        .on("114", "2025-04-01")
        .evaluate(CHECK);
    assert_eq!(
        req(&with, "Tdap").status,
        ComplianceStatus::Compliant,
        "{with:#?}"
    );
    assert_eq!(req(&with, "MenACWY").status, ComplianceStatus::Compliant);
    assert!(
        with.requirements.iter().all(|r| &*r.vaccine != "HepA"),
        "not a K-12 rule"
    );
}

#[test]
fn a_dtap_dose_does_not_count_as_the_grade_seven_tdap() {
    let c = Child::new("2014-03-01", "7")
        .childhood_series()
        .on("20", "2025-04-01")
        .on("114", "2025-04-01")
        .evaluate(CHECK);
    assert_eq!(req(&c, "Tdap").doses_counted, 0);
}

#[test]
fn grade_twelve_menacwy_needs_a_dose_on_or_after_the_sixteenth_birthday() {
    // Born 2009-01-15: 16th birthday 2025-01-15; 17 on the check date.
    let base = || {
        Child::new("2009-01-15", "12")
            .childhood_series()
            .on("115", "2020-03-01")
    };
    let booster_after = base()
        .on("114", "2020-03-01")
        .on("114", "2025-02-01")
        .evaluate(CHECK);
    let men = req(&booster_after, "MenACWY");
    assert_eq!(men.status, ComplianceStatus::Compliant, "{men:?}");
    assert_eq!((men.doses_counted, men.doses_required), (2, 2));

    let booster_before = base()
        .on("114", "2020-03-01")
        .on("114", "2024-10-01")
        .evaluate(CHECK);
    let men = req(&booster_before, "MenACWY");
    assert_ne!(men.status, ComplianceStatus::Compliant, "{men:?}");
    // The engine itself does not count a booster before 16 (the series' minimum age).
    assert_eq!((men.doses_counted, men.doses_required), (1, 2), "{men:?}");
    assert!(men.next_due_date.is_some());

    let single_after = base().on("114", "2025-03-01").evaluate(CHECK);
    let men = req(&single_after, "MenACWY");
    assert_eq!(men.status, ComplianceStatus::Compliant, "{men:?}");
    assert_eq!((men.doses_counted, men.doses_required), (1, 1));

    let single_before = base().on("114", "2020-03-01").evaluate(CHECK);
    let men = req(&single_before, "MenACWY");
    assert_ne!(men.status, ComplianceStatus::Compliant, "{men:?}");
    assert_eq!((men.doses_counted, men.doses_required), (1, 2));
}

#[test]
fn varicella_immunity_meets_the_varicella_requirement_but_not_others() {
    let child = Child::new("2020-01-10", "1")
        .at("08", 0, 0)
        .at("08", 2, 0)
        .at("08", 6, 0);
    let on = d(CHECK);
    let mut forecast = child.forecast(on);
    for g in forecast.vaccine_groups.iter_mut() {
        if matches!(
            g.vaccine_group,
            VaccineGroup::Varicella | VaccineGroup::HepB
        ) {
            g.status = SeriesStatus::Immune;
        }
    }
    let c = child.evaluate_with(&forecast, on);
    assert_eq!(req(&c, "Varicella").status, ComplianceStatus::Compliant);
    assert_eq!(req(&c, "Varicella").doses_counted, 0);
    assert_eq!(
        req(&c, "HepB").status,
        ComplianceStatus::Compliant,
        "3 valid doses"
    );
    assert_ne!(
        req(&c, "MMR").status,
        ComplianceStatus::Compliant,
        "no immunity rule for MMR"
    );
}

#[test]
fn a_medical_exemption_covers_only_its_group() {
    let mut child = Child::new("2019-05-05", "2").childhood_series();
    child.doses.retain(|(cvx, _)| *cvx != "03");
    child.exemptions.push(
        Exemption::for_group_name(ExemptionKind::Medical, Some("MMR"), None).expect("known group"),
    );
    let c = child.evaluate(CHECK);
    let mmr = req(&c, "MMR");
    assert_eq!(mmr.status, ComplianceStatus::Exempt);
    assert_eq!(mmr.exemption, Some(ExemptionKind::Medical));
    assert_eq!(mmr.next_due_date, None);
    for other in ["HepB", "DTaP", "Polio", "Varicella"] {
        assert_eq!(
            req(&c, other).status,
            ComplianceStatus::Compliant,
            "{other}"
        );
        assert_eq!(req(&c, other).exemption, None);
    }
    assert_eq!(c.status, ComplianceStatus::Exempt);

    // An expired exemption covers nothing.
    child.exemptions[0].expires_on = Some(d("2026-01-01"));
    assert_ne!(
        req(&child.evaluate(CHECK), "MMR").status,
        ComplianceStatus::Exempt
    );
}

#[test]
fn a_non_medical_exemption_for_all_groups_covers_every_unmet_requirement() {
    let mut child = Child::new("2014-03-01", "7").at("08", 0, 0);
    child.exemptions.push(
        Exemption::for_group_name(ExemptionKind::NonMedical, None, None).expect("all groups"),
    );
    let c = child.evaluate(CHECK);
    assert_eq!(c.status, ComplianceStatus::Exempt);
    assert!(c.requirements.len() >= 7, "{c:#?}");
    for r in &c.requirements {
        assert_eq!(r.status, ComplianceStatus::Exempt, "{r:?}");
        assert_eq!(r.exemption, Some(ExemptionKind::NonMedical));
    }
}

#[test]
fn an_exemption_naming_an_unknown_group_covers_nothing() {
    assert_eq!(
        Exemption::for_group_name(ExemptionKind::Medical, Some("Not a group"), None),
        None
    );
}

#[test]
fn a_child_care_child_with_a_past_due_hib_dose_is_not_compliant() {
    // Ten months old: every 2-4-6 month dose but Hib after the first.
    let child = Child::new("2025-11-15", "CC")
        .at("08", 0, 0)
        .at("08", 2, 0)
        .at("08", 6, 0)
        .at("20", 2, 0)
        .at("20", 4, 0)
        .at("20", 6, 0)
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 6, 0)
        .at("133", 2, 0)
        .at("133", 4, 0)
        .at("133", 6, 0)
        .at("48", 2, 0);
    let on = d(CHECK);
    let forecast = child.forecast(on);
    let hib_forecast = forecast.group(VaccineGroup::Hib).expect("Hib");
    assert!(
        hib_forecast.past_due_date.is_some_and(|p| p <= on),
        "{hib_forecast:?}"
    );
    let c = child.evaluate_with(&forecast, on);
    let hib = req(&c, "Hib");
    assert_eq!(hib.status, ComplianceStatus::NotCompliant, "{hib:?}");
    assert_eq!(hib.doses_counted, 1);
    assert_eq!(hib.next_due_date, hib_forecast.recommended_date);
    assert_eq!(c.status, ComplianceStatus::NotCompliant);
    for on_time in ["DTaP", "Polio", "PCV", "HepB"] {
        assert_ne!(
            req(&c, on_time).status,
            ComplianceStatus::NotCompliant,
            "{on_time}"
        );
    }
}

#[test]
fn a_child_care_child_on_schedule_is_in_progress() {
    // Seven months old, every dose of the 2-4-6 month visits on time.
    let child = Child::new("2026-02-10", "CC")
        .at("08", 0, 0)
        .at("08", 2, 0)
        .at("08", 6, 0)
        .at("20", 2, 0)
        .at("20", 4, 0)
        .at("20", 6, 0)
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 6, 0)
        .at("133", 2, 0)
        .at("133", 4, 0)
        .at("133", 6, 0)
        .at("48", 2, 0)
        .at("48", 4, 0)
        .at("48", 6, 0);
    let c = child.evaluate(CHECK);
    assert_eq!(c.status, ComplianceStatus::InProgress, "{c:#?}");
    let names: Vec<&str> = c.requirements.iter().map(|r| &*r.vaccine).collect();
    assert_eq!(
        names,
        [
            "HepA",
            "HepB",
            "DTaP",
            "Polio",
            "Hib",
            "PCV",
            "MMR",
            "Varicella"
        ]
    );
    let mmr = req(&c, "MMR");
    assert_eq!(mmr.status, ComplianceStatus::InProgress);
    assert!(mmr.next_due_date.is_some_and(|n| n > d(CHECK)), "{mmr:?}");
}

#[test]
fn a_fully_vaccinated_kindergartner_is_compliant() {
    let c = Child::new("2021-03-01", "K")
        .childhood_series()
        .evaluate(CHECK);
    assert_eq!(c.status, ComplianceStatus::Compliant, "{c:#?}");
    assert_eq!(c.requirements.len(), 5);
}

#[test]
fn a_student_with_no_doses_past_the_due_dates_is_not_compliant() {
    let c = Child::new("2016-03-01", "4").evaluate(CHECK);
    assert_eq!(c.status, ComplianceStatus::NotCompliant, "{c:#?}");
    let dtap = req(&c, "DTaP");
    assert_eq!(
        dtap.doses_required, 3,
        "students 7 and older may meet it with 3 doses"
    );
}
