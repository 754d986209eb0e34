//! School roster compliance over HTTP: hand-built students for each rule row of Minnesota's
//! requirements, the school-only policy (own organization, current year, locked and opted-out
//! students counted but not listed), the access log, the CSV export, and round trips that do
//! not grow with the roster.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const ROSTER: &str = "query($org: ID!, $year: String, $grade: String, $status: ComplianceStatus, $first: Int, $after: String) {
  roster(organizationId: $org, schoolYear: $year, grade: $grade, status: $status, first: $first, after: $after) {
    totals { compliant inProgress exempt notCompliant }
    hiddenCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      grade
      person { id firstName lastName }
      compliance { status inProgressUntil requirements { vaccineGroup dosesCounted dosesRequired status exemption nextDueDate inProgressUntil } }
    } }
  }
}";

/// A school with students built dose by dose.
struct Fixture {
    app: TestApp,
    admin: String,
    school: String,
    other_school: String,
    clinic: String,
    today: NaiveDate,
    /// First name → person id.
    students: HashMap<&'static str, String>,
}

/// `(cvx, months after birth, extra days)`.
type Dose = (&'static str, u32, u64);

const INFANT_SERIES: [Dose; 15] = [
    ("08", 0, 0),
    ("08", 2, 0),
    ("08", 6, 0),
    ("20", 2, 0),
    ("20", 4, 0),
    ("20", 6, 0),
    ("10", 2, 0),
    ("10", 4, 0),
    ("10", 6, 0),
    ("133", 2, 0),
    ("133", 4, 0),
    ("133", 6, 0),
    ("48", 2, 0),
    ("48", 4, 0),
    ("48", 6, 0),
];

impl Fixture {
    async fn new() -> Fixture {
        let app = TestApp::spawn().await;
        let admin = app.admin();
        let school = app.create_org("Lakeside Elementary", "SCHOOL").await;
        let other_school = app.create_org("Hillcrest Middle", "SCHOOL").await;
        let clinic = app.create_org("North Clinic", "CLINIC").await;
        let today = app.today();
        Fixture {
            app,
            admin,
            school,
            other_school,
            clinic,
            today,
            students: HashMap::new(),
        }
    }

    fn year(&self) -> String {
        policies::school_year_of(self.today)
    }

    fn school_token(&self, org: &str) -> String {
        self.app
            .token(TokenRequest::new(Role::School).org(org.parse().expect("org id")))
    }

    /// A student `age_months` old today, enrolled in `grade` at the school, with `doses`.
    async fn student(
        &mut self,
        first: &'static str,
        age_months: u32,
        grade: &str,
        doses: &[Dose],
    ) -> String {
        let dob = self
            .today
            .checked_sub_months(Months::new(age_months))
            .expect("dob");
        let id = self
            .app
            .create_person(&self.admin, first, "Student", &dob.to_string())
            .await;
        let school = self.school.clone();
        self.enroll(&id, &school, grade).await;
        for (cvx, months, days) in doses {
            let given = dob.checked_add_months(Months::new(*months)).expect("date")
                + chrono::Days::new(*days);
            let body = self
                .app
                .record_dose(&self.admin, &id, cvx, &given.to_string())
                .await;
            assert_eq!(body["data"]["recordDose"]["stored"], true, "{body}");
        }
        self.students.insert(first, id.clone());
        id
    }

    async fn enroll(&self, person: &str, org: &str, grade: &str) {
        self.app
            .ok(
                &self.admin,
                "mutation($p: ID!, $o: ID!, $y: String!, $g: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: $g) { grade } }",
                json!({ "p": person, "o": org, "y": self.year(), "g": grade }),
            )
            .await;
    }

    async fn finding(&self, person: &str, kind: &str, group: Option<&str>) {
        self.app
            .ok(
                &self.admin,
                "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { id } }",
                json!({ "i": { "personId": person, "kind": kind, "vaccineGroup": group, "reason": "on file" } }),
            )
            .await;
    }

    async fn consent(&self, person: &str, input: Value) {
        self.app
            .ok(
                &self.admin,
                "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { reminders } }",
                json!({ "p": person, "i": input }),
            )
            .await;
    }

    /// One student for each rule row, plus a locked and an opted-out one.
    async fn with_every_rule_row() -> Fixture {
        let mut f = Fixture::new().await;
        // 5½-year-old kindergartners: the 4th DTaP after, or before, the 4th birthday.
        f.student(
            "DtapAfter",
            66,
            "K",
            &[("20", 2, 0), ("20", 4, 0), ("20", 6, 0), ("20", 48, 10)],
        )
        .await;
        f.student(
            "DtapBefore",
            66,
            "K",
            &[("20", 2, 0), ("20", 4, 0), ("20", 6, 0), ("20", 46, 0)],
        )
        .await;
        f.student(
            "PolioLate",
            66,
            "K",
            &[("10", 2, 0), ("10", 4, 0), ("10", 49, 0)],
        )
        .await;
        f.student("MmrEarly", 78, "1", &[("03", 11, 0), ("03", 15, 0)])
            .await;
        f.student("TeenReady", 150, "7", &[("115", 138, 0), ("114", 138, 0)])
            .await;
        f.student("TeenMissing", 150, "7", &[]).await;
        f.student(
            "SeniorBoosted",
            210,
            "12",
            &[("114", 132, 0), ("114", 193, 0)],
        )
        .await;
        f.student(
            "SeniorEarly",
            210,
            "12",
            &[("114", 132, 0), ("114", 186, 0)],
        )
        .await;
        let immune = f.student("ImmuneVar", 78, "1", &[]).await;
        f.finding(&immune, "IMMUNITY", Some("Varicella")).await;
        let medical = f.student("MedicalMmr", 78, "1", &[]).await;
        f.finding(&medical, "MEDICAL_EXEMPTION", Some("MMR")).await;
        let objector = f.student("ObjectorAll", 78, "1", &[]).await;
        f.finding(&objector, "NON_MEDICAL_EXEMPTION", None).await;
        let mut late_hib: Vec<Dose> = INFANT_SERIES
            .iter()
            .copied()
            .filter(|(cvx, _, _)| *cvx != "48")
            .collect();
        late_hib.push(("48", 2, 0));
        f.student("InfantHib", 10, "CC", &late_hib).await;
        f.student("InfantOnTime", 7, "CC", &INFANT_SERIES).await;
        let locked = f.student("LockedLou", 66, "K", &[]).await;
        let clinic = f.clinic.clone();
        f.consent(
            &locked,
            json!({ "lockedToId": clinic, "channel": "PROVIDER" }),
        )
        .await;
        let opted = f.student("OptedOtto", 66, "K", &[]).await;
        f.consent(
            &opted,
            json!({ "participation": "OPTED_OUT", "channel": "FORM" }),
        )
        .await;
        f
    }

    async fn roster(&self, token: &str, vars: Value) -> Value {
        let mut vars = vars;
        vars["org"] = json!(self.school);
        self.app.ok(token, ROSTER, vars).await["roster"].clone()
    }
}

/// The roster's entries by first name.
fn by_name(roster: &Value) -> HashMap<String, Value> {
    roster["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["person"]["firstName"]
                    .as_str()
                    .expect("name")
                    .to_owned(),
                e["node"].clone(),
            )
        })
        .collect()
}

fn requirement<'a>(node: &'a Value, group: &str) -> &'a Value {
    node["compliance"]["requirements"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["vaccineGroup"] == group))
        .unwrap_or_else(|| panic!("no {group} requirement in {node:#}"))
}

fn counts(r: &Value) -> (i64, i64) {
    (
        r["dosesCounted"].as_i64().expect("counted"),
        r["dosesRequired"].as_i64().expect("required"),
    )
}

#[tokio::test]
async fn a_school_sees_each_rule_row_judged_on_the_engines_valid_doses() {
    let f = Fixture::with_every_rule_row().await;
    let token = f.school_token(&f.school);
    let roster = f.roster(&token, json!({})).await;
    let s = by_name(&roster);

    let dtap = requirement(&s["DtapAfter"], "DTaP");
    assert_eq!(
        (dtap["status"].as_str(), counts(dtap)),
        (Some("COMPLIANT"), (4, 4))
    );
    let dtap = requirement(&s["DtapBefore"], "DTaP");
    assert_ne!(dtap["status"], "COMPLIANT");
    assert_eq!(counts(dtap), (4, 5));
    assert!(dtap["nextDueDate"].is_string(), "{dtap}");

    let polio = requirement(&s["PolioLate"], "Polio");
    assert_eq!(
        (polio["status"].as_str(), counts(polio)),
        (Some("COMPLIANT"), (3, 3))
    );

    let mmr = requirement(&s["MmrEarly"], "MMR");
    assert_eq!(
        counts(mmr),
        (1, 2),
        "the dose before the 1st birthday does not count"
    );
    assert_ne!(mmr["status"], "COMPLIANT");

    for group in ["Tdap", "MenACWY"] {
        let ready = requirement(&s["TeenReady"], group);
        assert_eq!(
            (ready["status"].as_str(), counts(ready)),
            (Some("COMPLIANT"), (1, 1))
        );
        let missing = requirement(&s["TeenMissing"], group);
        assert_eq!(counts(missing), (0, 1));
        assert_ne!(missing["status"], "COMPLIANT");
    }
    assert_eq!(s["TeenMissing"]["compliance"]["status"], "NOT_COMPLIANT");

    let boosted = requirement(&s["SeniorBoosted"], "MenACWY");
    assert_eq!(
        (boosted["status"].as_str(), counts(boosted)),
        (Some("COMPLIANT"), (2, 2))
    );
    let early = requirement(&s["SeniorEarly"], "MenACWY");
    assert_ne!(
        early["status"], "COMPLIANT",
        "the booster came before the 16th birthday"
    );
    assert_eq!(counts(early).1, 2);

    let varicella = requirement(&s["ImmuneVar"], "Varicella");
    assert_eq!(
        (varicella["status"].as_str(), counts(varicella)),
        (Some("COMPLIANT"), (0, 2))
    );

    let mmr = requirement(&s["MedicalMmr"], "MMR");
    assert_eq!(
        (mmr["status"].as_str(), mmr["exemption"].as_str()),
        (Some("EXEMPT"), Some("MEDICAL"))
    );
    let hepb = requirement(&s["MedicalMmr"], "HepB");
    assert_ne!(hepb["status"], "EXEMPT", "the exemption names MMR only");
    assert_eq!(hepb["exemption"], Value::Null);

    let objector = &s["ObjectorAll"]["compliance"];
    assert_eq!(objector["status"], "EXEMPT");
    for r in objector["requirements"].as_array().expect("requirements") {
        assert_eq!(
            (r["status"].as_str(), r["exemption"].as_str()),
            (Some("EXEMPT"), Some("NON_MEDICAL")),
            "{r}"
        );
    }

    // Hib past due, but started: in progress within the completion window after enrollment
    // (121A.15 subd. 2), which ends later than the engine's past-due date.
    let hib = requirement(&s["InfantHib"], "Hib");
    assert_eq!(hib["status"], "IN_PROGRESS", "{hib}");
    assert!(hib["nextDueDate"].is_string());
    assert!(
        hib["inProgressUntil"].as_str() > hib["nextDueDate"].as_str(),
        "{hib}"
    );
    assert_eq!(s["InfantHib"]["compliance"]["status"], "IN_PROGRESS");
    assert_eq!(s["InfantHib"]["grade"], "CC");
    assert_eq!(
        requirement(&s["InfantHib"], "DTaP")["status"],
        "IN_PROGRESS"
    );

    let on_time = &s["InfantOnTime"]["compliance"];
    assert_eq!(on_time["status"], "IN_PROGRESS", "{on_time:#}");
    assert!(on_time["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .all(|r| r["status"] != "NOT_COMPLIANT"));
}

/// Issue 22: the corrections against the Department of Health's chart that show through
/// GraphQL — the PCV and other child-care age ranges, the alternate adolescent hepatitis B
/// schedule, polio not required from 18, only a Tdap from the 7th birthday counting, and a
/// started series in progress until the end of the completion window after enrollment.
#[tokio::test]
async fn the_departments_chart_corrections_show_through_graphql() {
    let mut f = Fixture::new().await;
    let no_pcv: Vec<Dose> = INFANT_SERIES
        .iter()
        .copied()
        .filter(|(cvx, _, _)| *cvx != "133")
        .collect();
    f.student("PcvToddler", 30, "CC", &no_pcv).await;
    f.student("PcvInfant", 20, "CC", &no_pcv).await;
    f.student("YoungInfant", 14, "CC", &INFANT_SERIES).await;
    f.student("AltHepB", 170, "9", &[("43", 133, 0), ("43", 138, 0)])
        .await;
    f.student("AdultSenior", 217, "12", &[]).await;
    // DTaP at 2, 4, 6 and 15 months, then a Tdap as the 5th dose at 6½ or at 8.
    let dtap: [Dose; 4] = [("20", 2, 0), ("20", 4, 0), ("20", 6, 0), ("20", 15, 0)];
    let mut early = dtap.to_vec();
    early.push(("115", 78, 0));
    f.student("TdapAtSix", 150, "7", &early).await;
    let mut late = dtap.to_vec();
    late.push(("115", 96, 0));
    f.student("TdapAtEight", 150, "7", &late).await;
    // A kindergartner complete but for DTaP, of which only the first dose, long past due.
    let started = f
        .student(
            "StartedDtap",
            66,
            "K",
            &[
                ("08", 0, 0),
                ("08", 2, 0),
                ("08", 6, 0),
                ("20", 2, 0),
                ("10", 2, 0),
                ("10", 4, 0),
                ("10", 6, 0),
                ("10", 50, 0),
                ("03", 12, 0),
                ("03", 50, 0),
                ("21", 12, 0),
                ("21", 50, 0),
            ],
        )
        .await;
    f.student(
        "NeverStarted",
        66,
        "K",
        &[("08", 0, 0), ("08", 2, 0), ("08", 6, 0)],
    )
    .await;
    let token = f.school_token(&f.school);
    let roster = f.roster(&token, json!({})).await;
    let after = chrono::Utc::now().date_naive();
    let s = by_name(&roster);
    let vaccines = |name: &str| -> Vec<String> {
        s[name]["compliance"]["requirements"]
            .as_array()
            .expect("requirements")
            .iter()
            .map(|r| r["vaccineGroup"].as_str().expect("group").to_owned())
            .collect()
    };

    // Item 1: PCV only from 2 through 23 months; item 8: the other thresholds.
    assert!(
        !vaccines("PcvToddler").contains(&"PCV".to_owned()),
        "{:?}",
        vaccines("PcvToddler")
    );
    assert_eq!(
        requirement(&s["PcvInfant"], "PCV")["status"],
        "NOT_COMPLIANT"
    );
    assert_eq!(
        vaccines("YoungInfant"),
        ["HepA", "HepB", "DTaP", "Polio", "Hib", "PCV"],
        "MMR and varicella from 15 months"
    );
    for v in ["HepA", "Hib", "MMR", "Varicella"] {
        assert!(vaccines("PcvToddler").contains(&v.to_owned()), "{v}");
    }

    // Item 2: the alternate adolescent hepatitis B schedule.
    let hepb = requirement(&s["AltHepB"], "HepB");
    assert_eq!(
        (hepb["status"].as_str(), counts(hepb)),
        (Some("COMPLIANT"), (2, 2))
    );

    // Item 4: polio is not required from 18.
    assert!(!vaccines("AdultSenior").contains(&"Polio".to_owned()));
    assert!(vaccines("AdultSenior").contains(&"DTaP".to_owned()));

    // Item 5: a Tdap before the 7th birthday does not count for grade 7.
    assert_eq!(counts(requirement(&s["TdapAtSix"], "Tdap")), (0, 1));
    assert_eq!(requirement(&s["TdapAtSix"], "DTaP")["status"], "COMPLIANT");
    let tdap = requirement(&s["TdapAtEight"], "Tdap");
    assert_eq!(
        (tdap["status"].as_str(), counts(tdap)),
        (Some("COMPLIANT"), (1, 1))
    );

    // Item 7: in progress until the last day of 18 months after enrollment (today, UTC).
    let until = |enrolled: NaiveDate| {
        (enrolled.checked_add_months(Months::new(18)).expect("date") - chrono::Days::new(1))
            .to_string()
    };
    let expected = [until(f.today), until(after)];
    let dtap = requirement(&s["StartedDtap"], "DTaP");
    assert_eq!(dtap["status"], "IN_PROGRESS", "{dtap}");
    assert!(dtap["nextDueDate"].is_string(), "{dtap}");
    let until_dtap = dtap["inProgressUntil"]
        .as_str()
        .expect("inProgressUntil")
        .to_owned();
    assert!(
        expected.contains(&until_dtap),
        "{until_dtap} not in {expected:?}"
    );
    let whole = &s["StartedDtap"]["compliance"];
    assert_eq!(whole["status"], "IN_PROGRESS", "{whole:#}");
    assert_eq!(whole["inProgressUntil"], json!(until_dtap));
    assert_eq!(
        requirement(&s["StartedDtap"], "HepB")["inProgressUntil"],
        Value::Null
    );
    let never = &s["NeverStarted"]["compliance"];
    assert_eq!(
        requirement(&s["NeverStarted"], "DTaP")["status"],
        "NOT_COMPLIANT"
    );
    assert_eq!(never["inProgressUntil"], Value::Null);

    // The same through Person.schoolCompliance and the CSV export.
    let one = f
        .app
        .ok(
            &token,
            "query($id: ID!, $org: ID!) { person(id: $id) { schoolCompliance(organizationId: $org) { status inProgressUntil } } }",
            json!({ "id": started, "org": f.school }),
        )
        .await;
    assert_eq!(
        one["person"]["schoolCompliance"],
        json!({ "status": "IN_PROGRESS", "inProgressUntil": until_dtap })
    );
    let csv = f
        .app
        .client
        .get(format!("{}/reports/roster/{}.csv", f.app.base, f.school))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(csv
        .lines()
        .next()
        .is_some_and(|h| h.ends_with(",in_progress_until")));
    assert!(
        // Every cell is quoted (a spreadsheet takes nothing in it for a formula).
        csv.lines()
            .any(|l| l.starts_with(&format!("\"{started}\","))
                && l.contains(",\"DTaP\",\"1\",")
                && l.ends_with(&format!(",\"{until_dtap}\""))),
        "{csv}"
    );
}

/// Issue 22 item 6: who documented a varicella history, and when the disease occurred, are
/// recorded with the immunity; a parent's history counts only for disease before 2010-09-01.
#[tokio::test]
async fn a_parents_varicella_history_counts_only_for_disease_before_september_2010() {
    let mut f = Fixture::new().await;
    const RECORD: &str = "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { kind documentedBy diseaseOn } }";
    let history = |first: &'static str, by: Option<&'static str>, on: &'static str| (first, by, on);
    let cases = [
        history("ParentEarly", Some("PARENT"), "2010-03-01"),
        history("ParentLate", Some("PARENT"), "2012-05-01"),
        history("ProviderLate", Some("PROVIDER"), "2012-05-01"),
        history("LabUndated", Some("LABORATORY"), ""),
        history("ParentUndated", Some("PARENT"), ""),
    ];
    // Seniors born in mid-2009 (17½): the MenACWY and Tdap rows do not matter here.
    for (first, by, on) in cases {
        let id = f.student(first, 210, "12", &[]).await;
        let mut input = json!({ "personId": id, "kind": "IMMUNITY", "vaccineGroup": "Varicella", "documentedBy": by });
        if !on.is_empty() {
            input["diseaseOn"] = json!(on);
        }
        let data = f.app.ok(&f.admin, RECORD, json!({ "i": input })).await;
        assert_eq!(data["recordContraindication"]["documentedBy"], json!(by));
    }
    // In child care too (20 months old; the gateway closes the group on any immunity).
    for (first, by) in [("CcParent", "PARENT"), ("CcProvider", "PROVIDER")] {
        let id = f.student(first, 20, "CC", &INFANT_SERIES).await;
        let disease_on = (f.today - chrono::Days::new(90)).to_string();
        let input = json!({ "personId": id, "kind": "IMMUNITY", "vaccineGroup": "Varicella", "documentedBy": by, "diseaseOn": disease_on });
        f.app.ok(&f.admin, RECORD, json!({ "i": input })).await;
    }
    let token = f.school_token(&f.school);
    let roster = f.roster(&token, json!({})).await;
    let s = by_name(&roster);
    for (first, expected) in [
        ("CcParent", "NOT_COMPLIANT"),
        ("CcProvider", "COMPLIANT"),
        ("ParentEarly", "COMPLIANT"),
        ("ParentLate", "NOT_COMPLIANT"),
        ("ProviderLate", "COMPLIANT"),
        ("LabUndated", "COMPLIANT"),
        ("ParentUndated", "NOT_COMPLIANT"),
    ] {
        let varicella = requirement(&s[first], "Varicella");
        assert_eq!(varicella["status"], expected, "{first}: {varicella}");
    }

    // Refused: documenting anything but immunity, a disease in the future or before birth.
    let kid = f.students["ParentEarly"].clone();
    for (input, why) in [
        (
            json!({ "personId": kid, "kind": "MEDICAL_EXEMPTION", "vaccineGroup": "MMR", "documentedBy": "PARENT" }),
            "IMMUNITY only",
        ),
        (
            json!({ "personId": kid, "kind": "IMMUNITY", "vaccineGroup": "Varicella", "diseaseOn": (f.today + chrono::Days::new(2)).to_string() }),
            "future",
        ),
        (
            json!({ "personId": kid, "kind": "IMMUNITY", "vaccineGroup": "Varicella", "diseaseOn": "2001-01-01" }),
            "before the date of birth",
        ),
    ] {
        let body = f.app.gql(&f.admin, RECORD, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert!(body.to_string().contains(why), "{why}: {body}");
    }
    let data = f
        .app
        .ok(
            &f.admin,
            "query($id: ID!) { person(id: $id) { contraindications { kind documentedBy diseaseOn } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(
        data["person"]["contraindications"],
        json!([{ "kind": "IMMUNITY", "documentedBy": "PARENT", "diseaseOn": "2010-03-01" }]),
        "the refused writes left nothing behind"
    );
}

#[tokio::test]
async fn locked_and_opted_out_students_are_counted_but_not_listed_and_totals_cover_the_whole_roster(
) {
    let f = Fixture::with_every_rule_row().await;
    let token = f.school_token(&f.school);
    let all = f.roster(&token, json!({})).await;
    let listed = by_name(&all);
    assert_eq!(listed.len(), 13);
    assert!(!listed.contains_key("LockedLou") && !listed.contains_key("OptedOtto"));
    // The locked student is enrolled but hidden; the opted-out one is not enrolled at all any
    // more: an opt-out keeps only the minimal demographics (access policy), so its enrollment
    // went with it.
    assert_eq!(all["hiddenCount"], 1);
    let totals = &all["totals"];
    let sum: i64 = ["compliant", "inProgress", "exempt", "notCompliant"]
        .iter()
        .map(|k| totals[k].as_i64().expect("count"))
        .sum();
    assert_eq!(
        sum + 1,
        f.students.len() as i64 - 1,
        "totals plus hidden add up to the enrollment (the opted-out student's is gone)"
    );
    let mut by_status: HashMap<String, i64> = HashMap::new();
    for node in listed.values() {
        *by_status
            .entry(
                node["compliance"]["status"]
                    .as_str()
                    .expect("status")
                    .to_owned(),
            )
            .or_default() += 1;
    }
    assert_eq!(
        totals["notCompliant"].as_i64(),
        by_status.get("NOT_COMPLIANT").copied().or(Some(0))
    );
    assert_eq!(
        totals["exempt"].as_i64(),
        by_status.get("EXEMPT").copied().or(Some(0))
    );

    // Pages of 5 in name order, with the same totals on every page.
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = f
            .roster(&token, json!({ "first": 5, "after": after }))
            .await;
        assert_eq!(page["totals"], *totals);
        assert_eq!(page["hiddenCount"], 1);
        for e in page["edges"].as_array().expect("edges") {
            names.push(
                e["node"]["person"]["firstName"]
                    .as_str()
                    .expect("name")
                    .to_owned(),
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_uppercase());
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 13);

    // A status filter narrows the list, not the totals; a grade narrows both.
    let exempt = f.roster(&token, json!({ "status": "EXEMPT" })).await;
    assert_eq!(exempt["totals"], *totals);
    assert!(exempt["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .all(|e| e["node"]["compliance"]["status"] == "EXEMPT"));
    assert_eq!(
        exempt["edges"].as_array().map(Vec::len),
        totals["exempt"].as_u64().map(|n| n as usize)
    );
    let seniors = f.roster(&token, json!({ "grade": "12" })).await;
    assert_eq!(by_name(&seniors).len(), 2);

    let bad = f
        .app
        .gql(
            &token,
            ROSTER,
            json!({ "org": f.school, "after": "not-a-cursor" }),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    let bad = f
        .app
        .gql(&token, ROSTER, json!({ "org": f.school, "grade": "13" }))
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_roster_read_writes_one_roster_entry_and_the_export_one_export_entry() {
    let mut f = Fixture::new().await;
    let a = f.student("Ada", 66, "K", &[]).await;
    let b = f.student("Ben", 66, "K", &[]).await;
    let token = f.school_token(&f.school);
    f.roster(&token, json!({ "first": 1 })).await;
    let resp = f
        .app
        .client
        .get(format!("{}/reports/roster/{}.csv", f.app.base, f.school))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);

    const LOG: &str = "query($a: AccessAction) { accessLog(filter: { action: $a }) { edges { node { action personIds fields role outcome } } } }";
    for action in ["ROSTER", "EXPORT"] {
        let data = f.app.ok(&f.admin, LOG, json!({ "a": action })).await;
        let entries = data["accessLog"]["edges"].as_array().expect("edges");
        assert_eq!(entries.len(), 1, "{action}: {entries:#?}");
        let entry = &entries[0]["node"];
        assert_eq!(
            (entry["role"].as_str(), entry["outcome"].as_str()),
            (Some("SCHOOL"), Some("ALLOWED"))
        );
        let mut persons: Vec<&str> = entry["personIds"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        persons.sort_unstable();
        let mut expected = vec![a.as_str(), b.as_str()];
        expected.sort_unstable();
        assert_eq!(persons, expected, "every student whose compliance was read");
        assert!(entry["fields"]
            .as_array()
            .expect("fields")
            .contains(&json!("schoolCompliance")));
    }
}

#[tokio::test]
async fn schools_read_only_their_own_current_roster_and_providers_none() {
    let mut f = Fixture::new().await;
    let kid = f.student("Cleo", 66, "K", &[("20", 2, 0)]).await;
    let own = f.school_token(&f.school);
    let other = f.school_token(&f.other_school);
    let provider = f.app.provider(&f.clinic);

    let denied = f.app.gql(&other, ROSTER, json!({ "org": f.school })).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
    assert!(denied["data"].is_null() || denied["data"]["roster"].is_null());
    let denied = f
        .app
        .gql(&provider, ROSTER, json!({ "org": f.school }))
        .await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"));
    let last_year = policies::school_year_of(f.today - chrono::Duration::days(366));
    let denied = f
        .app
        .gql(&own, ROSTER, json!({ "org": f.school, "year": last_year }))
        .await;
    assert_eq!(
        error_code(&denied),
        Some("FORBIDDEN"),
        "only current enrollments"
    );
    let mine = f.roster(&own, json!({})).await;
    assert_eq!(by_name(&mine).len(), 1);
    // The other school's own roster is empty: Cleo is not enrolled there.
    let theirs = f
        .app
        .ok(&other, ROSTER, json!({ "org": f.other_school }))
        .await;
    assert_eq!(theirs["roster"]["edges"], json!([]));

    // The denials are in the access log.
    let log = f
        .app
        .ok(
            &f.admin,
            "{ accessLog(filter: { action: DENIED }) { edges { node { role reason } } } }",
            json!({}),
        )
        .await;
    let reasons: Vec<String> = log["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    for rule in [
        "roster_own_org",
        "roster_needs_scope",
        "roster_current_year",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(rule)),
            "{rule} in {reasons:?}"
        );
    }

    // The CSV export obeys the same rules.
    let csv = |token: Option<&str>, org: &str| {
        let mut req = f
            .app
            .client
            .get(format!("{}/reports/roster/{org}.csv", f.app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let ok = csv(Some(&own), &f.school).await.expect("request");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    let body = ok.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0]
        .starts_with("person_id,last_name,first_name,date_of_birth,grade,status,vaccine_group"));
    assert_eq!(lines.len(), 1 + 5, "one line per K requirement: {body}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.starts_with(&format!("\"{kid}\",\"Student\",\"Cleo\","))),
        "{body}"
    );
    assert!(
        lines.iter().any(|l| l.contains(",\"DTaP\",\"1\",\"4\",")),
        "{body}"
    );
    for (token, org, status) in [
        (Some(other.as_str()), f.school.as_str(), 403),
        (Some(provider.as_str()), f.school.as_str(), 403),
        (None, f.school.as_str(), 401),
        (Some(own.as_str()), "not-an-id", 400),
    ] {
        let resp = csv(token, org).await.expect("request");
        assert_eq!(resp.status(), status, "{org}");
        let body: Value = resp.json().await.expect("json error");
        assert!(error_code(&body).is_some(), "{body}");
    }
}

#[tokio::test]
async fn person_school_compliance_follows_the_field_matrix_and_the_own_org_rule() {
    let mut f = Fixture::new().await;
    let kid = f
        .student("Dana", 66, "K", &[("20", 2, 0), ("20", 4, 0)])
        .await;
    const Q: &str = "query($id: ID!, $org: ID!) { person(id: $id) { firstName schoolCompliance(organizationId: $org) { status requirements { vaccineGroup dosesCounted dosesRequired } } } }";
    let provider = f.app.provider(&f.clinic);
    let data = f
        .app
        .ok(&provider, Q, json!({ "id": kid, "org": f.school }))
        .await;
    let c = &data["person"]["schoolCompliance"];
    // 5½ years old: the next doses come after the 4th birthday, so four will do.
    assert_eq!(
        counts(requirement(&json!({ "compliance": c }), "DTaP")),
        (2, 4)
    );
    let not_enrolled = f
        .app
        .ok(&provider, Q, json!({ "id": kid, "org": f.other_school }))
        .await;
    assert_eq!(not_enrolled["person"]["schoolCompliance"], Value::Null);

    let school = f.school_token(&f.school);
    let own = f
        .app
        .ok(&school, Q, json!({ "id": kid, "org": f.school }))
        .await;
    assert_eq!(own["person"]["schoolCompliance"], *c);
    let elsewhere = f
        .app
        .gql(&school, Q, json!({ "id": kid, "org": f.other_school }))
        .await;
    assert_eq!(error_code(&elsewhere), Some("FORBIDDEN"));
    assert_eq!(
        elsewhere["data"]["person"]["firstName"], "Dana",
        "only the field is refused"
    );

    let plan = f.app.create_org("Plan", "HEALTH_PLAN").await;
    f.app
        .ok(
            &f.admin,
            "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }",
            json!({ "p": kid, "o": plan }),
        )
        .await;
    let plan_token = f
        .app
        .token(TokenRequest::new(Role::HealthPlan).org(plan.parse().expect("uuid")));
    let refused = f
        .app
        .gql(&plan_token, Q, json!({ "id": kid, "org": f.school }))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    assert_eq!(refused["data"]["person"]["schoolCompliance"], Value::Null);
}

#[tokio::test]
async fn a_roster_costs_the_same_statements_for_three_students_as_for_twenty_five() {
    let mut f = Fixture::new().await;
    let history: [Dose; 4] = [("20", 2, 0), ("10", 2, 0), ("08", 0, 0), ("03", 12, 0)];
    let names: [&'static str; 25] = [
        "S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09", "S10", "S11", "S12", "S13",
        "S14", "S15", "S16", "S17", "S18", "S19", "S20", "S21", "S22", "S23", "S24", "S25",
    ];
    for name in &names[..3] {
        f.student(name, 70, "K", &history).await;
    }
    // The second school's students.
    let small = f.school.clone();
    f.school = f.other_school.clone();
    for name in &names[3..] {
        f.student(name, 70, "1", &history).await;
    }
    let large = f.school.clone();
    let admin = f.admin.clone();
    let mut cost = Vec::new();
    for (org, expected) in [(&small, 3), (&large, 22)] {
        let before = f.app.store.statements_executed();
        let data = f.app.ok(&admin, ROSTER, json!({ "org": org })).await;
        let after = f.app.store.statements_executed();
        assert_eq!(
            data["roster"]["edges"].as_array().map(Vec::len),
            Some(expected)
        );
        cost.push(after - before);
    }
    println!(
        "roster statements: 3 students → {}, 22 students → {}",
        cost[0], cost[1]
    );
    assert_eq!(cost[0], cost[1], "round trips grew with the roster");
    assert!(cost[1] < 30, "{} statements", cost[1]);
}

#[tokio::test]
async fn a_malformed_requirements_file_stops_start_up_with_the_rule_named() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bad.toml");
    let text = school::EMBEDDED[0]
        .1
        .replacen("vaccine = \"Polio\"", "vaccine = \"Polyo\"", 1);
    std::fs::write(&path, text).expect("write");
    let settings = gateway::Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        seed_demo: false,
        requirements_file: Some(path),
        ..gateway::Settings::default()
    };
    let err = match gateway::Application::build(settings).await {
        Ok(_) => panic!("started with a bad requirements file"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("k12-polio") && err.contains("Polyo"), "{err}");

    let settings = gateway::Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        seed_demo: false,
        jurisdiction: "XX".into(),
        ..gateway::Settings::default()
    };
    let err = match gateway::Application::build(settings).await {
        Ok(_) => panic!("started with an unknown jurisdiction"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("XX"), "{err}");
}
