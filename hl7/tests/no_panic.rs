//! Whatever arrives, parsing, validating and acknowledging never panic.

use hl7::{acknowledge, check, ResponseHeader};
use proptest::prelude::*;

const CLEAN: &str = include_str!("messages/vxu_clean.hl7");

fn header() -> ResponseHeader {
    ResponseHeader {
        application: vec!["A".into()],
        facility: vec!["F".into()],
        time: "20260101000000+0000".into(),
        control_id: "1".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = check(&text);
        let _ = acknowledge(&text, &header());
    }

    #[test]
    fn arbitrary_messages_after_a_header_never_panic(body in "([A-Z0-9]{3}[|^~&\\\\a-z0-9\"\r\n]{0,40}\r){0,8}") {
        let text = format!("MSH|^~\\&|A|B|C|D|20240101000000-0500||VXU^V04^VXU_V04|1|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r{body}");
        let _ = acknowledge(&text, &header());
        let q = text.replace("VXU^V04^VXU_V04", "QBP^Q11^QBP_Q11").replace("Z22^", "Z44^");
        let _ = acknowledge(&q, &header());
    }

    #[test]
    fn mutated_clean_message_never_panics(pos in 0usize..1500, byte in any::<char>(), cut in 0usize..1500) {
        let mut chars: Vec<char> = CLEAN.chars().collect();
        let p = pos % chars.len();
        chars[p] = byte;
        let text: String = chars.into_iter().take(cut.max(1)).collect();
        let _ = acknowledge(&text, &header());
    }
}

#[test]
fn thousands_of_misplaced_segments_are_answered_quickly() {
    // Each misplaced RXA would cost a re-match of the whole message: bounded, so 20,000 of them
    // are answered (AE, one ERR each) in a few seconds unoptimized (20 s without the bound).
    let rxa = "RXA|0|1|20240301||08^HepB^CVX|0.5\r".repeat(20_000);
    let text = format!("{CLEAN}{rxa}");
    let started = std::time::Instant::now();
    let (_, v) = check(&text);
    assert_eq!(v.ack_code(), hl7::AckCode::Error);
    assert_eq!(v.ignored_segments.len(), 20_000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
