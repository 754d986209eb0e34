#[test]
fn show() {
    let t = std::fs::read_to_string("tests/messages/vxu_clean.hl7").unwrap();
    let (_, v) = hl7::check(&t);
    println!("{:?}", v.ack_code());
    for i in &v.issues { println!("{}", hl7::Message{separators: Default::default(), segments: vec![i.to_segment()]}.encode()); }
}
