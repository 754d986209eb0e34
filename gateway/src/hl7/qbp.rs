//! QBP^Q11 Z34 (complete immunization history) and Z44 (evaluated history and forecast) →
//! RSP^K11 Z32 (one match), Z31 (candidates), Z33 (no match, too many, error) or Z42.
//!
//! The query runs as the very `persons` GraphQL query a client of the querying organization
//! would send, with its principal: hidden, locked and opted-out persons are never found (and
//! so answer NF, as to anyone who may not see them), refused fields come back empty, and the
//! request's reads are in the access log before the answer leaves.

use std::sync::Arc;

use entities::Access;
use hl7::response::{components, RspBuilder};
use hl7::segments::{Qpd, Rcp};
use hl7::{
    AckCode, Field, Hl7ErrorCode as Code, Issue, Location, Message, QueryStatus, Repetition,
    ResponseHeader, RspProfile, Segment, Severity, Validation,
};
use schema::RequestContext;
use serde_json::{json, Value};

use super::{ack_code_of, hl7_date, message_record, Answer, Hl7Failure};
use crate::app::AppState;

/// Candidates returned when RCP-2 names no limit.
const DEFAULT_LIMIT: u32 = 10;
/// Most candidates ever returned.
const MAX_LIMIT: u32 = 50;

const PERSON_FIELDS: &str = "id firstName middleName lastName dateOfBirth gender
  contact { addressLine1 addressLine2 city state postalCode phone }";

fn query_text(forecast: bool) -> String {
    let evaluation = if forecast {
        "evaluation { status reason }"
    } else {
        ""
    };
    let recommendations = if forecast {
        "recommendations { vaccineGroup status doseNumber earliestDate recommendedDate pastDueDate latestDate vaccines { cvx name } }"
    } else {
        ""
    };
    format!(
        "query($last: String!, $first: String, $dob: Date!, $n: Int!) {{
  persons(filter: {{lastName: $last, firstName: $first, dateOfBirth: $dob}}, first: $n) {{
    edges {{ node {{ {PERSON_FIELDS}
      doses {{ id vaccine {{ cvx name }} dateGiven manufacturer lotNumber site route
               administeredBy {{ id name }} {evaluation} }}
      {recommendations} }} }}
  }}
}}"
    )
}

pub(super) async fn process(
    state: &AppState,
    access: Access,
    msg: &Message,
    validation: Validation,
    header: &ResponseHeader,
    kind: &str,
) -> Result<Answer, Hl7Failure> {
    let z44 = validation.profile.map(|p| p.identifier.as_str()) == Some("Z44");
    let mut issues = validation.issues.clone();
    let qpd = msg.segment("QPD").and_then(Qpd::of);
    let limit = msg
        .segment("RCP")
        .and_then(Rcp::of)
        .and_then(|r| r.quantity_limit())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let name = qpd.map(|q| q.name()).unwrap_or_default();
    let dob = qpd.and_then(|q| hl7_date(q.birth_date()));
    if qpd.is_some() && (name.family.trim().is_empty() || dob.is_none()) {
        issues.push(Issue::new(
            Location::field("QPD", 1, if dob.is_none() { 6 } else { 4 }),
            Code::RequiredFieldMissing,
            Severity::Error,
            Some(hl7::AppErrorCode::RequiredDataMissing),
            "The query needs the patient's family name (QPD-4) and birth date (QPD-6)",
        ));
    }
    let org = access.principal.org;
    if ack_code_of(&issues) == AckCode::Error || qpd.is_none() {
        let mut b = RspBuilder::new(msg, header, RspProfile::Z33, QueryStatus::Error);
        for i in &issues {
            b.error(i);
        }
        state
            .store
            .record_hl7_message(org, message_record(kind, AckCode::Error, &issues))
            .await?;
        return Ok(Answer {
            text: b.build().encode(),
            ack: AckCode::Error,
        });
    }
    let Some(dob) = dob else {
        return Err(Hl7Failure::Internal);
    };
    let rc = Arc::new(RequestContext::new(
        access,
        state.store.clone(),
        state.forecasts.clone(),
        true,
    ));
    let given = name.given.trim().to_owned();
    let request = async_graphql::Request::new(query_text(z44))
        .variables(async_graphql::Variables::from_json(json!({
            "last": name.family.trim(),
            "first": if given.is_empty() { Value::Null } else { Value::String(given.clone()) },
            "dob": dob.to_string(),
            "n": limit + 1,
        })))
        .data(rc.clone());
    let response = state.schema.execute(request).await;
    // What was read is logged before anything is answered.
    rc.flush(&state.store).await?;
    if let Some(e) = response.errors.first() {
        let unavailable = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(
                |c| matches!(c, async_graphql::Value::String(s) if s == schema::ErrorCode::ServiceUnavailable.as_str()),
            );
        if unavailable {
            return Err(Hl7Failure::Unavailable);
        }
    }
    let data = response.data.into_json().unwrap_or(Value::Null);
    let family = name.family.trim().to_uppercase();
    let given_up = given.to_uppercase();
    // The search matches name prefixes; a query names the patient exactly.
    let nodes: Vec<Value> = data["persons"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| e["node"].clone())
                .filter(|n| {
                    n["lastName"].as_str().map(|s| s.trim().to_uppercase()) == Some(family.clone())
                        && (given_up.is_empty()
                            || n["firstName"].as_str().map(|s| s.trim().to_uppercase())
                                == Some(given_up.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let (profile, status) = match nodes.len() {
        0 => (RspProfile::Z33, QueryStatus::NotFound),
        1 if z44 => (RspProfile::Z42, QueryStatus::Ok),
        1 => (RspProfile::Z32, QueryStatus::Ok),
        n if n as u32 > limit => (RspProfile::Z33, QueryStatus::TooMany),
        _ => (RspProfile::Z31, QueryStatus::Ok),
    };
    let mut b = RspBuilder::new(msg, header, profile, status);
    for i in &issues {
        b.error(i);
    }
    match profile {
        RspProfile::Z32 | RspProfile::Z42 => {
            let node = &nodes[0];
            b.patient(pid(node), None, Vec::new());
            for dose in node["doses"].as_array().into_iter().flatten() {
                let (orc, rxa, rxr, obx) = order(dose, z44);
                b.order(orc, rxa, rxr, obx);
            }
            if z44 {
                let (orc, rxa, obx) = forecast(node);
                b.order(orc, rxa, None, obx);
            }
        }
        RspProfile::Z31 => {
            for node in &nodes {
                b.patient(pid(node), None, Vec::new());
            }
        }
        RspProfile::Z33 => {}
    }
    let code = ack_code_of(&issues);
    state
        .store
        .record_hl7_message(org, message_record(kind, code, &issues))
        .await?;
    Ok(Answer {
        text: b.build().encode(),
        ack: code,
    })
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An HL7 date (YYYYMMDD) from an ISO date.
fn dt(v: &Value) -> String {
    text(v).replace('-', "")
}

fn field_of(values: &[&str]) -> Field {
    components(values)
}

/// PID of a person as read: the registry's id (PID-3, type SR), name, birth date, sex,
/// address and phone.
fn pid(node: &Value) -> Segment {
    let mut s = Segment::new("PID");
    s.set(3, field_of(&[text(&node["id"]), "", "", "IZGRAPH", "SR"]));
    s.set(
        5,
        field_of(&[
            text(&node["lastName"]),
            text(&node["firstName"]),
            text(&node["middleName"]),
            "",
            "",
            "",
            "L",
        ]),
    );
    s.set_value(7, dt(&node["dateOfBirth"]));
    s.set_value(
        8,
        match text(&node["gender"]) {
            "FEMALE" => "F",
            "MALE" => "M",
            "NONBINARY" => "X",
            _ => "U",
        },
    );
    let c = &node["contact"];
    if !c.is_null() && !text(&c["addressLine1"]).is_empty() {
        s.set(
            11,
            field_of(&[
                text(&c["addressLine1"]),
                text(&c["addressLine2"]),
                text(&c["city"]),
                text(&c["state"]),
                text(&c["postalCode"]),
                "USA",
                "L",
            ]),
        );
    }
    let phone = text(&c["phone"]);
    if phone.len() == 10 && phone.bytes().all(|b| b.is_ascii_digit()) {
        s.set(
            13,
            field_of(&["", "PRN", "PH", "", "", &phone[..3], &phone[3..]]),
        );
    }
    s
}

fn obx(kind: &str, code: &str, name: &str, sub_id: &str, value: Field) -> Segment {
    let mut s = Segment::new("OBX");
    s.set_value(2, kind)
        .set(3, field_of(&[code, name, "LN"]))
        .set_value(4, sub_id)
        .set(5, value)
        .set_value(11, "F");
    s
}

/// One dose as an ORDER group (ORC, RXA, RXR, and for Z42 its evaluation).
fn order(dose: &Value, evaluated: bool) -> (Segment, Segment, Option<Segment>, Vec<Segment>) {
    let mut orc = Segment::new("ORC");
    orc.set_value(1, "RE")
        .set(3, field_of(&[text(&dose["id"]), "IZGRAPH"]));
    let mut rxa = Segment::new("RXA");
    let date = dt(&dose["dateGiven"]);
    rxa.set_value(1, "0")
        .set_value(2, "1")
        .set_value(3, date.clone())
        .set_value(4, date)
        .set(
            5,
            field_of(&[
                text(&dose["vaccine"]["cvx"]),
                text(&dose["vaccine"]["name"]),
                "CVX",
            ]),
        )
        .set_value(6, "999")
        .set(9, field_of(&["01", "Historical information", "NIP001"]));
    if !text(&dose["lotNumber"]).is_empty() {
        rxa.set_value(15, text(&dose["lotNumber"]));
    }
    if !text(&dose["manufacturer"]).is_empty() {
        rxa.set(17, field_of(&[text(&dose["manufacturer"]), "", "MVX"]));
    }
    rxa.set_value(20, "CP").set_value(21, "A");
    let route = text(&dose["route"]);
    let site = text(&dose["site"]);
    let rxr = (!route.is_empty()).then(|| {
        let mut r = Segment::new("RXR");
        r.set(1, field_of(&[route, "", "NCIT"]));
        if !site.is_empty() {
            r.set(2, field_of(&[site, "", "HL70163"]));
        }
        r
    });
    let mut observations = Vec::new();
    if evaluated {
        let status = text(&dose["evaluation"]["status"]);
        if !status.is_empty() {
            let valid = if status == "VALID" { "Y" } else { "N" };
            observations.push(obx(
                "CE",
                "59781-5",
                "Dose validity",
                "1",
                field_of(&[valid, if valid == "Y" { "Yes" } else { "No" }, "HL70136"]),
            ));
        }
    }
    (orc, rxa, rxr, observations)
}

/// The forecast as the Z42 profile carries it: one ORDER group with RXA CVX 998 (no vaccine
/// administered), then per vaccine group OBX 30956-7 (vaccine type), 59783-1 (series status),
/// 30973-2 (dose number), 30981-5 (earliest), 30980-7 (recommended), 59778-1 (past due) and
/// 59777-3 (latest), each group its own OBX-4 sub-id; 59779-9 names the schedule once.
fn forecast(node: &Value) -> (Segment, Segment, Vec<Segment>) {
    let mut orc = Segment::new("ORC");
    orc.set_value(1, "RE").set_value(3, "9999^IZGRAPH");
    let mut rxa = Segment::new("RXA");
    rxa.set_value(1, "0")
        .set_value(2, "1")
        .set_value(3, "")
        .set(5, field_of(&["998", "No vaccine administered", "CVX"]))
        .set_value(6, "999")
        .set_value(20, "NA")
        .set_value(21, "A");
    let mut obs = vec![obx(
        "CE",
        "59779-9",
        "Immunization schedule used",
        "1",
        field_of(&["VXC16", "ACIP", "CDCPHINVS"]),
    )];
    for (i, rec) in node["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let sub = (i + 1).to_string();
        let group = text(&rec["vaccineGroup"]);
        let vaccine = rec["vaccines"]
            .as_array()
            .and_then(|v| v.first())
            .map(|v| (text(&v["cvx"]).to_owned(), text(&v["name"]).to_owned()));
        let (code, name) = vaccine.unwrap_or_else(|| (String::new(), group.to_owned()));
        obs.push(obx(
            "CE",
            "30956-7",
            "Vaccine type",
            &sub,
            field_of(&[&code, &name, "CVX", group, group, "99IZG"]),
        ));
        obs.push(obx(
            "CE",
            "59783-1",
            "Status in immunization series",
            &sub,
            field_of(&[text(&rec["status"]), text(&rec["status"]), "99IZG"]),
        ));
        if let Some(n) = rec["doseNumber"].as_i64() {
            obs.push(obx(
                "NM",
                "30973-2",
                "Dose number in series",
                &sub,
                Field {
                    repetitions: vec![Repetition::from_values(&[n.to_string()])],
                },
            ));
        }
        for (key, loinc, label) in [
            ("earliestDate", "30981-5", "Earliest date to give"),
            ("recommendedDate", "30980-7", "Date vaccine due"),
            ("pastDueDate", "59778-1", "Date dose is overdue"),
            ("latestDate", "59777-3", "Latest date to give"),
        ] {
            let d = dt(&rec[key]);
            if !d.is_empty() {
                obs.push(obx("DT", loinc, label, &sub, field_of(&[&d])));
            }
        }
    }
    (orc, rxa, obs)
}
