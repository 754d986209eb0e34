//! Resolving submissions to persons (issue 15) against a real database: PostgreSQL when
//! `DATABASE_URL` is set, SQLite otherwise.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

#[allow(dead_code, reason = "the Redis helpers serve the cache tests")]
mod support;

use chrono::NaiveDate;
use entities::codes::{Gender, IdentifierKind, PersonStatus, SubmissionSource};
use entities::repo::persons::{Contact, NewPerson};
use entities::repo::resolve::{IdentifierInput, Origin, Resolution, Submission};
use entities::seed::SeedOptions;
use entities::{Access, CacheConfig, Store};
use policies::{Principal, Role};
use support::store::{database, instance};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn access(role: Role, org: Option<Uuid>) -> Access {
    let p = Principal::from_claims("resolve-test", role, org, None, None, None).expect("claims");
    Access::new(p, today(), "t".into())
}

fn admin() -> Access {
    access(Role::RegistryAdmin, None)
}

async fn store() -> (support::store::Db, Store) {
    let db = database().await;
    let store = instance(&db, CacheConfig::disabled()).await;
    (db, store)
}

fn child(first: &str, last: &str, dob: &str, street: &str) -> Submission {
    Submission::of(NewPerson {
        first_name: first.into(),
        middle_name: Some("Rose".into()),
        last_name: last.into(),
        date_of_birth: dob.parse().expect("date"),
        gender: Gender::Female,
        contact: Some(Contact {
            address_line1: Some(street.into()),
            city: Some("Saint Paul".into()),
            state: Some("MN".into()),
            postal_code: Some("55104".into()),
            phone: Some("651-555-0100".into()),
            ..Contact::default()
        }),
    })
}

fn mrn(authority: &str, value: &str) -> IdentifierInput {
    IdentifierInput {
        kind: IdentifierKind::Mrn,
        authority: authority.into(),
        value: value.into(),
    }
}

fn origin(org: &str) -> Origin {
    Origin {
        source: SubmissionSource::Hl7,
        organization: Some(Uuid::from_u128(u128::from(org.as_bytes()[0]))),
    }
}

#[tokio::test]
async fn the_same_child_from_two_clinics_with_a_typo_and_a_new_address_is_one_person() {
    let (_db, store) = store().await;
    let mut first = child("Annika", "Lindqvist", "2024-03-14", "12 Elm St");
    first.mother_maiden_name = Some("Berg".into());
    first.identifiers.push(mrn("CLINIC-A", "A-1001"));
    let created = store
        .resolve_person(&admin(), origin("a"), first)
        .await
        .expect("resolve");
    let Resolution::Created { person } = created else {
        panic!("a new person: {created:?}");
    };
    let mut second = child("Anika", "Lindqvist", "2024-03-14", "400 Oak Ave");
    second.mother_maiden_name = Some("Berg".into());
    second.identifiers.push(mrn("CLINIC-B", "B-77"));
    let linked = store
        .resolve_person(&admin(), origin("b"), second)
        .await
        .expect("resolve");
    assert!(
        matches!(linked, Resolution::Matched { person: p, stored: true, .. } if p == person),
        "{linked:?}"
    );
    let identity = store
        .person_identity(&admin(), person)
        .await
        .expect("identity")
        .expect("visible");
    let mut mrns: Vec<_> = identity
        .identifiers
        .iter()
        .map(|i| (i.authority.as_str(), i.value.as_str()))
        .collect();
    mrns.sort();
    assert_eq!(mrns, [("CLINIC-A", "A-1001"), ("CLINIC-B", "B-77")]);
    assert_eq!(identity.addresses.len(), 2, "both addresses in the history");
    assert!(identity
        .names
        .iter()
        .any(|n| n.first_name.as_deref() == Some("Anika")));
    let keys = store.blocking_keys_of(person).await.expect("keys");
    assert!(keys.iter().any(|k| k.contains("B77")), "{keys:?}");
}

#[tokio::test]
async fn twins_stay_two_persons() {
    let (_db, store) = store().await;
    let mut a = child("Ella", "Vang", "2023-07-01", "5 Pine St");
    a.multiple_birth = Some(true);
    a.birth_order = Some(1);
    let mut b = child("Emma", "Vang", "2023-07-01", "5 Pine St");
    b.multiple_birth = Some(true);
    b.birth_order = Some(2);
    let first = store
        .resolve_person(&admin(), origin("a"), a)
        .await
        .expect("first");
    let second = store
        .resolve_person(&admin(), origin("a"), b)
        .await
        .expect("second");
    assert_ne!(first.person(), second.person());
    assert!(
        matches!(second, Resolution::Created { .. }),
        "never linked, never sent to review: {second:?}"
    );
}

#[tokio::test]
async fn a_first_name_difference_goes_to_review_never_linked() {
    let (_db, store) = store().await;
    let a = child("Maria", "Olson", "2022-02-02", "9 Lake Rd");
    let b = child("Sofia", "Olson", "2022-02-02", "9 Lake Rd");
    let first = store
        .resolve_person(&admin(), origin("a"), a)
        .await
        .expect("a");
    let second = store
        .resolve_person(&admin(), origin("b"), b)
        .await
        .expect("b");
    match second {
        Resolution::Review { person, reviews } => {
            assert_ne!(person, first.person());
            assert_eq!(reviews.len(), 1);
            assert_eq!(reviews[0].1, first.person());
        }
        other => panic!("a review: {other:?}"),
    }
}

#[tokio::test]
async fn seeded_persons_are_found_by_a_candidate_search() {
    let (_db, store) = store().await;
    store
        .seed(
            SeedOptions {
                persons: 40,
                seed: 3,
                today: today(),
            },
            |_| {},
        )
        .await
        .expect("seed");
    use sea_orm::EntityTrait;
    let persons = entities::model::person::Entity::find()
        .all(store.connection())
        .await
        .expect("persons");
    let p = persons
        .iter()
        .find(|p| p.phone.is_some())
        .expect("a seeded person with contact data");
    let record = entities::matching::record_of(p, &Default::default());
    let found = store.candidate_search(&record).await.expect("search");
    assert!(found.contains(&p.id), "{found:?}");
    // And a submission of that person links to them.
    let mut sub = child(
        &p.first_name,
        &p.last_name,
        &p.date_of_birth.to_string(),
        "x",
    );
    sub.person.gender = p.gender;
    sub.person.middle_name = None;
    sub.person.contact = Some(Contact {
        address_line1: p.address_line1.clone(),
        city: p.city.clone(),
        state: p.state.clone(),
        postal_code: p.postal_code.clone(),
        phone: p.phone.clone(),
        ..Contact::default()
    });
    let r = store
        .resolve_person(&admin(), origin("a"), sub)
        .await
        .expect("resolve");
    assert_eq!(r.person(), p.id, "{r:?}");
}

#[tokio::test]
async fn a_death_takes_a_person_out_of_the_population() {
    let (_db, store) = store().await;
    let p = store
        .resolve_person(
            &admin(),
            origin("a"),
            child("Ola", "Dahl", "2020-01-01", "1 A St"),
        )
        .await
        .expect("resolve")
        .person();
    let statuses = store.person_statuses(&[p]).await.expect("statuses");
    assert_eq!(statuses[&p], (PersonStatus::Active, true));
    let err = store
        .set_person_status(&admin(), p, PersonStatus::Deceased, None)
        .await;
    assert!(err.is_err(), "a death needs its date");
    let row = store
        .set_person_status(
            &admin(),
            p,
            PersonStatus::Deceased,
            NaiveDate::from_ymd_opt(2026, 10, 1),
        )
        .await
        .expect("deceased");
    assert_eq!(row.status, PersonStatus::Deceased);
    let statuses = store.person_statuses(&[p]).await.expect("statuses");
    assert_eq!(statuses[&p], (PersonStatus::Deceased, false));
}

#[tokio::test]
async fn a_providers_candidates_leave_out_locked_and_opted_out_persons() {
    let (_db, store) = store().await;
    let org = Uuid::now_v7();
    let p = store
        .resolve_person(
            &admin(),
            origin("a"),
            child("Liv", "Moe", "2021-05-05", "2 B St"),
        )
        .await
        .expect("resolve")
        .person();
    store
        .set_consent(
            &admin(),
            p,
            entities::repo::consent::ConsentChange {
                participation: Some(entities::codes::Participation::OptedOut),
                lock: entities::repo::consent::LockChange::Keep,
                reminders: None,
                channel: entities::codes::ConsentChannel::Form,
            },
        )
        .await
        .expect("opt out");
    let sub = child("Liv", "Moe", "2021-05-05", "2 B St");
    let provider = access(Role::Provider, Some(org));
    let seen = store
        .match_candidates(&provider, &sub, 10)
        .await
        .expect("candidates");
    assert!(seen.is_empty(), "{seen:?}");
    let staff = store.match_candidates(&admin(), &sub, 10).await.expect("c");
    assert_eq!(staff.len(), 1);
    // A submission that matches the opted-out person stores nothing and creates no one.
    let r = store
        .resolve_person(&provider, origin("a"), sub)
        .await
        .expect("resolve");
    assert_eq!(
        r,
        Resolution::Matched {
            person: p,
            score: match r {
                Resolution::Matched { score, .. } => score,
                _ => f64::NAN,
            },
            stored: false
        }
    );
}
