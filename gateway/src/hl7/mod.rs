//! The HL7 v2.5.1 interface (issue 16): one entry point, [`process`], that every transport
//! (`POST /hl7/v2`, the CDC SOAP service at `/soap`, MLLP, `izgraph import hl7`) calls with the
//! sending system's verified principal and the ER7 text, and that answers with the ACK or RSP
//! text. HL7 problems are ERR segments of that answer, never transport errors; only a database
//! that cannot be reached is (the transport says "try again").
//!
//! The same policy as GraphQL applies: a VXU needs the `dose:write` right of `recordDose` and
//! is stored through the same de-duplication (`Store::submit_vxu`); a QBP runs the very
//! `persons` query a GraphQL client would, with the sender's principal, so the row scope,
//! field guard and access log are GraphQL's.

pub mod credentials;
pub mod http;
pub mod import;
pub mod mllp;
mod products;
mod qbp;
pub mod soap;
mod vxu;

use chrono::NaiveDate;
use entities::repo::access_log::NewEntry;
use entities::repo::hl7::{FindingRecord, MessageRecord};
use entities::{Access, StoreError};
use hl7::{AckCode, Hl7ErrorCode, Issue, Location, Message, ResponseHeader, Severity};
use policies::{Principal, WriteAction};

use crate::app::AppState;

/// Why a message got no HL7 answer: the transport answers "unavailable, try again".
#[derive(Debug, thiserror::Error)]
pub enum Hl7Failure {
    #[error("the registry's database is unavailable; try again")]
    Unavailable,
    #[error("the message could not be processed")]
    Internal,
}

impl From<StoreError> for Hl7Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Hl7Failure::Unavailable,
            other => {
                tracing::error!(error = %other, "HL7 message processing failed");
                Hl7Failure::Internal
            }
        }
    }
}

/// The answer to one message.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The ACK or RSP, ER7 with `\r` segment terminators.
    pub text: String,
    /// MSA-1 of the answer.
    pub ack: AckCode,
}

/// The registry's response header for an answer made now.
pub(crate) fn response_header(state: &AppState) -> ResponseHeader {
    let now = chrono::Utc::now().with_timezone(&state.settings.timezone);
    ResponseHeader {
        application: vec!["IZGRAPH".into()],
        facility: vec!["IZGRAPH".into()],
        time: now.format("%Y%m%d%H%M%S%z").to_string(),
        control_id: uuid::Uuid::now_v7().simple().to_string(),
    }
}

/// The date of an HL7 DT/DTM value (its first eight digits), when it is one.
pub(crate) fn hl7_date(value: &str) -> Option<NaiveDate> {
    let digits = value.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// The data-quality record of an answer's issues.
pub(crate) fn message_record(kind: &str, ack: AckCode, issues: &[Issue]) -> MessageRecord {
    MessageRecord {
        kind: kind.to_owned(),
        ack_code: ack.code().to_owned(),
        findings: issues
            .iter()
            .map(|i| FindingRecord {
                severity: i.severity.code().to_owned(),
                hl7_code: i.code.code().to_owned(),
                app_code: i.app_code.map(|a| a.code().to_owned()),
                location: i.location.to_string(),
            })
            .collect(),
    }
}

/// The MSA code for a set of issues of a message that was not rejected.
pub(crate) fn ack_code_of(issues: &[Issue]) -> AckCode {
    if issues.iter().any(|i| i.severity == Severity::Error) {
        AckCode::Error
    } else {
        AckCode::Accept
    }
}

/// Processes one message for `principal` and answers it. `request_id` names the request in the
/// access log.
pub async fn process(
    state: &AppState,
    principal: Principal,
    text: &str,
    request_id: String,
) -> Result<Answer, Hl7Failure> {
    let header = response_header(state);
    let (msg, validation) = hl7::check(text);
    let kind = msg
        .as_ref()
        .and_then(|m| m.segments.first())
        .map(|s| s.get(9, 1).chars().take(8).collect::<String>())
        .unwrap_or_default();
    let msg = match msg {
        Some(m) if !validation.rejected => m,
        other => {
            let control = other
                .as_ref()
                .and_then(|m| m.segments.first())
                .map(|s| s.value(10).to_owned())
                .or_else(|| hl7::salvage_control_id(text))
                .unwrap_or_default();
            return reject(
                state,
                &principal,
                other.as_ref(),
                &control,
                &kind,
                &validation.issues,
                &header,
            )
            .await;
        }
    };
    let control = msg
        .segments
        .first()
        .map(|s| s.value(10).to_owned())
        .unwrap_or_default();
    // The sending facility must be the authenticated organization's (CDC guide: MSH-4).
    if let Some(issue) = sender_mismatch(state, &principal, &msg).await? {
        return reject(
            state,
            &principal,
            Some(&msg),
            &control,
            &kind,
            &[issue],
            &header,
        )
        .await;
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "the request path: the principal was just verified by the transport"
    )]
    let access = Access::new(principal, state.settings.today(), request_id);
    match validation.profile.map(|p| p.identifier.as_str()) {
        Some("Z22") => {
            if let Err(denial) =
                policies::authorize_write(&access.principal, WriteAction::RecordDose)
            {
                state
                    .store
                    .log_access(
                        &access,
                        NewEntry::denied(
                            vec![],
                            vec!["Hl7.vxu".into()],
                            format!("{}: {} required", denial.rule, denial.required),
                        ),
                    )
                    .await?;
                let issue = Issue::new(
                    Location::segment("MSH", 1),
                    Hl7ErrorCode::ApplicationInternalError,
                    Severity::Error,
                    None,
                    "The sending system may not submit immunizations (dose:write)",
                );
                return reject(
                    state,
                    &access.principal,
                    Some(&msg),
                    &control,
                    &kind,
                    &[issue],
                    &header,
                )
                .await;
            }
            vxu::process(state, &access, &msg, validation, &header, &kind).await
        }
        Some("Z34") | Some("Z44") => {
            qbp::process(state, access, &msg, validation, &header, &kind).await
        }
        _ => {
            let issue = Issue::new(
                Location::field("MSH", 1, 9),
                Hl7ErrorCode::UnsupportedMessageType,
                Severity::Error,
                None,
                "Only VXU^V04 and QBP^Q11 are supported",
            );
            reject(
                state,
                &access.principal,
                Some(&msg),
                &control,
                &kind,
                &[issue],
                &header,
            )
            .await
        }
    }
}

/// ACK AR (or, for a query, an RSP with QAK AR would need a usable QPD: the guide answers a
/// rejected query with an ACK too) with `issues`, recorded for the data-quality report.
async fn reject(
    state: &AppState,
    principal: &Principal,
    msg: Option<&Message>,
    control_id: &str,
    kind: &str,
    issues: &[Issue],
    header: &ResponseHeader,
) -> Result<Answer, Hl7Failure> {
    let ack = hl7::ack(msg, control_id, AckCode::Reject, issues, header);
    state
        .store
        .record_hl7_message(principal.org, message_record(kind, AckCode::Reject, issues))
        .await?;
    Ok(Answer {
        text: ack.encode(),
        ack: AckCode::Reject,
    })
}

/// The issue that rejects a message whose MSH-4.1 is not the facility identifier of the
/// organization the sending system authenticated as (registry staff, acting for no
/// organization, may send for any).
async fn sender_mismatch(
    state: &AppState,
    principal: &Principal,
    msg: &Message,
) -> Result<Option<Issue>, Hl7Failure> {
    let facility = msg
        .segments
        .first()
        .map(|s| s.get(4, 1).trim().to_owned())
        .unwrap_or_default();
    let Some(org) = principal.org else {
        return Ok(None);
    };
    let own = state.store.facility_ids(&[org]).await?.remove(&org);
    if own.as_deref() == Some(facility.as_str()) {
        return Ok(None);
    }
    Ok(Some(Issue::new(
        Location::field("MSH", 1, 4),
        Hl7ErrorCode::UnknownKeyIdentifier,
        Severity::Error,
        Some(hl7::AppErrorCode::InvalidValue),
        "MSH-4 does not name the facility of the authenticated sending organization",
    )))
}

/// Answers a text that is not an HL7 message at all with an AR (for transports that must
/// answer something without a principal, e.g. an unreadable MLLP frame).
pub fn reject_unreadable(state: &AppState, text: &str) -> String {
    hl7::acknowledge(text, &response_header(state)).encode()
}
