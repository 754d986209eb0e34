//! Consent: participation, lock and reminders, with history.

use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use entities::codes::{ConsentChannel, Participation};
use entities::model::{consent_event, person};
use entities::repo::consent::{ConsentChange, LockChange};
use policies::{Field, WriteAction};

use crate::context::{request, store_err};
use crate::loaders::ConsentHistoryOf;
use crate::organization::{mirror_enum, OrganizationNode};
use crate::person::organization_by_id;
use crate::scalars::DateTime;
use crate::{guard, ids, ApiError};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Participation")]
pub enum ParticipationGql {
    Participating,
    OptedOut,
}
mirror_enum!(
    ParticipationGql,
    Participation {
        Participating,
        OptedOut
    }
);

/// A person's consent as of the record read.
pub struct ConsentNode {
    person_id: uuid::Uuid,
    participation: Participation,
    locked_to: Option<uuid::Uuid>,
    reminders: bool,
}

impl ConsentNode {
    pub fn of(p: &person::Model) -> Self {
        ConsentNode {
            person_id: p.id,
            participation: p.participation,
            locked_to: p.locked_to_org_id,
            reminders: p.reminders,
        }
    }
}

#[Object(name = "Consent")]
impl ConsentNode {
    async fn participation(&self) -> ParticipationGql {
        self.participation.into()
    }

    /// The organization the record is locked to; null when unlocked.
    async fn locked_to(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        match self.locked_to {
            Some(id) => Ok(Some(organization_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }

    async fn reminders(&self) -> bool {
        self.reminders
    }

    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ConsentEventNode>> {
        let rc = guard::read(ctx, self.person_id, Field::Consent)?;
        let rows = rc
            .load(ConsentHistoryOf(self.person_id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(ConsentEventNode).collect())
    }
}

pub struct ConsentEventNode(consent_event::Model);

#[Object(name = "ConsentEvent")]
impl ConsentEventNode {
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }

    async fn changed_by(&self) -> &str {
        &self.0.changed_by
    }

    async fn channel(&self) -> &str {
        &self.0.channel
    }

    async fn participation(&self) -> ParticipationGql {
        self.0.participation.into()
    }

    async fn locked_to_id(&self) -> Option<ID> {
        self.0.locked_to_org_id.map(ids::to_id)
    }

    async fn reminders(&self) -> bool {
        self.0.reminders
    }
}

#[derive(InputObject)]
pub struct ConsentInput {
    pub participation: Option<ParticipationGql>,
    /// Lock the record to this organization; use unlock: true to remove a lock.
    pub locked_to_id: Option<ID>,
    pub unlock: Option<bool>,
    pub reminders: Option<bool>,
    /// How the request reached the registry: PORTAL, PHONE, FORM, PROVIDER.
    pub channel: String,
}

#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
    #[graphql(requires_scopes = "consent:write")]
    async fn set_consent(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        input: ConsentInput,
    ) -> Result<ConsentNode> {
        guard::write(ctx, WriteAction::SetConsent)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&person_id, "personId")?;
        let channel = ConsentChannel::parse(input.channel.trim()).ok_or_else(|| {
            ApiError::BadInput(format!(
                "channel `{}` is not one of PORTAL, PHONE, FORM, PROVIDER",
                input.channel
            ))
        })?;
        let lock = match (input.locked_to_id, input.unlock.unwrap_or(false)) {
            (Some(_), true) => {
                return Err(ApiError::BadInput("give lockedToId or unlock, not both".into()).into())
            }
            (Some(org), false) => LockChange::LockTo(ids::parse(&org, "lockedToId")?),
            (None, true) => LockChange::Unlock,
            (None, false) => LockChange::Keep,
        };
        let row = store
            .set_consent(
                &rc.access,
                person_id,
                ConsentChange {
                    participation: input.participation.map(Into::into),
                    lock,
                    reminders: input.reminders,
                    channel,
                },
            )
            .await
            .map_err(store_err(rc))?;
        Ok(ConsentNode::of(&row))
    }
}
