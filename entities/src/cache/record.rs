//! The unit the cache holds: one person with everything a read of that person fans out to.
//!
//! Caching the whole record (rather than each relation) makes invalidation exact and simple:
//! every write to a person's data touches exactly one key, and the policy facts travel with
//! the data they govern, so a cached read is authorized on the same facts it serves.

use std::sync::Arc;

use policies::RecordFacts;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::Participation;
use crate::model::{
    consent_event, contraindication, dose, enrollment, guardian_link, membership, person,
};

/// A person and their doses, contraindications, consent history, guardian links,
/// enrollments and memberships, each list in the order reads return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub person: person::Model,
    /// Oldest first (date given, then time recorded).
    pub doses: Vec<dose::Model>,
    /// In the order they were recorded.
    pub contraindications: Vec<contraindication::Model>,
    /// Oldest first.
    pub consent_history: Vec<consent_event::Model>,
    /// The person's guardians (links from this person), oldest first.
    pub guardian_links: Vec<guardian_link::Model>,
    /// Newest school year first.
    pub enrollments: Vec<enrollment::Model>,
    pub memberships: Vec<membership::Model>,
}

impl PersonRecord {
    pub fn id(&self) -> Uuid {
        self.person.id
    }

    /// The facts the row scope is decided on.
    pub fn facts(&self) -> RecordFacts {
        RecordFacts {
            person: self.person.id,
            date_of_birth: self.person.date_of_birth,
            opted_out: self.person.participation != Participation::Participating,
            locked_to: self.person.locked_to_org_id,
            enrollments: self
                .enrollments
                .iter()
                .map(|e| (e.organization_id, e.school_year.clone()))
                .collect(),
            memberships: self.memberships.iter().map(|m| m.organization_id).collect(),
            // Reported links are data, never a grant: only verified ones admit a guardian.
            guardians: self
                .guardian_links
                .iter()
                .filter(|g| g.grants_access())
                .map(|g| g.guardian_id)
                .collect(),
        }
    }
}

/// A shared, immutable record.
pub type SharedRecord = Arc<PersonRecord>;

/// The bytes stored for "no such person": a minimal record (a person with no relations, as
/// an opted-out person's is), which a reader decodes and discards, so reading an absence costs
/// what reading a small record does (see `cache`'s existence-oracle note).
pub(crate) fn absence_filler() -> &'static [u8] {
    static FILLER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILLER.get_or_init(|| {
        let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let record = PersonRecord {
            person: person::Model {
                id: Uuid::nil(),
                first_name: "Absent".into(),
                middle_name: None,
                last_name: "Absent".into(),
                first_name_key: "ABSENT".into(),
                last_name_key: "ABSENT".into(),
                date_of_birth: epoch.date_naive(),
                gender: crate::codes::Gender::Unknown,
                address_line1: None,
                address_line2: None,
                city: None,
                state: None,
                postal_code: None,
                phone: None,
                email: None,
                participation: Participation::OptedOut,
                locked_to_org_id: None,
                reminders: false,
                created_at: epoch,
                updated_at: epoch,
                status: crate::codes::PersonStatus::Active,
                status_date: None,
                mother_maiden_name: None,
                multiple_birth: None,
                birth_order: None,
                merged_into: None,
            },
            doses: Vec::new(),
            contraindications: Vec::new(),
            consent_history: Vec::new(),
            guardian_links: Vec::new(),
            enrollments: Vec::new(),
            memberships: Vec::new(),
        };
        serde_json::to_vec(&record).unwrap_or_default()
    })
}
