//! Prefetching a page's relations: one batch per relation the query selects and the
//! principal may read, before the items resolve.
//!
//! Without it, batching would depend on timing (the loader's collection window against the
//! time it takes to walk a long list); with it, a query over 200 persons costs exactly the
//! statements a query over 10 does.

use std::collections::BTreeSet;

use async_graphql::{Context, Lookahead};
use policies::Field;
use uuid::Uuid;

use crate::context::RequestContext;
use crate::loaders::{
    ConsentHistoryOf, ContraindicationsOf, DosesOf, EnrollmentsOf, GuardiansOf, MembershipsOf,
    OrgId, PersonRef,
};
use crate::ApiError;

fn may(rc: &RequestContext, field: Field) -> bool {
    policies::read_field(&rc.access.principal, field).is_ok()
}

/// Loads, for `persons`, every relation selected under `node` (the `Person` selection).
pub(crate) async fn prefetch(
    ctx: &Context<'_>,
    rc: &RequestContext,
    node: Lookahead<'_>,
    persons: &[Uuid],
) -> Result<(), ApiError> {
    if persons.is_empty() {
        return Ok(());
    }
    let ids = || persons.iter().copied();
    let _ = ctx;
    let mut orgs: BTreeSet<Uuid> = BTreeSet::new();

    let doses = node.field("doses");
    if doses.exists() && may(rc, Field::DoseVaccine) {
        let loaded = rc.load_many(ids().map(DosesOf)).await?;
        if (doses.field("administeredBy").exists() || doses.field("reportedBy").exists())
            && may(rc, Field::DoseDetails)
        {
            for d in loaded.values().flatten() {
                orgs.extend(d.administered_by_org_id);
                orgs.extend(d.reported_by_org_id);
            }
        }
    }
    if node.field("guardians").exists() && may(rc, Field::PersonGuardians) {
        rc.load_many(ids().map(GuardiansOf)).await?;
    }
    if node.field("contraindications").exists() && may(rc, Field::Contraindications) {
        rc.load_many(ids().map(ContraindicationsOf)).await?;
    }
    if node.field("consent").field("history").exists() && may(rc, Field::Consent) {
        rc.load_many(ids().map(ConsentHistoryOf)).await?;
    }
    let enrollments = node.field("enrollments");
    if enrollments.exists() && may(rc, Field::Enrollments) {
        let loaded = rc.load_many(ids().map(EnrollmentsOf)).await?;
        if enrollments.field("organization").exists() {
            orgs.extend(loaded.values().flatten().map(|e| e.organization_id));
        }
    }
    let memberships = node.field("memberships");
    if memberships.exists() && may(rc, Field::Memberships) {
        let loaded = rc.load_many(ids().map(MembershipsOf)).await?;
        if memberships.field("organization").exists() {
            orgs.extend(loaded.values().flatten().map(|m| m.organization_id));
        }
    }
    if node.field("consent").field("lockedTo").exists() {
        // Lock organizations are few; they come with the other organizations below.
    }
    if !orgs.is_empty() {
        rc.load_many(orgs.into_iter().map(OrgId)).await?;
    }
    Ok(())
}

/// A router's `_entities` call: its `Person` references looked up in one batch, then the
/// relations their selection reads loaded in one batch each for the persons found, as a list
/// page's are. Without it, each reference's relations would be loaded in whatever batches the
/// loader's collection window happens to gather (and each batch asks the database for the
/// records' versions), so the cost would grow with the number of references. Runs once per
/// request, whichever reference resolves first; errors surface in the references' own loads.
pub(crate) async fn prefetch_references(ctx: &Context<'_>) {
    let Ok(rc) = ctx.data::<std::sync::Arc<RequestContext>>() else {
        return;
    };
    rc.prefetch_entities_once(async {
        let ids: Vec<Uuid> = ctx
            .param_value::<Vec<async_graphql::Any>>("representations", None)
            .map(|(_, representations)| {
                representations
                    .iter()
                    .filter_map(|r| match &r.0 {
                        async_graphql::Value::Object(fields) => {
                            match (fields.get("__typename"), fields.get("id")) {
                                (
                                    Some(async_graphql::Value::String(t)),
                                    Some(async_graphql::Value::String(id)),
                                ) if t == "Person" => id.parse().ok(),
                                _ => None,
                            }
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if ids.is_empty() {
            return;
        }
        let Ok(found) = rc.load_many(ids.into_iter().map(PersonRef)).await else {
            return;
        };
        // Only persons the caller may read: the others are refused before any relation.
        let admitted: Vec<Uuid> = found
            .into_iter()
            .filter(|(_, lookup)| matches!(lookup, entities::repo::persons::Lookup::Found(_)))
            .map(|(key, _)| key.0)
            .collect();
        let _ = prefetch(ctx, rc, ctx.look_ahead(), &admitted).await;
    })
    .await;
}
