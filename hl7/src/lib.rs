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
pub mod validate;
pub use validate::{validate, validate_with, AckCode, Validation};
pub mod datatypes;
pub mod response;
pub mod segments;
pub use response::{ack, salvage_control_id, QueryStatus, ResponseHeader, RspBuilder, RspProfile};

/// Parses and validates a text in one step: the message when it parses, and the validation
/// (a rejection with one ERR when it does not).
pub fn check(text: &str) -> (Option<Message>, Validation) {
    match Message::parse(text) {
        Ok(m) => {
            let v = validate(&m);
            (Some(m), v)
        }
        Err(e) => (None, Validation::unparseable(&e)),
    }
}

/// The ACK^V04 for a VXU text: parse, validate, acknowledge (AA, AE with the errors, or AR).
/// Callers that store the message add their own issues and call [`ack`] themselves.
pub fn acknowledge(text: &str, header: &ResponseHeader) -> Message {
    let (msg, v) = check(text);
    let control_id = msg
        .as_ref()
        .and_then(|m| m.segments.first())
        .map(|s| s.value(10).to_owned())
        .or_else(|| salvage_control_id(text))
        .unwrap_or_default();
    ack(msg.as_ref(), &control_id, v.ack_code(), &v.issues, header)
}
