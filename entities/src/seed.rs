//! Synthetic demo data: organizations of every kind, persons with realistic childhood dose
//! histories, guardians, school enrollments and plan memberships.
//!
//! Deterministic for a given seed (the same seed yields the same ids and rows, and seeding
//! twice with one seed changes nothing), and batched so that benchmarks can load 100,000
//! persons quickly.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::codes::{Gender, OrganizationKind, Participation};
use crate::model::{dose, enrollment, guardian_link, membership, organization, person};
use crate::seed_copy::{copy, encode, CopyBatch};
use crate::{Backend, Store, StoreError};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub persons: u64,
    pub seed: u64,
    /// The registry's "today": ages and dose dates are relative to it.
    pub today: NaiveDate,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub organizations: u64,
    pub persons: u64,
    pub doses: u64,
}

/// The routine childhood schedule as (CVX, age in days): when a child on time gets each dose.
const CHILD_SCHEDULE: &[(&str, i64)] = &[
    ("08", 0),
    ("08", 60),
    ("20", 61),
    ("10", 61),
    ("49", 61),
    ("133", 61),
    ("116", 61),
    ("20", 122),
    ("10", 122),
    ("49", 122),
    ("133", 122),
    ("116", 122),
    ("08", 183),
    ("20", 183),
    ("10", 183),
    ("133", 183),
    ("116", 183),
    ("03", 366),
    ("21", 366),
    ("49", 380),
    ("133", 380),
    ("83", 380),
    ("20", 470),
    ("83", 560),
    ("20", 1470),
    ("10", 1470),
    ("03", 1470),
    ("21", 1470),
    ("115", 4030),
    ("114", 4030),
    ("165", 4030),
    ("165", 4220),
    ("114", 5850),
];

const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Lucas",
    "Isabella", "Mateo", "Mia", "Ahmed", "Hodan", "Mai", "Pa", "Nhia", "Ingrid", "Lars", "Maria",
    "Jose", "Fatima", "Abdi", "Grace", "Henry", "Chloe", "Wyatt", "Zoe", "Owen",
];
const LAST_NAMES: &[&str] = &[
    "Johnson",
    "Anderson",
    "Nelson",
    "Olson",
    "Peterson",
    "Larson",
    "Smith",
    "Hansen",
    "Lee",
    "Nguyen",
    "Vang",
    "Xiong",
    "Her",
    "Mohamed",
    "Ali",
    "Hassan",
    "Garcia",
    "Martinez",
    "Lopez",
    "Thompson",
    "Miller",
    "Schmidt",
    "Kowalski",
    "Erickson",
    "Lindqvist",
    "Moua",
    "Yang",
    "Brown",
];
const CITIES: &[&str] = &[
    "Minneapolis",
    "Saint Paul",
    "Rochester",
    "Duluth",
    "Bloomington",
    "Saint Cloud",
    "Mankato",
];
const MVX: &[&str] = &["MSD", "SKB", "PMC", "PFR", "SEQ"];

struct Orgs {
    providers: Vec<Uuid>,
    schools: Vec<Uuid>,
    child_care: Vec<Uuid>,
    plans: Vec<Uuid>,
}

/// The random stream and the id sequence of one seed.
///
/// Ids are a per-seed random prefix followed by a counter, so one seed always makes the same
/// ids, two seeds never collide, and each seed's rows arrive in primary-key order (index
/// appends rather than random B-tree inserts, which is what keeps large loads fast).
struct Gen {
    rng: ChaCha8Rng,
    prefix: u64,
    next: u64,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let prefix = rng.gen();
        Gen {
            rng,
            prefix,
            next: 0,
        }
    }

    fn id(&mut self) -> Uuid {
        self.next += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.prefix.to_be_bytes());
        bytes[8..].copy_from_slice(&self.next.to_be_bytes());
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// The organizations every seed makes (ids depend on the seed).
fn organizations(g: &mut Gen) -> (Vec<organization::ActiveModel>, Orgs) {
    use OrganizationKind::*;
    let spec: &[(OrganizationKind, &str)] = &[
        (Clinic, "North Star Family Clinic"),
        (Clinic, "Lakeside Pediatrics"),
        (Clinic, "Prairie Health Clinic"),
        (Hospital, "Riverside Hospital"),
        (Pharmacy, "Main Street Pharmacy"),
        (PublicHealthAgency, "Hennepin Public Health"),
        (School, "Washington Elementary"),
        (School, "Lincoln Middle School"),
        (School, "Roosevelt High School"),
        (ChildCare, "Little Acorns Child Care"),
        (HealthPlan, "Gopher State Health Plan"),
        (HealthPlan, "Lakes Community Health"),
        (Registry, "Minnesota Immunization Registry"),
    ];
    let mut rows = Vec::new();
    let mut orgs = Orgs {
        providers: vec![],
        schools: vec![],
        child_care: vec![],
        plans: vec![],
    };
    for &(kind, name) in spec {
        let id = g.id();
        match kind {
            Clinic | Hospital | Pharmacy | PublicHealthAgency => orgs.providers.push(id),
            School => orgs.schools.push(id),
            ChildCare => orgs.child_care.push(id),
            HealthPlan => orgs.plans.push(id),
            Registry => {}
        }
        rows.push(organization::ActiveModel {
            id: Set(id),
            name: Set(name.to_owned()),
            kind: Set(kind),
            created_at: Set(Utc::now()),
        });
    }
    (rows, orgs)
}

#[derive(Default)]
struct Batch {
    persons: Vec<person::ActiveModel>,
    links: Vec<guardian_link::ActiveModel>,
    doses: Vec<dose::ActiveModel>,
    enrollments: Vec<enrollment::ActiveModel>,
    memberships: Vec<membership::ActiveModel>,
}

fn new_person(g: &mut Gen, dob: NaiveDate, last_name: &str, orgs: &Orgs) -> person::ActiveModel {
    let first = pick(&mut g.rng, FIRST_NAMES);
    let roll: f64 = g.rng.gen();
    let (participation, locked) = if roll < 0.01 {
        (Participation::OptedOut, None)
    } else if roll < 0.03 {
        (Participation::Participating, Some(orgs.providers[0]))
    } else {
        (Participation::Participating, None)
    };
    let opted_out = participation == Participation::OptedOut;
    let contact = |v: String| if opted_out { None } else { Some(v) };
    person::ActiveModel {
        id: Set(g.id()),
        first_name: Set(first.to_owned()),
        middle_name: Set(None),
        last_name: Set(last_name.to_owned()),
        first_name_key: Set(first.to_uppercase()),
        last_name_key: Set(last_name.to_uppercase()),
        date_of_birth: Set(dob),
        gender: Set(if g.rng.gen_bool(0.5) {
            Gender::Female
        } else {
            Gender::Male
        }),
        address_line1: Set(contact(format!("{} Main St", g.rng.gen_range(1..9999)))),
        address_line2: Set(None),
        city: Set(contact(pick(&mut g.rng, CITIES).to_owned())),
        state: Set(contact("MN".to_owned())),
        postal_code: Set(contact(format!("55{:03}", g.rng.gen_range(0..1000)))),
        phone: Set(contact(format!("612-555-{:04}", g.rng.gen_range(0..10000)))),
        email: Set(None),
        participation: Set(participation),
        locked_to_org_id: Set(locked),
        reminders: Set(g.rng.gen_bool(0.95)),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    }
}

fn child(g: &mut Gen, today: NaiveDate, orgs: &Orgs, batch: &mut Batch) {
    let age_days = g.rng.gen_range(0..18 * 365);
    let dob = today - Duration::days(age_days);
    let last = pick(&mut g.rng, LAST_NAMES);
    let kid = new_person(g, dob, last, orgs);
    let kid_id = *kid.id.as_ref();
    let opted_out = *kid.participation.as_ref() == Participation::OptedOut;
    let parent_dob = dob - Duration::days(g.rng.gen_range(20 * 365..40 * 365));
    let parent = new_person(g, parent_dob, last, orgs);
    batch.links.push(guardian_link::ActiveModel {
        id: Set(g.id()),
        person_id: Set(kid_id),
        guardian_id: Set(*parent.id.as_ref()),
        relationship: Set(if g.rng.gen_bool(0.5) {
            "mother"
        } else {
            "father"
        }
        .to_owned()),
        created_at: Set(Utc::now()),
    });
    if !opted_out {
        let punctual = g.rng.gen_bool(0.7);
        let provider = orgs.providers[g.rng.gen_range(0..orgs.providers.len())];
        for &(cvx, due) in CHILD_SCHEDULE {
            if g.rng.gen_bool(0.05) {
                continue;
            }
            let late = if punctual {
                g.rng.gen_range(0..10)
            } else {
                g.rng.gen_range(0..120)
            };
            let given = dob + Duration::days(due + late);
            if given > today {
                break;
            }
            batch.doses.push(dose::ActiveModel {
                id: Set(g.id()),
                person_id: Set(kid_id),
                cvx: Set(cvx.to_owned()),
                date_given: Set(given),
                mvx: Set(Some(pick(&mut g.rng, MVX).to_owned())),
                lot_number: Set(Some(format!("L{:06}", g.rng.gen_range(0..1_000_000)))),
                site: Set(Some(if due < 366 { "LT" } else { "LA" }.to_owned())),
                route: Set(Some("IM".to_owned())),
                administered_by_org_id: Set(Some(provider)),
                reported_by_org_id: Set(Some(provider)),
                recorded_by: Set("seed".to_owned()),
                recorded_at: Set(Utc::now()),
            });
        }
    }
    let age_years = policies::age_in_years(dob, today);
    let school_year = policies::school_year_of(today);
    let enrolled = match age_years {
        1..=4 => Some((orgs.child_care[0], "CC".to_owned())),
        5 => Some((orgs.schools[0], "K".to_owned())),
        6..=10 => Some((orgs.schools[0], (age_years - 5).to_string())),
        11..=13 => Some((orgs.schools[1], (age_years - 5).to_string())),
        14..=17 => Some((orgs.schools[2], (age_years - 5).to_string())),
        _ => None,
    };
    if let Some((org, grade)) = enrolled {
        batch.enrollments.push(enrollment::ActiveModel {
            id: Set(g.id()),
            person_id: Set(kid_id),
            organization_id: Set(org),
            school_year: Set(school_year),
            grade: Set(grade),
            created_at: Set(Utc::now()),
        });
    }
    if g.rng.gen_bool(0.6) {
        batch.memberships.push(membership::ActiveModel {
            id: Set(g.id()),
            person_id: Set(kid_id),
            organization_id: Set(orgs.plans[g.rng.gen_range(0..orgs.plans.len())]),
            created_at: Set(Utc::now()),
        });
    }
    batch.persons.push(kid);
    batch.persons.push(parent);
}

/// Inserts in multi-row statements, skipping rows that exist; returns how many were added.
async fn insert_chunks<A, C>(db: &C, rows: Vec<A>, per_statement: usize) -> Result<u64, StoreError>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    let mut added = 0;
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        let result = <A::Entity as EntityTrait>::insert_many(chunk)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(n) = result {
            added += n;
        }
    }
    Ok(added)
}

async fn join(task: tokio::task::JoinHandle<Result<(), StoreError>>) -> Result<(), StoreError> {
    task.await
        .map_err(|e| StoreError::Unavailable(format!("bulk load task: {e}")))?
}

impl Store {
    /// Whether the first person this seed makes is already stored.
    async fn already_seeded(&self, options: &SeedOptions) -> Result<bool, StoreError> {
        let mut g = Gen::new(options.seed);
        let (_, orgs) = organizations(&mut g);
        let mut probe = Batch::default();
        child(&mut g, options.today, &orgs, &mut probe);
        let Some(first) = probe.persons.first() else {
            return Ok(false);
        };
        Ok(person::Entity::find_by_id(*first.id.as_ref())
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Loads demo data; `progress` is called with the number of persons written so far.
    /// Children come with a guardian, so `persons` counts both.
    pub async fn seed(
        &self,
        options: SeedOptions,
        progress: impl Fn(u64),
    ) -> Result<SeedSummary, StoreError> {
        const FAMILIES_PER_BATCH: u64 = 2_500;
        let mut g = Gen::new(options.seed);
        let (org_rows, orgs) = organizations(&mut g);
        let mut summary = SeedSummary {
            organizations: insert_chunks(&self.db, org_rows, 100).await?,
            ..SeedSummary::default()
        };
        let families = options.persons.div_ceil(2);
        if self.backend() == Backend::Postgres && self.already_seeded(&options).await? {
            // COPY cannot skip existing rows; a seed that was loaded is loaded whole.
            return Ok(summary);
        }
        let mut in_flight: Option<tokio::task::JoinHandle<Result<(), StoreError>>> = None;
        let mut done = 0;
        while done < families {
            let n = FAMILIES_PER_BATCH.min(families - done);
            let mut batch = Batch::default();
            for _ in 0..n {
                child(&mut g, options.today, &orgs, &mut batch);
            }
            let (persons, doses) = (batch.persons.len() as u64, batch.doses.len() as u64);
            // Parents are older than `today - 18y`; keep one clock for every row.
            debug_assert!(batch
                .persons
                .iter()
                .all(|p| p.date_of_birth.as_ref().year() > 1900));
            match self.backend() {
                Backend::Postgres => {
                    // Pipeline: this batch loads while the next one is generated.
                    if let Some(previous) = in_flight.take() {
                        join(previous).await?;
                    }
                    let pool = self.db.get_postgres_connection_pool().clone();
                    let batch = CopyBatch {
                        persons: batch.persons,
                        links: batch.links,
                        doses: batch.doses,
                        enrollments: batch.enrollments,
                        memberships: batch.memberships,
                    };
                    summary.persons += persons;
                    summary.doses += doses;
                    in_flight = Some(tokio::spawn(async move {
                        let payloads = tokio::task::spawn_blocking(move || encode(&batch))
                            .await
                            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                        copy(&pool, payloads).await
                    }));
                }
                Backend::Sqlite => {
                    let txn = self.begin_write().await?;
                    summary.persons += insert_chunks(&*txn, batch.persons, 1_000).await?;
                    insert_chunks(&*txn, batch.links, 2_000).await?;
                    summary.doses += insert_chunks(&*txn, batch.doses, 2_000).await?;
                    insert_chunks(&*txn, batch.enrollments, 2_000).await?;
                    insert_chunks(&*txn, batch.memberships, 2_000).await?;
                    txn.commit().await?;
                }
            }
            done += n;
            progress((done * 2).min(options.persons.max(persons)));
        }
        if let Some(last) = in_flight.take() {
            join(last).await?;
        }
        Ok(summary)
    }
}
