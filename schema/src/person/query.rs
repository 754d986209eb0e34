//! `person` and `persons`.

use async_graphql::{Context, Object, Result, ID};
use entities::repo::persons::{Lookup, PersonSearch};
use entities::repo::Cursor;

use super::node::PersonNode;
use super::types::{PersonConnection, PersonEdge, PersonFilter};
use crate::context::{request, store_err};
use crate::loaders::PersonRef;
use crate::page::{page_info, page_size};
use crate::{ids, ApiError, RequestContext};
use uuid::Uuid;

/// Fetches one person by id through the row scope. `person(id:)` and `_entities` share the
/// store's lookup and [`settle_person`], so federation cannot bypass the policy.
pub(crate) async fn person_by_id(ctx: &Context<'_>, id: &ID) -> Result<Option<PersonNode>> {
    let (rc, store) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    let lookup = store.person(&rc.access, id).await.map_err(store_err(rc))?;
    settle_person(rc, id, lookup)
}

/// `person(id:)` for a federation reference: the same answer, loaded in one batch with the
/// rest of the `_entities` call's representations.
pub(crate) async fn person_reference(ctx: &Context<'_>, id: &ID) -> Result<Option<PersonNode>> {
    let (rc, _) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    let lookup = rc.load(PersonRef(id)).await?.unwrap_or(Lookup::NotFound);
    settle_person(rc, id, lookup)
}

/// The answer for a person fetched by id: found, refused as locked (and the refusal logged),
/// or not found.
fn settle_person(rc: &RequestContext, id: Uuid, lookup: Lookup) -> Result<Option<PersonNode>> {
    match lookup {
        Lookup::Found(row) => Ok(Some(PersonNode::new(*row))),
        Lookup::Locked => {
            rc.record_denial(Some(id), "Person", "record_locked");
            Err(ApiError::RecordLocked.into())
        }
        Lookup::NotFound => Err(ApiError::NotFound.into()),
    }
}

#[derive(Default)]
pub struct PersonQuery;

#[Object]
impl PersonQuery {
    #[graphql(requires_scopes = "person:read")]
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PersonNode>> {
        person_by_id(ctx, &id).await
    }

    /// Search by name and/or date of birth; records the caller may not read are left out.
    #[graphql(
        requires_scopes = "person:read",
        complexity = "crate::limits::paged(first, 20, child_complexity)"
    )]
    async fn persons(
        &self,
        ctx: &Context<'_>,
        filter: PersonFilter,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<PersonConnection> {
        let (rc, store) = request(ctx)?;
        let first = page_size(first.unwrap_or(20))?;
        let search = PersonSearch {
            last_name: filter.last_name,
            first_name: filter.first_name,
            date_of_birth: filter.date_of_birth.map(|d| d.0),
        };
        let after = after.map(Cursor);
        let page = store
            .search_persons(&rc.access, &search, first, after.as_ref())
            .await
            .map_err(store_err(rc))?;
        rc.record_search();
        let ids: Vec<uuid::Uuid> = page.items.iter().map(|(_, p)| p.id).collect();
        // The page reveals each of its persons whatever is selected (a cursor, `pageInfo`,
        // the number of edges): every one is a logged read.
        for id in &ids {
            rc.record_reveal(*id, "search");
        }
        super::prefetch::prefetch(ctx, rc, ctx.look_ahead().field("edges").field("node"), &ids)
            .await?;
        Ok(PersonConnection {
            page_info: page_info(&page),
            edges: page
                .items
                .into_iter()
                .map(|(cursor, row)| PersonEdge {
                    cursor: cursor.0,
                    node: PersonNode::new(row),
                })
                .collect(),
        })
    }
}
