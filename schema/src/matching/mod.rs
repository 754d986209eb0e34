//! Patient matching over GraphQL (issue 15): `matchPersons` (a submitter's candidates within
//! its row scope), the review queue of undecided pairs, `mergePersons` and `unmergePerson`
//! (registry staff). `createPerson` resolves its input through the same engine
//! (`person::mutation`).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use entities::codes::{IdentifierKind, ReviewState};
use entities::model::{match_review, person_merge};
use entities::repo::persons::NewPerson;
use entities::repo::resolve::{IdentifierInput, NameInput, Submission};
use policies::WriteAction;

use crate::context::{request, store_err};
use crate::organization::mirror_enum;
use crate::person::{person_by_id as query_person, PersonInput, PersonNode};
use crate::scalars::DateTime;
use crate::{guard, ids};

/// The engine's three-way decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchDecision {
    /// One person: a submission is linked automatically.
    Match,
    /// Perhaps one person: registry staff review the pair.
    Possible,
    /// Two people.
    NoMatch,
}

impl From<identity::Decision> for MatchDecision {
    fn from(d: identity::Decision) -> Self {
        match d {
            identity::Decision::Match => MatchDecision::Match,
            identity::Decision::Possible => MatchDecision::Possible,
            identity::Decision::NoMatch => MatchDecision::NoMatch,
        }
    }
}

/// What kind of identifier another system gave a person.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "IdentifierKind")]
pub enum IdentifierKindGql {
    Mrn,
    Medicaid,
    Other,
}

/// An identifier from another system (an MRN with its assigning authority, a Medicaid id).
#[derive(InputObject, Debug, Clone)]
pub struct IdentifierInputGql {
    pub kind: IdentifierKindGql,
    /// Who assigned it (an HL7 assigning authority); defaults to the caller's organization.
    pub authority: Option<String>,
    pub value: String,
}

/// Another name the person is known by.
#[derive(InputObject, Debug, Clone)]
pub struct NameInputGql {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
}

impl From<NameInputGql> for NameInput {
    fn from(n: NameInputGql) -> Self {
        NameInput {
            first_name: n.first_name,
            middle_name: n.middle_name,
            last_name: n.last_name,
            suffix: None,
        }
    }
}

/// The submission a `PersonInput` (and its identity fields) makes.
pub(crate) fn submission(input: PersonInput, org: Option<uuid::Uuid>) -> Submission {
    let mut sub = Submission::of(NewPerson {
        first_name: input.first_name,
        middle_name: input.middle_name,
        last_name: input.last_name,
        date_of_birth: input.date_of_birth.0,
        gender: input.gender.into(),
        contact: input.contact.map(Into::into),
    });
    sub.mother_maiden_name = input.mothers_maiden_name;
    sub.multiple_birth = input.multiple_birth;
    sub.birth_order = input.birth_order;
    sub.aliases = input
        .aliases
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    sub.identifiers = input
        .identifiers
        .unwrap_or_default()
        .into_iter()
        .map(|i| IdentifierInput {
            kind: match i.kind {
                IdentifierKindGql::Mrn => IdentifierKind::Mrn,
                IdentifierKindGql::Medicaid => IdentifierKind::Medicaid,
                IdentifierKindGql::Other => IdentifierKind::Other,
            },
            authority: i
                .authority
                .or_else(|| org.map(|o| o.to_string()))
                .unwrap_or_default(),
            value: i.value,
        })
        .collect();
    sub
}

/// A scored candidate.
#[derive(SimpleObject)]
pub struct PersonMatch {
    pub person: PersonNode,
    pub decision: MatchDecision,
    /// Evidence in bits (log2 of the likelihood ratio); thresholds in README "Patient matching".
    pub score: f64,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "MatchReviewState")]
pub enum ReviewStateGql {
    Open,
    Merged,
    Dismissed,
}
mirror_enum!(
    ReviewStateGql,
    ReviewState {
        Open,
        Merged,
        Dismissed
    }
);

/// A pair the engine could not decide: `person` (created from a submission) may be
/// `candidate`. Registry staff only.
pub struct MatchReviewNode(match_review::Model);

#[Object(name = "MatchReview")]
impl MatchReviewNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<PersonNode>> {
        query_person(ctx, &ids::to_id(self.0.person_id)).await
    }
    async fn candidate(&self, ctx: &Context<'_>) -> Result<Option<PersonNode>> {
        query_person(ctx, &ids::to_id(self.0.candidate_id)).await
    }
    async fn score(&self) -> f64 {
        self.0.score
    }
    async fn state(&self) -> ReviewStateGql {
        self.0.state.into()
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// A merge of `duplicate` into `survivor`.
pub struct PersonMergeNode(person_merge::Model);

#[Object(name = "PersonMerge")]
impl PersonMergeNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }
    async fn survivor_id(&self) -> ID {
        ids::to_id(self.0.survivor_id)
    }
    async fn duplicate_id(&self) -> ID {
        ids::to_id(self.0.duplicate_id)
    }
    async fn merged_at(&self) -> DateTime {
        DateTime(self.0.merged_at)
    }
    async fn merged_by(&self) -> &str {
        &self.0.merged_by
    }
    async fn unmerged_at(&self) -> Option<DateTime> {
        self.0.unmerged_at.map(DateTime)
    }
}

#[derive(Default)]
pub struct MatchingQuery;

#[Object]
impl MatchingQuery {
    /// The persons a submission may be, best first, within the caller's row scope (a person
    /// the caller may not see — locked to another provider, opted out — is never among them).
    /// `NoMatch` candidates are left out. Logged as a search.
    #[graphql(requires_scopes = "person:write")]
    async fn match_persons(
        &self,
        ctx: &Context<'_>,
        input: PersonInput,
        #[graphql(default = 10)] first: i32,
    ) -> Result<Vec<PersonMatch>> {
        guard::write(ctx, WriteAction::MatchPersons)?;
        let (rc, store) = request(ctx)?;
        let first = usize::try_from(first.clamp(1, 50)).unwrap_or(10);
        let sub = submission(input, rc.access.principal.org);
        let found = store
            .match_candidates(&rc.access, &sub, first)
            .await
            .map_err(store_err(rc))?;
        rc.record_search();
        Ok(found
            .into_iter()
            .map(|c| PersonMatch {
                person: PersonNode::new(c.person),
                decision: c.decision.into(),
                score: c.score,
            })
            .collect())
    }

    /// The review queue (registry staff), oldest first.
    #[graphql(requires_scopes = "admin")]
    async fn match_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ReviewStateGql::Open")] state: ReviewStateGql,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<MatchReviewNode>> {
        guard::write(ctx, WriteAction::MergePersons)?;
        let (rc, store) = request(ctx)?;
        let first = u64::try_from(first.clamp(1, 200)).unwrap_or(50);
        let rows = store
            .match_reviews(&rc.access, state.into(), first)
            .await
            .map_err(store_err(rc))?;
        Ok(rows.into_iter().map(MatchReviewNode).collect())
    }

    /// The merges a person took part in, newest first (registry staff).
    #[graphql(requires_scopes = "admin")]
    async fn person_merges(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
    ) -> Result<Vec<PersonMergeNode>> {
        guard::write(ctx, WriteAction::MergePersons)?;
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&person_id, "personId")?;
        let rows = store
            .merges_of(&rc.access, id)
            .await
            .map_err(store_err(rc))?;
        Ok(rows.into_iter().map(PersonMergeNode).collect())
    }
}

#[derive(Default)]
pub struct MatchingMutation;

#[Object]
impl MatchingMutation {
    /// Merges `duplicateId` into `survivorId` (registry staff): reversible, logged (`MERGE`).
    #[graphql(requires_scopes = "admin")]
    async fn merge_persons(
        &self,
        ctx: &Context<'_>,
        survivor_id: ID,
        duplicate_id: ID,
    ) -> Result<PersonMergeNode> {
        guard::write(ctx, WriteAction::MergePersons)?;
        let (rc, store) = request(ctx)?;
        let s = ids::parse(&survivor_id, "survivorId")?;
        let d = ids::parse(&duplicate_id, "duplicateId")?;
        let row = store
            .merge_persons(&rc.access, s, d)
            .await
            .map_err(store_err(rc))?;
        Ok(PersonMergeNode(row))
    }

    /// Undoes a merge (registry staff): both persons exactly as before it.
    #[graphql(requires_scopes = "admin")]
    async fn unmerge_person(&self, ctx: &Context<'_>, merge_id: ID) -> Result<PersonMergeNode> {
        guard::write(ctx, WriteAction::MergePersons)?;
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&merge_id, "mergeId")?;
        let row = store
            .unmerge_person(&rc.access, id)
            .await
            .map_err(store_err(rc))?;
        Ok(PersonMergeNode(row))
    }

    /// Closes a review item as two different people (registry staff).
    #[graphql(requires_scopes = "admin")]
    async fn dismiss_match_review(&self, ctx: &Context<'_>, id: ID) -> Result<MatchReviewNode> {
        guard::write(ctx, WriteAction::MergePersons)?;
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&id, "id")?;
        let row = store
            .dismiss_review(&rc.access, id)
            .await
            .map_err(store_err(rc))?;
        Ok(MatchReviewNode(row))
    }
}
