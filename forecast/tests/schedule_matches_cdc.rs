//! The project's schedule (`forecast/schedule/*.json`, embedded in the crate) must be
//! exactly what the converter produces from the CDC supporting data in
//! `../shared/cdsi/supporting-data`, so the two cannot drift. To update after a CDC
//! release: `cargo run -p forecast --features import --bin cdsi-import -- ../shared/cdsi/supporting-data forecast/schedule`.

#[path = "../src/import_xml.rs"]
#[allow(dead_code)]
mod import_xml;

use forecast::schedule::EMBEDDED_FILES;
use forecast::Schedule;
use std::path::PathBuf;

#[test]
fn schedule_matches_cdc_supporting_data() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cdsi/supporting-data");
    let converted = import_xml::convert_dir(&dir).expect("CDC supporting data converts");
    let mut problems = Vec::new();
    for (name, json) in &converted {
        match EMBEDDED_FILES.iter().find(|(n, _)| n == name) {
            None => problems.push(format!("{name}: missing from the project's schedule")),
            Some((_, ours)) => {
                let a: serde_json::Value =
                    serde_json::from_str(json).expect("converted JSON parses");
                let b: serde_json::Value = serde_json::from_str(ours).expect("project JSON parses");
                if a != b {
                    problems.push(format!(
                        "{name}: differs from the CDC data (re-run cdsi-import)"
                    ));
                }
            }
        }
    }
    for (name, _) in EMBEDDED_FILES {
        if !converted.contains_key(*name) {
            problems.push(format!("{name}: not in the CDC data"));
        }
    }
    assert!(
        problems.is_empty(),
        "schedule drift:\n{}",
        problems.join("\n")
    );
}

#[test]
fn embedded_schedule_loads_and_has_every_group() {
    let schedule = Schedule::embedded().expect("embedded schedule is valid");
    assert_eq!(
        schedule.vaccine_groups().count(),
        forecast::VaccineGroup::ALL.len()
    );
    assert!(schedule.antigens().count() >= 30);
}

#[test]
fn malformed_schedule_is_a_typed_error() {
    let err = Schedule::from_json_files([("schedule.json", "{ not json")]).expect_err("must fail");
    assert!(matches!(err, forecast::ScheduleError::Json { .. }), "{err}");
    let (data, _) = Schedule::embedded().expect("valid").data();
    let json = serde_json::to_string(data).expect("serializes");
    let err = Schedule::from_json_files([("schedule.json", json.as_str())])
        .expect_err("antigens missing");
    assert!(
        matches!(err, forecast::ScheduleError::UnknownAntigen { .. }),
        "{err}"
    );
}
