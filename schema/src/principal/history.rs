//! `me { accessHistory(first, after) }`: "who saw my record", for a guardian (their own record
//! and each minor ward's) or an individual.
//!
//! Entries are those of `policies::access_log_view`'s `OwnRecords` view (the repository
//! removes every other person an entry names and skips entries naming the reader only as a
//! co-subject); this view then drops what the access-log row holds about the *reader of the
//! record*: no subject (a staff member's personal id), no request ids, no chain hashes. What is
//! left is when, which organization and its kind, the role, the purpose, the action, and which
//! parts of the record.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use entities::model::access_log;
use entities::repo::access_log::{LogFilter, PersonDetail};
use entities::repo::Cursor;
use policies::{LogView, Role};

use crate::access_log::{AccessActionGql, AccessOutcomeGql};
use crate::context::{request, store_err};
use crate::organization::OrganizationNode;
use crate::page::{page_info, page_size, PageInfo};
use crate::person::organization_by_id;
use crate::principal::RoleGql;
use crate::scalars::DateTime;
use crate::{ids, ApiError};

/// One access to a record the reader answers for.
pub struct AccessHistoryEntry {
    row: access_log::Model,
    /// The reader's own record or ward this entry is about (the first, when several).
    person: Option<uuid::Uuid>,
    parts: Vec<String>,
}

#[Object]
impl AccessHistoryEntry {
    async fn at(&self) -> DateTime {
        DateTime(self.row.at)
    }

    /// Whose record: the reader's own id or a ward's.
    async fn person_id(&self) -> Option<ID> {
        self.person.map(ids::to_id)
    }

    /// The organization that read it (none for registry staff and auditors).
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        match self.row.organization_id {
            Some(id) => Ok(Some(organization_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }

    async fn role(&self) -> Result<RoleGql> {
        let role: Role = self.row.role.parse().map_err(|_| ApiError::Internal {
            request_id: "-".into(),
        })?;
        Ok(role.into())
    }

    /// Purpose of use (`TREATMENT`, `SCHOOL_COMPLIANCE`, `AUDIT`, …).
    async fn purpose(&self) -> Option<&str> {
        self.row.purpose.as_deref()
    }

    async fn action(&self) -> AccessActionGql {
        self.row.action.into()
    }

    async fn outcome(&self) -> AccessOutcomeGql {
        self.row.outcome.into()
    }

    /// Which parts of the record: identity, contact, guardians, doses, recommendations,
    /// contraindications, school compliance, consent, enrollments, memberships, access log.
    async fn parts(&self) -> &[String] {
        &self.parts
    }
}

#[derive(SimpleObject)]
pub struct AccessHistoryEdge {
    pub cursor: String,
    pub node: AccessHistoryEntry,
}

#[derive(SimpleObject)]
pub struct AccessHistoryConnection {
    pub edges: Vec<AccessHistoryEdge>,
    pub page_info: PageInfo,
}

/// A field group as the access log names it → the part of the record people know.
fn part(field: &str) -> Option<&'static str> {
    Some(match field {
        "identity" | "gender" | "id" => "identity",
        "contact" => "contact",
        "guardians" => "guardians",
        "doses" | "doseDetails" | "doseEvaluation" => "doses",
        "recommendations" => "recommendations",
        "contraindications" => "contraindications",
        "schoolCompliance" => "school compliance",
        "consent" => "consent",
        "enrollments" => "enrollments",
        "memberships" => "memberships",
        "accessLog" => "access log",
        _ => return None,
    })
}

fn entry(row: access_log::Model) -> AccessHistoryEntry {
    let persons: Vec<uuid::Uuid> = serde_json::from_str::<Vec<String>>(&row.person_ids)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let person = persons.first().copied();
    let detail = PersonDetail::of(&row);
    let fields: Vec<String> = match person.and_then(|p| detail.fields.get(&p)) {
        Some(f) => f.clone(),
        None => serde_json::from_str(&row.fields).unwrap_or_default(),
    };
    let mut parts: Vec<String> = Vec::new();
    for f in &fields {
        if let Some(p) = part(f) {
            if !parts.iter().any(|x| x == p) {
                parts.push(p.to_owned());
            }
        }
    }
    AccessHistoryEntry { row, person, parts }
}

/// `Principal.accessHistory`: only for guardians and individuals.
pub(crate) async fn access_history(
    ctx: &Context<'_>,
    first: i32,
    after: Option<String>,
) -> Result<AccessHistoryConnection> {
    let (rc, store) = request(ctx)?;
    match policies::access_log_view(&rc.access.principal) {
        Ok(LogView::OwnRecords) => {}
        _ => {
            return Err(ApiError::Forbidden(
                "accessHistory is a guardian's or individual's view; auditors read accessLog"
                    .into(),
            )
            .into())
        }
    }
    let first = page_size(first)?;
    let after = after.map(Cursor);
    let page = store
        .access_log(&rc.access, &LogFilter::default(), first, after.as_ref())
        .await
        .map_err(store_err(rc))?;
    Ok(AccessHistoryConnection {
        page_info: page_info(&page),
        edges: page
            .items
            .into_iter()
            .map(|(c, m)| AccessHistoryEdge {
                cursor: c.0,
                node: entry(m),
            })
            .collect(),
    })
}
