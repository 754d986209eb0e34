//! The map from every field of `Person` and `Dose` to what guards it, and the walk of the
//! served SDL that proves the map complete (in the spirit of Oxide omicron's
//! unauthorized-coverage test).
//!
//! A field of `Person` or `Dose` either reads a group of the policy's field matrix
//! ([`Guard::Field`]: its resolver asks `guard::read` for that `policies::Field`) or is on the
//! short reviewed list of fields the row scope alone admits ([`Guard::RowScope`]; revealing
//! them is still a logged read). Object types reached through a guarded field are listed in
//! [`INNER_TYPES`]: they are readable only through that guard. [`uncovered`] walks the SDL and
//! reports any field or type outside the map, so a new field is refused by the test until
//! someone says how it is guarded; the end-to-end matrix test is driven from [`FIELDS`].

use async_graphql::parser::types::{
    BaseType, ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use policies::Field;

/// How one field of `Person` or `Dose` is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// A cell of the field matrix.
    Field(Field),
    /// Admitted by the row scope alone; the reason it needs no cell.
    RowScope(&'static str),
}

/// Every field of `Person` and `Dose`: `(type, field, guard)`.
pub const FIELDS: &[(&str, &str, Guard)] = &[
    (
        "Person",
        "id",
        Guard::RowScope("the record's handle; revealing it is logged as a read"),
    ),
    ("Person", "firstName", Guard::Field(Field::PersonIdentity)),
    ("Person", "middleName", Guard::Field(Field::PersonIdentity)),
    ("Person", "lastName", Guard::Field(Field::PersonIdentity)),
    ("Person", "dateOfBirth", Guard::Field(Field::PersonIdentity)),
    ("Person", "gender", Guard::Field(Field::PersonGender)),
    ("Person", "contact", Guard::Field(Field::PersonContact)),
    ("Person", "guardians", Guard::Field(Field::PersonGuardians)),
    ("Person", "doses", Guard::Field(Field::DoseVaccine)),
    (
        "Person",
        "recommendations",
        Guard::Field(Field::Recommendations),
    ),
    (
        "Person",
        "contraindications",
        Guard::Field(Field::Contraindications),
    ),
    ("Person", "consent", Guard::Field(Field::Consent)),
    ("Person", "enrollments", Guard::Field(Field::Enrollments)),
    (
        "Person",
        "schoolCompliance",
        Guard::Field(Field::SchoolCompliance),
    ),
    ("Person", "memberships", Guard::Field(Field::Memberships)),
    (
        "Dose",
        "id",
        Guard::RowScope("the dose's handle; revealing it is logged as a read of its person"),
    ),
    ("Dose", "vaccine", Guard::Field(Field::DoseVaccine)),
    ("Dose", "dateGiven", Guard::Field(Field::DoseVaccine)),
    ("Dose", "manufacturer", Guard::Field(Field::DoseDetails)),
    ("Dose", "lotNumber", Guard::Field(Field::DoseDetails)),
    ("Dose", "site", Guard::Field(Field::DoseDetails)),
    ("Dose", "route", Guard::Field(Field::DoseDetails)),
    ("Dose", "administeredBy", Guard::Field(Field::DoseDetails)),
    ("Dose", "reportedBy", Guard::Field(Field::DoseDetails)),
    ("Dose", "evaluation", Guard::Field(Field::DoseEvaluation)),
];

/// Object types reachable from `Person` or `Dose`, each only through a guarded field (the
/// walk checks that): what they hold is read under that field's cell. `Person` and `Dose`
/// reached again from one of them (a guardian, an enrollment's person) are guarded by their
/// own fields, and admitted by the row scope like a fetch by id.
pub const INNER_TYPES: &[&str] = &[
    "Contact",
    "Guardian",
    "Vaccine",
    "Organization",
    "DoseEvaluation",
    "Recommendation",
    "Contraindication",
    "Consent",
    "ConsentEvent",
    "Enrollment",
    "Membership",
    "SchoolCompliance",
    "RequirementStatus",
];

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// What the served `sdl` has that the map does not cover: fields of `Person`/`Dose` not in
/// [`FIELDS`] (or listed but gone), object types reachable from them not in [`INNER_TYPES`],
/// and object types reached through a [`Guard::RowScope`] field. Empty when covered.
pub fn uncovered(sdl: &str) -> Vec<String> {
    let doc: ServiceDocument = match async_graphql::parser::parse_schema(sdl) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("the SDL does not parse: {e}")],
    };
    let mut objects = std::collections::HashMap::new();
    for def in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            if let TypeKind::Object(o) = &t.node.kind {
                let fields: Vec<(String, String)> = o
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            f.node.name.node.to_string(),
                            named(&f.node.ty.node).to_owned(),
                        )
                    })
                    .collect();
                objects.insert(t.node.name.node.to_string(), fields);
            }
        }
    }
    let mut problems = Vec::new();
    let guard_of = |ty: &str, field: &str| {
        FIELDS
            .iter()
            .find(|(t, f, _)| *t == ty && *f == field)
            .map(|(_, _, g)| *g)
    };
    for (ty, field, _) in FIELDS {
        let present = objects
            .get(*ty)
            .is_some_and(|fields| fields.iter().any(|(f, _)| f == field));
        if !present {
            problems.push(format!("{ty}.{field} is mapped but not served"));
        }
    }
    let mut seen: std::collections::BTreeSet<String> =
        ["Person", "Dose"].iter().map(|s| (*s).to_owned()).collect();
    let mut queue: Vec<String> = seen.iter().cloned().collect();
    while let Some(ty) = queue.pop() {
        let Some(fields) = objects.get(&ty) else {
            continue;
        };
        for (field, target) in fields {
            let guarded_root = ty == "Person" || ty == "Dose";
            if guarded_root {
                match guard_of(&ty, field) {
                    None => problems.push(format!(
                        "{ty}.{field} maps to no policies field and is not on the row-scope list"
                    )),
                    Some(Guard::RowScope(_)) if objects.contains_key(target) => problems.push(
                        format!("{ty}.{field} is row-scope only but returns the object {target}"),
                    ),
                    _ => {}
                }
            }
            if objects.contains_key(target) && seen.insert(target.clone()) {
                if target != "Person" && target != "Dose" && !INNER_TYPES.contains(&target.as_str())
                {
                    problems.push(format!(
                        "{target} (reached through {ty}.{field}) is not a reviewed inner type"
                    ));
                }
                queue.push(target.clone());
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The served SDL is covered: every field reachable from `Person` and `Dose` maps to a
    /// cell of the matrix or sits on the reviewed row-scope list.
    #[test]
    fn every_person_and_dose_field_maps_to_a_policy_field() {
        let problems = uncovered(&crate::sdl());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The walk notices a field nobody mapped.
    #[test]
    fn an_unmapped_field_is_reported() {
        let with_field = crate::sdl().replacen(
            "type Person",
            "type Person {\n  secret: String\n}\ntype Unused",
            1,
        );
        let problems = uncovered(&with_field);
        assert!(
            problems.iter().any(|p| p.contains("Person.secret")),
            "{problems:#?}"
        );
    }

    /// Every cell of the matrix that concerns a person's data has a field that reads it.
    #[test]
    fn every_matrix_cell_is_read_by_some_field() {
        for f in Field::ALL {
            assert!(
                FIELDS.iter().any(|(_, _, g)| *g == Guard::Field(f)),
                "{f:?} guards no field"
            );
        }
    }
}
