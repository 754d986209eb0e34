//! Loading a requirements file: Minnesota's built-in file is valid, and every kind of
//! mistake stops the load with a message naming the rule or vaccine at fault.

use forecast::Schedule;
use school::{Requirements, RequirementsError};

fn schedule() -> &'static Schedule {
    Schedule::embedded().expect("embedded schedule")
}

fn minnesota_text() -> &'static str {
    school::EMBEDDED
        .iter()
        .find(|(j, _)| *j == "MN")
        .map(|(_, t)| *t)
        .expect("Minnesota is built in")
}

fn load(text: &str) -> Result<Requirements, RequirementsError> {
    Requirements::parse(text, "test.toml", schedule())
}

#[test]
fn minnesotas_file_loads_with_every_rule() {
    let mn = Requirements::embedded("mn", schedule()).expect("valid");
    assert_eq!(mn.jurisdiction(), "MN");
    assert_eq!(mn.name(), "Minnesota");
    assert_eq!(mn.rule_count(), 9);
}

#[test]
fn every_rule_of_minnesotas_file_cites_a_source() {
    let text = minnesota_text();
    let rules = text.matches("[[rule]]").count();
    let fewer = text.matches("[[rule.fewer]]").count();
    let sources = text
        .lines()
        .filter(|l| l.trim_start().starts_with("source = \"Minn."))
        .count();
    assert_eq!(sources, rules + fewer);
}

#[test]
fn an_unknown_jurisdiction_is_refused() {
    let err = Requirements::embedded("ZZ", schedule()).expect_err("unknown");
    assert!(err.to_string().contains("ZZ"), "{err}");
    assert!(
        err.to_string().contains("MN"),
        "lists what is built in: {err}"
    );
}

#[test]
fn an_unknown_vaccine_group_stops_the_load() {
    let text = minnesota_text().replace("group = \"Polio\"", "group = \"Poliomyelitis-X\"");
    let err = load(&text).expect_err("unknown group");
    assert!(
        matches!(err, RequirementsError::UnknownVaccineGroup { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("Poliomyelitis-X") && message.contains("`Polio`"),
        "{message}"
    );
}

#[test]
fn a_cvx_code_outside_the_group_stops_the_load() {
    let text = minnesota_text().replace("cvx = [\"115\"]", "cvx = [\"03\"]");
    let err = load(&text).expect_err("MMR is not a Tdap");
    assert!(err.to_string().contains("CVX `03`"), "{err}");
    let text = minnesota_text().replace("cvx = [\"115\"]", "cvx = [\"9999\"]");
    assert!(load(&text).is_err());
}

#[test]
fn a_rule_naming_an_undeclared_vaccine_stops_the_load() {
    let text = minnesota_text().replace("vaccine = \"HepB\"", "vaccine = \"HepBee\"");
    let err = load(&text).expect_err("undeclared");
    let message = err.to_string();
    assert!(
        message.contains("k12-hepb") && message.contains("HepBee"),
        "{message}"
    );
}

#[test]
fn malformed_rules_stop_the_load() {
    let cases = [
        // A misspelt key.
        ("doses = 3\nsource", "dozes = 3\nsource", "dozes"),
        // No dose count.
        ("doses = 3\nsource", "source", "doses"),
        // An unknown grade.
        ("grades = [\"K\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\", \"10\", \"11\", \"12\"]\ndoses = 3",
         "grades = [\"K\", \"13\"]\ndoses = 3", "grade `13`"),
        // A condition of neither form.
        ("when = { age_at_least = 7 }", "when = { age_at_least = 7, dose = 2 }", "condition"),
        // Fewer doses that are not fewer.
        ("doses = 4\nwhen = { dose = 4", "doses = 6\nwhen = { dose = 4", "fewer"),
        // A blank citation.
        ("source = \"Minn. R. ch. 4604 (2020): grade 7 and up, 1 dose of meningococcal ACWY\"", "source = \" \"", "source"),
        // Two rules for one vaccine in one grade.
        ("grades = [\"7\", \"8\", \"9\", \"10\", \"11\"]", "grades = [\"7\", \"8\", \"9\", \"10\", \"11\", \"12\"]", "already required"),
        // Not TOML.
        ("[vaccines]", "[vaccines", "test.toml"),
    ];
    for (from, to, expect) in cases {
        let text = minnesota_text().replacen(from, to, 1);
        assert_ne!(
            text,
            minnesota_text(),
            "the case `{expect}` changed nothing"
        );
        let err = load(&text).expect_err(expect);
        assert!(
            err.to_string().contains(expect),
            "expected `{expect}` in: {err}"
        );
    }
}
