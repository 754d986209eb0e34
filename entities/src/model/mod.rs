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
pub mod membership;
pub mod notification;
pub mod oauth_client;
pub mod organization;
pub mod organization_county;
pub mod person;
pub mod person_version;
pub mod population_job;
pub mod population_job_result;
pub mod population_job_shard;
pub mod vaccine;
pub mod vaccine_group;
pub mod zip_county;
