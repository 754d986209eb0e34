//! `GET /records/{personId}.pdf` and `GET /records/{personId}.smart-health-card`: the
//! official immunization record and its SMART Health Card.
//!
//! Like the roster CSV, the handler runs a GraphQL query (`officialRecord`) with the caller's
//! token, so the row scope, the field matrix and the rule of who gets the official record
//! (`policies::authorize_official_record`) decide exactly as for GraphQL; the gateway adds
//! the identity-proofing check (the token's `acr`) and logs the download as `EXPORT`, durably,
//! before the first byte leaves.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use entities::Access;
use record::{
    DoseLine, Finding, OfficialRecord, PersonIdentity, RequirementLine, SchoolStatus,
    VaccineGroupDoses,
};
use schema::{ErrorCode, RecordDownload, RequestContext};
use serde_json::{json, Value};

use super::roster_csv::{error, request_id};
use crate::app::AppState;

const RECORD: &str = "query($id: ID!) {
  officialRecord(personId: $id) {
    person {
      id firstName middleName lastName dateOfBirth gender
      doses { dateGiven lotNumber vaccine { cvx name vaccineGroups } administeredBy { name } evaluation { status } }
      contraindications { kind vaccineGroup reason documentedBy }
    }
    schoolEntry { grade compliance { status requirements { vaccineGroup dosesCounted dosesRequired status } } }
  }
}";

enum Format {
    Pdf,
    Card,
}

pub async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let rid = request_id(&headers);
    let fail = |code: ErrorCode, message: &str| error(code, message, &rid);
    let (id, format) = if let Some(id) = file.strip_suffix(".pdf") {
        (id.to_owned(), Format::Pdf)
    } else if let Some(id) = file.strip_suffix(".smart-health-card") {
        (id.to_owned(), Format::Card)
    } else {
        return fail(ErrorCode::NotFound, "no such record format");
    };
    let (principal, acr) = match state.auth.authenticate_with_acr(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = fail(ErrorCode::Unauthenticated, &e.to_string());
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    if !state.store.is_available() {
        return fail(
            ErrorCode::ServiceUnavailable,
            "the database is unavailable; try again",
        );
    }
    let acr_accepted = acr.is_some_and(|a| state.settings.records.accepted_acr.contains(&a));
    #[expect(
        clippy::disallowed_methods,
        reason = "the request path: the principal was just verified"
    )]
    let access = Access::new(principal, state.settings.today(), rid.clone())
        .with_client_request_id(headers.get("x-request-id").and_then(|v| v.to_str().ok()));
    let today = access.today;
    let rc = Arc::new(RequestContext::new(
        access,
        state.store.clone(),
        state.forecasts.clone(),
        true,
    ));
    let request = async_graphql::Request::new(RECORD)
        .variables(async_graphql::Variables::from_json(json!({ "id": id })))
        .data(RecordDownload { acr_accepted })
        .data(rc.clone());
    let response = state.schema.execute(request).await;
    let data = response.data.into_json().unwrap_or(Value::Null);
    // A refusal of the record itself (not of one of its fields) refuses the download.
    let refused = response
        .errors
        .iter()
        .find(|e| {
            e.path.len() <= 1
                || data["officialRecord"].is_null()
                || data["officialRecord"]["person"].is_null()
        })
        .map(|e| {
            let code = ErrorCode::of(e).unwrap_or(ErrorCode::InternalServerError);
            (code, e.message.clone())
        });
    let built = match (&refused, data["officialRecord"].is_object()) {
        (None, true) => build(&state, &data["officialRecord"], today),
        (None, false) => Err((ErrorCode::NotFound, "no such person".to_owned())),
        _ => Err((ErrorCode::InternalServerError, String::new())),
    };
    let body = built.and_then(|record| render(&state, record, &format));
    if refused.is_none() && body.is_ok() {
        rc.record_export();
    }
    if let Err(e) = rc.flush(&state.store).await {
        tracing::error!(request_id = %rid, error = %e, "access log append failed");
        return fail(
            ErrorCode::ServiceUnavailable,
            "the access log could not be written; nothing was served",
        );
    }
    let (code, message) = match (refused, body) {
        (None, Ok(bytes)) => return file_response(bytes, &format, &id, &rid),
        (Some(r), _) => r,
        (None, Err(r)) => r,
    };
    if code == ErrorCode::ServiceUnavailable {
        state.store.report_unavailable();
    }
    fail(code, &message)
}

fn file_response(bytes: Vec<u8>, format: &Format, id: &str, rid: &str) -> Response {
    let (mime, ext) = match format {
        Format::Pdf => ("application/pdf", "pdf"),
        Format::Card => ("application/smart-health-card", "smart-health-card"),
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"immunization-record-{id}.{ext}\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-request-id", v);
    }
    resp
}

type Failure = (ErrorCode, String);

fn internal(what: &str) -> Failure {
    tracing::error!(what, "official record could not be made");
    (
        ErrorCode::InternalServerError,
        "the record could not be made".into(),
    )
}

fn render(
    state: &AppState,
    mut record: OfficialRecord,
    format: &Format,
) -> Result<Vec<u8>, Failure> {
    let nbf = chrono::Utc::now().timestamp();
    let jws = record::shc::issue_record(&state.card_issuer, &record, nbf);
    match format {
        Format::Card => jws
            .map(|jws| record::shc::file(&jws).into_bytes())
            .map_err(|e| internal(&e.to_string())),
        Format::Pdf => {
            record.card_qr = jws.ok().map(|jws| record::shc::numeric(&jws));
            record::pdf::render(&record).map_err(|e| internal(&e.to_string()))
        }
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn date(v: &Value) -> Option<NaiveDate> {
    v.as_str()?.parse().ok()
}

/// `NOT_COMPLIANT` → `Not compliant`; `FEMALE` → `Female`.
fn words(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The record as typeset, from what the query returned (a field the policy refused is
/// absent from the record).
fn build(state: &AppState, official: &Value, today: NaiveDate) -> Result<OfficialRecord, Failure> {
    let p = &official["person"];
    let person = PersonIdentity {
        record_id: text(&p["id"]).ok_or_else(|| internal("id"))?,
        first_name: text(&p["firstName"]).unwrap_or_default(),
        middle_name: text(&p["middleName"]),
        last_name: text(&p["lastName"]).unwrap_or_default(),
        date_of_birth: date(&p["dateOfBirth"]).ok_or_else(|| internal("dateOfBirth"))?,
        gender: p["gender"].as_str().map(words),
    };
    let mut groups: BTreeMap<String, Vec<DoseLine>> = BTreeMap::new();
    for d in p["doses"].as_array().into_iter().flatten() {
        if d["evaluation"]["status"].as_str() != Some("VALID") {
            continue;
        }
        let Some(given) = date(&d["dateGiven"]) else {
            continue;
        };
        let line = DoseLine {
            date: given,
            cvx: text(&d["vaccine"]["cvx"]).unwrap_or_default(),
            vaccine: text(&d["vaccine"]["name"]).unwrap_or_default(),
            organization: text(&d["administeredBy"]["name"]),
            lot_number: text(&d["lotNumber"]),
        };
        for g in d["vaccine"]["vaccineGroups"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(g) = g.as_str() {
                groups.entry(g.to_owned()).or_default().push(line.clone());
            }
        }
    }
    let groups = groups
        .into_iter()
        .map(|(group, mut doses)| {
            doses.sort_by_key(|d| d.date);
            VaccineGroupDoses { group, doses }
        })
        .collect();
    let (mut immunity, mut exemptions) = (Vec::new(), Vec::new());
    for c in p["contraindications"].as_array().into_iter().flatten() {
        let kind = c["kind"].as_str().unwrap_or_default();
        let finding = |detail: String| Finding {
            vaccine_group: text(&c["vaccineGroup"]),
            detail,
        };
        match kind {
            "IMMUNITY" => immunity.push(finding(match c["documentedBy"].as_str() {
                Some(by) => format!("immune (documented by {})", words(by).to_lowercase()),
                None => "immune".into(),
            })),
            "MEDICAL_EXEMPTION" => exemptions.push(finding("medical exemption".into())),
            "NON_MEDICAL_EXEMPTION" => exemptions.push(finding("non-medical exemption".into())),
            _ => {}
        }
    }
    let school = official["schoolEntry"].as_object().map(|s| SchoolStatus {
        grade: text(&s["grade"]).unwrap_or_default(),
        status: text(&s["compliance"]["status"]).unwrap_or_default(),
        requirements: s["compliance"]["requirements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| RequirementLine {
                vaccine: text(&r["vaccineGroup"]).unwrap_or_default(),
                doses_counted: r["dosesCounted"].as_u64().unwrap_or(0) as u32,
                doses_required: r["dosesRequired"].as_u64().unwrap_or(0) as u32,
                status: text(&r["status"]).unwrap_or_default(),
            })
            .collect(),
    });
    Ok(OfficialRecord {
        registry: state.settings.records.registry_name.clone(),
        jurisdiction: state.settings.jurisdiction.clone(),
        issued_on: today,
        person,
        groups,
        school,
        immunity,
        exemptions,
        card_qr: None,
    })
}
