//! HL7 v2.5.1 immunization messaging per the CDC Implementation Guide release 1.5: ER7 parsing
//! and writing ([`er7`], [`escape`]), typed views of the segments a registry reads
//! ([`segments`]), conformance validation against the NIST profiles ([`profile`], [`validate`])
//! and the acknowledgement and query-response builders ([`ack`], [`rsp`]).
//!
//! Pure: no I/O, no clock (the caller passes the message time), no storage. Transport, storage
//! and patient matching live elsewhere.

pub mod er7;
pub mod escape;
pub mod issue;
pub mod profile;

pub use er7::{Component, Field, Message, ParseError, Repetition, Segment, Separators};
pub use issue::{AppErrorCode, Hl7ErrorCode, Issue, Location, Severity};
pub use profile::Profile;
