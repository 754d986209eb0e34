//! Access-policy vocabulary and decisions for izgraph.
//!
//! This crate is deliberately pure: no database, no network and no clock. "Today" is an
//! argument, so every decision is reproducible in a test and cheap enough to run per field.
//! The normative matrix is `shared/spec/access-policy.md`; each rule there has a named
//! counterpart here.
#![cfg_attr(
    test,
    allow(
        clippy::disallowed_methods,
        reason = "unit tests build principals and accesses without a token"
    )
)]

mod principal;
mod purpose;
mod role;
mod row_scope;
mod scope;

pub use principal::{Principal, PrincipalError, MAX_SUBJECT_CHARS};
pub use purpose::Purpose;
pub use role::Role;
pub use row_scope::{age_in_years, school_year_of, RowScope, ADULT_AGE};
pub use scope::{Scope, ScopeSet};
mod write;
pub use write::{authorize_write, Denial, WriteAction};
mod field;
pub use field::{read_field, read_rows, Field, FieldDenial, RowsOf};
mod decide;
pub use decide::{decide, Decision, RecordFacts, Visibility};
mod roster;
pub use roster::{authorize_compliance_at, authorize_roster, RosterDenial};
mod log_view;
mod official_record;
pub use log_view::{access_log_view, LogView};
pub use official_record::{authorize_official_record, Proofing};
mod data_quality;
pub use data_quality::{authorize_data_quality, DataQualityDenial};
mod population;
pub use population::{
    authorize_geography_write, authorize_job_read, authorize_population, JobOwner,
    PopulationDenial, PopulationGrant, PopulationKind, PopulationRows, GEOGRAPHY_SCOPE,
    POPULATION_SCOPE,
};
