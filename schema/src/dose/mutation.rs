//! `recordDose` and `recordContraindication`.

use async_graphql::{Context, Object, Result};
use entities::repo::contraindications::NewContraindication;
use entities::repo::doses::{NewDose, RecordOutcome};
use policies::WriteAction;

use super::types::{
    ContraindicationInput, ContraindicationNode, DoseInput, DoseNode, RecordDosePayload,
};
use crate::context::{request, store_err};
use crate::{guard, ids};

#[derive(Default)]
pub struct DoseMutation;

#[Object]
impl DoseMutation {
    #[graphql(requires_scopes = "dose:write")]
    async fn record_dose(&self, ctx: &Context<'_>, input: DoseInput) -> Result<RecordDosePayload> {
        guard::write(ctx, WriteAction::RecordDose)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&input.person_id, "personId")?;
        let administered_by = input
            .administered_by_id
            .as_ref()
            .map(|id| ids::parse(id, "administeredById"))
            .transpose()?;
        let outcome = store
            .record_dose(
                &rc.access,
                NewDose {
                    person_id,
                    cvx: input.cvx,
                    date_given: input.date_given.0,
                    mvx: input.manufacturer,
                    lot_number: input.lot_number,
                    site: input.site,
                    route: input.route,
                    administered_by,
                },
            )
            .await
            .map_err(store_err(rc))?;
        Ok(match outcome {
            RecordOutcome::Stored(d) => RecordDosePayload {
                dose: Some(DoseNode::new(d)),
                duplicate_of: None,
                stored: true,
            },
            RecordOutcome::Duplicate(d) => RecordDosePayload {
                duplicate_of: Some(ids::to_id(d.id)),
                dose: Some(DoseNode::new(d)),
                stored: false,
            },
            RecordOutcome::NotStored => RecordDosePayload {
                dose: None,
                duplicate_of: None,
                stored: false,
            },
        })
    }

    #[graphql(requires_scopes = "dose:write")]
    async fn record_contraindication(
        &self,
        ctx: &Context<'_>,
        input: ContraindicationInput,
    ) -> Result<ContraindicationNode> {
        guard::write(ctx, WriteAction::RecordContraindication)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&input.person_id, "personId")?;
        let row = store
            .record_contraindication(
                &rc.access,
                NewContraindication {
                    person_id,
                    kind: input.kind.into(),
                    vaccine_group: input.vaccine_group,
                    reason: input.reason,
                    expires_on: input.expires_on.map(|d| d.0),
                    documented_by: input.documented_by.map(Into::into),
                    disease_on: input.disease_on.map(|d| d.0),
                },
            )
            .await
            .map_err(store_err(rc))?;
        Ok(ContraindicationNode(row))
    }
}
