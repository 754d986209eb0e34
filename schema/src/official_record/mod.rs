//! `officialRecord(personId)`: the official immunization record's download links, and what
//! the gateway's `GET /records/{personId}.pdf` typesets (the person through the same row
//! scope and field matrix as `person(id:)`, and the school-entry requirement status).

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use policies::{Field, Proofing, Scope};
use uuid::Uuid;

use crate::context::request;
use crate::inline::Inline;
use crate::loaders::EnrollmentsOf;
use crate::person::{person_by_id, PersonNode};
use crate::roster::SchoolComplianceNode;
use crate::{guard, ids, ApiError};

/// Attached by the gateway to a download request: whether the token's identity-assurance
/// claim (`acr`) is one the registry accepts. A GraphQL request has none: it only gets links.
#[derive(Debug, Clone, Copy)]
pub struct RecordDownload {
    pub acr_accepted: bool,
}

pub struct OfficialRecordNode {
    person: PersonNode,
    proofing: Proofing,
}

/// The school-entry requirement status shown on the record.
#[derive(SimpleObject)]
pub struct SchoolEntryNode {
    /// The grade judged: the current enrollment's, else the grade of the person's age.
    pub grade: String,
    pub compliance: SchoolComplianceNode,
}

#[Object(name = "OfficialRecord")]
impl OfficialRecordNode {
    async fn person_id(&self) -> ID {
        ids::to_id(self.person.person_id())
    }

    /// The PDF (`GET`, with the same bearer token).
    async fn pdf_url(&self) -> String {
        format!("/records/{}.pdf", self.person.person_id())
    }

    /// The SMART Health Card as a `.smart-health-card` file.
    async fn card_url(&self) -> String {
        format!("/records/{}.smart-health-card", self.person.person_id())
    }

    /// Whether the download needs a token with an accepted identity-assurance claim (`acr`).
    async fn identity_proofing_required(&self) -> bool {
        self.proofing == Proofing::Required
    }

    async fn person(&self) -> &PersonNode {
        &self.person
    }

    /// The school-entry requirement status for the registry's jurisdiction; null for adults.
    async fn school_entry(&self, ctx: &Context<'_>) -> Result<Option<SchoolEntryNode>> {
        let (rc, p) = self.person.read(ctx, Field::SchoolCompliance)?;
        let on = rc.access.today;
        let year = policies::school_year_of(on);
        let enrollments = rc.load(EnrollmentsOf(p.id)).await?.unwrap_or_default();
        let current = enrollments.iter().find(|e| e.school_year == year);
        let (grade, enrolled_on) = match current {
            Some(e) => (
                e.grade.clone(),
                enrollments
                    .iter()
                    .filter(|x| x.organization_id == e.organization_id)
                    .map(|x| x.created_at.date_naive())
                    .min(),
            ),
            None => {
                match grade_for_age(policies::age_in_years(p.date_of_birth, on).max(0) as u32) {
                    Some(g) => (g.to_owned(), None),
                    None => return Ok(None),
                }
            }
        };
        let requirements = crate::roster::requirements_of(ctx, rc)?;
        let evaluated =
            crate::roster::evaluate_one(rc, requirements, p, &grade, enrolled_on).await?;
        Ok(evaluated.map(|c| SchoolEntryNode {
            grade,
            compliance: SchoolComplianceNode::from(&c),
        }))
    }
}

/// The grade a child of `age` is usually in on the school year's requirements (child care
/// before five, kindergarten at five, grade 12 at seventeen); none for adults.
fn grade_for_age(age: u32) -> Option<&'static str> {
    const BY_AGE: [&str; 13] = [
        "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
    ];
    match age {
        0..=4 => Some("CC"),
        5..=17 => BY_AGE.get((age - 5) as usize).copied(),
        _ => None,
    }
}

#[derive(Default)]
pub struct OfficialRecordQuery;

#[Object]
impl OfficialRecordQuery {
    /// The official immunization record of a person (a guardian's minor ward, an individual
    /// themself, or any person for registry staff): download links. Downloads by guardians
    /// and individuals need an identity-proofed token (`acr`), and each is an `EXPORT` entry
    /// in the access log.
    #[graphql(requires_scopes = "person:read")]
    async fn official_record(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
    ) -> Result<Option<Inline<OfficialRecordNode>>> {
        guard::scope(ctx, Scope::PersonRead, "officialRecord")?;
        let (rc, _) = request(ctx)?;
        let id: Uuid = ids::parse(&person_id, "personId")?;
        let proofing = match policies::authorize_official_record(&rc.access.principal) {
            Ok(p) => p,
            Err(denial) => {
                rc.record_denial(Some(id), "officialRecord", denial.rule);
                return Err(ApiError::Forbidden(
                    "the official record is given to the person, their guardian, or registry staff"
                        .into(),
                )
                .into());
            }
        };
        if let Some(download) = ctx.data_opt::<RecordDownload>() {
            if proofing == Proofing::Required && !download.acr_accepted {
                rc.record_denial(Some(id), "officialRecord", "identity_proofing_required");
                return Err(ApiError::Forbidden(
                    "downloading the official record needs an identity-proofed sign-in (IAL2)"
                        .into(),
                )
                .into());
            }
        }
        let Some(person) = person_by_id(ctx, &person_id).await? else {
            return Ok(None);
        };
        Ok(Some(Inline(OfficialRecordNode { person, proofing })))
    }
}

#[cfg(test)]
mod tests {
    use super::grade_for_age;

    #[test]
    fn grades_follow_age() {
        assert_eq!(grade_for_age(2), Some("CC"));
        assert_eq!(grade_for_age(5), Some("K"));
        assert_eq!(grade_for_age(11), Some("6"));
        assert_eq!(grade_for_age(17), Some("12"));
        assert_eq!(grade_for_age(18), None);
    }
}
