//! Malformed messages, each with the exact acknowledgement the registry must answer: MSA-1 and
//! every ERR segment (location, table 0357 code, severity, CDC table 0533 code, message).

use hl7::{acknowledge, check, AckCode, ResponseHeader};

const CLEAN: &str = include_str!("messages/vxu_clean.hl7");

fn header() -> ResponseHeader {
    ResponseHeader {
        application: vec!["IZGRAPH".into()],
        facility: vec!["STATEIIS".into()],
        time: "20261203151500+0000".into(),
        control_id: "ACK-1".into(),
    }
}

/// The clean message with the segment starting with `prefix` replaced by `line` (or removed
/// when `line` is empty).
fn with(prefix: &str, line: &str) -> String {
    let mut found = false;
    let segs: Vec<&str> = CLEAN
        .split('\r')
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            if !found && s.starts_with(prefix) {
                found = true;
                (!line.is_empty()).then_some(line)
            } else {
                Some(s)
            }
        })
        .collect();
    assert!(found, "no segment {prefix}");
    segs.join("\r") + "\r"
}

/// MSA-1 and the ERR segments of the ACK, one string each.
fn answer(text: &str) -> (String, Vec<String>) {
    let ack = acknowledge(text, &header()).encode();
    let lines: Vec<String> = ack
        .split('\r')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let msa = lines
        .iter()
        .find(|l| l.starts_with("MSA|"))
        .expect("MSA")
        .clone();
    (
        msa,
        lines
            .into_iter()
            .filter(|l| l.starts_with("ERR|"))
            .collect(),
    )
}

fn assert_answer(text: &str, msa: &str, errs: &[&str]) {
    let (got_msa, got_errs) = answer(text);
    assert_eq!(got_msa, msa);
    assert_eq!(got_errs, errs);
}

#[test]
fn the_clean_message_is_accepted_without_any_err() {
    let (_, v) = check(CLEAN);
    assert_eq!(v.ack_code(), AckCode::Accept);
    assert!(v.issues.is_empty(), "{:?}", v.issues);
    let ack = acknowledge(CLEAN, &header()).encode();
    assert_eq!(
        ack,
        "MSH|^~\\&|IZGRAPH|STATEIIS|TestEHR^2.16.840.1.113883.3.72.5.40.1^ISO|X68^2.16.840.1.113883.3.72.5.40.2^ISO|20261203151500+0000||ACK^V04^ACK|ACK-1|P|2.5.1|||NE|NE|||||Z23^CDCPHINVS|STATEIIS^^^^^NIST-AA-IZ-1^XX^^^100-2|X68^^^^^NIST-AA-IZ-1^XX^^^100-1\r\
MSA|AA|CLEAN-0001\r"
    );
}

#[test]
fn missing_msh_is_rejected() {
    let text = CLEAN.split_once('\r').expect("two segments").1;
    assert_answer(
        text,
        "MSA|AR",
        &["ERR||MSH^1|100^Segment sequence error^HL70357|E|7^Required data missing^HL70533|||The message does not begin with an MSH segment"],
    );
}

#[test]
fn bad_encoding_characters_are_rejected_with_the_control_id() {
    let text = CLEAN.replacen("MSH|^~\\&|", "MSH|^^\\&|", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR||MSH^1^2^1|102^Data type error^HL70357|E|4^Invalid value^HL70533|||MSH-1/MSH-2 do not declare five distinct delimiters"],
    );
}

#[test]
fn wrong_version_is_rejected() {
    let text = CLEAN.replacen("|P|2.5.1|", "|P|2.3.1|", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR||MSH^1^12^1|203^Unsupported version id^HL70357|E|4^Invalid value^HL70533|||Only HL7 version 2.5.1 is supported (MSH-12)"],
    );
}

#[test]
fn unsupported_message_type_and_event_are_rejected() {
    let text = CLEAN.replacen("VXU^V04^VXU_V04", "ADT^A04^ADT_A01", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR||MSH^1^9^1|200^Unsupported message type^HL70357|E|4^Invalid value^HL70533|||Only VXU\\S\\V04 and QBP\\S\\Q11 are supported"],
    );
    let text = CLEAN.replacen("VXU^V04^VXU_V04", "VXU^V05^VXU_V04", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR||MSH^1^9^1|201^Unsupported event code^HL70357|E|4^Invalid value^HL70533|||Only VXU\\S\\V04 and QBP\\S\\Q11 are supported"],
    );
}

#[test]
fn unsupported_processing_id_is_rejected() {
    let text = CLEAN.replacen("|CLEAN-0001|P|", "|CLEAN-0001|X|", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR||MSH^1^11^1|202^Unsupported processing id^HL70357|E|4^Invalid value^HL70533|||MSH-11 must be P, T or D"],
    );
}

#[test]
fn missing_required_field_is_an_error() {
    let text = with(
        "RXA|",
        "RXA|0|1|20240301||||mL^mL^UCUM||00^New immunization record^NIP001|^Cody^Allison|^^^X68||||LOT123|20250101|MSD^Merck^MVX|||CP|A",
    );
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &[
            "ERR||RXA^1^5^1|101^Required field missing^HL70357|E|7^Required data missing^HL70533|||Required field RXA-5 (Administered Code) is missing",
            "ERR||RXA^1^6^1|101^Required field missing^HL70357|E|7^Required data missing^HL70533|||Required field RXA-6 (Administered Amount) is missing",
        ],
    );
}

#[test]
fn unknown_cvx_is_an_error() {
    let text = CLEAN.replacen("08^HepB pediatric^CVX", "999999^Unknown vaccine^CVX", 1);
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &["ERR||RXA^1^5^1^1|103^Table value not found^HL70357|E|5^Table value not found^HL70533|||RXA-5.1 (Administered Code): the code is not in value set CVX or NDC_Use or NDC_Sale"],
    );
}

#[test]
fn missing_coding_system_of_the_vaccine_is_an_error() {
    let text = CLEAN.replacen("08^HepB pediatric^CVX", "08^HepB pediatric", 1);
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &["ERR||RXA^1^5^1^3|101^Required field missing^HL70357|E|7^Required data missing^HL70533|||Required component RXA-5.3 (Name of Coding System) is missing"],
    );
}

#[test]
fn field_too_long_is_a_warning() {
    let text = CLEAN.replacen("|LOT123|", "|LOT123456789012345678|", 1);
    assert_answer(
        &text,
        "MSA|AA|CLEAN-0001",
        &["ERR||RXA^1^15^1|102^Data type error^HL70357|W|4^Invalid value^HL70533|||RXA-15 (Substance Lot Number) has 21 characters, allowed 1..20"],
    );
}

#[test]
fn too_many_repetitions_are_ignored_with_a_warning() {
    let text = CLEAN.replacen("|20230115|F|", "|20230115~20230116|F|", 1);
    assert_answer(
        &text,
        "MSA|AA|CLEAN-0001",
        &["ERR||PID^1^7^2|102^Data type error^HL70357|W|8^Data was ignored^HL70533|||Field PID-7 (Date/Time of Birth) repeats 2 times, at most 1 allowed; the rest was ignored"],
    );
}

#[test]
fn invalid_birth_date_is_an_error() {
    let text = CLEAN.replacen("|20230115|F|", "|20231345|F|", 1);
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &["ERR||PID^1^7^1^1|102^Data type error^HL70357|E|2^Invalid Date^HL70533|||PID-7.1 (Time) is not a valid DTM"],
    );
}

#[test]
fn missing_pid_segment_is_an_error() {
    let text = with("PID|", "");
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &["ERR||PID^1|100^Segment sequence error^HL70357|E|7^Required data missing^HL70533|||Required segment PID is missing"],
    );
}

#[test]
fn rxa_without_its_order_is_ignored_as_an_error() {
    // The ORC is missing: the RXA, RXR and OBXs cannot be placed, each is reported and ignored;
    // the dose is lost, so the message is in error.
    let text = with("ORC|", "");
    let ignored = |name: &str, n: usize| {
        format!("ERR||{name}^{n}|100^Segment sequence error^HL70357|E|8^Data was ignored^HL70533|||Segment {name} is not expected here and was ignored")
    };
    let expected = [
        ignored("RXA", 1),
        ignored("RXR", 1),
        ignored("OBX", 1),
        ignored("OBX", 2),
        ignored("OBX", 3),
        ignored("OBX", 4),
    ];
    let (msa, errs) = answer(&text);
    assert_eq!(msa, "MSA|AE|CLEAN-0001");
    assert_eq!(errs, expected);
}

#[test]
fn unknown_z_segment_is_ignored_with_a_warning() {
    let text = CLEAN.to_owned() + "ZXY|1|local data\r";
    assert_answer(
        &text,
        "MSA|AA|CLEAN-0001",
        &["ERR||ZXY^1|100^Segment sequence error^HL70357|W|8^Data was ignored^HL70533|||Segment ZXY is not expected here and was ignored"],
    );
}

#[test]
fn unreadable_segment_is_rejected() {
    let text = CLEAN.replacen("\rPD1|", "\rpd1|", 1);
    assert_answer(
        &text,
        "MSA|AR|CLEAN-0001",
        &["ERR|||100^Segment sequence error^HL70357|E|4^Invalid value^HL70533|||Segment 3 has no valid segment name"],
    );
}

#[test]
fn conformance_statement_on_the_header_is_checked() {
    // IZ-TS_Z: MSH-7 must carry a time zone.
    let text = CLEAN.replacen("|20240701082240-0500|", "|20240701082240|", 1);
    assert_answer(
        &text,
        "MSA|AA|CLEAN-0001",
        &["ERR||MSH^1^7^1|102^Data type error^HL70357|W|4^Invalid value^HL70533|||MSH-7 (IZ-TS_Z): The value of MSH-7.1 (Time) SHALL be formatted with YYYYMMDDHHMMSS+-ZZZZ."],
    );
}

#[test]
fn lf_and_crlf_terminated_messages_validate_like_cr() {
    for text in [CLEAN.replace('\r', "\n"), CLEAN.replace('\r', "\r\n")] {
        assert_answer(&text, "MSA|AA|CLEAN-0001", &[]);
    }
}

#[test]
fn lot_number_is_required_for_an_administered_dose_only() {
    // Predicate [RXA]15: R when RXA-9.1 is 00 and RXA-20 is CP or PA, else O.
    let no_lot = CLEAN.replacen("|LOT123|", "||", 1);
    assert_answer(
        &no_lot,
        "MSA|AE|CLEAN-0001",
        &["ERR||RXA^1^15^1|101^Required field missing^HL70357|E|7^Required data missing^HL70533|||Required field RXA-15 (Substance Lot Number) is missing"],
    );
    let historical = no_lot.replacen(
        "00^New immunization record^NIP001",
        "01^Historical information - source unspecified^NIP001",
        1,
    );
    assert_answer(&historical, "MSA|AA|CLEAN-0001", &[]);
    // A refusal: amount 999, no units, no information source (IZ-47, IZ-48), the reason in RXA-18.
    let refused = no_lot
        .replacen(
            "|0.5|mL^mL^UCUM||00^New immunization record^NIP001|",
            "|999||||",
            1,
        )
        .replacen("|||CP|A", "|00^Parental decision^NIP002||RE|A", 1);
    assert_answer(&refused, "MSA|AA|CLEAN-0001", &[]);
}

#[test]
fn units_are_not_supported_when_the_amount_is_unknown() {
    // Predicate [RXA]7: R when RXA-6 is not 999, else X.
    let text = CLEAN.replacen("|0.5|mL^mL^UCUM|", "|999|mL^mL^UCUM|", 1);
    assert_answer(
        &text,
        "MSA|AA|CLEAN-0001",
        &["ERR||RXA^1^7^1|102^Data type error^HL70357|W|8^Data was ignored^HL70533|||Field RXA-7 (Administered Units) is not supported and was ignored"],
    );
    let text = CLEAN.replacen("|0.5|mL^mL^UCUM|", "|0.5||", 1);
    assert_answer(
        &text,
        "MSA|AE|CLEAN-0001",
        &["ERR||RXA^1^7^1|101^Required field missing^HL70357|E|7^Required data missing^HL70533|||Required field RXA-7 (Administered Units) is missing"],
    );
}

#[test]
fn issues_name_the_segment_and_order_group_they_concern() {
    // Two ORDER groups; the second has an unknown CVX: the store refuses that group only.
    let second =
        "ORC|RE||DOSE-2^X68\rRXA|0|1|20240301||999999^Unknown^CVX|999||01^Historical^NIP001|||||||||||||A\r";
    let text = format!("{CLEAN}{second}");
    let (msg, v) = check(&text);
    let msg = msg.expect("parses");
    let vxu = hl7::segments::Vxu::read(&msg, &v.ignored_segments).expect("VXU");
    assert_eq!(vxu.orders.len(), 2);
    let bad: Vec<usize> = v
        .issues
        .iter()
        .filter(|i| i.severity == hl7::Severity::Error)
        .filter_map(|i| i.segment_index)
        .filter_map(|s| {
            vxu.orders
                .iter()
                .find(|o| o.segments.contains(&s))
                .map(|o| o.number)
        })
        .collect();
    assert_eq!(bad, [2]);
}

#[test]
fn our_acks_conform_to_the_z23_profile() {
    let texts = [
        CLEAN.to_owned(),
        CLEAN.replacen("08^HepB pediatric^CVX", "999999^Unknown vaccine^CVX", 1),
        CLEAN.replacen("|P|2.5.1|", "|P|2.3.1|", 1),
        CLEAN.replacen("MSH|^~\\&|", "MSH|^^\\&|", 1),
    ];
    for text in texts {
        let ack = acknowledge(&text, &header());
        let v = hl7::validate_with(&ack, hl7::Profile::z23());
        assert!(v.issues.is_empty(), "{}\n{:#?}", ack.encode(), v.issues);
    }
    // The check is not vacuous: an ACK without MSA, or with an ERR lacking its severity, fails.
    let mut ack = acknowledge(&texts_with_error(), &header());
    ack.segments.retain(|s| s.name != "MSA");
    let v = hl7::validate_with(&ack, hl7::Profile::z23());
    assert_eq!(v.issues[0].location.to_string(), "MSA^1");
    let mut ack = acknowledge(&texts_with_error(), &header());
    let err = ack
        .segments
        .iter_mut()
        .find(|s| s.name == "ERR")
        .expect("ERR");
    err.set(4, hl7::Field::default());
    let v = hl7::validate_with(&ack, hl7::Profile::z23());
    assert_eq!(v.issues[0].location.to_string(), "ERR^1^4^1");
}

fn texts_with_error() -> String {
    CLEAN.replacen("08^HepB pediatric^CVX", "999999^Unknown vaccine^CVX", 1)
}
