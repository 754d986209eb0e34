//! Repositories: the only code that builds queries. Reads of person data take an
//! [`Access`](crate::Access) and apply its row scope in SQL; writes authorize, write and append
//! their access-log entry in one transaction.

pub mod access_log;
pub mod consent;
pub mod contraindications;
pub mod doses;
pub mod enrollments;
pub mod guardians;
pub mod hl7;
pub mod jobs;
pub(crate) mod log_writer;
pub mod memberships;
pub mod merge;
pub mod oauth_clients;
pub mod organizations;
mod page;
pub mod persons;
pub mod population;
mod record_sql;
pub mod records;
pub mod resolve;
pub mod roster;
mod visible;
mod write_guard;

pub(crate) use page::CursorKind;
pub use page::{Cursor, CursorKey, Page};
