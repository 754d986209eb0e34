use sea_orm::entity::prelude::*;

use crate::codes::{Gender, Participation, PersonStatus};

/// A person's demographics and current consent state. Consent lives on the row (with its
/// history in `consent_events`) so that the policy's row scope is one indexed predicate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    /// Upper-cased, trimmed names: what searches match and sort on.
    pub first_name_key: String,
    pub last_name_key: String,
    pub date_of_birth: Date,
    pub gender: Gender,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub participation: Participation,
    pub locked_to_org_id: Option<Uuid>,
    pub reminders: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Registry status; only `ACTIVE` persons are in population jobs.
    #[serde(default = "active")]
    pub status: PersonStatus,
    /// When the status took effect: the date of death, the date a person moved away.
    #[serde(default)]
    pub status_date: Option<Date>,
    #[serde(default)]
    pub mother_maiden_name: Option<String>,
    /// Born in a multiple birth (PID-24), when stated.
    #[serde(default)]
    pub multiple_birth: Option<bool>,
    /// Order in that birth (PID-25), when stated.
    #[serde(default)]
    pub birth_order: Option<i16>,
    /// Set on a duplicate merged into another person: the survivor. Such a row is outside
    /// every row scope; its id resolves to the survivor.
    #[serde(default)]
    pub merged_into: Option<Uuid>,
}

fn active() -> PersonStatus {
    PersonStatus::Active
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
