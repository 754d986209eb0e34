//! A registry with one record in every state the access policy distinguishes, the principals
//! that look at it, and an oracle of the policy written from `access-policy.md` alone (it
//! does not call `policies`), shared by the matrix test and the property test.

use chrono::{Datelike, Months, NaiveDate};
use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::json;

use crate::support::TestApp;

/// The states a record can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Normal,
    LockedToClinicA,
    OptedOut,
    RemindersOff,
    /// 17 years old today: a guardian still sees it.
    Minor17,
    /// 18 today: the guardian no longer does; the person does.
    Adult18,
    /// Enrolled only in last school year, member of no plan.
    Unaffiliated,
}

pub const STATES: [State; 7] = [
    State::Normal,
    State::LockedToClinicA,
    State::OptedOut,
    State::RemindersOff,
    State::Minor17,
    State::Adult18,
    State::Unaffiliated,
];

/// Who looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    ProviderA,
    ProviderB,
    PublicHealth,
    SchoolS,
    OtherSchool,
    PlanP,
    OtherPlan,
    Guardian,
    /// The 18-year-old about themself.
    Individual,
    Auditor,
    Admin,
}

pub const WHO: [Who; 11] = [
    Who::ProviderA,
    Who::ProviderB,
    Who::PublicHealth,
    Who::SchoolS,
    Who::OtherSchool,
    Who::PlanP,
    Who::OtherPlan,
    Who::Guardian,
    Who::Individual,
    Who::Auditor,
    Who::Admin,
];

/// A field group of the matrix and the GraphQL selection that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Identity,
    Gender,
    Contact,
    Guardians,
    Doses,
    DoseDetails,
    Recommendations,
    Contraindications,
    Consent,
}

pub const CELLS: [Cell; 9] = [
    Cell::Identity,
    Cell::Gender,
    Cell::Contact,
    Cell::Guardians,
    Cell::Doses,
    Cell::DoseDetails,
    Cell::Recommendations,
    Cell::Contraindications,
    Cell::Consent,
];

impl Cell {
    /// The top-level `Person` field holding the cell, and its selection.
    pub fn selection(self) -> (&'static str, &'static str) {
        match self {
            Cell::Identity => ("firstName", "firstName"),
            Cell::Gender => ("gender", "gender"),
            Cell::Contact => ("contact", "contact { city }"),
            Cell::Guardians => ("guardians", "guardians { relationship }"),
            Cell::Doses => ("doses", "doses { dateGiven }"),
            Cell::DoseDetails => ("doses", "doses { lotNumber }"),
            Cell::Recommendations => ("recommendations", "recommendations { vaccineGroup }"),
            Cell::Contraindications => ("contraindications", "contraindications { id }"),
            Cell::Consent => ("consent", "consent { participation }"),
        }
    }
}

/// What the oracle expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    NotFound,
    Locked,
    /// The record is returned; the cell is readable or `FORBIDDEN`.
    Record,
}

pub struct Fixture {
    pub app: TestApp,
    pub records: Vec<(State, String)>,
    clinic_a: String,
    clinic_b: String,
    agency: String,
    pub school: String,
    other_school: String,
    plan: String,
    other_plan: String,
    pub guardian: String,
}

fn years_ago(today: NaiveDate, years: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(12 * years))
        .expect("date")
}

fn school_year(today: NaiveDate) -> String {
    let start = if today.month() >= 7 {
        today.year()
    } else {
        today.year() - 1
    };
    format!("{start}-{}", start + 1)
}

impl Fixture {
    pub async fn build() -> Fixture {
        let app = TestApp::spawn().await;
        let admin = app.admin();
        let clinic_a = app.create_org("Clinic A", "CLINIC").await;
        let clinic_b = app.create_org("Clinic B", "CLINIC").await;
        let agency = app.create_org("County PH", "PUBLIC_HEALTH_AGENCY").await;
        let school = app.create_org("School S", "SCHOOL").await;
        let other_school = app.create_org("School T", "SCHOOL").await;
        let plan = app.create_org("Plan P", "HEALTH_PLAN").await;
        let other_plan = app.create_org("Plan Q", "HEALTH_PLAN").await;
        let today = app.today();
        let guardian = app
            .create_person(&admin, "Gail", "Guardian", "1980-01-01")
            .await;
        let year = school_year(today);
        let last_year = school_year(years_ago(today, 1));
        let mut records = Vec::new();
        for state in STATES {
            let dob = match state {
                State::Minor17 => years_ago(today, 18).succ_opt().expect("date"),
                State::Adult18 => years_ago(today, 18),
                _ => years_ago(today, 10),
            };
            let id = app
                .create_person(&admin, &format!("{state:?}"), "Matrix", &dob.to_string())
                .await;
            let data = app
                .ok(
                    &admin,
                    "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"parent\") { id } }",
                    json!({ "p": id, "g": guardian }),
                )
                .await;
            assert!(data["addGuardian"]["id"].is_string());
            let enroll_year = if state == State::Unaffiliated {
                &last_year
            } else {
                &year
            };
            app.ok(
                &admin,
                "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"5\") { grade } }",
                json!({ "p": id, "o": school, "y": enroll_year }),
            )
            .await;
            if state != State::Unaffiliated {
                app.ok(
                    &admin,
                    "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }",
                    json!({ "p": id, "o": plan }),
                )
                .await;
            }
            let given = (dob + chrono::Duration::days(70)).to_string();
            let dose = app
                .gql(
                    &admin,
                    "mutation($i: DoseInput!) { recordDose(input: $i) { stored } }",
                    json!({ "i": { "personId": id, "cvx": "20", "dateGiven": given, "lotNumber": "LOT1", "manufacturer": "PMC" } }),
                )
                .await;
            assert_eq!(dose["data"]["recordDose"]["stored"], true, "{dose}");
            app.ok(
                &admin,
                "mutation($p: ID!) { recordContraindication(input: { personId: $p, kind: PRECAUTION, reason: \"fixture\" }) { id } }",
                json!({ "p": id }),
            )
            .await;
            let consent = match state {
                State::LockedToClinicA => {
                    Some(json!({ "lockedToId": clinic_a, "channel": "PROVIDER" }))
                }
                State::OptedOut => Some(json!({ "participation": "OPTED_OUT", "channel": "FORM" })),
                State::RemindersOff => Some(json!({ "reminders": false, "channel": "PHONE" })),
                _ => None,
            };
            if let Some(input) = consent {
                app.ok(
                    &admin,
                    "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { reminders } }",
                    json!({ "p": id, "i": input }),
                )
                .await;
            }
            records.push((state, id));
        }
        Fixture {
            app,
            records,
            clinic_a,
            clinic_b,
            agency,
            school,
            other_school,
            plan,
            other_plan,
            guardian,
        }
    }

    pub fn record(&self, state: State) -> &str {
        &self
            .records
            .iter()
            .find(|(s, _)| *s == state)
            .expect("state")
            .1
    }

    /// A token for `who`, optionally narrowed to `scope`.
    pub fn token(&self, who: Who, scope: Option<&str>) -> String {
        let org = |id: &str| id.parse::<uuid::Uuid>().expect("uuid");
        let mut req = match who {
            Who::ProviderA => TokenRequest::new(Role::Provider).org(org(&self.clinic_a)),
            Who::ProviderB => TokenRequest::new(Role::Provider).org(org(&self.clinic_b)),
            Who::PublicHealth => TokenRequest::new(Role::PublicHealth).org(org(&self.agency)),
            Who::SchoolS => TokenRequest::new(Role::School).org(org(&self.school)),
            Who::OtherSchool => TokenRequest::new(Role::School).org(org(&self.other_school)),
            Who::PlanP => TokenRequest::new(Role::HealthPlan).org(org(&self.plan)),
            Who::OtherPlan => TokenRequest::new(Role::HealthPlan).org(org(&self.other_plan)),
            Who::Guardian => TokenRequest::new(Role::Guardian).person(org(&self.guardian)),
            Who::Individual => {
                TokenRequest::new(Role::Individual).person(org(self.record(State::Adult18)))
            }
            Who::Auditor => TokenRequest::new(Role::Auditor),
            Who::Admin => TokenRequest::new(Role::RegistryAdmin),
        };
        if let Some(s) = scope {
            req = req.scope(s);
        }
        self.app.token(req)
    }
}

/// Whether `who` (holding `person:read`) may see a record in `state` at all — the access
/// policy's "roles" and "record states" sections.
pub fn oracle_record(who: Who, state: State, has_person_read: bool) -> Expect {
    use Expect::*;
    if !has_person_read {
        return NotFound;
    }
    let opted_out = state == State::OptedOut;
    let locked_elsewhere = |own_a: bool| state == State::LockedToClinicA && !own_a;
    match who {
        Who::Admin => Record,
        Who::Auditor => NotFound,
        Who::Guardian => {
            if state == State::Adult18 {
                NotFound
            } else {
                Record
            }
        }
        Who::Individual => {
            if state == State::Adult18 {
                Record
            } else {
                NotFound
            }
        }
        Who::ProviderA | Who::ProviderB | Who::PublicHealth => {
            if opted_out {
                NotFound
            } else if locked_elsewhere(who == Who::ProviderA) {
                Locked
            } else {
                Record
            }
        }
        // The fixture enrolls every affiliated record at School S and in Plan P.
        Who::SchoolS | Who::PlanP => {
            if opted_out || state == State::Unaffiliated {
                NotFound
            } else if locked_elsewhere(false) {
                Locked
            } else {
                Record
            }
        }
        Who::OtherSchool | Who::OtherPlan => NotFound,
    }
}

/// Whether `who` may read `cell` of a record it may see — the field visibility table.
pub fn oracle_cell(who: Who, cell: Cell) -> bool {
    use Cell::*;
    match who {
        Who::Admin
        | Who::ProviderA
        | Who::ProviderB
        | Who::PublicHealth
        | Who::Guardian
        | Who::Individual => true,
        Who::Auditor => false,
        Who::SchoolS | Who::OtherSchool => matches!(cell, Identity | Gender | Doses),
        Who::PlanP | Who::OtherPlan => matches!(cell, Identity | Gender | Doses | Recommendations),
    }
}

/// Whether `who` may read the matrix group `field` of a record it may see — the field
/// visibility table, row by row (its "own organization's only" cells are readable here; which
/// rows is checked on its own).
pub fn oracle_field(who: Who, field: policies::Field) -> bool {
    use policies::Field::*;
    match who {
        Who::Admin => true,
        Who::Auditor => false,
        Who::ProviderA | Who::ProviderB | Who::PublicHealth => field != Memberships,
        Who::Guardian | Who::Individual => true,
        Who::SchoolS | Who::OtherSchool => matches!(
            field,
            PersonIdentity
                | PersonGender
                | DoseVaccine
                | DoseEvaluation
                | SchoolCompliance
                | Enrollments
        ),
        Who::PlanP | Who::OtherPlan => matches!(
            field,
            PersonIdentity
                | PersonGender
                | DoseVaccine
                | DoseEvaluation
                | Recommendations
                | Memberships
        ),
    }
}

/// Whether `who` may see the fixture's guardian (an adult, participating, unlocked, with no
/// enrollment or membership, and a guardian of every record) — by id or through a ward.
pub fn oracle_guardian_record(who: Who) -> Expect {
    match who {
        Who::Admin | Who::ProviderA | Who::ProviderB | Who::PublicHealth => Expect::Record,
        // Not the guardian themself either: a guardian's row scope is their minor wards.
        _ => Expect::NotFound,
    }
}

/// The persons whose access-log entries `who` may read, and whom those entries may name:
/// `None` for every entry (auditors, registry staff), `Some(ids)` for a guardian or an
/// individual (their own record and their wards'); `Err(())` when the log is refused.
pub fn oracle_log_view(fx: &Fixture, who: Who) -> Result<Option<Vec<String>>, ()> {
    match who {
        Who::Auditor | Who::Admin => Ok(None),
        Who::Guardian => {
            let mut ids: Vec<String> = STATES
                .iter()
                .filter(|s| oracle_record(who, **s, true) == Expect::Record)
                .map(|s| fx.record(*s).to_owned())
                .collect();
            ids.push(fx.guardian.clone());
            Ok(Some(ids))
        }
        Who::Individual => Ok(Some(vec![fx.record(State::Adult18).to_owned()])),
        _ => Err(()),
    }
}
