//! QBP^Q11 (Z34, Z44) validation and the RSP^K11 builders (Z32, Z31, Z33, Z42).

use hl7::segments::{Qpd, Rcp};
use hl7::{check, AckCode, Message, QueryStatus, ResponseHeader, RspBuilder, RspProfile, Segment};

const Z34: &str = include_str!("messages/qbp_z34.hl7");
const Z44: &str = include_str!("messages/qbp_z44.hl7");

fn header() -> ResponseHeader {
    ResponseHeader {
        application: vec!["IZGRAPH".into()],
        facility: vec!["STATEIIS".into()],
        time: "20261203151500+0000".into(),
        control_id: "RSP-1".into(),
    }
}

fn lines(m: &Message) -> Vec<String> {
    m.encode()
        .split('\r')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn z34_and_z44_queries_are_accepted_against_their_own_profiles() {
    for (text, id) in [(Z34, "Z34"), (Z44, "Z44")] {
        let (msg, v) = check(text);
        assert_eq!(v.ack_code(), AckCode::Accept, "{id}: {:#?}", v.issues);
        assert!(v.issues.is_empty(), "{id}: {:#?}", v.issues);
        assert_eq!(v.profile.map(|p| p.identifier.as_str()), Some(id));
        let msg = msg.expect("parses");
        let qpd = Qpd::of(msg.segment("QPD").expect("QPD")).expect("view");
        assert_eq!(qpd.query_name().code, id);
        assert_eq!(qpd.query_tag(), "Q-TAG-1");
        assert_eq!(qpd.identifiers()[0].id, "A12345");
        assert_eq!(
            (
                qpd.name().family.as_str(),
                qpd.mothers_maiden_name().family.as_str()
            ),
            ("Doe", "Smith")
        );
        assert_eq!(
            (qpd.birth_date(), qpd.sex(), qpd.birth_order()),
            ("20230115", "F", "1")
        );
        let rcp = Rcp::of(msg.segment("RCP").expect("RCP")).expect("view");
        assert_eq!((rcp.priority(), rcp.quantity_limit()), ("I", Some(10)));
    }
}

#[test]
fn query_without_rcp_is_an_error() {
    let text = Z34.split("RCP|").next().expect("before RCP");
    let (_, v) = check(text);
    assert_eq!(v.ack_code(), AckCode::Error);
    let errs: Vec<String> = v
        .issues
        .iter()
        .map(|i| i.to_segment())
        .map(|s| {
            Message {
                separators: Default::default(),
                segments: vec![s],
            }
            .encode()
        })
        .collect();
    assert_eq!(errs, ["ERR||RCP^1|100^Segment sequence error^HL70357|E|7^Required data missing^HL70533|||Required segment RCP is missing\r"]);
}

#[test]
fn query_of_an_unknown_profile_is_rejected() {
    let text = Z34.replace("Z34^", "Z99^");
    let (_, v) = check(&text);
    assert_eq!(v.ack_code(), AckCode::Reject);
    assert_eq!(v.issues[0].location.to_string(), "MSH^1^21^1");
    assert_eq!(v.issues[0].code.code(), "204");
}

#[test]
fn z33_not_found_echoes_the_query() {
    let (msg, _) = check(Z34);
    let rsp = RspBuilder::new(
        &msg.expect("parses"),
        &header(),
        RspProfile::Z33,
        QueryStatus::NotFound,
    )
    .build();
    assert_eq!(
        lines(&rsp),
        [
            "MSH|^~\\&|IZGRAPH|STATEIIS|TestEHR^2.16.840.1.113883.3.72.5.40.1^ISO|X68^2.16.840.1.113883.3.72.5.40.2^ISO|20261203151500+0000||RSP^K11^RSP_K11|RSP-1|P|2.5.1|||NE|NE|||||Z33^CDCPHINVS|STATEIIS^^^^^NIST-AA-IZ-1^XX^^^100-2|X68^^^^^NIST-AA-IZ-1^XX^^^100-1",
            "MSA|AA|Q-0001",
            "QAK|Q-TAG-1|NF|Z34^Request Immunization History^CDCPHINVS",
            "QPD|Z34^Request Immunization History^CDCPHINVS|Q-TAG-1|A12345^^^X68^MR|Doe^Jane^Marie^^^^L|Smith^Ann^^^^^M|20230115|F|12 Main Street^^Springfield^IL^62701^USA^L|^PRN^PH^^^217^5551234|N|1",
        ]
    );
    // The response is itself a conformant message of its kind: it parses back unchanged.
    assert_eq!(Message::parse(&rsp.encode()).expect("reparses"), rsp);
}

#[test]
fn z32_carries_the_patient_and_each_dose_with_set_ids() {
    let (msg, _) = check(Z34);
    let mut pid = Segment::new("PID");
    pid.set_components(3, &["IZG-7", "", "", "IZGRAPH", "SR"])
        .set_components(5, &["Doe", "Jane"])
        .set_value(7, "20230115");
    let mut nk1 = Segment::new("NK1");
    nk1.set_components(2, &["Doe", "Mary"])
        .set_components(3, &["MTH", "Mother", "HL70063"]);
    let mut orc = Segment::new("ORC");
    orc.set_value(1, "RE")
        .set_components(3, &["DOSE-1", "IZGRAPH"]);
    let mut rxa = Segment::new("RXA");
    rxa.set_value(1, "0")
        .set_value(2, "1")
        .set_value(3, "20240301")
        .set_components(5, &["08", "HepB", "CVX"])
        .set_value(6, "999");
    let mut obx = Segment::new("OBX");
    obx.set_value(2, "CE")
        .set_components(3, &["64994-7", "Eligibility", "LN"]);
    let mut b = RspBuilder::new(
        &msg.expect("parses"),
        &header(),
        RspProfile::Z32,
        QueryStatus::Ok,
    );
    b.patient(pid, None, vec![nk1])
        .order(
            orc.clone(),
            rxa.clone(),
            None,
            vec![obx.clone(), obx.clone()],
        )
        .order(orc, rxa, None, vec![obx]);
    let l = lines(&b.build());
    assert!(l[0].contains("|Z32^CDCPHINVS|"));
    assert_eq!(
        &l[1..4],
        [
            "MSA|AA|Q-0001",
            "QAK|Q-TAG-1|OK|Z34^Request Immunization History^CDCPHINVS",
            &l[3]
        ]
    );
    assert_eq!(l[4], "PID|1||IZG-7^^^IZGRAPH^SR||Doe^Jane||20230115");
    assert_eq!(l[5], "NK1|1|Doe^Mary|MTH^Mother^HL70063");
    let obx_ids: Vec<&str> = l
        .iter()
        .filter(|s| s.starts_with("OBX|"))
        .map(|s| &s[4..5])
        .collect();
    assert_eq!(obx_ids, ["1", "2", "1"]);
}

#[test]
fn z31_numbers_candidates_and_z42_answers_z44() {
    let (msg, _) = check(Z34);
    let msg = msg.expect("parses");
    let mut b = RspBuilder::new(&msg, &header(), RspProfile::Z31, QueryStatus::Protected);
    for name in ["Doe", "Doe"] {
        let mut pid = Segment::new("PID");
        pid.set_components(5, &[name, "Jane"]);
        b.patient(pid, None, Vec::new());
    }
    let l = lines(&b.build());
    assert_eq!(
        l[2],
        "QAK|Q-TAG-1|PD|Z34^Request Immunization History^CDCPHINVS"
    );
    assert_eq!(&l[4..], ["PID|1||||Doe^Jane", "PID|2||||Doe^Jane"]);

    let (q44, _) = check(Z44);
    let rsp = RspBuilder::new(
        &q44.expect("parses"),
        &header(),
        RspProfile::Z42,
        QueryStatus::Ok,
    )
    .build();
    assert!(lines(&rsp)[0].contains("|Z42^CDCPHINVS|"));
}
