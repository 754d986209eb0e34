//! Unit tests of the CDSi rules issue 19 touched, one small patient each, on the
//! embedded schedule (the supporting data 4.64). Each test names the rule (chapter
//! of the CDSi logic specification) and the supporting-data row it exercises.

mod common;

use chrono::NaiveDate;
use common::{d, patient, run, schedule};
use forecast::{
    forecast_with_dates, EvaluationStatus, ObservationDate, PatientForecast, SeriesStatus,
    VaccineGroup, VaccineGroupForecast,
};

fn group(r: &PatientForecast, g: VaccineGroup) -> &VaccineGroupForecast {
    r.group(g).expect("group forecast")
}

/// (status, dose number, earliest, recommended, past due) of a group.
type Summary = (
    SeriesStatus,
    Option<u32>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

fn summary(f: &VaccineGroupForecast) -> Summary {
    (
        f.status,
        f.dose_number,
        f.earliest_date,
        f.recommended_date,
        f.past_due_date,
    )
}

// --- CDSi 7.1 conditional skip, forecast context --------------------------------

#[test]
fn forecast_skip_by_age_is_judged_when_the_next_dose_could_be_given_hib() {
    // Hib 4-dose series, dose 3: "not required for those 12 months or older"
    // (forecast context). Dose 2 at 12 months - 4 days, assessed the same day: the
    // 4-week interval ends after the first birthday, so dose 3 is not needed and
    // the forecast is dose 4 (8 weeks after dose 2, past due at 16 months + 4 weeks).
    let dob = d(2024, 11, 14);
    let p = patient(dob, &[(d(2025, 1, 14), "48"), (d(2025, 11, 10), "48")], &[]);
    let f = run(&p, d(2025, 11, 10));
    assert_eq!(
        summary(group(&f, VaccineGroup::Hib)),
        (
            SeriesStatus::NotComplete,
            Some(3),
            Some(d(2026, 1, 5)),
            Some(d(2026, 1, 5)),
            Some(d(2026, 4, 10))
        )
    );
}

#[test]
fn forecast_skip_by_age_is_judged_when_the_next_dose_could_be_given_dtap() {
    // DTaP doses 3-5: "not required for those 7 years (4 years for dose 4) or older
    // at the earliest forecasted date for next dose". Two Pediarix doses, the second
    // at 6 years 11.5 months: the next dose can only be given after age 7, so the
    // childhood doses are skipped and the Td/Tdap catch-up continues (6 months).
    let dob = d(2018, 11, 26);
    let p = patient(
        dob,
        &[(d(2021, 11, 10), "110"), (d(2025, 11, 10), "110")],
        &[],
    );
    let f = run(&p, d(2025, 11, 10));
    assert_eq!(
        summary(group(&f, VaccineGroup::DtapTdapTd)),
        (
            SeriesStatus::NotComplete,
            Some(3),
            Some(d(2026, 5, 10)),
            Some(d(2026, 5, 10)),
            Some(d(2026, 5, 10))
        )
    );
}

#[test]
fn forecast_skip_by_age_still_uses_the_assessment_date_when_the_age_is_the_doses_own() {
    // COVID-19 2 years+ series, dose 2: minimum age 65 years and "not needed if
    // patient is under 65 years". Only the interval decides when the next dose
    // could be given; the dose's own minimum age does not move the skip's date, so
    // a 40-year-old with this season's dose is complete.
    let dob = d(1985, 11, 10);
    let p = patient(dob, &[(d(2025, 9, 15), "309")], &[]);
    let f = run(&p, d(2025, 11, 10));
    assert_eq!(
        group(&f, VaccineGroup::Covid19).status,
        SeriesStatus::Complete
    );
}

// --- CDSi 6.5 interval from a relevant observation -------------------------------

fn dated(code: &str, date: NaiveDate) -> ObservationDate {
    ObservationDate {
        code: code.into(),
        date,
    }
}

#[test]
fn interval_from_observation_date_hib_after_stem_cell_transplant() {
    // Hib risk 3-dose series (indication 004, HSCT recipient), dose 1: 6 months
    // (earliest recommended 6 months, latest recommended 12 months) from the date
    // of the transplant (observation 171).
    let dob = d(2010, 8, 14);
    let p = patient(dob, &[], &["004", "171"]);
    let f = forecast_with_dates(
        schedule(),
        &p,
        &[dated("171", d(2014, 2, 14))],
        d(2014, 9, 19),
    );
    assert_eq!(
        summary(group(&f, VaccineGroup::Hib)),
        (
            SeriesStatus::NotComplete,
            Some(1),
            Some(d(2014, 8, 14)),
            Some(d(2014, 8, 14)),
            Some(d(2015, 2, 13))
        )
    );
    // Without the date the interval does not apply: only the minimum age does.
    let undated = run(&p, d(2014, 9, 19));
    assert_eq!(
        group(&undated, VaccineGroup::Hib).earliest_date,
        Some(d(2010, 9, 25))
    );
}

#[test]
fn interval_from_observation_date_mmr_after_antiretroviral_therapy() {
    // Measles/Mumps/Rubella risk 2-dose ART series (indication 026), dose 1: 6
    // months after the start of antiretroviral therapy (observation 120). The
    // childhood doses come before it; the two doses after it complete the series
    // and count (not extraneous).
    let dob = d(1996, 5, 12);
    let p = patient(
        dob,
        &[
            (d(1997, 5, 12), "03"),
            (d(2000, 5, 12), "03"),
            (d(2016, 12, 12), "03"),
            (d(2017, 1, 12), "03"),
        ],
        &["026", "120"],
    );
    let f = forecast_with_dates(
        schedule(),
        &p,
        &[dated("120", d(2016, 6, 12))],
        d(2017, 1, 12),
    );
    assert_eq!(group(&f, VaccineGroup::Mmr).status, SeriesStatus::Complete);
    let statuses = f.dose_status_for_group(schedule(), VaccineGroup::Mmr);
    assert_eq!(statuses, vec![Some(EvaluationStatus::Valid); 4]);
    // The supporting data's absolute minimum interval is 0 days: a dose given
    // before the therapy began does not count for the series (one after it, even
    // within 6 months, does).
    let early = patient(
        dob,
        &[
            (d(1997, 5, 12), "03"),
            (d(2000, 5, 12), "03"),
            (d(2016, 6, 11), "03"),
            (d(2017, 1, 12), "03"),
        ],
        &["026", "120"],
    );
    let f = forecast_with_dates(
        schedule(),
        &early,
        &[dated("120", d(2016, 6, 12))],
        d(2017, 1, 12),
    );
    assert_eq!(
        group(&f, VaccineGroup::Mmr).status,
        SeriesStatus::NotComplete
    );
}

// --- Forecast dose number with doses valid in another series group ---------------

#[test]
fn forecast_dose_number_counts_doses_valid_through_another_series_group() {
    // Sickle cell disease (observation 160) at 6 years: four PCV13 doses complete
    // the standard series, then one PPSV23. The best series is the 6-18 years
    // immunocompromised risk series (one valid dose: the PPSV23), but the PCV13
    // doses stay valid through the standard series group, and the next dose is the
    // patient's sixth.
    let dob = d(2010, 3, 21);
    let p = patient(
        dob,
        &[
            (d(2010, 5, 21), "133"),
            (d(2010, 7, 21), "133"),
            (d(2010, 9, 21), "133"),
            (d(2012, 5, 21), "133"),
            (d(2016, 5, 28), "33"),
        ],
        &["160"],
    );
    let f = run(&p, d(2016, 5, 28));
    let pcv = group(&f, VaccineGroup::Pneumococcal);
    assert_eq!(pcv.status, SeriesStatus::NotComplete);
    assert_eq!(pcv.dose_number, Some(6));
    assert_eq!(pcv.earliest_date, Some(d(2021, 5, 28)));
    let statuses = f.dose_status_for_group(schedule(), VaccineGroup::Pneumococcal);
    assert_eq!(statuses, vec![Some(EvaluationStatus::Valid); 5]);
}

// --- CDSi 6.5 intervals: from the previous dose vs from a specific target dose ---

#[test]
fn interval_from_a_specific_target_dose_and_from_the_previous_dose_both_apply() {
    // HepB 3-dose series, dose 3: 8 weeks from the previous dose AND 16 weeks from
    // target dose 1 (and 24 weeks of age). Started at 12 months, doses 4 weeks
    // apart: the 16 weeks from dose 1 decide (2025-04-23), not the 8 weeks from
    // dose 2 (2025-03-26).
    let dob = d(2024, 1, 1);
    let p = patient(dob, &[(d(2025, 1, 1), "08"), (d(2025, 1, 29), "08")], &[]);
    let f = run(&p, d(2025, 2, 1));
    let hepb = group(&f, VaccineGroup::HepB);
    assert_eq!(
        (hepb.dose_number, hepb.earliest_date),
        (Some(3), Some(d(2025, 4, 23)))
    );
}

// --- CDSi 6.3 conditional skip by age and interval (evaluation) -------------------

#[test]
fn evaluation_skip_by_age_and_interval_hib_dose_at_12_months_minus_3_days() {
    // Hib 4-dose series, dose 3 is skipped when the current dose is given at
    // 12 months - 4 days or later AND at least 8 weeks - 4 days after the previous
    // one: that dose then counts as dose 4 and the series is complete.
    let dob = d(2024, 1, 1);
    let at = |third: NaiveDate| {
        patient(
            dob,
            &[(d(2024, 3, 1), "48"), (d(2024, 5, 1), "48"), (third, "48")],
            &[],
        )
    };
    let f = run(&at(d(2024, 12, 29)), d(2025, 1, 15));
    assert_eq!(group(&f, VaccineGroup::Hib).status, SeriesStatus::Complete);
    // Two days earlier the age condition is not met: it is dose 3, dose 4 follows.
    let f = run(&at(d(2024, 12, 27)), d(2025, 1, 15));
    let hib = group(&f, VaccineGroup::Hib);
    assert_eq!(
        (hib.status, hib.dose_number),
        (SeriesStatus::NotComplete, Some(4))
    );
}

// --- CDSi 6.7 preferable and allowable vaccines with age ranges --------------------

#[test]
fn allowable_vaccine_outside_its_age_range_is_not_valid() {
    // DTaP-Hib (CVX 50) is allowable for Hib only from 12 months - 4 days.
    let dob = d(2024, 1, 1);
    let f = run(&patient(dob, &[(d(2024, 3, 1), "50")], &[]), d(2024, 4, 1));
    assert_eq!(
        f.dose_status_for_group(schedule(), VaccineGroup::Hib)[0],
        Some(EvaluationStatus::NotValid)
    );
    let f = run(
        &patient(dob, &[(d(2024, 12, 29), "50")], &[]),
        d(2025, 1, 15),
    );
    assert_eq!(
        f.dose_status_for_group(schedule(), VaccineGroup::Hib)[0],
        Some(EvaluationStatus::Valid)
    );
}

// --- CDSi 7 live virus conflict in the forecast ------------------------------------

#[test]
fn live_virus_conflict_moves_the_forecast_past_the_conflict() {
    // MMR at 12 months: varicella dose 1 (also live) cannot be forecast within the
    // 28 days after it.
    let dob = d(2024, 1, 10);
    let f = run(
        &patient(dob, &[(d(2025, 1, 10), "03")], &[]),
        d(2025, 1, 10),
    );
    assert_eq!(
        group(&f, VaccineGroup::Varicella).earliest_date,
        Some(d(2025, 2, 7))
    );
}

// --- CDSi 8 best series: series preference and maximum age to start ---------------

#[test]
fn best_series_first_hib_dose_at_7_months_follows_the_3_dose_series() {
    // The 4-dose series must start before 7 months - 4 days; a first dose at
    // 7 months puts the patient on the "start at 7 months 3-dose series": dose 2
    // 4 weeks later.
    let dob = d(2024, 1, 10);
    let f = run(
        &patient(dob, &[(d(2024, 8, 10), "48")], &[]),
        d(2024, 8, 10),
    );
    let hib = group(&f, VaccineGroup::Hib);
    assert_eq!(
        (hib.status, hib.dose_number, hib.earliest_date),
        (SeriesStatus::NotComplete, Some(2), Some(d(2024, 9, 7)))
    );
}

// --- CDSi 7 recurring doses --------------------------------------------------------

#[test]
fn recurring_td_booster_every_ten_years_is_numbered_and_dated_from_the_last() {
    // Five childhood DTaP doses and Tdap at 11: the recurring Td/Tdap booster is
    // due 10 years later (minimum 5), past due 10 years + 4 weeks; after a booster
    // the next one counts on.
    let dob = d(1980, 3, 1);
    let mut doses = vec![
        (d(1980, 5, 1), "20"),
        (d(1980, 7, 1), "20"),
        (d(1980, 9, 1), "20"),
        (d(1981, 6, 1), "20"),
        (d(1984, 4, 1), "20"),
        (d(1991, 4, 1), "115"),
    ];
    let f = run(&patient(dob, &doses, &[]), d(1995, 1, 1));
    assert_eq!(
        summary(group(&f, VaccineGroup::DtapTdapTd)),
        (
            SeriesStatus::NotComplete,
            Some(7),
            Some(d(1996, 4, 1)),
            Some(d(2001, 4, 1)),
            Some(d(2001, 4, 28))
        )
    );
    doses.push((d(2001, 5, 1), "09"));
    let f = run(&patient(dob, &doses, &[]), d(2002, 1, 1));
    let dtap = group(&f, VaccineGroup::DtapTdapTd);
    assert_eq!(
        (dtap.dose_number, dtap.earliest_date, dtap.recommended_date),
        (Some(8), Some(d(2006, 5, 1)), Some(d(2011, 5, 1)))
    );
}

#[test]
fn interval_from_observation_date_maternal_rsv_vaccine_32_to_37_weeks_of_pregnancy() {
    // RSV risk pregnant 1-dose series (indication 007, pregnant): from 32 weeks
    // (earliest and recommended) to 37 weeks (latest recommended) after the onset
    // of pregnancy (observation 170).
    let dob = d(1995, 6, 1);
    let p = patient(dob, &[], &["007", "170"]);
    let f = forecast_with_dates(
        schedule(),
        &p,
        &[dated("170", d(2025, 3, 1))],
        d(2025, 9, 15),
    );
    assert_eq!(
        summary(group(&f, VaccineGroup::Rsv)),
        (
            SeriesStatus::NotComplete,
            Some(1),
            Some(d(2025, 10, 11)),
            Some(d(2025, 10, 11)),
            Some(d(2025, 11, 14))
        )
    );
}
