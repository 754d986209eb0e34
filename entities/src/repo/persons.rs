//! Person records: lookup, search, create and update.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::codes::{AccessAction, Gender, NameKind, Participation, PersonStatus};
use crate::db::WriteTxn;
use crate::model::{birth_date_change, guardian_link, person};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::records::RecordLookup;
use crate::repo::resolve::{insert_name, record_contact_history, refresh_keys, NameInput};
use crate::repo::write_guard::person_for_write;
use crate::repo::{Cursor, CursorKind, Page};
use crate::scope_sql::{person_condition, Locks};
use crate::{Access, ReadTarget, Store, StoreError};
use policies::{age_in_years, RowScope, ADULT_AGE};

/// Contact fields as given; blanks become `None`.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A new person.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub contact: Option<Contact>,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<Gender>,
    pub contact: Option<Contact>,
}

/// Search criteria; at least one must be given.
#[derive(Debug, Clone, Default)]
pub struct PersonSearch {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
}

/// The result of a fetch by id.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Box<person::Model>),
    /// Exists and would be visible but for a lock to another provider. Carries no data.
    Locked,
    NotFound,
}

/// The key names are searched and sorted by: trimmed, transliterated to ASCII (`deunicode`:
/// `Müller` → `Muller`, `Øberg` → `Oberg`) and upper case, so a search need not know a name's
/// accents and the keys order byte-wise (see the `s20_search_keys` migration).
pub fn name_key(name: &str) -> String {
    deunicode::deunicode(name.trim()).to_uppercase()
}

fn required_name(field: &str, value: &str) -> Result<String, StoreError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be blank")));
    }
    if trimmed.chars().count() > 100 {
        return Err(StoreError::Invalid(format!(
            "{field} is longer than 100 characters"
        )));
    }
    Ok(trimmed.to_owned())
}

fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, StoreError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => Err(StoreError::Invalid(format!(
            "{field} is longer than {max} characters"
        ))),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

fn date_of_birth(access: &Access, dob: NaiveDate) -> Result<NaiveDate, StoreError> {
    if dob > access.today {
        return Err(StoreError::Invalid(
            "dateOfBirth must not be in the future".into(),
        ));
    }
    if dob < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(StoreError::Invalid("dateOfBirth is before 1900".into()));
    }
    Ok(dob)
}

fn apply_contact(m: &mut person::ActiveModel, c: &Contact) -> Result<(), StoreError> {
    m.address_line1 = Set(optional("addressLine1", c.address_line1.as_deref(), 200)?);
    m.address_line2 = Set(optional("addressLine2", c.address_line2.as_deref(), 200)?);
    m.city = Set(optional("city", c.city.as_deref(), 100)?);
    m.state = Set(optional("state", c.state.as_deref(), 50)?);
    m.postal_code = Set(optional("postalCode", c.postal_code.as_deref(), 20)?);
    m.phone = Set(optional("phone", c.phone.as_deref(), 40)?);
    m.email = Set(optional("email", c.email.as_deref(), 200)?);
    if let Some(email) = c.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        if !email.contains('@') {
            return Err(StoreError::Invalid("email is not an e-mail address".into()));
        }
    }
    Ok(())
}

/// Keys starting with `key`, as a range of the name index: keys are ASCII (see [`name_key`])
/// and compared byte-wise (SQLite's binary collation, the `C` collation of the key columns on
/// PostgreSQL), so `key <= k < key + DEL` is exactly the prefix match, and unlike `LIKE` (which
/// SQLite matches case-insensitively and so never through a binary index) both databases serve
/// it from `ix_persons_name`. `%`, `_` and `\` in a search are plain characters.
fn prefix_range(column: person::Column, key: &str) -> Condition {
    Condition::all()
        .add(column.gte(key))
        .add(column.lt(format!("{key}\u{7f}")))
}

impl Store {
    /// Fetches one person within the caller's row scope.
    pub async fn person(&self, access: &Access, id: Uuid) -> Result<Lookup, StoreError> {
        Ok(self
            .persons_lookup(access, &[id])
            .await?
            .remove(&id)
            .unwrap_or(Lookup::NotFound))
    }

    /// [`Store::person`] for many ids in one batch (federation references): every id gets
    /// an answer; hidden and nonexistent ones are [`Lookup::NotFound`].
    pub async fn persons_lookup(
        &self,
        access: &Access,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Lookup>, StoreError> {
        let found = self.lookup_records(access, ids).await?;
        Ok(ids
            .iter()
            .map(|id| {
                let lookup = match found.get(id) {
                    None => Lookup::NotFound,
                    Some(RecordLookup::Locked) => Lookup::Locked,
                    Some(RecordLookup::Found(r)) => Lookup::Found(Box::new(r.person.clone())),
                };
                (*id, lookup)
            })
            .collect())
    }

    /// Visible persons among `ids` (for batch loading); hidden and locked ones are left out.
    pub async fn persons_by_ids(
        &self,
        access: &Access,
        ids: &[Uuid],
    ) -> Result<Vec<person::Model>, StoreError> {
        let records = self.visible_records(access, ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| records.get(id).map(|r| r.person.clone()))
            .collect())
    }

    /// The statement of a search, in the name index's order (last name key, first name key,
    /// id), its row scope part of the `WHERE`.
    fn search_select(
        &self,
        access: &Access,
        search: &PersonSearch,
        after: Option<&Cursor>,
    ) -> Result<sea_orm::Select<person::Entity>, StoreError> {
        let last = search
            .last_name
            .as_deref()
            .map(name_key)
            .filter(|s| !s.is_empty());
        let first_name = search
            .first_name
            .as_deref()
            .map(name_key)
            .filter(|s| !s.is_empty());
        if last.is_none() && first_name.is_none() && search.date_of_birth.is_none() {
            return Err(StoreError::Invalid(
                "give at least one of lastName, firstName, dateOfBirth".into(),
            ));
        }
        let mut query =
            person::Entity::find().filter(person_condition(&access.scope, Locks::Enforce));
        if let Some(l) = last {
            query = query.filter(prefix_range(person::Column::LastNameKey, &l));
        }
        if let Some(f) = first_name {
            query = query.filter(prefix_range(person::Column::FirstNameKey, &f));
        }
        if let Some(d) = search.date_of_birth {
            query = query.filter(person::Column::DateOfBirth.eq(d));
        }
        if let Some(cursor) = after {
            let parts = self
                .cursor_key
                .open(access, CursorKind::Persons, cursor, 3)
                .ok_or_else(|| StoreError::Invalid("malformed cursor".into()))?;
            let id: Uuid = parts[2]
                .parse()
                .map_err(|_| StoreError::Invalid("malformed cursor".into()))?;
            let (l, f) = (parts[0].clone(), parts[1].clone());
            query = query.filter(
                Condition::any()
                    .add(person::Column::LastNameKey.gt(l.clone()))
                    .add(
                        Condition::all()
                            .add(person::Column::LastNameKey.eq(l.clone()))
                            .add(person::Column::FirstNameKey.gt(f.clone())),
                    )
                    .add(
                        Condition::all()
                            .add(person::Column::LastNameKey.eq(l))
                            .add(person::Column::FirstNameKey.eq(f))
                            .add(person::Column::Id.gt(id)),
                    ),
            );
        }
        Ok(query
            .order_by_asc(person::Column::LastNameKey)
            .order_by_asc(person::Column::FirstNameKey)
            .order_by_asc(person::Column::Id))
    }

    /// The database's plan for the first page of a search (PostgreSQL `EXPLAIN`, SQLite
    /// `EXPLAIN QUERY PLAN`), one line per node, on the primary: how an operator (and the plan
    /// test) sees that searches are served by the name index.
    pub async fn search_plan(
        &self,
        access: &Access,
        search: &PersonSearch,
        first: u64,
    ) -> Result<String, StoreError> {
        use sea_orm::{ConnectionTrait, QueryTrait};
        let db = &self.db;
        let backend = db.get_database_backend();
        let stmt = self
            .search_select(access, search, None)?
            .limit(first + 1)
            .build(backend);
        let prefix = match backend {
            sea_orm::DbBackend::Sqlite => "EXPLAIN QUERY PLAN ",
            _ => "EXPLAIN ",
        };
        let explain = sea_orm::Statement {
            sql: format!("{prefix}{}", stmt.sql),
            ..stmt
        };
        let rows = db.query_all_raw(explain).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            // PostgreSQL: one text column; SQLite: (id, parent, notused, detail).
            let line: String = match backend {
                sea_orm::DbBackend::Sqlite => row.try_get_by_index(3)?,
                _ => row.try_get_by_index(0)?,
            };
            lines.push(line);
        }
        Ok(lines.join("\n"))
    }

    /// Searches by name prefix (case-insensitive) and/or exact date of birth, ordered by last
    /// name, first name and id. Hidden records are excluded by the query itself.
    pub async fn search_persons(
        &self,
        access: &Access,
        search: &PersonSearch,
        first: u64,
        after: Option<&Cursor>,
    ) -> Result<Page<person::Model>, StoreError> {
        let query = self.search_select(access, search, after)?;
        let rows = query.limit(first + 1);
        let (db, target) = self.reader(access).await;
        let mut rows = rows.all(db).await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        if target == ReadTarget::Replica {
            let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
            let admitted = self.admitted_on_primary(access, &ids).await?;
            rows.retain(|m| admitted.contains(&m.id));
        }
        Ok(Page {
            items: rows
                .into_iter()
                .map(|m| {
                    let cursor = self.cursor_key.seal(
                        access,
                        CursorKind::Persons,
                        &[&m.last_name_key, &m.first_name_key, &m.id.to_string()],
                    );
                    (cursor, m)
                })
                .collect(),
            has_next_page,
        })
    }

    /// Creates a person (participating, unlocked, reminders on) without matching: the
    /// person's blocking keys and contact history are written with it. Submissions from
    /// outside go through [`Store::resolve_person`] instead.
    pub async fn create_person(
        &self,
        access: &Access,
        input: NewPerson,
    ) -> Result<person::Model, StoreError> {
        let txn = self.begin_write_for(access).await?;
        let row = insert_person(&txn, access, input, |_| {}).await?;
        record_contact_history(&*txn, &row, access.principal.org, row.created_at).await?;
        refresh_keys(&*txn, row.id).await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![row.id],
                vec!["Person.create".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Applies a partial update to a person the caller may see.
    pub async fn update_person(
        &self,
        access: &Access,
        id: Uuid,
        patch: PersonPatch,
    ) -> Result<person::Model, StoreError> {
        let txn = self.begin_write_for(access).await?;
        let current = person_for_write(&txn, access, id).await?;
        let old_dob = current.date_of_birth;
        let old_name = NameInput {
            first_name: Some(current.first_name.clone()),
            middle_name: current.middle_name.clone(),
            last_name: Some(current.last_name.clone()),
            suffix: None,
        };
        let mut model: person::ActiveModel = current.into();
        let mut fields = Vec::new();
        if let Some(v) = &patch.first_name {
            let v = required_name("firstName", v)?;
            model.first_name_key = Set(name_key(&v));
            model.first_name = Set(v);
            fields.push("Person.firstName");
        }
        if let Some(v) = &patch.last_name {
            let v = required_name("lastName", v)?;
            model.last_name_key = Set(name_key(&v));
            model.last_name = Set(v);
            fields.push("Person.lastName");
        }
        if let Some(v) = &patch.middle_name {
            model.middle_name = Set(optional("middleName", Some(v), 100)?);
            fields.push("Person.middleName");
        }
        let mut birth_date_change = None;
        if let Some(v) = patch.date_of_birth {
            let new = date_of_birth(access, v)?;
            if new != old_dob {
                self.check_birth_date_change(&txn, access, id, old_dob, new)
                    .await?;
                birth_date_change = Some(new);
            }
            model.date_of_birth = Set(new);
            fields.push("Person.dateOfBirth");
        }
        if let Some(v) = patch.gender {
            model.gender = Set(v);
            fields.push("Person.gender");
        }
        if let Some(c) = &patch.contact {
            apply_contact(&mut model, c)?;
            fields.push("Person.contact");
        }
        model.updated_at = Set(Utc::now());
        let row = model.update(&*txn).await?;
        if row.first_name != old_name.first_name.as_deref().unwrap_or_default()
            || row.last_name != old_name.last_name.as_deref().unwrap_or_default()
        {
            // The name the person was known by stays findable (and shown as a previous name).
            insert_name(
                &*txn,
                id,
                NameKind::Previous,
                &old_name,
                access.principal.org,
            )
            .await?;
        }
        if patch.contact.is_some() {
            record_contact_history(&*txn, &row, access.principal.org, row.updated_at).await?;
        }
        refresh_keys(&*txn, id).await?;
        if let Some(new) = birth_date_change {
            birth_date_change::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(id),
                at: Set(Utc::now()),
                changed_by: Set(access.principal.subject.clone()),
                request_id: Set(access.request_id.clone()),
                old_date: Set(old_dob),
                new_date: Set(new),
            }
            .insert(&*txn)
            .await?;
        }
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![id],
                fields.into_iter().map(str::to_owned).collect(),
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}

/// Validates and inserts a person row in `txn` (`extra` sets the identity columns); the
/// caller writes the keys, history and access-log entry.
pub(crate) async fn insert_person(
    txn: &WriteTxn,
    access: &Access,
    input: NewPerson,
    extra: impl FnOnce(&mut person::ActiveModel),
) -> Result<person::Model, StoreError> {
    let first_name = required_name("firstName", &input.first_name)?;
    let last_name = required_name("lastName", &input.last_name)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = person::ActiveModel {
        id: Set(id),
        first_name_key: Set(name_key(&first_name)),
        last_name_key: Set(name_key(&last_name)),
        first_name: Set(first_name),
        middle_name: Set(optional("middleName", input.middle_name.as_deref(), 100)?),
        last_name: Set(last_name),
        date_of_birth: Set(date_of_birth(access, input.date_of_birth)?),
        gender: Set(input.gender),
        participation: Set(Participation::Participating),
        locked_to_org_id: Set(None),
        reminders: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        status: Set(PersonStatus::Active),
        status_date: Set(None),
        mother_maiden_name: Set(None),
        multiple_birth: Set(None),
        birth_order: Set(None),
        merged_into: Set(None),
        ..Default::default()
    };
    apply_contact(&mut model, &input.contact.unwrap_or_default())?;
    extra(&mut model);
    txn.touch(id);
    Ok(model.insert(&**txn).await?)
}

impl Store {
    /// Refuses, unless the writer is registry staff, a birth-date change that makes an adult
    /// with a verified guardian a minor again: it would open (or re-open) that guardian's
    /// access to the record (`shared/spec/access-policy.md`, Guardian relationships).
    async fn check_birth_date_change(
        &self,
        txn: &WriteTxn,
        access: &Access,
        id: Uuid,
        old: NaiveDate,
        new: NaiveDate,
    ) -> Result<(), StoreError> {
        if access.scope == RowScope::All {
            return Ok(());
        }
        let minor = |dob| age_in_years(dob, access.today) < ADULT_AGE as i32;
        if minor(old) || !minor(new) {
            return Ok(());
        }
        let links = guardian_link::Entity::find()
            .filter(guardian_link::Column::PersonId.eq(id))
            .all(&**txn)
            .await?;
        if links.iter().any(guardian_link::Model::grants_access) {
            return Err(StoreError::Forbidden(
                "change a birth date so that an adult's guardian may read their record",
            ));
        }
        Ok(())
    }

    /// Whether `person` exists and is an adult (18 or over) on `today`: an `individual` token
    /// is for an adult about themself, and one naming a minor (or no one) is refused.
    pub async fn is_adult(&self, person: Uuid, today: NaiveDate) -> Result<bool, StoreError> {
        let dob: Option<NaiveDate> = person::Entity::find_by_id(person)
            .select_only()
            .column(person::Column::DateOfBirth)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(dob.is_some_and(|dob| {
            u32::try_from(policies::age_in_years(dob, today))
                .is_ok_and(|age| age >= policies::ADULT_AGE)
        }))
    }

    /// The records a guardian or individual answers for: their own and those in their row
    /// scope (a guardian's minor wards). Used to restrict their view of the access log.
    pub(crate) async fn own_record_ids(&self, access: &Access) -> Result<Vec<Uuid>, StoreError> {
        let mut ids: Vec<Uuid> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person_condition(&access.scope, Locks::Enforce))
            .into_tuple()
            // Which records are one's own is an authorization fact: decided on the primary.
            .all(&self.db)
            .await?;
        if let Some(me) = access.principal.person {
            ids.push(me);
        }
        Ok(ids)
    }
}
