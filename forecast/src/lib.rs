//! # izgraph forecast: the CDC CDSi logic in Rust
//!
//! A pure engine (no database, network or clock: the assessment date is an argument)
//! implementing the CDC's *Clinical Decision Support for Immunization* logic
//! specification over izgraph's own schedule format (JSON under `forecast/schedule/`,
//! converted from the CDC supporting data by the `cdsi-import` binary and checked
//! against it by the `schedule_matches_cdc` test).
//!
//! ```no_run
//! use forecast::{forecast, Gender, Patient, PatientDose, Schedule, VaccineGroup};
//! use chrono::NaiveDate;
//! let schedule = Schedule::embedded().expect("embedded schedule is valid");
//! let patient = Patient {
//!     date_of_birth: NaiveDate::from_ymd_opt(2025, 1, 10).unwrap(),
//!     gender: Gender::Female,
//!     doses: vec![PatientDose { date_given: NaiveDate::from_ymd_opt(2025, 3, 10).unwrap(), cvx: "110".into(), mvx: None }],
//!     observations: vec![],
//! };
//! let result = forecast(schedule, &patient, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
//! let dtap = result.group(VaccineGroup::DtapTdapTd).unwrap();
//! println!("{:?} dose {:?} on {:?}", dtap.status, dtap.dose_number, dtap.recommended_date);
//! ```

pub mod cases;
mod context;
pub mod duration;
mod engine;
mod evaluation;
mod forecasting;
mod history;
mod immunity;
mod interval;
mod rollup;
pub mod schedule;
mod selection;
mod series_select;
mod skip;
mod types;
mod vaccine_group;

#[doc(hidden)]
pub use engine::debug_antigens;
pub use engine::forecast;
pub use schedule::{Schedule, ScheduleError};
pub use types::*;
