//! parse -> build -> parse gives the same message, for the examples and for values full of
//! delimiters, and the built text is what the standard expects (escaped, `\r` terminated).

use hl7::{Field, Message, Segment};
use proptest::prelude::*;

#[test]
fn examples_and_own_messages_round_trip() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let mut n = 0;
    for sub in ["examples", "messages"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "hl7") {
                let text = std::fs::read_to_string(&path).expect("read");
                let first = Message::parse(&text).expect("parses");
                let built = first.encode();
                assert!(
                    Message::parse(&built).expect("reparses") == first,
                    "{}",
                    path.display()
                );
                // Building again is stable: the text is canonical.
                assert_eq!(Message::parse(&built).expect("reparses").encode(), built);
                n += 1;
            }
        }
    }
    assert_eq!(n, 7);
}

#[test]
fn values_with_delimiters_are_escaped_and_read_back() {
    let mut msg =
        Message::parse("MSH|^~\\&|A|B|||20240101||VXU^V04^VXU_V04|1|P|2.5.1").expect("header");
    let mut nk1 = Segment::new("NK1");
    nk1.set_value(1, "1")
        .set_components(2, &["O'Brien & Sons | Co", "Ann^Marie", "a~b\\c"]);
    msg.segments.push(nk1);
    let text = msg.encode();
    assert!(
        text.ends_with("NK1|1|O'Brien \\T\\ Sons \\F\\ Co^Ann\\S\\Marie^a\\R\\b\\E\\c\r"),
        "{text}"
    );
    let back = Message::parse(&text).expect("reparses");
    assert_eq!(back, msg);
    assert_eq!(back.segments[1].get(2, 2), "Ann^Marie");
}

fn value() -> impl Strategy<Value = String> {
    // Any text, including the delimiters, escapes and line breaks, but trailing empties
    // are not represented in ER7, so keep each value non-empty.
    "[a-zA-Z0-9 |^~&\\\\\r\n\u{e9}.]{1,12}"
}

proptest! {
    #[test]
    fn built_segments_read_back(values in proptest::collection::vec(value(), 1..6)) {
        let mut msg = Message::parse("MSH|^~\\&|A").expect("header");
        let mut seg = Segment::new("ZZZ");
        for (i, v) in values.iter().enumerate() {
            seg.set(i + 1, Field::from_components(&[v.as_str(), "x"]));
        }
        msg.segments.push(seg);
        let back = Message::parse(&msg.encode()).expect("reparses");
        prop_assert_eq!(back, msg);
    }
}
