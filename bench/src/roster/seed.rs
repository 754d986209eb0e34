//! Enrolled students with realistic histories, written straight into the database (the
//! benchmark measures reads; seeding 20,000 doses through the API would only measure writes).

use chrono::{Months, NaiveDate, Utc};
use entities::codes::{Gender, Participation};
use entities::model::{dose, enrollment, person};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use uuid::Uuid;

/// Multi-row inserts of 1,000 rows, under both databases' bind-parameter limits.
macro_rules! insert_chunked {
    ($db:expr, $rows:expr, $entity:ident) => {{
        let mut rows = $rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(1000).collect();
            $entity::Entity::insert_many(chunk)
                .exec_without_returning($db)
                .await?;
        }
    }};
}

/// The routine schedule: `(CVX, age in months)`.
const SCHEDULE: [(&str, u32); 27] = [
    ("08", 0),
    ("08", 2),
    ("08", 6),
    ("20", 2),
    ("20", 4),
    ("20", 6),
    ("20", 15),
    ("20", 50),
    ("10", 2),
    ("10", 4),
    ("10", 6),
    ("10", 50),
    ("48", 2),
    ("48", 4),
    ("48", 12),
    ("133", 2),
    ("133", 4),
    ("133", 6),
    ("133", 12),
    ("03", 12),
    ("03", 50),
    ("21", 12),
    ("21", 50),
    ("83", 12),
    ("83", 18),
    ("115", 135),
    ("114", 135),
];

/// The booster given at 16 years 3 months.
const MENACWY_BOOSTER: (&str, u32) = ("114", 195);

/// Grade by age on the first day of school: 5 → K, 6 → 1, …, 17 → 12.
fn grade(age: u32) -> String {
    match age {
        5 => "K".into(),
        a => (a - 5).to_string(),
    }
}

/// Inserts `n` students enrolled at `org` for `school_year`; `tag` keeps names unique.
/// Deterministic: student `i` is `5 + i % 13` years old, and every 7th skips the 4–6 year
/// DTaP, every 11th has no MMR, every 9th no meningococcal vaccine, so the roster has every
/// status.
pub async fn students(
    db: &DatabaseConnection,
    org: Uuid,
    school_year: &str,
    today: NaiveDate,
    n: usize,
    tag: &str,
) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut persons = Vec::with_capacity(n);
    let mut enrollments = Vec::with_capacity(n);
    let mut doses = Vec::new();
    for i in 0..n {
        let age = 5 + (i % 13) as u32;
        let dob = today
            .checked_sub_months(Months::new(age * 12))
            .and_then(|d| d.checked_sub_days(chrono::Days::new((i * 37 % 300) as u64)))
            .ok_or_else(|| anyhow::anyhow!("date out of range"))?;
        let id = Uuid::now_v7();
        let last = format!("{tag}{i:05}");
        persons.push(person::ActiveModel {
            id: Set(id),
            first_name: Set("Student".into()),
            middle_name: Set(None),
            last_name_key: Set(last.to_uppercase()),
            last_name: Set(last),
            first_name_key: Set("STUDENT".into()),
            date_of_birth: Set(dob),
            gender: Set(if i % 2 == 0 {
                Gender::Female
            } else {
                Gender::Male
            }),
            address_line1: Set(None),
            address_line2: Set(None),
            city: Set(None),
            state: Set(None),
            postal_code: Set(None),
            phone: Set(None),
            email: Set(None),
            participation: Set(Participation::Participating),
            locked_to_org_id: Set(None),
            reminders: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            // Identity columns keep their defaults (active, no birth facts); roster benchmarks
            // never match submissions, so these persons get no blocking keys.
            ..Default::default()
        });
        enrollments.push(enrollment::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(id),
            organization_id: Set(org),
            school_year: Set(school_year.to_owned()),
            grade: Set(grade(age)),
            created_at: Set(now),
        });
        let history = SCHEDULE
            .iter()
            .chain(std::iter::once(&MENACWY_BOOSTER))
            .filter(|(cvx, months)| {
                let skipped_dtap = i % 7 == 0 && *cvx == "20" && *months == 50;
                let no_mmr = i % 11 == 0 && *cvx == "03";
                let no_menacwy = i % 9 == 0 && *cvx == "114";
                !(skipped_dtap || no_mmr || no_menacwy)
            });
        for (cvx, months) in history {
            let Some(given) = dob.checked_add_months(Months::new(*months)) else {
                continue;
            };
            if given > today {
                continue;
            }
            doses.push(dose::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(id),
                cvx: Set((*cvx).into()),
                date_given: Set(given),
                mvx: Set(None),
                lot_number: Set(None),
                site: Set(None),
                route: Set(None),
                administered_by_org_id: Set(None),
                reported_by_org_id: Set(None),
                recorded_by: Set("bench".into()),
                recorded_at: Set(now),
            });
        }
    }
    let count = doses.len();
    insert_chunked!(db, persons, person);
    insert_chunked!(db, enrollments, enrollment);
    insert_chunked!(db, doses, dose);
    Ok(count)
}
