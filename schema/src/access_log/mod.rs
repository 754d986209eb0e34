//! `accessLog`: the hash-chained audit trail.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use entities::codes::{AccessAction, AccessOutcome};
use entities::model::access_log;
use entities::repo::access_log::{LogFilter, PersonDetail};
use entities::repo::Cursor;
use policies::{Role, Scope};

use crate::context::{request, store_err};
use crate::organization::mirror_enum;
use crate::page::{page_info, page_size, PageInfo};
use crate::principal::RoleGql;
use crate::scalars::DateTime;
use crate::{guard, ids, ApiError};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AccessAction")]
pub enum AccessActionGql {
    Read,
    Search,
    Roster,
    Write,
    Export,
    Consent,
    Denied,
    /// A merge or unmerge of two persons (issue 15).
    Merge,
}
mirror_enum!(
    AccessActionGql,
    AccessAction {
        Read,
        Search,
        Roster,
        Write,
        Export,
        Consent,
        Denied,
        Merge
    }
);

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AccessOutcome")]
pub enum AccessOutcomeGql {
    Allowed,
    Denied,
}
mirror_enum!(AccessOutcomeGql, AccessOutcome { Allowed, Denied });

pub struct AccessLogEntryNode(access_log::Model);

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[Object(name = "AccessLogEntry", requires_scopes = "audit:read")]
impl AccessLogEntryNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn role(&self) -> Result<RoleGql> {
        let role: Role = self.0.role.parse().map_err(|_| ApiError::Internal {
            request_id: "-".into(),
        })?;
        Ok(role.into())
    }
    async fn organization_id(&self) -> Option<ID> {
        self.0.organization_id.map(ids::to_id)
    }
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    async fn action(&self) -> AccessActionGql {
        self.0.action.into()
    }
    async fn person_ids(&self) -> Vec<ID> {
        json_list(&self.0.person_ids).into_iter().map(ID).collect()
    }
    async fn fields(&self) -> Vec<String> {
        json_list(&self.0.fields)
    }
    /// The server's id of the request that made the entry.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    /// The caller's own `x-request-id`, when it sent a usable one.
    async fn client_request_id(&self) -> Option<&str> {
        self.0.client_request_id.as_deref()
    }
    /// The fields read or written of each person (entries written before this was recorded
    /// have none).
    async fn person_fields(&self) -> Vec<AccessLogPersonFields> {
        PersonDetail::of(&self.0)
            .fields
            .into_iter()
            .map(|(id, fields)| AccessLogPersonFields {
                person_id: ids::to_id(id),
                fields,
            })
            .collect()
    }
    async fn outcome(&self) -> AccessOutcomeGql {
        self.0.outcome.into()
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Hex SHA-256 over this entry and the previous entry's hash.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    async fn previous_hash(&self) -> &str {
        &self.0.previous_hash
    }
    /// Position in the hash chain.
    async fn sequence(&self) -> String {
        self.0.seq.to_string()
    }
}

/// What one access-log entry read or wrote of one person.
#[derive(SimpleObject)]
pub struct AccessLogPersonFields {
    pub person_id: ID,
    pub fields: Vec<String>,
}

#[derive(InputObject, Default)]
pub struct AccessLogFilter {
    pub person_id: Option<ID>,
    pub subject: Option<String>,
    pub organization_id: Option<ID>,
    pub action: Option<AccessActionGql>,
    pub outcome: Option<AccessOutcomeGql>,
    pub from: Option<DateTime>,
    pub to: Option<DateTime>,
}

#[derive(SimpleObject)]
pub struct AccessLogConnection {
    pub edges: Vec<AccessLogEdge>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct AccessLogEdge {
    pub cursor: String,
    pub node: AccessLogEntryNode,
}

#[derive(Default)]
pub struct AccessLogQuery;

#[Object]
impl AccessLogQuery {
    /// The access log (auditor, registry_admin; a guardian or individual sees entries about
    /// their own record). Newest first.
    #[graphql(
        requires_scopes = "audit:read",
        complexity = "crate::limits::paged(first, 50, child_complexity)"
    )]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AccessLogFilter>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<AccessLogConnection> {
        guard::scope(ctx, Scope::AuditRead, "accessLog")?;
        let (rc, store) = request(ctx)?;
        let first = page_size(first.unwrap_or(50))?;
        let filter = filter.unwrap_or_default();
        let store_filter = LogFilter {
            person_id: filter
                .person_id
                .as_ref()
                .map(|i| ids::parse(i, "personId"))
                .transpose()?,
            subject: filter.subject,
            organization_id: filter
                .organization_id
                .as_ref()
                .map(|i| ids::parse(i, "organizationId"))
                .transpose()?,
            action: filter.action.map(Into::into),
            outcome: filter.outcome.map(Into::into),
            from: filter.from.map(|d| d.0),
            to: filter.to.map(|d| d.0),
        };
        // Which entries, and how much of each, is the policy's (`access_log_view`) and the
        // repository's, derived from the request's `Access`: nothing to decide here.
        let after = after.map(Cursor);
        let page = store
            .access_log(&rc.access, &store_filter, first, after.as_ref())
            .await
            .map_err(store_err(rc))?;
        Ok(AccessLogConnection {
            page_info: page_info(&page),
            edges: page
                .items
                .into_iter()
                .map(|(c, m)| AccessLogEdge {
                    cursor: c.0,
                    node: AccessLogEntryNode(m),
                })
                .collect(),
        })
    }
}
