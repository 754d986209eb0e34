//! PostgreSQL bulk load for demo data: `COPY … FROM STDIN` in one transaction per batch,
//! several times faster than multi-row INSERTs, which is what makes 100,000-person benchmark
//! data quick to load.

use std::fmt::Write as _;

use sea_orm::sqlx::{Acquire as _, PgPool};

use crate::model::{dose, enrollment, guardian_link, membership, person};
use crate::StoreError;

/// One value in COPY's text format: `\N` for NULL, and backslash escapes for the characters
/// the format gives meaning to.
fn field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for ch in v.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// Writes one row: tab-separated fields, newline-terminated.
fn row(out: &mut String, values: &[Option<String>]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, v.as_deref());
    }
    out.push('\n');
}

fn s<T: ToString>(v: &T) -> Option<String> {
    Some(v.to_string())
}

fn o<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

fn ts(v: &chrono::DateTime<chrono::Utc>) -> Option<String> {
    Some(v.to_rfc3339())
}

pub(crate) struct CopyBatch {
    pub persons: Vec<person::ActiveModel>,
    pub links: Vec<guardian_link::ActiveModel>,
    pub doses: Vec<dose::ActiveModel>,
    pub enrollments: Vec<enrollment::ActiveModel>,
    pub memberships: Vec<membership::ActiveModel>,
}

fn encode_persons(rows: &[person::ActiveModel]) -> String {
    let mut out = String::with_capacity(rows.len() * 200);
    for p in rows {
        row(
            &mut out,
            &[
                s(p.id.as_ref()),
                s(p.first_name.as_ref()),
                o(p.middle_name.as_ref()),
                s(p.last_name.as_ref()),
                s(p.first_name_key.as_ref()),
                s(p.last_name_key.as_ref()),
                s(p.date_of_birth.as_ref()),
                s(&p.gender.as_ref().as_str()),
                o(p.address_line1.as_ref()),
                o(p.address_line2.as_ref()),
                o(p.city.as_ref()),
                o(p.state.as_ref()),
                o(p.postal_code.as_ref()),
                o(p.phone.as_ref()),
                o(p.email.as_ref()),
                s(&p.participation.as_ref().as_str()),
                o(p.locked_to_org_id.as_ref()),
                s(if *p.reminders.as_ref() { &"t" } else { &"f" }),
                ts(p.created_at.as_ref()),
                ts(p.updated_at.as_ref()),
            ],
        );
    }
    out
}

fn encode_doses(rows: &[dose::ActiveModel]) -> String {
    let mut out = String::with_capacity(rows.len() * 180);
    for d in rows {
        row(
            &mut out,
            &[
                s(d.id.as_ref()),
                s(d.person_id.as_ref()),
                s(d.cvx.as_ref()),
                s(d.date_given.as_ref()),
                o(d.mvx.as_ref()),
                o(d.lot_number.as_ref()),
                o(d.site.as_ref()),
                o(d.route.as_ref()),
                o(d.administered_by_org_id.as_ref()),
                o(d.reported_by_org_id.as_ref()),
                s(d.recorded_by.as_ref()),
                ts(d.recorded_at.as_ref()),
            ],
        );
    }
    out
}

fn encode_links(rows: &[guardian_link::ActiveModel]) -> String {
    let mut out = String::new();
    for l in rows {
        row(
            &mut out,
            &[
                s(l.id.as_ref()),
                s(l.person_id.as_ref()),
                s(l.guardian_id.as_ref()),
                s(l.relationship.as_ref()),
                ts(l.created_at.as_ref()),
            ],
        );
    }
    out
}

fn encode_enrollments(rows: &[enrollment::ActiveModel]) -> String {
    let mut out = String::new();
    for e in rows {
        row(
            &mut out,
            &[
                s(e.id.as_ref()),
                s(e.person_id.as_ref()),
                s(e.organization_id.as_ref()),
                s(e.school_year.as_ref()),
                s(e.grade.as_ref()),
                ts(e.created_at.as_ref()),
            ],
        );
    }
    out
}

fn encode_memberships(rows: &[membership::ActiveModel]) -> String {
    let mut out = String::new();
    for m in rows {
        row(
            &mut out,
            &[
                s(m.id.as_ref()),
                s(m.person_id.as_ref()),
                s(m.organization_id.as_ref()),
                ts(m.created_at.as_ref()),
            ],
        );
    }
    out
}

const TABLES: [(&str, &str); 5] = [
    ("persons", "id, first_name, middle_name, last_name, first_name_key, last_name_key, date_of_birth, gender, address_line1, address_line2, city, state, postal_code, phone, email, participation, locked_to_org_id, reminders, created_at, updated_at"),
    ("guardian_links", "id, person_id, guardian_id, relationship, created_at"),
    ("doses", "id, person_id, cvx, date_given, mvx, lot_number, site, route, administered_by_org_id, reported_by_org_id, recorded_by, recorded_at"),
    ("enrollments", "id, person_id, organization_id, school_year, grade, created_at"),
    ("memberships", "id, person_id, organization_id, created_at"),
];

/// Encodes a batch (CPU work, run off the async threads) into COPY payloads, table by table.
pub(crate) fn encode(batch: &CopyBatch) -> [String; 5] {
    let mut persons = encode_persons(&batch.persons);
    persons.shrink_to_fit();
    [
        persons,
        encode_links(&batch.links),
        encode_doses(&batch.doses),
        encode_enrollments(&batch.enrollments),
        encode_memberships(&batch.memberships),
    ]
}

/// Loads one encoded batch in one transaction.
pub(crate) async fn copy(pool: &PgPool, payloads: [String; 5]) -> Result<(), StoreError> {
    let db = |e: sea_orm::sqlx::Error| StoreError::Unavailable(format!("bulk load: {e}"));
    let mut conn = pool.acquire().await.map_err(db)?;
    let mut txn = conn.begin().await.map_err(db)?;
    for ((table, columns), payload) in TABLES.iter().zip(payloads) {
        if payload.is_empty() {
            continue;
        }
        let mut statement = String::new();
        let _ = write!(statement, "COPY {table} ({columns}) FROM STDIN");
        let mut sink = txn.copy_in_raw(&statement).await.map_err(db)?;
        sink.send(payload.into_bytes()).await.map_err(db)?;
        sink.finish().await.map_err(db)?;
    }
    txn.commit().await.map_err(db)?;
    Ok(())
}
