//! One test per CDSi logic step, on the embedded schedule. Each builds a small
//! patient and checks the step's observable effect.

mod common;

use chrono::NaiveDate;
use common::{d, patient, run, schedule};
use forecast::{
    cases::{check_case, Case},
    EvaluationStatus, Gender, PatientForecast, SeriesStatus, VaccineGroup,
};

fn group_status(r: &PatientForecast, g: VaccineGroup) -> SeriesStatus {
    r.group(g).expect("group present").status
}

fn dose_in_group(r: &PatientForecast, g: VaccineGroup, i: usize) -> Option<EvaluationStatus> {
    r.dose_status_for_group(schedule(), g)[i]
}

const DOB: (i32, u32, u32) = (2025, 1, 15);

fn dob() -> NaiveDate {
    d(DOB.0, DOB.1, DOB.2)
}

#[test]
fn gather_history_maps_combination_vaccine_to_each_antigen() {
    // Pediarix (110) = DTaP + HepB + IPV.
    let r = run(
        &patient(dob(), &[(d(2025, 3, 15), "110")], &[]),
        d(2025, 4, 1),
    );
    let names: Vec<&str> = r.doses[0]
        .per_antigen
        .iter()
        .map(|(a, _, _)| schedule().antigen_name(*a))
        .collect();
    for a in ["Diphtheria", "Tetanus", "Pertussis", "HepB", "Polio"] {
        assert!(names.contains(&a), "{a} missing from {names:?}");
    }
}

#[test]
fn grace_period_four_days_before_minimum_age_counts() {
    // DTaP dose 1: minimum age 6 weeks, absolute minimum 6 weeks - 4 days.
    let at_grace = dob() + chrono::Duration::days(42 - 4);
    let r = run(&patient(dob(), &[(at_grace, "20")], &[]), d(2025, 6, 1));
    assert_eq!(
        dose_in_group(&r, VaccineGroup::DtapTdapTd, 0),
        Some(EvaluationStatus::Valid)
    );
}

#[test]
fn grace_period_five_days_before_minimum_age_is_too_young() {
    let too_early = dob() + chrono::Duration::days(42 - 5);
    let r = run(&patient(dob(), &[(too_early, "20")], &[]), d(2025, 6, 1));
    assert_eq!(
        dose_in_group(&r, VaccineGroup::DtapTdapTd, 0),
        Some(EvaluationStatus::NotValid)
    );
    assert_eq!(
        r.group(VaccineGroup::DtapTdapTd).expect("dtap").dose_number,
        Some(1)
    );
}

#[test]
fn interval_below_absolute_minimum_is_too_soon() {
    // DTaP dose 2: minimum interval 4 weeks (absolute 4 weeks - 4 days).
    let first = d(2025, 3, 15);
    let r = run(
        &patient(
            dob(),
            &[
                (first, "20"),
                (first + chrono::Duration::days(28 - 5), "20"),
            ],
            &[],
        ),
        d(2025, 6, 1),
    );
    assert_eq!(
        dose_in_group(&r, VaccineGroup::DtapTdapTd, 1),
        Some(EvaluationStatus::NotValid)
    );
    let ok = run(
        &patient(
            dob(),
            &[
                (first, "20"),
                (first + chrono::Duration::days(28 - 4), "20"),
            ],
            &[],
        ),
        d(2025, 6, 1),
    );
    assert_eq!(
        dose_in_group(&ok, VaccineGroup::DtapTdapTd, 1),
        Some(EvaluationStatus::Valid)
    );
}

#[test]
fn live_virus_conflict_varicella_within_28_days_of_mmr_is_not_valid() {
    let dob = d(2024, 1, 10);
    let mmr = d(2025, 1, 10);
    let conflict = run(
        &patient(
            dob,
            &[(mmr, "03"), (mmr + chrono::Duration::days(20), "21")],
            &[],
        ),
        d(2025, 6, 1),
    );
    assert_eq!(
        dose_in_group(&conflict, VaccineGroup::Varicella, 1),
        Some(EvaluationStatus::NotValid)
    );
    let fine = run(
        &patient(
            dob,
            &[(mmr, "03"), (mmr + chrono::Duration::days(28), "21")],
            &[],
        ),
        d(2025, 6, 1),
    );
    assert_eq!(
        dose_in_group(&fine, VaccineGroup::Varicella, 1),
        Some(EvaluationStatus::Valid)
    );
}

#[test]
fn live_virus_conflict_same_day_is_allowed() {
    let dob = d(2024, 1, 10);
    let r = run(
        &patient(dob, &[(d(2025, 1, 10), "03"), (d(2025, 1, 10), "21")], &[]),
        d(2025, 6, 1),
    );
    assert_eq!(
        dose_in_group(&r, VaccineGroup::Varicella, 1),
        Some(EvaluationStatus::Valid)
    );
}

#[test]
fn skip_condition_evaluation_hib_first_dose_at_15_months_completes_series() {
    let dob = d(2023, 1, 10);
    let r = run(
        &patient(dob, &[(d(2024, 4, 10), "48")], &[]),
        d(2025, 1, 10),
    );
    assert_eq!(group_status(&r, VaccineGroup::Hib), SeriesStatus::Complete);
}

#[test]
fn skip_condition_forecast_dtap_at_age_7_forecasts_a_single_tdap_series() {
    let dob = d(2018, 1, 10);
    let r = run(&patient(dob, &[], &[]), d(2025, 2, 1));
    let g = r.group(VaccineGroup::DtapTdapTd).expect("dtap");
    assert_eq!(g.status, SeriesStatus::NotComplete);
    assert_eq!(g.dose_number, Some(1));
    assert_eq!(g.earliest_date, Some(d(2025, 1, 10)), "7th birthday");
}

#[test]
fn series_selection_risk_series_requires_an_indication() {
    // A 30-year-old: no pneumococcal series until 50 without an indication...
    let dob = d(1995, 6, 1);
    let healthy = run(&patient(dob, &[], &[]), d(2025, 6, 1));
    let g = healthy.group(VaccineGroup::Pneumococcal).expect("pcv");
    assert!(g.earliest_date.is_none_or(|e| e >= d(2045, 6, 1)), "{g:?}");
    // ...but smoking (042) selects the adult risk series now.
    let smoker = run(&patient(dob, &[], &["042"]), d(2025, 6, 1));
    let g = smoker.group(VaccineGroup::Pneumococcal).expect("pcv");
    assert_eq!(g.status, SeriesStatus::NotComplete);
    assert!(g.earliest_date.is_some_and(|e| e <= d(2025, 6, 1)), "{g:?}");
}

#[test]
fn series_selection_gender_restricts_series() {
    let mut p = patient(d(2010, 1, 1), &[], &[]);
    p.gender = Gender::Male;
    let r = run(&p, d(2025, 1, 1));
    assert!(r.group(VaccineGroup::Hpv).is_some());
}

#[test]
fn aged_out_rotavirus_after_maximum_age() {
    let r = run(&patient(d(2024, 1, 10), &[], &[]), d(2025, 1, 10));
    assert_eq!(
        group_status(&r, VaccineGroup::Rotavirus),
        SeriesStatus::AgedOut
    );
}

#[test]
fn immunity_from_observation_history_of_varicella() {
    let r = run(&patient(d(2015, 1, 1), &[], &["024"]), d(2025, 1, 1));
    assert_eq!(
        group_status(&r, VaccineGroup::Varicella),
        SeriesStatus::Immune
    );
}

#[test]
fn immunity_from_birth_date_measles_before_1957() {
    let r = run(&patient(d(1950, 1, 1), &[], &[]), d(2025, 1, 1));
    assert!(
        matches!(group_status(&r, VaccineGroup::Mmr), SeriesStatus::Immune),
        "{:?}",
        r.group(VaccineGroup::Mmr)
    );
}

#[test]
fn contraindication_from_observation_adverse_reaction() {
    let r = run(&patient(d(2024, 11, 1), &[], &["080"]), d(2025, 3, 1));
    assert_eq!(
        group_status(&r, VaccineGroup::Hib),
        SeriesStatus::Contraindicated
    );
}

#[test]
fn preferable_and_allowable_vaccines_wrong_product_is_not_valid() {
    // Tdap (115) as a first infant dose is not a preferable or allowable DTaP.
    let r = run(
        &patient(dob(), &[(d(2025, 3, 15), "115")], &[]),
        d(2025, 4, 1),
    );
    assert_eq!(
        dose_in_group(&r, VaccineGroup::DtapTdapTd, 0),
        Some(EvaluationStatus::NotValid)
    );
}

#[test]
fn extraneous_dose_after_series_complete() {
    // Hib at 15 months completes the series; a second dose is not needed.
    let dob = d(2023, 1, 10);
    let r = run(
        &patient(dob, &[(d(2024, 4, 10), "48"), (d(2024, 8, 10), "48")], &[]),
        d(2025, 1, 10),
    );
    assert_eq!(
        dose_in_group(&r, VaccineGroup::Hib, 1),
        Some(EvaluationStatus::Extraneous)
    );
}

#[test]
fn forecast_dates_newborn_dtap() {
    let r = run(&patient(dob(), &[], &[]), dob());
    let g = r.group(VaccineGroup::DtapTdapTd).expect("dtap");
    assert_eq!(g.dose_number, Some(1));
    assert_eq!(g.earliest_date, Some(d(2025, 2, 26)), "6 weeks");
    assert_eq!(g.recommended_date, Some(d(2025, 3, 15)), "2 months");
    assert_eq!(
        g.past_due_date,
        Some(d(2025, 5, 12)),
        "3 months + 4 weeks - 1 day"
    );
    assert!(!g.vaccines.is_empty());
}

#[test]
fn vaccine_group_rollup_mmr_needs_every_antigen() {
    // A single measles-only dose leaves mumps and rubella due: MMR dose 1 again.
    let dob = d(2024, 1, 10);
    let r = run(&patient(dob, &[(d(2025, 1, 10), "05")], &[]), d(2025, 3, 1));
    let g = r.group(VaccineGroup::Mmr).expect("mmr");
    assert_eq!(g.status, SeriesStatus::NotComplete);
    assert_eq!(g.dose_number, Some(1));
}

#[test]
fn every_schedule_group_is_forecast_and_doses_keep_input_order() {
    let p = patient(
        dob(),
        &[(d(2025, 5, 15), "20"), (d(2025, 3, 15), "20")],
        &[],
    );
    let r = run(&p, d(2025, 6, 1));
    assert_eq!(r.vaccine_groups.len(), schedule().vaccine_groups().count());
    assert_eq!(r.doses.len(), 2);
    assert!(r.doses.iter().all(|d| d.status == EvaluationStatus::Valid));
}

#[test]
fn unknown_cvx_is_reported_not_panicking() {
    let r = run(
        &patient(
            dob(),
            &[(d(2025, 3, 15), "999"), (d(2025, 3, 15), "abc")],
            &[],
        ),
        d(2025, 4, 1),
    );
    assert!(r
        .doses
        .iter()
        .all(|d| d.per_antigen.is_empty() && d.status == EvaluationStatus::Extraneous));
}

#[test]
fn case_pass_rule_compares_statuses_and_dates() {
    let json = r#"{ "id": "x", "dob": "2025-11-10", "gender": "F", "assessmentDate": "2025-11-10",
        "vaccineGroup": "DTAP", "observations": [], "doses": [],
        "expected": { "seriesStatus": "Not complete", "forecastNumber": "1",
            "earliestDate": "2025-12-22", "recommendedDate": "2026-01-10", "pastDueDate": "2026-03-09" } }"#;
    let case: Case = serde_json::from_str(json).expect("case parses");
    let res = check_case(schedule(), &case);
    assert!(res.passed, "{:?}", res.differences);
    let mut wrong = case.clone();
    wrong.expected.past_due_date = None;
    let res = check_case(schedule(), &wrong);
    assert!(!res.passed);
    assert_eq!(res.differences.len(), 1);
}

#[test]
fn engine_never_panics_on_odd_inputs() {
    // Deterministic pseudo-random patients: doses before birth, after the
    // assessment date, unknown codes (also past the CVX tables), duplicate days, far
    // past and future dates.
    let mut state: u64 = 42;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let cvx = [
        "08", "20", "10", "49", "133", "03", "21", "94", "115", "62", "88", "208", "999", "", "x",
        "110", "305", "4000",
    ];
    for _ in 0..500 {
        let dob = d(
            1900 + next(130) as i32,
            1 + next(12) as u32,
            1 + next(28) as u32,
        );
        let on = dob + chrono::Duration::days(next(40_000) as i64 - 100);
        let doses: Vec<(NaiveDate, &str)> = (0..next(30))
            .map(|_| {
                (
                    dob + chrono::Duration::days(next(30_000) as i64 - 50),
                    cvx[next(cvx.len() as u64) as usize],
                )
            })
            .collect();
        let obs = ["042", "080", "160", "055", "7", "abc"];
        let observations: Vec<&str> = (0..next(3))
            .map(|_| obs[next(obs.len() as u64) as usize])
            .collect();
        let r = run(&patient(dob, &doses, &observations), on);
        assert_eq!(r.doses.len(), doses.len());
        assert_eq!(r.vaccine_groups.len(), schedule().vaccine_groups().count());
    }
}
