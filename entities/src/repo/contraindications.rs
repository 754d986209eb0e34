//! Contraindications, precautions, immunity and exemptions.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, ContraindicationKind, ImmunityDocumenter};
use crate::model::contraindication;
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewContraindication {
    pub person_id: Uuid,
    pub kind: ContraindicationKind,
    /// `None`: applies to every vaccine group.
    pub vaccine_group: Option<String>,
    pub reason: Option<String>,
    pub expires_on: Option<NaiveDate>,
    /// For `IMMUNITY` only: who documented it.
    pub documented_by: Option<ImmunityDocumenter>,
    /// For `IMMUNITY` only: when the disease occurred (not in the future, not before birth).
    pub disease_on: Option<NaiveDate>,
}

impl Store {
    pub async fn contraindications_for(
        &self,
        access: &Access,
        person_ids: &[Uuid],
    ) -> Result<Vec<contraindication::Model>, StoreError> {
        self.relation_of(access, person_ids, |r| &r.contraindications)
            .await
    }

    pub async fn record_contraindication(
        &self,
        access: &Access,
        input: NewContraindication,
    ) -> Result<contraindication::Model, StoreError> {
        let group = match input.vaccine_group.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) if self.codes.has_group(g) => Some(g.to_owned()),
            Some(g) => return Err(StoreError::Invalid(format!("unknown vaccine group `{g}`"))),
        };
        if input.expires_on.is_some_and(|d| d < access.today) {
            return Err(StoreError::Invalid(
                "expiresOn must not be in the past".into(),
            ));
        }
        let reason = match input.reason.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) if r.chars().count() > 500 => {
                return Err(StoreError::Invalid(
                    "reason is longer than 500 characters".into(),
                ))
            }
            Some(r) => Some(r.to_owned()),
        };
        if input.kind != ContraindicationKind::Immunity
            && (input.documented_by.is_some() || input.disease_on.is_some())
        {
            return Err(StoreError::Invalid(
                "documentedBy and diseaseOn are for kind IMMUNITY only".into(),
            ));
        }
        if input.disease_on.is_some_and(|d| d > access.today) {
            return Err(StoreError::Invalid(
                "diseaseOn must not be in the future".into(),
            ));
        }
        let txn = self.begin_write_for(access).await?;
        let person = person_for_write(&txn, access, input.person_id).await?;
        if input.disease_on.is_some_and(|d| d < person.date_of_birth) {
            return Err(StoreError::Invalid(
                "diseaseOn must not be before the date of birth".into(),
            ));
        }
        let row = contraindication::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person.id),
            kind: Set(input.kind),
            vaccine_group: Set(group),
            reason: Set(reason),
            recorded_at: Set(Utc::now()),
            expires_on: Set(input.expires_on),
            recorded_by: Set(access.principal.subject.clone()),
            documented_by: Set(input.documented_by),
            disease_on: Set(input.disease_on),
        }
        .insert(&*txn)
        .await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![person.id],
                vec!["Contraindication.create".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}
