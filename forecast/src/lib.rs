//! # izgraph forecast: the CDC CDSi logic in Rust
//!
//! A pure engine (no database, network or clock: the assessment date is an argument)
//! implementing the CDC's *Clinical Decision Support for Immunization* logic
//! specification over izgraph's own schedule format (JSON under `forecast/schedule/`,
//! converted from the CDC supporting data by the `cdsi-import` binary and checked
//! against it by the `schedule_matches_cdc` test).
//!
//! ## Public API
//! - [`Schedule::embedded`] — the schedule compiled into the crate, parsed once per
//!   process (`Result<&'static Schedule, &'static ScheduleError>`);
//!   [`Schedule::from_json_files`] builds one from JSON (tests, other versions).
//! - [`forecast`]`(&Schedule, &Patient, NaiveDate) -> PatientForecast` — everything
//!   for one patient: one [`VaccineGroupForecast`] per vaccine group of the schedule
//!   and one [`DoseEvaluation`] per input dose (same order as the input).
//! - [`VaccineGroup`] — stable enum of the groups; [`VaccineGroup::name`] gives the
//!   canonical (CDC) name, [`VaccineGroup::from_name`] maps spellings such as `DTAP`,
//!   `POL`, `MCV`, `MENB`, `Meningococcal B`, `PCV`, `FLU`.
//! - [`cases`] — the CDSi test-case format, [`cases::check_case`] (the pass rule) and
//!   [`cases::Summary`] (pass rate per vaccine group). No file I/O in the library.
//!
//! ## Pipeline (one module per CDSi chapter)
//! `history` (gather doses per antigen) → `selection` (relevant series) →
//! `evaluation` (+ `skip`, `interval`) → `forecasting` → `immunity` →
//! `series_select` (best series) → `rollup` (vaccine groups). Dates follow the
//! spec's arithmetic in [`duration`].
//!
//! ## Speed
//! The engine reads the schedule in a form compiled at load (`schedule::compiled`:
//! ages interned and resolved once per patient, skip conditions split by context,
//! CVX lists as bit sets) and computes on dates as day numbers (`day`). Work that
//! cannot change a result is left out: series no dose can count for and that
//! selection cannot fall back to, status forecasts selection does not read, and
//! antigens whose rules coincide for the patient (`schedule::twins`). The
//! `profile` example prints a digest of every output to check such changes.
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
mod day;
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
pub use engine::{forecast, forecast_with_dates};
pub use schedule::{Schedule, ScheduleError};
pub use types::*;
