//! SeaORM table models. They are storage, not API: `schema` converts them into its own types.

pub mod access_log;
pub mod access_log_head;
pub mod access_log_person;
pub mod birth_date_change;
pub mod consent_event;
pub mod contraindication;
pub mod dose;
pub mod dose_report;
pub mod enrollment;
pub mod guardian_link;
pub mod hl7_dose_detail;
pub mod hl7_finding;
pub mod hl7_message;
pub mod membership;
pub mod oauth_client;
pub mod organization;
pub mod organization_facility;
pub mod person;
pub mod person_version;
pub mod vaccine;
pub mod vaccine_group;
pub mod vaccine_refusal;
