//! One policy decision (row scope evaluated on a record, then the field matrix): the cost
//! every guarded field pays. Target: well under 1 µs.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use policies::{decide, read_field, Field, Principal, RecordFacts, Role, RowScope};
use uuid::Uuid;

fn bench(c: &mut Criterion) {
    let today: NaiveDate = "2026-11-25".parse().expect("date");
    let record = RecordFacts {
        person: Uuid::from_u128(1),
        date_of_birth: "2016-04-04".parse().expect("date"),
        opted_out: false,
        locked_to: None,
        enrollments: vec![(Uuid::from_u128(10), "2026-2027".into())],
        memberships: vec![Uuid::from_u128(20)],
        guardians: vec![Uuid::from_u128(30)],
    };
    let provider = Principal::from_claims(
        "p",
        Role::Provider,
        Some(Uuid::from_u128(5)),
        None,
        None,
        None,
    )
    .expect("claims");
    let school = Principal::from_claims(
        "s",
        Role::School,
        Some(Uuid::from_u128(10)),
        None,
        None,
        None,
    )
    .expect("claims");
    c.bench_function("decide: provider reads contact", |b| {
        b.iter(|| {
            decide(
                black_box(&provider),
                black_box(&record),
                today,
                Field::PersonContact,
            )
        })
    });
    c.bench_function("decide: school reads doses (enrollment check)", |b| {
        b.iter(|| {
            decide(
                black_box(&school),
                black_box(&record),
                today,
                Field::DoseVaccine,
            )
        })
    });
    c.bench_function("read_field: the per-field guard", |b| {
        b.iter(|| read_field(black_box(&school), black_box(Field::PersonContact)))
    });
    c.bench_function("row scope for a principal", |b| {
        b.iter(|| RowScope::for_principal(black_box(&provider), today))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
