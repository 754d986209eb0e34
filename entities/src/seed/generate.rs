//! The synthetic rows themselves: organizations of every kind, and families of a child with a
//! realistic childhood dose history, a guardian, a school or child-care enrollment and a plan
//! membership.
//!
//! Every value comes from one ChaCha stream per seed, drawn in a fixed order, so the order of
//! the draws below is part of the data: reordering them changes every seed's rows.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::codes::{Gender, OrganizationKind, Participation};
use crate::model::{
    dose, enrollment, guardian_link, membership, organization, person, person_blocking_key,
};

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

/// The organizations families are attached to.
#[derive(Debug, Clone)]
struct Orgs {
    providers: Vec<Uuid>,
    schools: Vec<Uuid>,
    child_care: Vec<Uuid>,
    plans: Vec<Uuid>,
}

/// The random stream and the id sequence of one seed.
///
/// Ids are UUIDv7 in form: 48 ordering bits (a per-seed random start plus a counter, where v7
/// has its timestamp) and 74 bits from the seed's random stream. One seed always makes the
/// same ids, each seed's rows arrive in primary-key order (index appends rather than random
/// B-tree inserts, which is what keeps large loads fast), and no id can be guessed from
/// another: a person id is not a lookup key anyone can count through.
#[derive(Debug, Clone)]
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
        // 47 bits of start leave the 48-bit field room for 2^47 ids before it could wrap.
        let order = (self.prefix >> 17).wrapping_add(self.next) & ((1 << 48) - 1);
        let random: [u8; 10] = self.rng.gen();
        uuid::Builder::from_unix_timestamp_millis(order, &random).into_uuid()
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// The rows of a run of families, table by table.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub persons: Vec<person::Model>,
    pub links: Vec<guardian_link::Model>,
    pub doses: Vec<dose::Model>,
    pub enrollments: Vec<enrollment::Model>,
    pub memberships: Vec<membership::Model>,
    /// The persons' blocking keys (`crate::matching`), so seeded persons are found by a
    /// candidate search like any other.
    pub keys: Vec<person_blocking_key::Model>,
}

/// One seed's rows, generated on demand: the organizations first, then families in batches.
///
/// Cloning it forks the stream, which is how a caller learns the first person's id without
/// consuming it.
#[derive(Debug, Clone)]
pub(crate) struct Families {
    g: Gen,
    orgs: Orgs,
    today: NaiveDate,
    /// One clock reading for every row of a run: rows loaded together share their timestamps.
    now: DateTime<Utc>,
    left: u64,
}

impl Families {
    /// The organizations of `seed` (the same for any number of families) and a generator of
    /// `families` families after them.
    pub(crate) fn new(
        seed: u64,
        families: u64,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> (Vec<organization::Model>, Families) {
        let mut g = Gen::new(seed);
        let (organizations, orgs) = organizations(&mut g, now);
        let families = Families {
            g,
            orgs,
            today,
            now,
            left: families,
        };
        (organizations, families)
    }

    /// The next `max` families (fewer at the end), or `None` when all were generated.
    pub(crate) fn next_batch(&mut self, max: u64) -> Option<Batch> {
        let n = max.min(self.left);
        if n == 0 {
            return None;
        }
        self.left -= n;
        let mut batch = Batch::default();
        for _ in 0..n {
            self.family(&mut batch);
        }
        batch.keys = batch
            .persons
            .iter()
            .flat_map(crate::matching::key_rows_of)
            .collect();
        Some(batch)
    }

    fn person(&mut self, dob: NaiveDate, last_name: &str) -> person::Model {
        let (g, orgs) = (&mut self.g, &self.orgs);
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
        person::Model {
            id: g.id(),
            first_name: first.to_owned(),
            middle_name: None,
            last_name: last_name.to_owned(),
            first_name_key: first.to_uppercase(),
            last_name_key: last_name.to_uppercase(),
            date_of_birth: dob,
            gender: if g.rng.gen_bool(0.5) {
                Gender::Female
            } else {
                Gender::Male
            },
            address_line1: contact(format!("{} Main St", g.rng.gen_range(1..9999))),
            address_line2: None,
            city: contact(pick(&mut g.rng, CITIES).to_owned()),
            state: contact("MN".to_owned()),
            postal_code: contact(format!("55{:03}", g.rng.gen_range(0..1000))),
            phone: contact(format!("612-555-{:04}", g.rng.gen_range(0..10000))),
            email: None,
            participation,
            locked_to_org_id: locked,
            reminders: g.rng.gen_bool(0.95),
            created_at: self.now,
            updated_at: self.now,
            status: crate::codes::PersonStatus::Active,
            status_date: None,
            mother_maiden_name: None,
            multiple_birth: None,
            birth_order: None,
            merged_into: None,
        }
    }

    /// A child, a guardian, the child's doses (none when opted out), and the child's enrollment
    /// (by age) and plan membership (for most).
    fn family(&mut self, batch: &mut Batch) {
        let today = self.today;
        let age_days = self.g.rng.gen_range(0..18 * 365);
        let dob = today - Duration::days(age_days);
        let last = pick(&mut self.g.rng, LAST_NAMES);
        let kid = self.person(dob, last);
        let kid_id = kid.id;
        let opted_out = kid.participation == Participation::OptedOut;
        let parent_dob = dob - Duration::days(self.g.rng.gen_range(20 * 365..40 * 365));
        let parent = self.person(parent_dob, last);
        let (g, orgs, now) = (&mut self.g, &self.orgs, self.now);
        batch.links.push(guardian_link::Model {
            id: g.id(),
            person_id: kid_id,
            guardian_id: parent.id,
            relationship: if g.rng.gen_bool(0.5) {
                "mother"
            } else {
                "father"
            }
            .to_owned(),
            created_at: now,
            // The demo's guardians stand for the mothers and fathers named on birth records
            // received from vital records: verified links.
            verified_at: Some(now),
            verified_by: Some("birth-record".to_owned()),
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
                batch.doses.push(dose::Model {
                    id: g.id(),
                    person_id: kid_id,
                    cvx: cvx.to_owned(),
                    date_given: given,
                    mvx: Some(pick(&mut g.rng, MVX).to_owned()),
                    lot_number: Some(format!("L{:06}", g.rng.gen_range(0..1_000_000))),
                    site: Some(if due < 366 { "LT" } else { "LA" }.to_owned()),
                    route: Some("IM".to_owned()),
                    administered_by_org_id: Some(provider),
                    reported_by_org_id: Some(provider),
                    recorded_by: "seed".to_owned(),
                    recorded_at: now,
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
            batch.enrollments.push(enrollment::Model {
                id: g.id(),
                person_id: kid_id,
                organization_id: org,
                school_year,
                grade,
                created_at: now,
            });
        }
        if g.rng.gen_bool(0.6) {
            batch.memberships.push(membership::Model {
                id: g.id(),
                person_id: kid_id,
                organization_id: orgs.plans[g.rng.gen_range(0..orgs.plans.len())],
                created_at: now,
            });
        }
        batch.persons.push(kid);
        batch.persons.push(parent);
    }
}

/// The organizations every seed makes (ids depend on the seed).
fn organizations(g: &mut Gen, now: DateTime<Utc>) -> (Vec<organization::Model>, Orgs) {
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
        rows.push(organization::Model {
            id,
            name: name.to_owned(),
            kind,
            created_at: now,
        });
    }
    (rows, orgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hole 5 of issue 14: sequential ids let anyone enumerate persons. Knowing one id must
    /// tell nothing about the next.
    #[test]
    fn seeded_ids_cannot_be_guessed_from_a_neighbour() {
        let now = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let (_, mut families) = Families::new(1, 50, today, now);
        let batch = families.next_batch(50).expect("families");
        let mut ids: Vec<u128> = batch.persons.iter().map(|p| p.id.as_u128()).collect();
        ids.sort_unstable();
        assert!(batch.persons.iter().all(|p| p.id.get_version_num() == 7));
        for pair in ids.windows(2) {
            let low = |v: u128| v & ((1u128 << 62) - 1);
            let gap = low(pair[1]).abs_diff(low(pair[0]));
            assert!(
                gap > 1 << 20,
                "neighbouring ids {:032x} and {:032x} differ by {gap} in their low bits",
                pair[0],
                pair[1]
            );
        }
        let (_, mut again) = Families::new(1, 50, today, now);
        let same = again.next_batch(50).expect("families");
        assert_eq!(
            batch.persons.iter().map(|p| p.id).collect::<Vec<_>>(),
            same.persons.iter().map(|p| p.id).collect::<Vec<_>>(),
            "one seed, one set of ids"
        );
    }
}
