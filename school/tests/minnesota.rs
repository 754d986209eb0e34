//! Minnesota's rules on hand-built students, evaluated on the real forecasting engine's
//! verdicts: one test per rule row of `shared/spec/school-requirements.md`.

use chrono::{Months, NaiveDate};
use forecast::{
    Gender, Patient, PatientDose, PatientForecast, Schedule, SeriesStatus, VaccineGroup,
};
use school::{
    Compliance, ComplianceStatus, Documenter, EvaluatedDose, Exemption, ExemptionKind,
    ImmunityEvidence, RequirementStatus, Requirements, Student,
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
    immunity: Vec<ImmunityEvidence>,
    enrolled_on: Option<NaiveDate>,
}

impl Child {
    fn new(dob: &str, grade: &'static str) -> Child {
        Child {
            dob: d(dob),
            grade,
            doses: Vec::new(),
            exemptions: Vec::new(),
            immunity: Vec::new(),
            enrolled_on: None,
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
            immunity: self.immunity.clone(),
            enrolled_on: self.enrolled_on,
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
fn provider_documented_varicella_immunity_meets_the_varicella_requirement_but_not_others() {
    let mut child = Child::new("2020-01-10", "1")
        .at("08", 0, 0)
        .at("08", 2, 0)
        .at("08", 6, 0);
    child.immunity.push(ImmunityEvidence {
        group: VaccineGroup::Varicella,
        documented_by: Documenter::Provider,
        disease_on: None,
    });
    child.immunity.push(ImmunityEvidence {
        group: VaccineGroup::Mmr,
        documented_by: Documenter::Provider,
        disease_on: None,
    });
    let c = child.evaluate(CHECK);
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
    // Seven months: hepatitis A is checked from 12 months, MMR and varicella from 15.
    let names: Vec<&str> = c.requirements.iter().map(|r| &*r.vaccine).collect();
    assert_eq!(names, ["HepB", "DTaP", "Polio", "Hib", "PCV"]);
    let dtap = req(&c, "DTaP");
    assert_eq!(dtap.status, ComplianceStatus::InProgress);
    assert!(dtap.next_due_date.is_some_and(|n| n > d(CHECK)), "{dtap:?}");
    // On schedule: in progress until the day before the engine's past-due date.
    let forecast = child.forecast(d(CHECK));
    let past_due = forecast
        .group(VaccineGroup::DtapTdapTd)
        .and_then(|g| g.past_due_date)
        .expect("a past-due date for the 4th DTaP");
    assert_eq!(dtap.in_progress_until, past_due.pred_opt());
    assert_eq!(
        c.in_progress_until,
        c.requirements
            .iter()
            .filter_map(|r| r.in_progress_until)
            .min()
    );
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

// --- Issue 22: corrections against the Department of Health's chart, one test per item ---

/// Every dose of the 2-4-6 month visits (HepB at birth, 2 and 6 months).
fn infant_series(child: Child) -> Child {
    child
        .at("08", 0, 0)
        .at("08", 2, 0)
        .at("08", 6, 0)
        .at("20", 2, 0)
        .at("20", 4, 0)
        .at("20", 6, 0)
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 6, 0)
        .at("48", 2, 0)
        .at("48", 4, 0)
        .at("48", 6, 0)
}

fn vaccines_of(c: &Compliance) -> Vec<&str> {
    c.requirements.iter().map(|r| &*r.vaccine).collect()
}

/// A child `months` old on `CHECK`.
fn born_months_before_check(months: u32) -> String {
    d(CHECK)
        .checked_sub_months(Months::new(months))
        .expect("date")
        .to_string()
}

/// Item 1: Minn. R. 4604.1000 requires PCV of a child "at least two months old and not yet
/// two years old"; a 2-to-4-year-old missing PCV is not held to it.
#[test]
fn child_care_pcv_is_required_only_from_two_months_through_twenty_three_months() {
    for (months, required) in [
        (1, false),
        (2, true),
        (20, true),
        (23, true),
        (24, false),
        (30, false),
    ] {
        let c = infant_series(Child::new(&born_months_before_check(months), "CC")).evaluate(CHECK);
        assert_eq!(
            vaccines_of(&c).contains(&"PCV"),
            required,
            "{months} months: {c:#?}"
        );
    }
    // 20 months old with no PCV at all: required and past due.
    let c = infant_series(Child::new(&born_months_before_check(20), "CC")).evaluate(CHECK);
    assert_eq!(req(&c, "PCV").status, ComplianceStatus::NotCompliant);
    // 30 months old, no PCV: nothing to say about PCV (it was NOT_COMPLIANT before).
    let c = infant_series(Child::new(&born_months_before_check(30), "CC")).evaluate(CHECK);
    assert!(
        c.requirements.iter().all(|r| &*r.vaccine != "PCV"),
        "{c:#?}"
    );
}

/// Item 2: two doses of the adult formulation (CVX 43) from age 11 through 15 meet the
/// hepatitis B requirement, as they complete the engine's adolescent series.
#[test]
fn the_alternate_two_dose_adolescent_hepb_schedule_meets_the_requirement() {
    // Born 2012-03-01: 11 on 2023-03-01, 16 on 2028-03-01; 14 on the check date.
    let base = || {
        let mut c = Child::new("2012-03-01", "9").childhood_series();
        c.doses.retain(|(cvx, _)| *cvx != "08");
        c.on("115", "2023-04-01").on("114", "2023-04-01")
    };
    let alternate = base().on("43", "2023-04-01").on("43", "2023-09-01");
    let on = d(CHECK);
    let forecast = alternate.forecast(on);
    assert_eq!(
        forecast.group(VaccineGroup::HepB).map(|g| g.status),
        Some(SeriesStatus::Complete),
        "the engine completes the adolescent series"
    );
    let c = alternate.evaluate_with(&forecast, on);
    let hepb = req(&c, "HepB");
    assert_eq!(hepb.status, ComplianceStatus::Compliant, "{hepb:?}");
    assert_eq!((hepb.doses_counted, hepb.doses_required), (2, 2));
    assert_eq!(c.status, ComplianceStatus::Compliant, "{c:#?}");

    // Two paediatric doses at the same ages are two of the three-dose series.
    let pediatric = base()
        .on("08", "2023-04-01")
        .on("08", "2023-09-01")
        .evaluate(CHECK);
    let hepb = req(&pediatric, "HepB");
    assert_ne!(hepb.status, ComplianceStatus::Compliant, "{hepb:?}");
    assert_eq!((hepb.doses_counted, hepb.doses_required), (2, 3));

    // An adult-formulation dose before the 11th birthday is not on the alternate schedule.
    let early = base()
        .on("43", "2022-06-01")
        .on("43", "2023-09-01")
        .evaluate(CHECK);
    let hepb = req(&early, "HepB");
    assert_ne!(hepb.status, ComplianceStatus::Compliant, "{hepb:?}");
    assert_eq!(hepb.doses_required, 3);
}

/// Item 4: polio is not required of students 18 and older (121A.15 subd. 3(b)); at 7 and
/// older the chart's count is unchanged (4, or 3 with the 3rd on or after the 4th birthday).
#[test]
fn polio_is_not_required_from_eighteen_and_needs_four_doses_at_seven_and_older() {
    let senior = |dob: &str| {
        let mut c = Child::new(dob, "12")
            .childhood_series()
            .on("115", "2020-03-01")
            .on("114", "2025-03-01");
        c.doses.retain(|(cvx, _)| *cvx != "10");
        c.evaluate(CHECK)
    };
    // 18 on 2026-09-01, before the check date.
    let eighteen = senior("2008-09-01");
    assert!(!vaccines_of(&eighteen).contains(&"Polio"), "{eighteen:#?}");
    assert_eq!(
        eighteen.status,
        ComplianceStatus::Compliant,
        "{eighteen:#?}"
    );
    // 18 the day after the check date: still required.
    let seventeen = senior("2008-09-16");
    let polio = req(&seventeen, "Polio");
    // A catch-up from here puts the 3rd dose after the 4th birthday: three will do.
    assert_eq!((polio.doses_counted, polio.doses_required), (0, 3));
    assert_eq!(polio.status, ComplianceStatus::NotCompliant);

    // Nine years old, three doses all before the 4th birthday: three of four.
    let nine = Child::new("2017-05-01", "3")
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 6, 0)
        .evaluate(CHECK);
    let polio = req(&nine, "Polio");
    assert_eq!(
        (polio.doses_counted, polio.doses_required),
        (3, 4),
        "{polio:?}"
    );
    assert_ne!(polio.status, ComplianceStatus::Compliant);
    // Three with the third on or after the 4th birthday: enough.
    let catch_up = Child::new("2017-05-01", "3")
        .at("10", 2, 0)
        .at("10", 4, 0)
        .at("10", 60, 0)
        .evaluate(CHECK);
    assert_eq!(req(&catch_up, "Polio").status, ComplianceStatus::Compliant);
}

/// Item 5: only a Tdap given on or after the 7th birthday counts for grade 7. The child
/// caught up late: DTaP at 2, 4, 6 and 15 months, then a Tdap as the fifth dose.
#[test]
fn a_tdap_before_the_seventh_birthday_does_not_count_for_grade_seven() {
    // Born 2014-03-01: 7 on 2021-03-01.
    let with_tdap = |date: &str| {
        let mut c = Child::new("2014-03-01", "7").childhood_series();
        c.doses
            .retain(|(cvx, date)| *cvx != "20" || *date < d("2017-01-01"));
        c.on("114", "2025-04-01").on("115", date).evaluate(CHECK)
    };
    let at_six = with_tdap("2020-10-01");
    assert_eq!(
        req(&at_six, "DTaP").status,
        ComplianceStatus::Compliant,
        "it completes the DTaP series"
    );
    let tdap = req(&at_six, "Tdap");
    assert_eq!(
        (tdap.doses_counted, tdap.doses_required),
        (0, 1),
        "{tdap:?}"
    );
    assert_ne!(tdap.status, ComplianceStatus::Compliant);
    let at_eight = with_tdap("2022-06-01");
    let tdap = req(&at_eight, "Tdap");
    assert_eq!(tdap.status, ComplianceStatus::Compliant, "{tdap:?}");
    assert_eq!(tdap.doses_counted, 1);
    // The grace period of the birthday conditions applies.
    assert_eq!(req(&with_tdap("2021-02-26"), "Tdap").doses_counted, 1);
    assert_eq!(req(&with_tdap("2021-02-20"), "Tdap").doses_counted, 0);
}

/// Item 6: a parent's history of varicella counts for disease before 2010-09-01; later
/// disease needs a provider's signature; laboratory evidence always counts.
#[test]
fn a_parents_varicella_history_counts_only_for_disease_before_september_2010() {
    let with = |documented_by, disease_on: Option<&str>| {
        let mut c = Child::new("2008-01-10", "12");
        c.immunity.push(ImmunityEvidence {
            group: VaccineGroup::Varicella,
            documented_by,
            disease_on: disease_on.map(d),
        });
        req(&c.evaluate(CHECK), "Varicella").status
    };
    use ComplianceStatus::{Compliant, NotCompliant};
    assert_eq!(with(Documenter::Parent, Some("2009-06-01")), Compliant);
    assert_eq!(with(Documenter::Parent, Some("2010-08-31")), Compliant);
    assert_eq!(with(Documenter::Parent, Some("2010-09-01")), NotCompliant);
    assert_eq!(with(Documenter::Parent, Some("2012-06-01")), NotCompliant);
    assert_eq!(
        with(Documenter::Parent, None),
        NotCompliant,
        "an undated parent history cannot be shown to predate 2010-09-01"
    );
    assert_eq!(with(Documenter::Provider, Some("2012-06-01")), Compliant);
    assert_eq!(with(Documenter::Provider, None), Compliant);
    assert_eq!(with(Documenter::Laboratory, None), Compliant);
}

/// Item 7: a child who has started a series stays in progress for 18 months after
/// enrollment (121A.15 subd. 2), past due or not, and the answer says until when.
#[test]
fn a_started_series_stays_in_progress_for_eighteen_months_after_enrollment() {
    // A kindergartner with one DTaP at 2 months and nothing since: long past due.
    let mut child = Child::new("2021-03-01", "K").childhood_series();
    child
        .doses
        .retain(|(cvx, date)| *cvx != "20" || *date < d("2021-06-01"));
    let not_enrolled = child.evaluate(CHECK);
    assert_eq!(
        req(&not_enrolled, "DTaP").status,
        ComplianceStatus::NotCompliant
    );

    child.enrolled_on = Some(d("2026-08-20"));
    let c = child.evaluate(CHECK);
    let dtap = req(&c, "DTaP");
    assert_eq!(dtap.status, ComplianceStatus::InProgress, "{dtap:?}");
    // 18 months after 2026-08-20 is 2028-02-20: in progress through the day before.
    assert_eq!(dtap.in_progress_until, Some(d("2028-02-19")));
    assert!(dtap.next_due_date.is_some(), "{dtap:?}");
    assert_eq!(c.status, ComplianceStatus::InProgress);
    assert_eq!(c.in_progress_until, Some(d("2028-02-19")));
    // The last day of the window, and the day after.
    assert_eq!(
        req(&child.evaluate("2028-02-19"), "DTaP").status,
        ComplianceStatus::InProgress
    );
    let after = child.evaluate("2028-02-20");
    assert_eq!(req(&after, "DTaP").status, ComplianceStatus::NotCompliant);
    assert_eq!(req(&after, "DTaP").in_progress_until, None);

    // A series never started is not in progress, window or not.
    let mut none = Child::new("2021-03-01", "K").childhood_series();
    none.doses.retain(|(cvx, _)| *cvx != "20");
    none.enrolled_on = Some(d("2026-08-20"));
    let c = none.evaluate(CHECK);
    assert_eq!(req(&c, "DTaP").status, ComplianceStatus::NotCompliant);
    assert_eq!(c.in_progress_until, None);
}

/// Item 8: child-care thresholds as data: hepatitis B from 2 months, hepatitis A from 12,
/// MMR and varicella from 15, Hib not from age 5.
#[test]
fn child_care_checks_each_vaccine_from_its_threshold_age() {
    let listed = |months: u32| {
        let c = Child::new(&born_months_before_check(months), "CC").evaluate(CHECK);
        vaccines_of(&c)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let has = |months: u32, v: &str| listed(months).iter().any(|x| x == v);
    assert!(
        listed(1).is_empty(),
        "nothing is checked before 2 months: {:?}",
        listed(1)
    );
    assert!(has(2, "HepB"));
    assert!(!has(11, "HepA") && has(12, "HepA"));
    for v in ["MMR", "Varicella"] {
        assert!(!has(14, v) && has(15, v), "{v}");
    }
    assert!(has(59, "Hib") && !has(60, "Hib"));
    // A 14-month-old with no MMR is not judged on MMR; at 17 months it is past due.
    let c = infant_series(Child::new(&born_months_before_check(17), "CC")).evaluate(CHECK);
    assert_eq!(
        req(&c, "MMR").status,
        ComplianceStatus::NotCompliant,
        "{c:#?}"
    );
}

/// Item 6 in child care: the engine closes the varicella group on any recorded immunity, but
/// only a history the rule accepts meets the requirement.
#[test]
fn in_child_care_a_parents_varicella_history_after_2010_does_not_meet_the_requirement() {
    let judged = |documented_by| {
        let mut child = infant_series(Child::new(&born_months_before_check(20), "CC"));
        child.immunity.push(ImmunityEvidence {
            group: VaccineGroup::Varicella,
            documented_by,
            disease_on: Some(d("2026-01-10")),
        });
        let on = d(CHECK);
        // As the gateway does for a recorded IMMUNITY finding.
        let mut forecast = child.forecast(on);
        for g in forecast.vaccine_groups.iter_mut() {
            if g.vaccine_group == VaccineGroup::Varicella {
                g.status = SeriesStatus::Immune;
                g.past_due_date = None;
                g.recommended_date = None;
            }
        }
        req(&child.evaluate_with(&forecast, on), "Varicella").status
    };
    assert_eq!(judged(Documenter::Provider), ComplianceStatus::Compliant);
    assert_eq!(judged(Documenter::Parent), ComplianceStatus::NotCompliant);
}
