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
    assert_eq!(mn.rule_count(), 15);
}

#[test]
fn every_rule_of_minnesotas_file_cites_a_source() {
    let text = minnesota_text();
    let mn = Requirements::embedded("MN", schedule()).expect("valid");
    let blocks = text.matches("[[rule]]").count()
        + text.matches("[[rule.fewer]]").count()
        + text.matches("[[rule.immunity]]").count()
        + text.matches("[completion]").count();
    assert_eq!(mn.sources().count(), blocks);
}

/// Issue 22 item 3: the rules were last adopted in 2013 (38 SR 557), applying from
/// 2014-09-01, not "amended in 2020"; the grade-12 booster is enforced since 2020-21.
#[test]
fn minnesotas_sources_cite_the_2013_rules_and_the_statute() {
    let mn = Requirements::embedded("MN", schedule()).expect("valid");
    for (rule, source) in mn.sources() {
        assert!(
            source.contains("121A.15") || source.contains("4604"),
            "{rule}: cites neither the statute nor the rule: {source}"
        );
        assert!(
            !source.contains("(2020)") && !source.contains("amended"),
            "{rule}: {source}"
        );
    }
    let cites = |rule: &str, what: &str| {
        mn.sources()
            .filter(|(r, _)| *r == rule)
            .all(|(_, s)| s.contains(what))
    };
    for rule in [
        "k12-hepb",
        "k12-dtap",
        "k12-polio",
        "k12-mmr",
        "g7-tdap",
        "g7-menacwy",
    ] {
        assert!(cites(rule, "38 SR 557"), "{rule}");
    }
    assert!(cites("g12-menacwy", "2020-21"));
    assert!(cites("cc-pcv", "4604.1000"));
    assert!(cites("completion", "121A.15 subd. 2"));
    let header: String = minnesota_text()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect();
    assert!(
        header.contains("38 SR 557") && header.contains("2014-09-01"),
        "{header}"
    );
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
        ("source = \"Minn. R. ch. 4604 as adopted 2013 (38 SR 557), from 2014-09-01; MDH requirement chart: grade 7 and up, 1 dose of meningococcal ACWY\"", "source = \" \"", "source"),
        // Two rules for one vaccine in one grade.
        ("grades = [\"7\", \"8\", \"9\", \"10\", \"11\"]", "grades = [\"7\", \"8\", \"9\", \"10\", \"11\", \"12\"]", "already required"),
        // The new data of issue 22, each checked at load.
        ("ages = { before = \"18 years\" }", "ages = { befor = \"18 years\" }", "befor"),
        ("ages = { from = \"2 months\", before = \"2 years\" }", "ages = { from = \"2 years\", before = \"2 months\" }", "below"),
        ("ages = { from = \"12 months\" }", "ages = { }", "needs `from`"),
        ("given_at = { from = \"11 years\"", "given_at = { from = \"11 yrs\"", "11 yrs"),
        ("cvx = [\"43\"]", "cvx = [\"03\"]", "CVX `03`"),
        ("documented_by = [\"parent\"]", "documented_by = [\"neighbour\"]", "neighbour"),
        ("documented_by = [\"parent\"]", "documented_by = []", "documented_by"),
        ("disease_before = \"2010-09-01\"", "disease_before = \"2010-13-01\"", "disease_before"),
        ("window = \"18 months\"", "window = \"eighteen\"", "window"),
        ("vaccines = [\"PCV\"]", "vaccines = [\"PCV\"]\ndoses = 4", "up_to_date"),
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
