//! The NIST VXU examples (CDC_IIS_Open_Tools, Apache-2.0, copied under tests/examples/ with
//! their license): each parses, validates as accepted (AA), and reports exactly the findings
//! below. The findings are genuine: the examples carry the county in XAD.9-11 the 2.7 way
//! (`42003^Allegheny^PHVS_County_FIPS_6-4`, so XAD.11 "address representation code" holds a
//! 20-character value-set name) and shift RXA-11's LA2 address by one component (the street in
//! LA2.10, the county code in LA2.14 "country", "12" in LA2.6 "patient location type").

use hl7::segments::Vxu;
use hl7::{check, AckCode};

fn findings(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/examples/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example");
    let (msg, v) = check(&text);
    let msg = msg.expect("parses");
    assert_eq!(v.ack_code(), AckCode::Accept, "{file}: {:#?}", v.issues);
    assert_eq!(v.profile.map(|p| p.identifier.as_str()), Some("Z22"));
    assert!(v.ignored_segments.is_empty());
    let vxu = Vxu::read(&msg, &v.ignored_segments).expect("VXU");
    assert!(vxu.pid.is_some());
    assert_eq!(vxu.orders.len(), 1, "{file}");
    assert!(vxu.orders[0].rxa.is_some());
    v.issues
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {}",
                i.location,
                i.code.code(),
                i.severity.code(),
                i.app_code.map_or("", |a| a.code())
            )
        })
        .collect()
}

const COUNTY_IN_XAD: [&str; 2] = ["PID^1^11^1^11 102 W 4", "PID^1^11^1^11 103 W 5"];

#[test]
fn new_covid_vaccine() {
    let mut expected = COUNTY_IN_XAD.to_vec();
    expected.extend(["RXA^1^11^1^6 103 W 5", "RXA^1^11^1^14 102 W 4"]);
    assert_eq!(findings("NIST-Adult-z22-New-Covid-vaccine.hl7"), expected);
}

#[test]
fn non_vaccination_deferral() {
    assert_eq!(
        findings("NIST-Adult-z22-non-vaccination-deferral.hl7"),
        COUNTY_IN_XAD
    );
}

#[test]
fn non_vaccination_missed_appointment() {
    assert_eq!(
        findings("NIST-Adult-z22-non-vaccination-missed-appointment.hl7"),
        COUNTY_IN_XAD
    );
}

#[test]
fn serologic_evidence_covid() {
    assert_eq!(
        findings("NIST-Adult-z22-serologic-evidence-covid.hl7"),
        COUNTY_IN_XAD
    );
}

#[test]
fn typed_views_read_the_covid_example() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/examples/NIST-Adult-z22-New-Covid-vaccine.hl7"
    ))
    .expect("example");
    let (msg, _) = check(&text);
    let msg = msg.expect("parses");
    let vxu = Vxu::read(&msg, &[]).expect("VXU");
    assert_eq!(vxu.msh.control_id(), "NIST-IZ-001.00");
    assert_eq!(vxu.msh.profiles(), ["Z22"]);
    assert_eq!(vxu.msh.sending_facility().namespace, "X68");
    let pid = vxu.pid.expect("PID");
    let ids = pid.identifiers();
    assert_eq!(
        (
            ids[0].id.as_str(),
            ids[0].authority.as_str(),
            ids[0].type_code.as_str()
        ),
        ("123456", "MYEHR", "MR")
    );
    assert_eq!(
        (ids[1].id.as_str(), ids[1].type_code.as_str()),
        ("987633", "SR")
    );
    assert_eq!(pid.names()[0].family, "Winchester");
    assert_eq!(pid.mothers_maiden_name(), "Bruno");
    assert_eq!((pid.birth_date(), pid.sex()), ("19840615", "F"));
    assert_eq!(pid.addresses()[0].city, "Allentown");
    assert_eq!(pid.phones()[0].number, "5551213");
    let order = &vxu.orders[0];
    assert_eq!(order.orc.filler_order(), "197030");
    let rxa = order.rxa.expect("RXA");
    assert_eq!(rxa.vaccine().code, "24");
    assert_eq!(rxa.vaccine().alt_system, "NDC");
    assert!(rxa.is_administered());
    assert_eq!(rxa.administered_at_facility(), "123456");
    assert_eq!(
        (rxa.lots(), rxa.expiration()),
        (vec!["8L7B3418"], "20211231")
    );
    assert_eq!(rxa.manufacturer().code, "PMC");
    assert_eq!((rxa.completion_status(), rxa.action_code()), ("CP", "A"));
    assert_eq!(order.rxr.expect("RXR").site().code, "RD");
    let obs: Vec<String> = order
        .observations
        .iter()
        .map(|o| o.observation().code)
        .collect();
    assert_eq!(
        obs,
        ["69764-9", "29769-7", "64994-7", "30963-3", "30973-2", "59783-1", "59785-6"]
    );
    assert_eq!(order.observations[2].coded_value().code, "V01");
    assert_eq!(order.observations[1].value(), "20201031");
}
