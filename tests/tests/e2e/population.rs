//! Population jobs (issue 17): reminder/recall with every exclusion rule, its due/overdue
//! split against the forecast, jobs surviving a killed instance and stopping when cancelled,
//! lot recall, outbreak and coverage lists, the access log of list reads.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Months, NaiveDate};
use gateway::auth::TokenRequest;
use policies::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const START: &str = "mutation($k: PopulationJobKind!, $i: PopulationJobInput) { startPopulationJob(kind: $k, input: $i) { id status total shardsTotal } }";
const JOB: &str = "query($id: ID!) { populationJob(id: $id) { id status done total results shardsDone shardsTotal startedAt finishedAt error coverage { key total upToDate share } } }";
const RESULTS: &str = "query($id: ID!, $after: String, $c: String) { populationResults(jobId: $id, first: 3, after: $after, category: $c) { edges { cursor node { personId category firstName lastName county guardian addressBad contact { addressLine1 postalCode } groups { vaccineGroup status dueDate pastDueDate } doses { lotNumber cvx administeredById } key } } pageInfo { hasNextPage endCursor } } }";

/// A small registry: two clinics, children with hand-picked MMR histories, one person for each
/// exclusion rule.
struct World {
    clinic: String,
    other: String,
    /// first name → person id
    ids: BTreeMap<String, String>,
}

fn months_ago(today: NaiveDate, m: u32, days: u64) -> NaiveDate {
    today.checked_sub_months(Months::new(m)).expect("date") - chrono::Days::new(days)
}

async fn person(app: &TestApp, first: &str, dob: NaiveDate, zip: &str) -> String {
    let data = app
        .ok(
            &app.admin(),
            "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
            json!({ "i": { "firstName": first, "lastName": "Test", "dateOfBirth": dob.to_string(), "gender": "FEMALE",
                "contact": { "addressLine1": format!("{first} Street 1"), "city": "Minneapolis", "state": "MN", "postalCode": zip } } }),
        )
        .await;
    data["createPerson"]["id"].as_str().expect("id").to_owned()
}

async fn dose(app: &TestApp, person: &str, cvx: &str, date: NaiveDate, org: &str, lot: &str) {
    let body = app
        .gql(
            &app.admin(),
            "mutation($i: DoseInput!) { recordDose(input: $i) { stored } }",
            json!({ "i": { "personId": person, "cvx": cvx, "dateGiven": date.to_string(), "administeredById": org, "lotNumber": lot, "manufacturer": "MSD" } }),
        )
        .await;
    assert_eq!(body["data"]["recordDose"]["stored"], true, "{body:#}");
}

async fn consent(app: &TestApp, person: &str, input: Value) {
    app.ok(
        &app.admin(),
        "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation } }",
        json!({ "p": person, "i": input }),
    )
    .await;
}

async fn world(app: &TestApp) -> World {
    let today = app.today();
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let other = app.create_org("Other clinic", "CLINIC").await;
    let mut ids = BTreeMap::new();
    // (name, age in months, extra days, MMR given at 12 months?)
    let people: [(&str, u32, u64, bool); 11] = [
        ("Due", 12, 10, false),
        ("Overdue", 20, 0, false),
        ("Done", 20, 0, true),
        ("RemindersOff", 20, 0, false),
        ("OptedOut", 20, 0, false),
        ("LockedElsewhere", 20, 0, false),
        ("LockedHere", 20, 0, false),
        ("Reminded", 20, 0, false),
        ("Deceased", 20, 0, false),
        ("Moved", 20, 0, false),
        ("Inactive", 20, 0, false),
    ];
    for (name, months, days, mmr) in people {
        let dob = months_ago(today, months, days);
        let id = person(app, name, dob, "55401").await;
        // Every child had a hepatitis B birth dose at the clinic: its patients.
        dose(app, &id, "08", dob, &clinic, "HB-1").await;
        if mmr {
            dose(
                app,
                &id,
                "03",
                dob.checked_add_months(Months::new(12)).expect("date"),
                &clinic,
                "MMR-7",
            )
            .await;
        }
        ids.insert(name.to_owned(), id);
    }
    consent(
        app,
        &ids["RemindersOff"],
        json!({ "reminders": false, "channel": "FORM" }),
    )
    .await;
    consent(
        app,
        &ids["OptedOut"],
        json!({ "participation": "OPTED_OUT", "channel": "FORM" }),
    )
    .await;
    // The other clinic gave this child a dose too, and holds the lock.
    dose(
        app,
        &ids["LockedElsewhere"],
        "10",
        months_ago(today, 16, 0),
        &other,
        "IPV-2",
    )
    .await;
    consent(
        app,
        &ids["LockedElsewhere"],
        json!({ "lockedToId": other, "channel": "PROVIDER" }),
    )
    .await;
    consent(
        app,
        &ids["LockedHere"],
        json!({ "lockedToId": clinic, "channel": "PROVIDER" }),
    )
    .await;
    // A reminder went out to this child a week ago: inside the 30-day cap.
    let reminded: uuid::Uuid = ids["Reminded"].parse().expect("uuid");
    entities::model::notification::Entity::insert(entities::model::notification::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::now_v7()),
        person_id: sea_orm::Set(reminded),
        job_id: sea_orm::Set(None),
        channel: sea_orm::Set("MAIL".into()),
        outcome: sea_orm::Set("SENT".into()),
        address_key: sea_orm::Set(None),
        at: sea_orm::Set(chrono::Utc::now() - chrono::Duration::days(7)),
        recorded_by: sea_orm::Set("test".into()),
    })
    .exec(app.store.connection())
    .await
    .expect("notification");
    // Status as issue 15 records it (from death records, PD1-16, "moved or gone elsewhere").
    for (name, status) in [
        ("Deceased", entities::codes::PersonStatus::Deceased),
        ("Moved", entities::codes::PersonStatus::Moved),
        ("Inactive", entities::codes::PersonStatus::Inactive),
    ] {
        let id: uuid::Uuid = ids[name].parse().expect("uuid");
        entities::model::person::Entity::update_many()
            .col_expr(
                entities::model::person::Column::Status,
                sea_orm::sea_query::Expr::value(status),
            )
            .col_expr(
                entities::model::person::Column::StatusDate,
                sea_orm::sea_query::Expr::value(Some(months_ago(today, 1, 0))),
            )
            .filter(entities::model::person::Column::Id.eq(id))
            .exec(app.store.connection())
            .await
            .expect("status");
    }
    World { clinic, other, ids }
}

async fn start(app: &TestApp, token: &str, kind: &str, input: Value) -> String {
    let data = app.ok(token, START, json!({ "k": kind, "i": input })).await;
    data["startPopulationJob"]["id"]
        .as_str()
        .expect("job id")
        .to_owned()
}

async fn wait_done(app: &TestApp, token: &str, job: &str) -> Value {
    for _ in 0..600 {
        let data = app.ok(token, JOB, json!({ "id": job })).await;
        let j = &data["populationJob"];
        if j["status"] != "QUEUED" && j["status"] != "RUNNING" {
            return j.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} did not finish");
}

/// Every row of a job's output, following the cursors.
async fn all_results(app: &TestApp, token: &str, job: &str, category: Option<&str>) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                token,
                RESULTS,
                json!({ "id": job, "after": after, "c": category }),
            )
            .await;
        let page = &data["populationResults"];
        rows.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return rows;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn names(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["firstName"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn reminder_recall_leaves_out_each_excluded_person_and_splits_due_from_overdue_by_the_forecast(
) {
    let app = TestApp::spawn_with(|s| {
        s.jobs.shard_size = 3;
        s.jobs.workers = 2;
    })
    .await;
    let w = world(&app).await;
    let provider = app.provider(&w.clinic);
    let job = start(
        &app,
        &provider,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    let done = wait_done(&app, &provider, &job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done:#}");
    assert_eq!(done["done"], done["total"]);
    let rows = all_results(&app, &provider, &job, None).await;
    assert_eq!(
        names(&rows),
        BTreeSet::from(["Due".into(), "Overdue".into(), "LockedHere".into()]),
        "reminders off, opted out, deceased, moved, inactive, locked to another clinic, reminded within the cap and up to date are left out"
    );
    // The split is the engine's: each row's dates are the person's recommendation.
    for row in &rows {
        let id = row["personId"].as_str().expect("id");
        let data = app
            .ok(&app.admin(), "query($id: ID!) { person(id: $id) { recommendations { vaccineGroup recommendedDate pastDueDate } } }", json!({ "id": id }))
            .await;
        let mmr = data["person"]["recommendations"]
            .as_array()
            .and_then(|r| r.iter().find(|g| g["vaccineGroup"] == "MMR"))
            .expect("MMR recommendation")
            .clone();
        let group = &row["groups"][0];
        assert_eq!(group["vaccineGroup"], "MMR");
        assert_eq!(group["dueDate"], mmr["recommendedDate"]);
        assert_eq!(group["pastDueDate"], mmr["pastDueDate"]);
        let past_due: NaiveDate = mmr["pastDueDate"]
            .as_str()
            .expect("past due")
            .parse()
            .expect("date");
        let due: NaiveDate = mmr["recommendedDate"]
            .as_str()
            .expect("due")
            .parse()
            .expect("date");
        let today = app.today();
        let want = if today >= past_due {
            "OVERDUE"
        } else {
            assert!(today >= due);
            "DUE"
        };
        assert_eq!(row["category"], want, "{row:#}");
        assert_eq!(group["status"], want);
    }
    let by_name: BTreeMap<String, &Value> = rows
        .iter()
        .map(|r| (r["firstName"].as_str().expect("n").to_owned(), r))
        .collect();
    assert_eq!(by_name["Due"]["category"], "DUE");
    assert_eq!(by_name["Overdue"]["category"], "OVERDUE");
    assert_eq!(
        by_name["Due"]["contact"]["postalCode"], "55401",
        "providers see contact"
    );

    // The lock holder's list has the child locked to it; the registry-wide list has no locked
    // child at all.
    let other = app.provider(&w.other);
    let job = start(
        &app,
        &other,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    wait_done(&app, &other, &job).await;
    assert_eq!(
        names(&all_results(&app, &other, &job, None).await),
        BTreeSet::from(["LockedElsewhere".into()])
    );
    let admin = app.admin();
    let job = start(
        &app,
        &admin,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    wait_done(&app, &admin, &job).await;
    assert_eq!(
        names(&all_results(&app, &admin, &job, None).await),
        BTreeSet::from(["Due".into(), "Overdue".into()])
    );
    // A shorter cap lets the reminded child back in.
    let job = start(
        &app,
        &admin,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"], "frequencyCapDays": 3 }),
    )
    .await;
    wait_done(&app, &admin, &job).await;
    assert!(names(&all_results(&app, &admin, &job, Some("OVERDUE")).await).contains("Reminded"));
}

#[tokio::test]
async fn a_list_read_is_one_access_log_entry_naming_its_persons_and_other_organizations_see_no_job()
{
    let app = TestApp::spawn_with(|s| {
        s.jobs.shard_size = 4;
        s.jobs.workers = 2;
    })
    .await;
    let w = world(&app).await;
    let provider = app.provider(&w.clinic);
    let job = start(
        &app,
        &provider,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    wait_done(&app, &provider, &job).await;
    let data = app.ok(&provider, RESULTS, json!({ "id": job })).await;
    let listed: BTreeSet<String> = data["populationResults"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["personId"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(listed.len(), 3);
    let log = app
        .ok(&app.token(TokenRequest::new(Role::Auditor)), "{ accessLog(first: 50) { edges { node { action personIds fields organizationId } } } }", json!({}))
        .await;
    let entries: Vec<&Value> = log["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .filter(|n| {
            n["fields"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "populationList"))
        })
        .collect();
    assert_eq!(entries.len(), 1, "one entry for the page");
    let named: BTreeSet<String> = entries[0]["personIds"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    assert_eq!(named, listed);
    assert_eq!(entries[0]["organizationId"], w.clinic.as_str());

    // Another clinic, a school and a guardian: no such job; no job for a school at all.
    let body = app
        .gql(&app.provider(&w.other), RESULTS, json!({ "id": job }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let school = app.create_org("School", "SCHOOL").await;
    let school = app.token(TokenRequest::new(Role::School).org(school.parse().expect("org")));
    let body = app
        .gql(&school, START, json!({ "k": "REMINDER_RECALL", "i": {} }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let body = app.gql(&provider, START, json!({ "k": "OUTBREAK_AT_RISK", "i": { "vaccineGroups": ["MMR"], "postalCodes": ["55401"] } })).await;
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "outbreak lists are public health's"
    );
}

#[tokio::test]
async fn a_job_whose_instance_is_killed_finishes_on_another_without_missing_or_duplicated_output() {
    // Instance A runs one worker that pauses before each commit; it is killed while it holds
    // a shard. Instance B, on the same database, takes that shard once A's lease runs out.
    let mut a = TestApp::spawn_with(|s| {
        s.jobs.shard_size = 1;
        s.jobs.workers = 1;
        s.jobs.lease = Duration::from_secs(2);
        s.jobs.pause_before_commit = Some(Duration::from_millis(250));
    })
    .await;
    let w = world(&a).await;
    let admin = a.admin();
    let job = start(&a, &admin, "LOT_RECALL", json!({ "lotNumber": "HB-1" })).await;
    let job_id: uuid::Uuid = job.parse().expect("uuid");
    use entities::model::population_job_shard as shard;
    let held = loop {
        let data = a.ok(&admin, JOB, json!({ "id": job })).await;
        let claimed = shard::Entity::find()
            .filter(shard::Column::JobId.eq(job_id))
            .filter(shard::Column::Status.eq("CLAIMED"))
            .one(a.store.connection())
            .await
            .expect("shards");
        if data["populationJob"]["shardsDone"].as_i64() >= Some(2) {
            if let Some(s) = claimed {
                a.kill();
                break s;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let b = TestApp::spawn_beside(&a, |s| {
        s.jobs.workers = 2;
        s.jobs.lease = Duration::from_secs(2);
    })
    .await;
    let admin_b = b.admin();
    let done = wait_done(&b, &admin_b, &job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done:#}");
    let retaken = shard::Entity::find_by_id((job_id, held.shard))
        .one(b.store.connection())
        .await
        .expect("shard")
        .expect("row");
    assert_eq!(retaken.status, "DONE");
    assert_ne!(
        retaken.lease_owner, held.lease_owner,
        "finished by the other instance"
    );
    let rows = all_results(&b, &admin_b, &job, None).await;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["personId"].as_str().expect("id").to_owned())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "no duplicated output");
    // Everyone given lot HB-1 who is participating and not locked: all but the opted-out
    // (whose doses left with the opt-out) and the two locked children.
    let want: BTreeSet<String> = ["Due", "Overdue", "Done", "RemindersOff", "Reminded"]
        .iter()
        .map(|n| w.ids[*n].clone())
        .collect();
    assert_eq!(unique, want, "no missing output");
    assert_eq!(done["results"], 5);
    for r in &rows {
        assert_eq!(r["category"], "RECALLED");
        assert_eq!(r["doses"][0]["lotNumber"], "HB-1");
        assert_eq!(r["doses"][0]["administeredById"], w.clinic.as_str());
    }
    drop(b);
}

#[tokio::test]
async fn a_cancelled_job_stops_and_commits_no_more_output() {
    // An instance without workers takes the request; the job is cancelled before any runs.
    let a = TestApp::spawn_with(|s| {
        s.jobs.workers = 0;
        s.jobs.shard_size = 2;
    })
    .await;
    let w = world(&a).await;
    let provider = a.provider(&w.clinic);
    let job = start(&a, &provider, "REMINDER_RECALL", json!({})).await;
    let job_id: uuid::Uuid = job.parse().expect("uuid");
    // A worker that claimed a shard before the cancel loses its output.
    let claimed = a
        .store
        .claim_shard("test-worker", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("a shard");
    let data = a
        .ok(
            &provider,
            "mutation($id: ID!) { cancelPopulationJob(id: $id) { status finishedAt } }",
            json!({ "id": job }),
        )
        .await;
    assert_eq!(data["cancelPopulationJob"]["status"], "CANCELLED");
    let finish = a
        .store
        .finish_shard(
            &claimed,
            vec![entities::repo::jobs::NewResult {
                person_id: w.ids["Due"].parse().expect("uuid"),
                category: "DUE".into(),
                household: "h".into(),
                row: "{}".into(),
            }],
        )
        .await
        .expect("finish");
    assert_eq!(finish, entities::repo::jobs::Finish::Discarded);
    // Workers starting now find nothing to do.
    let b = TestApp::spawn_beside(&a, |s| s.jobs.workers = 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let j = b.ok(&b.admin(), JOB, json!({ "id": job })).await;
    assert_eq!(j["populationJob"]["status"], "CANCELLED");
    assert_eq!(j["populationJob"]["results"], 0);
    assert!(a
        .store
        .claim_shard("late", Duration::from_secs(1))
        .await
        .expect("claim")
        .is_none());
    let _ = job_id;
    drop(b);
}

#[tokio::test]
async fn outbreak_and_coverage_lists_follow_the_jurisdiction_and_the_forecast() {
    let app = TestApp::spawn_with(|s| s.jobs.workers = 2).await;
    let w = world(&app).await;
    let today = app.today();
    // A child in another county, at risk but outside the agency's jurisdiction.
    let far = person(&app, "FarAway", months_ago(today, 30, 0), "56001").await;
    dose(
        &app,
        &far,
        "08",
        months_ago(today, 30, 0),
        &w.clinic,
        "HB-1",
    )
    .await;
    let admin = app.admin();
    app.ok(&admin, "mutation { a: setZipCounties(county: \"Hennepin\", postalCodes: [\"55401\"]) b: setZipCounties(county: \"Blue Earth\", postalCodes: [\"56001\"]) }", json!({})).await;
    let agency = app
        .create_org("Hennepin public health", "PUBLIC_HEALTH_AGENCY")
        .await;
    app.ok(&admin, "mutation($o: ID!) { setOrganizationCounties(organizationId: $o, counties: [\"HENNEPIN\"]) }", json!({ "o": agency })).await;
    let body = app
        .gql(
            &app.provider(&w.clinic),
            "mutation { setZipCounties(county: \"X\", postalCodes: [\"1\"]) }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let ph = app.token(TokenRequest::new(Role::PublicHealth).org(agency.parse().expect("org")));
    let job = start(
        &app,
        &ph,
        "OUTBREAK_AT_RISK",
        json!({ "vaccineGroups": ["MMR"], "counties": ["Hennepin", "Blue Earth"] }),
    )
    .await;
    wait_done(&app, &ph, &job).await;
    let rows = all_results(&app, &ph, &job, None).await;
    // Without MMR: everyone in the jurisdiction but "Done" (valid dose), the opted-out and
    // the child locked to a clinic that is not the agency.
    assert_eq!(
        names(&rows),
        ["Due", "Overdue", "RemindersOff", "Reminded"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
    assert!(rows
        .iter()
        .all(|r| r["county"] == "HENNEPIN" && r["contact"]["addressLine1"].is_string()));

    // Coverage of 24–35-month-olds by county: FarAway (30 months) is the only one in the cohort.
    let job = start(
        &app,
        &admin,
        "COVERAGE",
        json!({ "cohort": "CHILDREN_24_TO_35_MONTHS", "groupBy": "COUNTY" }),
    )
    .await;
    let done = wait_done(&app, &admin, &job).await;
    assert_eq!(
        done["coverage"],
        json!([{ "key": "BLUE EARTH", "total": 1, "upToDate": 0, "share": 0.0 }])
    );
    let rows = all_results(&app, &admin, &job, Some("NOT_UP_TO_DATE")).await;
    assert_eq!(names(&rows), BTreeSet::from(["FarAway".to_string()]));
}

async fn export(app: &TestApp, token: &str, job: &str, file: &str) -> (u16, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}/reports/population/{job}/{file}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body").to_vec())
}

fn poppler(tool: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"))
}

#[tokio::test]
async fn reminder_letters_print_one_page_per_household_to_the_guardian_and_start_the_frequency_cap()
{
    let app = TestApp::spawn_with(|s| s.jobs.workers = 2).await;
    let w = world(&app).await;
    let admin = app.admin();
    // "Due" gets a verified guardian; "Overdue" moves in with "Due" (one household).
    let parent = person(&app, "Parent", months_ago(app.today(), 400, 0), "55401").await;
    app.ok(&admin, "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"MOTHER\") { id } }", json!({ "p": w.ids["Due"], "g": parent })).await;
    app.ok(&admin, "mutation($p: ID!, $i: PersonPatch!) { updatePerson(id: $p, input: $i) { id } }", json!({ "p": w.ids["Overdue"], "i": { "contact": { "addressLine1": "Due Street 1", "city": "Minneapolis", "state": "MN", "postalCode": "55401" } } })).await;
    // Mail to "LockedHere" came back: listed, flagged, no letter.
    let provider = app.provider(&w.clinic);
    app.ok(
        &provider,
        "mutation($p: ID!) { recordReturnedMail(personId: $p) }",
        json!({ "p": w.ids["LockedHere"] }),
    )
    .await;

    let job = start(
        &app,
        &provider,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    wait_done(&app, &provider, &job).await;
    let rows = all_results(&app, &provider, &job, None).await;
    let flagged: Vec<&Value> = rows.iter().filter(|r| r["addressBad"] == true).collect();
    assert_eq!(
        names(&flagged.into_iter().cloned().collect::<Vec<_>>()),
        BTreeSet::from(["LockedHere".to_string()])
    );

    let (status, csv) = export(&app, &provider, &job, "results.csv").await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    assert_eq!(csv.lines().count(), 4, "header and three persons:\n{csv}");
    assert!(csv.contains("\"OVERDUE\"") && csv.contains("\"DUE\""));

    let (status, pdf) = export(&app, &provider, &job, "letters.pdf").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("letters.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let text = poppler("pdftotext", &["-layout", path.to_str().expect("path"), "-"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(
        pages.len(),
        1,
        "one household, one page (the returned-mail address gets none):\n{text}"
    );
    assert!(
        pages[0].contains("Parent Test, parent or guardian of"),
        "{text}"
    );
    assert!(
        pages[0].contains("Due Test") && pages[0].contains("Overdue Test"),
        "{text}"
    );
    assert!(
        pages[0].contains("MMR: past due since") && pages[0].contains("MMR: due"),
        "{text}"
    );
    assert!(
        pages[0].contains("Due Street 1") && !text.contains("LockedHere"),
        "{text}"
    );
    let png = poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "40",
            "-singlefile",
            path.to_str().expect("path"),
            dir.path().join("page").to_str().expect("path"),
        ],
    );
    assert!(
        png.status.success(),
        "{}",
        String::from_utf8_lossy(&png.stderr)
    );
    let image = std::fs::read(dir.path().join("page.png")).expect("rendered page");
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");

    // The letters went out: a new run inside the cap leaves those persons out.
    let again = start(
        &app,
        &provider,
        "REMINDER_RECALL",
        json!({ "vaccineGroups": ["MMR"] }),
    )
    .await;
    wait_done(&app, &provider, &again).await;
    assert_eq!(
        names(&all_results(&app, &provider, &again, None).await),
        BTreeSet::from(["LockedHere".to_string()])
    );

    // Another organization cannot export; a chart is for coverage jobs.
    let (status, _) = export(&app, &app.provider(&w.other), &job, "results.csv").await;
    assert_eq!(status, 404);
    let (status, _) = export(&app, &provider, &job, "chart.svg").await;
    assert_eq!(status, 400);
    let cov = start(
        &app,
        &admin,
        "COVERAGE",
        json!({ "cohort": "CHILDREN_24_TO_35_MONTHS" }),
    )
    .await;
    wait_done(&app, &admin, &cov).await;
    let (status, svg) = export(&app, &admin, &cov, "chart.svg").await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    let (status, png) = export(&app, &admin, &cov, "chart.png").await;
    assert_eq!(status, 200);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
