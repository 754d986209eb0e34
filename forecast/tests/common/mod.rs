//! Small patients on the embedded schedule, shared by the rule and logic-step tests.

use chrono::NaiveDate;
use forecast::{forecast, Gender, Patient, PatientDose, PatientForecast, Schedule};

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

pub fn schedule() -> &'static Schedule {
    Schedule::embedded().expect("embedded schedule loads")
}

/// A female patient born `dob` with `doses` (date, CVX) and CDSi `observations` (codes).
pub fn patient(dob: NaiveDate, doses: &[(NaiveDate, &str)], observations: &[&str]) -> Patient {
    Patient {
        date_of_birth: dob,
        gender: Gender::Female,
        doses: doses
            .iter()
            .map(|(date, cvx)| PatientDose {
                date_given: *date,
                cvx: (*cvx).into(),
                mvx: None,
            })
            .collect(),
        observations: observations.iter().map(|o| (*o).to_string()).collect(),
    }
}

pub fn run(p: &Patient, on: NaiveDate) -> PatientForecast {
    forecast(schedule(), p, on)
}
