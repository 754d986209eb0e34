//! A batch of whole person records in one statement: each person's row and every relation a
//! record holds, aggregated into JSON by the database (PostgreSQL `json_agg`, SQLite
//! `json_group_array`/`json_object`) in correlated subqueries over the relations' person-id
//! indexes. One round trip per chunk of ids instead of one per relation: a record miss is
//! what most cold reads are made of.
//!
//! The column lists come from the SeaORM entities, so a column added to a model is carried
//! without touching this file; the JSON is decoded by the models' own `Deserialize`.

use std::sync::Arc;

use sea_orm::sea_query::ColumnType;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable,
    Statement, Value,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::cache::{PersonRecord, SharedRecord};
use crate::model::{
    consent_event, contraindication, dose, enrollment, guardian_link, membership, person,
};
use crate::StoreError;

/// Reads the records of `ids` (at most a chunk's worth) in one statement. Ids without a
/// person are absent from the answer.
pub(crate) async fn load_chunk<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<Vec<SharedRecord>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sql = record_sql(backend, ids.len());
    let values: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |i: usize| -> Result<String, StoreError> {
            let v: Option<String> = row.try_get_by_index(i)?;
            Ok(v.unwrap_or_else(|| "[]".to_owned()))
        };
        let mut record = PersonRecord {
            person: decode(&text(0)?)?,
            doses: decode(&text(1)?)?,
            contraindications: decode(&text(2)?)?,
            consent_history: decode(&text(3)?)?,
            guardian_links: decode(&text(4)?)?,
            enrollments: decode(&text(5)?)?,
            memberships: decode(&text(6)?)?,
        };
        order(&mut record);
        out.push(Arc::new(record));
    }
    Ok(out)
}

fn decode<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("person record: {e}")))
}

/// Each list in the order reads return it (see [`PersonRecord`]), ties broken by id so the
/// order does not depend on the plan the database chose.
fn order(r: &mut PersonRecord) {
    r.doses.sort_by_key(|d| (d.date_given, d.recorded_at, d.id));
    r.contraindications.sort_by_key(|c| (c.recorded_at, c.id));
    r.consent_history.sort_by_key(|c| (c.at, c.id));
    r.guardian_links.sort_by_key(|g| (g.created_at, g.id));
    r.enrollments.sort_by(|a, b| {
        b.school_year
            .cmp(&a.school_year)
            .then_with(|| a.id.cmp(&b.id))
    });
    r.memberships.sort_by_key(|m| (m.created_at, m.id));
}

/// The statement for `n` ids: one row per existing person, seven JSON texts (the person, then
/// each relation as an array, in [`load_chunk`]'s order).
fn record_sql(backend: DbBackend, n: usize) -> String {
    let placeholders = match backend {
        DbBackend::Postgres => (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => vec!["?"; n].join(","),
    };
    let person_table = person::Entity.table_name();
    let relations = [
        relation::<dose::Entity>(backend),
        relation::<contraindication::Entity>(backend),
        relation::<consent_event::Entity>(backend),
        relation::<guardian_link::Entity>(backend),
        relation::<enrollment::Entity>(backend),
        relation::<membership::Entity>(backend),
    ];
    let person_json = match backend {
        DbBackend::Postgres => "to_json(p)::text".to_owned(),
        _ => json_object::<person::Entity>("p"),
    };
    format!(
        "SELECT {person_json}, {} FROM {person_table} p WHERE p.id IN ({placeholders})",
        relations.join(", ")
    )
}

/// One relation of person `p` as a JSON array (text), through its `person_id` index.
fn relation<E: EntityTrait>(backend: DbBackend) -> String {
    let table = E::default().table_name().to_owned();
    match backend {
        DbBackend::Postgres => format!(
            "(SELECT coalesce(json_agg(r), '[]'::json)::text FROM {table} r WHERE r.person_id = p.id)"
        ),
        _ => format!(
            "(SELECT json_group_array({}) FROM {table} r WHERE r.person_id = p.id)",
            json_object::<E>("r")
        ),
    }
}

/// SQLite: a row as a JSON object keyed by column name, in the shapes the models decode:
/// uuids (stored as 16-byte blobs) as hex text, booleans (stored as integers) as JSON booleans.
fn json_object<E: EntityTrait>(alias: &str) -> String {
    let fields: Vec<String> = E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            let col = format!("{alias}.\"{name}\"");
            let value = match c.def().get_column_type() {
                ColumnType::Uuid => format!(
                    "CASE WHEN typeof({col}) = 'blob' THEN lower(hex({col})) ELSE {col} END"
                ),
                ColumnType::Boolean => format!(
                    "CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"
                ),
                _ => col,
            };
            format!("'{name}', {value}")
        })
        .collect();
    format!("json_object({})", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_names_every_relation_by_its_person_index() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let sql = record_sql(backend, 3);
            for table in [
                "doses",
                "contraindications",
                "consent_events",
                "guardian_links",
                "enrollments",
                "memberships",
            ] {
                assert!(
                    sql.contains(&format!("FROM {table} r WHERE r.person_id = p.id")),
                    "{table} missing from {sql}"
                );
            }
        }
        assert!(record_sql(DbBackend::Postgres, 3).ends_with("IN ($1,$2,$3)"));
        assert!(record_sql(DbBackend::Sqlite, 2).ends_with("IN (?,?)"));
    }

    #[test]
    fn stored_spellings_of_codes_decode() {
        let p: crate::codes::Participation =
            serde_json::from_str("\"OPTED_OUT\"").expect("stored spelling");
        assert_eq!(p, crate::codes::Participation::OptedOut);
    }
}
