//! Apollo Federation v2: the `_entities` resolvers of `Person`, `Organization` and `Dose`.
//!
//! async-graphql runs no guard placed on an entity resolver, so each resolver here calls the
//! very function its root field calls (`person(id:)`, `organization(id:)`, the dose fetch):
//! the row scope, record locks, opt-outs and the per-field guard apply unchanged, and reads
//! and denials reach the access log the same way. [`Entity`] keeps one refused
//! representation from failing the whole batch.

mod entity;
mod root;

pub use root::EntityRoot;

use async_graphql::{Context, Object, Result, ID};

use crate::dose::{dose_by_id, DoseNode};
use crate::organization::{organization_reference, OrganizationNode};
use crate::person::{person_reference, prefetch_references, PersonNode};
use entity::Entity;

/// The entity resolvers, merged into `Query` (async-graphql serves them as `_entities`).
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// `Person` references resolve exactly like `person(id:)`.
    #[graphql(entity)]
    async fn find_person_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Entity<PersonNode>> {
        prefetch_references(ctx).await;
        let outcome = person_reference(ctx, &id).await;
        Ok(Entity::settle(ctx, "Person", &id, outcome))
    }

    /// `Organization` references resolve exactly like `organization(id:)`.
    #[graphql(entity)]
    async fn find_organization_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Entity<OrganizationNode>> {
        let outcome = organization_reference(ctx, &id).await;
        Ok(Entity::settle(ctx, "Organization", &id, outcome))
    }

    /// `Dose` references resolve under the rule of their person's `person(id:)`.
    #[graphql(entity)]
    async fn find_dose_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Entity<DoseNode>> {
        let outcome = dose_by_id(ctx, &id).await;
        Ok(Entity::settle(ctx, "Dose", &id, outcome))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    use policies::{Scope, WriteAction};

    /// `@requiresScopes` of each field of `type_name`, as "field: scope scope".
    fn declared(type_name: &str) -> Vec<(String, Option<String>)> {
        let doc = async_graphql::parser::parse_schema(crate::sdl()).expect("SDL parses");
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            if t.node.name.node != type_name {
                continue;
            }
            let TypeKind::Object(object) = t.node.kind else {
                continue;
            };
            return object
                .fields
                .iter()
                .map(|f| {
                    let scopes = f
                        .node
                        .directives
                        .iter()
                        .find(|d| d.node.name.node == "requiresScopes")
                        .map(|d| d.node.arguments[0].1.node.to_string());
                    (f.node.name.node.to_string(), scopes)
                })
                .collect();
        }
        panic!("no type {type_name}");
    }

    /// The scope the policy requires of each mutation: a write action's, or the population
    /// policy's for jobs and county tables.
    fn required(mutation: &str) -> Scope {
        let action = match mutation {
            "createOrganization" => WriteAction::CreateOrganization,
            "createPerson" => WriteAction::CreatePerson,
            "updatePerson" | "recordReturnedMail" => WriteAction::UpdatePerson,
            "addGuardian" => WriteAction::AddGuardian,
            "verifyGuardian" => WriteAction::VerifyGuardian,
            "recordDose" => WriteAction::RecordDose,
            "recordContraindication" => WriteAction::RecordContraindication,
            "setConsent" => WriteAction::SetConsent,
            "enroll" => WriteAction::Enroll,
            "addMembership" => WriteAction::AddMembership,
            "mergePersons" | "unmergePerson" | "dismissMatchReview" => WriteAction::MergePersons,
            "startPopulationJob" | "cancelPopulationJob" => return policies::POPULATION_SCOPE,
            "setZipCounties" | "setOrganizationCounties" => return policies::GEOGRAPHY_SCOPE,
            other => panic!("mutation {other} has no required scope in this test"),
        };
        action.required_scope().0
    }

    #[test]
    fn every_mutation_declares_the_scope_the_policy_requires() {
        let mutations = declared("Mutation");
        assert!(mutations.len() >= 9, "{mutations:?}");
        for (name, scopes) in mutations {
            let scope = required(&name);
            assert_eq!(
                scopes,
                Some(format!("[[\"{}\"]]", scope.as_str())),
                "Mutation.{name}"
            );
        }
    }

    #[test]
    fn person_reads_and_the_access_log_declare_their_scopes() {
        let query: std::collections::HashMap<_, _> = declared("Query").into_iter().collect();
        let person_read = Some("[[\"person:read\"]]".to_owned());
        assert_eq!(query["person"], person_read);
        assert_eq!(query["persons"], person_read);
        assert_eq!(query["accessLog"], Some("[[\"audit:read\"]]".to_owned()));
        let sdl = crate::sdl();
        for ty in ["type Person", "type Dose"] {
            let line = sdl.lines().find(|l| l.starts_with(ty)).expect(ty);
            assert!(line.contains("@key(fields: \"id\")"), "{line}");
            assert!(
                line.contains("@requiresScopes(scopes: [[\"person:read\"]])"),
                "{line}"
            );
        }
        let org = sdl
            .lines()
            .find(|l| l.starts_with("type Organization"))
            .expect("Organization");
        assert!(org.contains("@key(fields: \"id\")"), "{org}");
    }
}
