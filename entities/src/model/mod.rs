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
pub mod match_review;
pub mod membership;
pub mod oauth_client;
pub mod organization;
pub mod person;
pub mod person_address;
pub mod person_blocking_key;
pub mod person_identifier;
pub mod person_merge;
pub mod person_name;
pub mod person_phone;
pub mod person_version;
pub mod vaccine;
pub mod vaccine_group;
