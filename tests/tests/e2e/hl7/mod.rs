//! The HL7 v2 interface end to end (issue 16): VXU → ACK and QBP → RSP over `POST /hl7/v2`,
//! the CDC SOAP service (a `zeep` client generated from the served WSDL, and a plain envelope),
//! MLLP and the batch import, each answer checked segment by segment, each stored result read
//! back through GraphQL.

mod qbp;
mod transport;
mod vxu;

use serde_json::{json, Value};

use crate::support::TestApp;

/// A sending organization: its id, facility identifier and a provider token for it.
pub struct Sender {
    pub org: String,
    pub token: String,
}

/// Creates a clinic with `facility` as its facility identifier.
pub async fn sender(app: &TestApp, name: &str, facility: &str) -> Sender {
    let data = app
        .ok(
            &app.admin(),
            "mutation($n: String!, $f: String) { createOrganization(input: {name: $n, kind: CLINIC, facilityId: $f}) { id facilityId } }",
            json!({ "n": name, "f": facility }),
        )
        .await;
    let org = data["createOrganization"]["id"]
        .as_str()
        .expect("org id")
        .to_owned();
    assert_eq!(data["createOrganization"]["facilityId"], facility);
    Sender {
        token: app.provider(&org),
        org,
    }
}

/// POSTs an ER7 message to `/hl7/v2`; the status and the answer's text.
pub async fn post(app: &TestApp, token: &str, message: &str) -> (u16, String) {
    let resp = app
        .client
        .post(format!("{}/hl7/v2", app.base))
        .bearer_auth(token)
        .header("content-type", "x-application/hl7-v2+er7")
        .body(message.to_owned())
        .send()
        .await
        .expect("POST /hl7/v2");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

/// MSA-1 and the ERR segments of an answer as `location code severity app-code`.
pub fn outcome(answer: &str) -> (String, Vec<String>) {
    let msg = hl7::Message::parse(answer).expect("the answer parses");
    let msa = msg
        .segment("MSA")
        .map(|s| s.value(1).to_owned())
        .unwrap_or_default();
    let errs = msg
        .segments
        .iter()
        .filter(|s| s.name == "ERR")
        .map(|s| {
            let loc: Vec<&str> = (1..=6).map(|c| s.get(2, c)).collect();
            let n = loc.iter().rposition(|p| !p.is_empty()).map_or(0, |i| i + 1);
            format!(
                "{} {} {} {}",
                loc[..n].join("^"),
                s.get(3, 1),
                s.value(4),
                s.get(5, 1)
            )
        })
        .collect();
    (msa, errs)
}

/// The segments named `name` of an answer.
pub fn segments(answer: &str, name: &str) -> Vec<hl7::Segment> {
    hl7::Message::parse(answer)
        .expect("the answer parses")
        .segments
        .into_iter()
        .filter(|s| s.name == name)
        .collect()
}

/// A VXU from `facility` for a patient, with the ORDER groups given (segments joined by
/// `\r`).
pub fn vxu(control: &str, facility: &str, pid: &str, orders: &[&str]) -> String {
    let mut m = format!(
        "MSH|^~\\&|EHR|{facility}|IZGRAPH|IZGRAPH|20241001120000-0500||VXU^V04^VXU_V04|{control}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r{pid}\r"
    );
    for o in orders {
        m.push_str(o);
        m.push('\r');
    }
    m
}

/// PID of a test child.
pub fn pid(family: &str, given: &str, dob: &str) -> String {
    // A medical record number of its own per patient (CX.1 is at most 15 characters).
    let mrn = format!("{family}{given}")
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 10_000_000;
    // Address, phone and mother differ per patient too: two children alike in all but one
    // name would be linked by the matching engine, as they should.
    format!(
        "PID|1||M{mrn:07}^^^EHR^MR||{family}^{given}^^^^^L|Mom{family}^Mother^^^^^M|{dob}|F||2106-3^White^CDCREC|{street} Main St^^Saint Paul^MN^55101^USA^L||^PRN^PH^^^651^555{phone:04}|||||||||2186-5^Not Hispanic^CDCREC",
        street = mrn % 900 + 10,
        phone = mrn % 10_000
    )
}

/// The persons named `family` as registry staff sees them, with doses and findings.
pub async fn persons(app: &TestApp, family: &str) -> Vec<Value> {
    let data = app
        .ok(
            &app.admin(),
            "query($l: String!) { persons(filter: {lastName: $l}, first: 20) { edges { node {
                id firstName lastName dateOfBirth gender
                contact { addressLine1 city postalCode phone }
                doses { id vaccine { cvx } dateGiven manufacturer lotNumber site route administeredBy { id } reportedBy { id } }
                contraindications { kind vaccineGroup reason }
            } } } }",
            json!({ "l": family }),
        )
        .await;
    data["persons"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}
