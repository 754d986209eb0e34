//! `roster`: a whole school's compliance in one query.

use async_graphql::{Context, Object, Result, ID};
use entities::repo::roster::{RosterFilter, RosterKey};
use entities::repo::Cursor;
use policies::Field;
use school::ComplianceStatus;

use super::evaluate::{evaluate_many, requirements};
use super::types::{
    ComplianceStatusGql, RosterConnection, RosterEdge, RosterEntryNode, RosterTotals,
    SchoolComplianceNode,
};
use crate::context::{request, store_err};
use crate::inline::Inline;
use crate::page::PageInfo;
use crate::person::PersonNode;
use crate::{guard, ids, ApiError};

#[derive(Default)]
pub struct RosterQuery;

#[Object]
impl RosterQuery {
    /// The students enrolled at a school or child-care organization in a school year (default:
    /// the current one) and their compliance with the jurisdiction's requirements, in name
    /// order. `totals` and `hiddenCount` cover the whole roster, whatever the page and the
    /// `status` filter; without `first`, every student is returned.
    #[expect(clippy::too_many_arguments, reason = "the contract's arguments")]
    async fn roster(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        school_year: Option<String>,
        grade: Option<String>,
        status: Option<ComplianceStatusGql>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<RosterConnection> {
        let (rc, store) = request(ctx)?;
        let org = ids::parse(&organization_id, "organizationId")?;
        let first = match first {
            None => None,
            Some(n) => Some(
                usize::try_from(n)
                    .map_err(|_| ApiError::BadInput("first must not be negative".into()))?,
            ),
        };
        let after = after
            .map(|c| RosterKey::parse(store, &rc.access, &Cursor(c)))
            .transpose()
            .map_err(store_err(rc))?;
        let today = rc.access.today;
        let year = school_year.unwrap_or_else(|| policies::school_year_of(today));
        if let Err(denial) =
            policies::authorize_roster(&rc.access.principal, org, year.trim(), today)
        {
            rc.record_denial(None, "roster", denial.rule());
            return Err(ApiError::Forbidden(format!(
                "this roster is not visible to the caller ({})",
                denial.rule()
            ))
            .into());
        }
        let requirements = requirements(ctx, rc)?;
        let roster = store
            .roster(
                &rc.access,
                &RosterFilter {
                    organization_id: org,
                    school_year: year,
                    grade,
                },
            )
            .await
            .map_err(store_err(rc))?;
        rc.record_roster();
        let mut students: Vec<_> = roster
            .entries
            .into_iter()
            .map(|e| (e.person, e.grade, Some(e.enrolled_on)))
            .collect();
        students.sort_by_cached_key(|(p, _, _)| RosterKey::of(p));
        // Every student's compliance is read (the totals count them all), so each read goes
        // through the policy entry point and into this request's access-log entry.
        for (p, _, _) in &students {
            guard::read(ctx, p.id, Field::SchoolCompliance)?;
        }
        let compliance = evaluate_many(rc, requirements, &students).await?;

        let mut totals = RosterTotals::default();
        let mut edges = Vec::new();
        let mut has_next_page = false;
        let wanted = status.map(ComplianceStatus::from);
        for ((p, grade, _), c) in students.into_iter().zip(compliance) {
            let Some(c) = c else { continue };
            totals.add(c.status);
            let key = RosterKey::of(&p);
            if wanted.is_some_and(|w| w != c.status) || after.as_ref().is_some_and(|a| key <= *a) {
                continue;
            }
            if first.is_some_and(|n| edges.len() >= n) {
                has_next_page = true;
                continue;
            }
            edges.push(Inline(RosterEdge {
                cursor: key.cursor(store, &rc.access).0,
                node: Inline(RosterEntryNode {
                    person: PersonNode::new(p),
                    grade,
                    compliance: SchoolComplianceNode::from(&c),
                }),
            }));
        }
        Ok(RosterConnection {
            page_info: PageInfo {
                has_next_page,
                end_cursor: edges.last().map(|e| e.0.cursor.clone()),
            },
            edges,
            totals,
            hidden_count: i32::try_from(roster.hidden).unwrap_or(i32::MAX),
        })
    }
}
