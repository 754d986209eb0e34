//! The minimized FHIR R4 bundle of a card: a `Patient` (name, birth date) and one
//! `Immunization` per valid dose (status, CVX code, patient reference, date, and when room
//! allows the performer's name and the lot number), as the Vaccination & Testing guide's
//! data-minimization profile has it: no `id`, no `meta`, no `text`, no `display` on codings,
//! references as `resource:N`.

use serde_json::{json, Map, Value};

use crate::OfficialRecord;

/// The credential types of an immunization card.
pub const IMMUNIZATION_TYPES: [&str; 2] = [
    "https://smarthealth.cards#health-card",
    "https://smarthealth.cards#immunization",
];

/// How much of each dose a bundle carries: a card must fit one QR code, so a long history is
/// carried without lot numbers, then without performers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Full,
    WithoutLots,
    Minimal,
}

/// The bundle of `record` at `detail`. A dose counting for several vaccine groups (a
/// combination vaccine) appears once.
pub fn bundle(record: &OfficialRecord, detail: Detail) -> Value {
    let p = &record.person;
    let mut given = vec![p.first_name.clone()];
    given.extend(p.middle_name.clone().filter(|m| !m.is_empty()));
    let mut entries = vec![json!({
        "fullUrl": "resource:0",
        "resource": {
            "resourceType": "Patient",
            "name": [{ "family": p.last_name, "given": given }],
            "birthDate": p.date_of_birth.format("%Y-%m-%d").to_string(),
        },
    })];
    let mut seen = std::collections::BTreeSet::new();
    let mut doses: Vec<_> = record
        .groups
        .iter()
        .flat_map(|g| &g.doses)
        .filter(|d| seen.insert((d.date, d.cvx.clone())))
        .collect();
    doses.sort_by(|a, b| (a.date, &a.cvx).cmp(&(b.date, &b.cvx)));
    for (i, d) in doses.into_iter().enumerate() {
        let mut imm = Map::new();
        imm.insert("resourceType".into(), json!("Immunization"));
        imm.insert("status".into(), json!("completed"));
        imm.insert(
            "vaccineCode".into(),
            json!({ "coding": [{ "system": "http://hl7.org/fhir/sid/cvx", "code": d.cvx }] }),
        );
        imm.insert("patient".into(), json!({ "reference": "resource:0" }));
        imm.insert(
            "occurrenceDateTime".into(),
            json!(d.date.format("%Y-%m-%d").to_string()),
        );
        if detail != Detail::Minimal {
            if let Some(org) = &d.organization {
                imm.insert("performer".into(), json!([{ "actor": { "display": org } }]));
            }
        }
        if detail == Detail::Full {
            if let Some(lot) = &d.lot_number {
                imm.insert("lotNumber".into(), json!(lot));
            }
        }
        entries.push(json!({ "fullUrl": format!("resource:{}", i + 1), "resource": imm }));
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}
