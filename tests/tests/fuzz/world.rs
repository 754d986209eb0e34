//! The data the fuzzed requests walk: organizations of every kind, persons with doses,
//! enrollments, a guardian, a membership, consent changes, a contraindication, real cursors,
//! a registered OAuth client, and a valid token for every role. Everything is created
//! through the gateway itself (GraphQL over loopback), except the OAuth client.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveDate;
use gateway::auth::clients::{register, ClientRegistration};
use gateway::auth::TokenRequest;
use gateway::keys::DevKeys;
use policies::{Purpose, Role};
use serde_json::{json, Value};

use crate::support::TestApp;

/// One valid bearer token and what it is.
#[derive(Debug, Clone)]
pub struct Token {
    pub label: String,
    pub token: String,
}

/// Everything a generator may refer to.
pub struct World {
    pub base: String,
    pub addr: SocketAddr,
    pub keys: DevKeys,
    /// The dev key's PKCS#8 PEM, to sign tokens with hand-made headers.
    pub signing_pem: Vec<u8>,
    pub today: NaiveDate,
    pub school_year: String,
    pub org_ids: Vec<String>,
    pub school_ids: Vec<String>,
    pub person_ids: Vec<String>,
    pub dose_ids: Vec<String>,
    pub cursors: Vec<String>,
    pub cvx_codes: Vec<String>,
    pub tokens: Vec<Token>,
    /// A registered OAuth client: `(client_id, client_secret)`.
    pub client: (String, String),
}

/// A client that only ever talks to the gateway on loopback: no proxy from the environment,
/// no redirects.
pub fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(16)
        .build()
        .expect("reqwest client")
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

impl World {
    /// Seeds `app` and mints the tokens. `data_dir` is the gateway's data directory (its dev
    /// key signs the forged-claims tokens the generators make).
    pub async fn seed(app: &TestApp, data_dir: &std::path::Path) -> World {
        let base = app.base.clone();
        let admin = app.admin();
        let today = app.today();
        let school_year = policies::school_year_of(today);
        let q = |token: String, query: &'static str, vars: Value| async move {
            app.ok(&token, query, vars).await
        };

        let org = "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }";
        let mut orgs = Vec::new();
        for (name, kind) in [
            ("North Clinic", "CLINIC"),
            ("South Clinic", "CLINIC"),
            ("Lakeside Elementary", "SCHOOL"),
            ("Hillcrest Middle", "SCHOOL"),
            ("Little Steps", "CHILD_CARE"),
            ("County Public Health", "PUBLIC_HEALTH_AGENCY"),
            ("Blue Plan", "HEALTH_PLAN"),
            ("Corner Pharmacy", "PHARMACY"),
            ("General Hospital", "HOSPITAL"),
        ] {
            let data = q(
                admin.clone(),
                org,
                json!({ "i": { "name": name, "kind": kind } }),
            )
            .await;
            orgs.push((id(&data["createOrganization"]), kind));
        }
        let org_of = |kind: &str, nth: usize| {
            orgs.iter()
                .filter(|(_, k)| *k == kind)
                .nth(nth)
                .map(|(id, _)| id.clone())
                .expect("seeded organization")
        };
        let (clinic, clinic2) = (org_of("CLINIC", 0), org_of("CLINIC", 1));
        let (school, school2) = (org_of("SCHOOL", 0), org_of("SCHOOL", 1));
        let child_care = org_of("CHILD_CARE", 0);
        let pha = org_of("PUBLIC_HEALTH_AGENCY", 0);
        let plan = org_of("HEALTH_PLAN", 0);
        let provider = app.provider(&clinic);

        let years_ago = |y: u32, extra_days: u64| {
            today
                .checked_sub_months(chrono::Months::new(12 * y))
                .and_then(|d| d.checked_sub_days(chrono::Days::new(extra_days)))
                .expect("date")
                .to_string()
        };
        let person = "mutation($i: PersonInput!) { createPerson(input: $i) { id } }";
        let mut persons = Vec::new();
        for (i, (first, last, dob, gender)) in [
            ("Ava", "Olson", years_ago(0, 60), "FEMALE"),
            ("Ben", "Olson", years_ago(5, 20), "MALE"),
            ("Cleo", "Nguyen", years_ago(6, 100), "FEMALE"),
            ("Dev", "Patel", years_ago(11, 3), "MALE"),
            ("Eli", "O'Brien", years_ago(13, 200), "NONBINARY"),
            ("Fay", "Łukasz", years_ago(16, 1), "FEMALE"),
            ("Gus", "Nguyen", years_ago(35, 10), "MALE"),
            ("Hana", "Smith-Jones", years_ago(70, 5), "UNKNOWN"),
            ("Ivy", "=HYPERLINK(\"x\")", years_ago(8, 42), "FEMALE"),
            ("Jon", "Olson", years_ago(40, 77), "MALE"),
        ]
        .into_iter()
        .enumerate()
        {
            // Half by the registry, half by a clinic's provider.
            let token = if i % 2 == 0 {
                admin.clone()
            } else {
                provider.clone()
            };
            let data = q(
                token,
                person,
                json!({ "i": {
                    "firstName": first, "lastName": last, "dateOfBirth": dob, "gender": gender,
                    "contact": { "city": "Duluth", "state": "MN", "postalCode": "55802", "email": format!("{first}@example.org") }
                } }),
            )
            .await;
            persons.push(id(&data["createPerson"]));
        }

        let vaccines = q(admin.clone(), "{ vaccines { cvx } }", json!({})).await;
        let cvx_codes: Vec<String> = vaccines["vaccines"]
            .as_array()
            .expect("vaccines")
            .iter()
            .filter_map(|v| v["cvx"].as_str().map(str::to_owned))
            .collect();

        let dose = "mutation($i: DoseInput!) { recordDose(input: $i) { stored dose { id } } }";
        let mut doses = Vec::new();
        for (p, cvx, days_ago) in [
            (0, "08", 55),
            (1, "08", 1800),
            (1, "20", 1700),
            (1, "10", 1700),
            (1, "03", 1500),
            (1, "21", 1500),
            (2, "20", 2000),
            (2, "133", 2000),
            (3, "115", 30),
            (3, "62", 20),
            (4, "114", 400),
            (5, "141", 90),
            (6, "88", 10),
            (8, "48", 2500),
        ] {
            let date = (today - chrono::Days::new(days_ago)).to_string();
            let data = q(
                provider.clone(),
                dose,
                json!({ "i": { "personId": persons[p], "cvx": cvx, "dateGiven": date, "lotNumber": "L1", "site": "LA", "route": "IM" } }),
            )
            .await;
            if let Some(d) = data["recordDose"]["dose"]["id"].as_str() {
                doses.push(d.to_owned());
            }
        }

        let enroll = "mutation($p: ID!, $o: ID!, $y: String!, $g: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: $g) { grade } }";
        for (p, o, g) in [
            (1, &school, "K"),
            (2, &school, "1"),
            (3, &school, "6"),
            (8, &school, "2"),
            (4, &school2, "7"),
            (5, &school2, "11"),
            (0, &child_care, "PK"),
        ] {
            q(
                admin.clone(),
                enroll,
                json!({ "p": persons[p], "o": o, "y": school_year, "g": g }),
            )
            .await;
        }
        q(
            admin.clone(),
            "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"father\") { id } }",
            json!({ "p": persons[1], "g": persons[9] }),
        )
        .await;
        q(
            admin.clone(),
            "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }",
            json!({ "p": persons[6], "o": plan }),
        )
        .await;
        let consent = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { reminders } }";
        q(
            admin.clone(),
            consent,
            json!({ "p": persons[7], "i": { "participation": "OPTED_OUT", "channel": "PHONE" } }),
        )
        .await;
        q(
            admin.clone(),
            consent,
            json!({ "p": persons[3], "i": { "lockedToId": clinic2, "channel": "FORM", "reminders": false } }),
        )
        .await;
        q(
            provider.clone(),
            "mutation($p: ID!) { recordContraindication(input: { personId: $p, kind: MEDICAL_EXEMPTION, vaccineGroup: \"MMR\", reason: \"fuzz\" }) { id } }",
            json!({ "p": persons[2] }),
        )
        .await;

        // Real cursors of each paginated field, for the generators to replay and corrupt.
        let mut cursors = Vec::new();
        let pages = [
            (
                admin.clone(),
                "{ persons(filter: {lastName: \"Olson\"}, first: 1) { pageInfo { endCursor } } }",
                "persons",
            ),
            (
                admin.clone(),
                "{ accessLog(first: 2) { pageInfo { endCursor } } }",
                "accessLog",
            ),
        ];
        // …and cursors of other principals, which no other principal may page with.
        let pages: Vec<(String, &str, &str)> = pages
            .into_iter()
            .chain([(
                provider.clone(),
                "{ persons(filter: {lastName: \"Olson\"}, first: 1) { pageInfo { endCursor } } }",
                "persons",
            )])
            .collect();
        for (token, query, field) in pages {
            let data = q(token, query, json!({})).await;
            if let Some(c) = data[field]["pageInfo"]["endCursor"].as_str() {
                cursors.push(c.to_owned());
            }
        }
        let school_token =
            app.token(TokenRequest::new(Role::School).org(school.parse().expect("uuid")));
        let data = q(
            school_token,
            "query($o: ID!) { roster(organizationId: $o, first: 1) { pageInfo { endCursor } } }",
            json!({ "o": school }),
        )
        .await;
        if let Some(c) = data["roster"]["pageInfo"]["endCursor"].as_str() {
            cursors.push(c.to_owned());
        }

        let uuid = |s: &str| s.parse::<uuid::Uuid>().expect("uuid");
        let mint = |label: &str, req: TokenRequest| Token {
            label: label.to_owned(),
            token: app.token(req),
        };
        let mut tokens = vec![
            mint("registry_admin", TokenRequest::new(Role::RegistryAdmin)),
            mint(
                "provider@clinic",
                TokenRequest::new(Role::Provider).org(uuid(&clinic)),
            ),
            mint(
                "provider@clinic2",
                TokenRequest::new(Role::Provider).org(uuid(&clinic2)),
            ),
            mint(
                "public_health",
                TokenRequest::new(Role::PublicHealth).org(uuid(&pha)),
            ),
            mint("school", TokenRequest::new(Role::School).org(uuid(&school))),
            mint(
                "school2",
                TokenRequest::new(Role::School).org(uuid(&school2)),
            ),
            mint(
                "health_plan",
                TokenRequest::new(Role::HealthPlan).org(uuid(&plan)),
            ),
            mint(
                "guardian",
                TokenRequest::new(Role::Guardian).person(uuid(&persons[9])),
            ),
            mint(
                "individual",
                TokenRequest::new(Role::Individual).person(uuid(&persons[6])),
            ),
            mint("auditor", TokenRequest::new(Role::Auditor)),
            mint(
                "provider read-only",
                TokenRequest::new(Role::Provider)
                    .org(uuid(&clinic))
                    .scope("person:read"),
            ),
            mint(
                "admin audit-only",
                TokenRequest::new(Role::RegistryAdmin).scope("audit:read"),
            ),
            mint(
                "provider@unknown-org",
                TokenRequest::new(Role::Provider).org(uuid::Uuid::new_v4()),
            ),
            mint(
                "school@clinic",
                TokenRequest::new(Role::School).org(uuid(&clinic)),
            ),
        ];
        let mut purposeful = TokenRequest::new(Role::Provider).org(uuid(&clinic));
        purposeful.purpose = Some(Purpose::PublicHealth);
        tokens.push(mint("provider purpose=PUBLIC_HEALTH", purposeful));
        // OpenID Connect allows a `sub` of up to 255 characters.
        let mut long_sub = TokenRequest::new(Role::Auditor);
        long_sub.subject = Some(format!("auditor-{}", "x".repeat(247)));
        tokens.push(mint("auditor 255-char sub", long_sub));

        let issued = register(
            &app.store,
            ClientRegistration {
                name: Some("fuzz partner".into()),
                role: Role::Provider,
                org: Some(uuid(&clinic)),
                scope: None,
            },
        )
        .await
        .expect("register an OAuth client");

        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("the gateway's loopback address");
        World {
            base,
            addr,
            keys: DevKeys::load_or_create(data_dir).expect("the gateway's dev key"),
            signing_pem: std::fs::read(data_dir.join("dev-signing-key.pem"))
                .expect("the gateway's dev key file"),
            today,
            school_year,
            org_ids: orgs.into_iter().map(|(id, _)| id).collect(),
            school_ids: vec![school, school2, child_care],
            person_ids: persons,
            dose_ids: doses,
            cursors,
            cvx_codes,
            tokens,
            client: (
                issued.client.id.to_string(),
                issued.secret.expose().to_owned(),
            ),
        }
    }

    /// The valid token at `i` (wrapping).
    pub fn token(&self, i: usize) -> &Token {
        &self.tokens[i % self.tokens.len()]
    }
}
