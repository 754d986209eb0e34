//! School roster compliance: `roster` (a whole school in one query) and
//! `Person.schoolCompliance`.
//!
//! The rules are the jurisdiction's requirements file (the `school` crate), attached to the
//! schema by the gateway; the doses they count are the forecasting engine's verdicts, loaded
//! through the request's batch loader like every other forecast, so a roster of any size
//! costs the same handful of statements.

mod evaluate;
mod person_field;
mod query;
mod types;

pub(crate) use evaluate::{evaluate_one, requirements as requirements_of};
pub(crate) use person_field::school_compliance;
pub use query::RosterQuery;
pub(crate) use types::SchoolComplianceNode;

#[cfg(test)]
mod tests {
    #[test]
    fn the_requirements_know_every_grade_an_enrollment_may_carry() {
        assert_eq!(school::GRADES, entities::repo::enrollments::GRADES);
    }
}
