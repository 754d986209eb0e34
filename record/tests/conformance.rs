//! The conformance data of `shared/shc/` (SMART Health Cards dev tools' test data): the
//! valid example cards are accepted and each invalid card is refused for the reason its
//! file name gives. The example issuer's `iss` resolves to its JWKS file (no network).

use std::path::{Path, PathBuf};

use record::shc::{verify, CardError};
use serde_json::Value;

/// 2026-12-03: after every example card's `nbf`.
const NOW: i64 = 1_796_256_000;
const EXAMPLE_ISSUER: &str = "https://spec.smarthealth.cards/examples/issuer";

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/shc")
}

fn keys(iss: &str) -> Option<Value> {
    (iss == EXAMPLE_ISSUER).then(|| {
        let text = std::fs::read_to_string(shared().join("example-issuer/jwks.json"))
            .expect("example jwks");
        serde_json::from_str(&text).expect("jwks json")
    })
}

fn check(file: &str) -> Result<usize, CardError> {
    let bytes = std::fs::read(shared().join("testdata").join(file)).expect(file);
    verify(&bytes, &keys, NOW).map(|cards| cards.len())
}

#[test]
fn the_valid_example_cards_are_accepted() {
    for (file, cards) in [
        ("test-example-00-fhirhealthcard.json", 1),
        ("test-example-00-fhirhealthcard-multi-jws.json", 2),
        ("test-example-00-fhirhealthcard-with-resource-link.json", 2),
        ("test-example-00-e-file-multi-jws.smart-health-card", 2),
        ("test-example-00-e-file.wrong-extension", 1),
        ("test-example-1195-byte-qrnumeric.txt", 1),
    ] {
        assert_eq!(check(file), Ok(cards), "{file}");
    }
}

#[test]
fn each_invalid_card_is_refused_for_its_named_reason() {
    use CardError::*;
    type Is = fn(&CardError) -> bool;
    let cases: Vec<(&str, Is)> = vec![
        ("test-example-00-d-jws-bad-fhir-metadata.txt", |e| {
            matches!(e, BadFhir(_))
        }),
        ("test-example-00-d-jws-der-signature.txt", |e| {
            matches!(e, DerSignature(_))
        }),
        ("test-example-00-d-jws-der-signature-r-neg.txt", |e| {
            matches!(e, DerSignature(_))
        }),
        ("test-example-00-d-jws-der-signature-s-neg.txt", |e| {
            matches!(e, DerSignature(_))
        }),
        ("test-example-00-d-jws-der-signature-rs-neg.txt", |e| {
            matches!(e, DerSignature(_))
        }),
        ("test-example-00-d-jws-invalid-signature.txt", |e| {
            *e == InvalidSignature
        }),
        ("test-example-00-d-jws-issuer-kid-mismatch.txt", |e| {
            matches!(e, UnknownKid(_))
        }),
        (
            "test-example-00-d-jws-issuer-not-valid-with-smart-key.txt",
            |e| matches!(e, UnknownIssuer(_)),
        ),
        ("test-example-00-d-jws-jws_too_long.txt", |e| {
            matches!(e, JwsTooLong(_))
        }),
        ("test-example-00-d-jws-no_deflate.txt", |e| *e == NoZip),
        ("test-example-00-d-jws-no_jws_header_alg.txt", |e| {
            *e == NoAlg
        }),
        ("test-example-00-d-jws-no_jws_header_kid.txt", |e| {
            *e == NoKid
        }),
        ("test-example-00-d-jws-no_jws_header_zip.txt", |e| {
            *e == NoZip
        }),
        ("test-example-00-d-jws-trailing_chars.txt", |e| {
            *e == TrailingCharacters
        }),
        ("test-example-00-d-jws-utf8_bom_prefix.txt", |e| {
            *e == PayloadBom
        }),
        ("test-example-00-d-jws-wrong_jws_header_kid.txt", |e| {
            matches!(e, UnknownKid(_))
        }),
        ("test-example-00-e-file-bad_jwks.smart-health-card", |e| {
            matches!(e, UnknownIssuer(_))
        }),
        (
            "test-example-00-e-file-invalid_deflate.smart-health-card",
            |e| *e == InvalidDeflate,
        ),
        (
            "test-example-00-e-file-invalid_issuer_url.smart-health-card",
            |e| matches!(e, UnknownIssuer(_)),
        ),
        (
            "test-example-00-e-file-invalid_issuer_url_http.smart-health-card",
            |e| matches!(e, BadIssuerUrl(_)),
        ),
        (
            "test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card",
            |e| matches!(e, BadIssuerUrl(_)),
        ),
        (
            "test-example-00-e-file-jws_too_long.smart-health-card",
            |e| matches!(e, JwsTooLong(_)),
        ),
        // Several issues: a header without `alg`, and whitespace after the file.
        (
            "test-example-00-e-file-multi-jws-issues.smart-health-card",
            |e| *e == NoAlg || *e == TrailingCharacters,
        ),
        ("test-example-00-e-file-no_deflate.smart-health-card", |e| {
            *e == NoZip
        }),
        (
            "test-example-00-e-file-trailing_chars.smart-health-card",
            |e| *e == TrailingCharacters,
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt",
            |e| matches!(e, ChunkIndexOutOfRange(..)),
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-number-too-big.txt",
            |e| *e == NumberTooBig,
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-odd-count.txt",
            |e| *e == OddDigitCount,
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt",
            |e| *e == TrailingCharacters,
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt",
            |e| *e == WrongMultiChunk,
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt",
            |e| *e == WrongQrHeader,
        ),
        (
            "test-example-02-f-qr-code-numeric-value-0-qr_chunk_too_big.txt",
            |e| matches!(e, QrChunkTooBig(_)),
        ),
        (
            "test-example-02-f-qr-code-numeric-value-1-qr_chunk_too_big.txt",
            |e| matches!(e, QrChunkTooBig(_)),
        ),
    ];
    let mut wrong = Vec::new();
    for (file, is) in &cases {
        match check(file) {
            Err(e) if is(&e) => {}
            other => wrong.push(format!("{file}: {other:?}")),
        }
    }
    for i in 0..=16 {
        let file = format!("test-example-00-f-qr-code-numeric-value-{i}-qr_chunk_too_small.txt");
        match check(&file) {
            Err(QrChunkTooSmall) => {}
            other => wrong.push(format!("{file}: {other:?}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "refused for another reason or accepted:\n{}",
        wrong.join("\n")
    );
}
