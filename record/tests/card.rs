//! Cards izgraph issues: they verify with the issuer's published key, fail after one byte is
//! changed, carry only the minimized fields, and print as a QR code on the official record
//! (read back with poppler's `pdftotext` and rendered with `pdftoppm`).

use chrono::NaiveDate;
use p256::ecdsa::SigningKey;
use record::shc::{self, CardError, Issuer};
use record::{
    DoseLine, Finding, OfficialRecord, PersonIdentity, RequirementLine, SchoolStatus,
    VaccineGroupDoses,
};
use serde_json::{json, Value};

const ISS: &str = "https://registry.example.org/izgraph";
const NOW: i64 = 1_796_256_000;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn issuer() -> Issuer {
    Issuer {
        iss: ISS.into(),
        key: SigningKey::from_slice(&[7u8; 32]).expect("key"),
    }
}

fn dose(date: &str, cvx: &str, vaccine: &str) -> DoseLine {
    DoseLine {
        date: d(date),
        cvx: cvx.into(),
        vaccine: vaccine.into(),
        organization: Some("Lakeside Pediatrics".into()),
        lot_number: Some("LOT-42".into()),
    }
}

fn sample() -> OfficialRecord {
    OfficialRecord {
        registry: "Minnesota Immunization Information Connection".into(),
        jurisdiction: "MN".into(),
        issued_on: d("2026-12-03"),
        person: PersonIdentity {
            record_id: "0190a7c2-0000-7000-8000-000000000001".into(),
            first_name: "Ava".into(),
            middle_name: Some("Marie".into()),
            last_name: "Lindqvist".into(),
            date_of_birth: d("2020-05-14"),
            gender: Some("Female".into()),
        },
        groups: vec![
            VaccineGroupDoses {
                group: "DTaP/Tdap/Td".into(),
                doses: vec![
                    dose("2020-07-15", "20", "DTaP"),
                    dose("2020-09-16", "20", "DTaP"),
                    dose("2020-11-18", "20", "DTaP"),
                ],
            },
            VaccineGroupDoses {
                group: "MMR".into(),
                doses: vec![dose("2021-05-20", "03", "MMR")],
            },
        ],
        school: Some(SchoolStatus {
            grade: "CC".into(),
            status: "IN_PROGRESS".into(),
            requirements: vec![RequirementLine {
                vaccine: "DTaP".into(),
                doses_counted: 3,
                doses_required: 4,
                status: "IN_PROGRESS".into(),
            }],
        }),
        immunity: vec![Finding {
            vaccine_group: Some("Varicella".into()),
            detail: "history of disease (provider)".into(),
        }],
        exemptions: vec![],
        card_qr: None,
    }
}

fn jwks(issuer: &Issuer) -> impl Fn(&str) -> Option<Value> {
    let set = json!({ "keys": [issuer.public_jwk()] });
    move |iss: &str| (iss == ISS).then(|| set.clone())
}

#[test]
fn a_card_verifies_with_the_published_key_and_fails_after_one_byte_is_changed() {
    let issuer = issuer();
    let jws = shc::issue_record(&issuer, &sample(), NOW - 60).expect("issue");
    let cards = shc::verify(jws.as_bytes(), &jwks(&issuer), NOW).expect("verifies");
    assert_eq!(cards[0].iss, ISS);
    assert_eq!(cards[0].kid, issuer.kid());
    // The file and the QR text carry the same card.
    assert!(shc::verify(shc::file(&jws).as_bytes(), &jwks(&issuer), NOW).is_ok());
    assert!(shc::verify(shc::numeric(&jws).as_bytes(), &jwks(&issuer), NOW).is_ok());
    // One byte changed anywhere: refused (signature, or an unreadable part).
    let mut refused = 0;
    for i in (0..jws.len()).step_by(7) {
        let mut bytes = jws.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        if shc::verify(&bytes, &jwks(&issuer), NOW).is_err() {
            refused += 1;
        }
    }
    assert_eq!(
        refused,
        jws.len().div_ceil(7),
        "every altered card is refused"
    );
    // A key the issuer did not publish does not verify it.
    let other = Issuer {
        iss: ISS.into(),
        key: SigningKey::from_slice(&[9u8; 32]).expect("key"),
    };
    let foreign = shc::issue_record(&other, &sample(), NOW - 60).expect("issue");
    assert!(matches!(
        shc::verify(foreign.as_bytes(), &jwks(&issuer), NOW),
        Err(CardError::UnknownKid(_))
    ));
}

#[test]
fn the_bundle_holds_only_the_minimized_fields() {
    let issuer = issuer();
    let jws = shc::issue_record(&issuer, &sample(), NOW - 60).expect("issue");
    let card = shc::verify(jws.as_bytes(), &jwks(&issuer), NOW)
        .expect("verifies")
        .remove(0);
    let entries = card.bundle["entry"].as_array().expect("entries");
    // The patient and one immunization per dose.
    assert_eq!(entries.len(), 1 + 4);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&entries[0]["resource"]),
        ["birthDate", "name", "resourceType"]
    );
    for e in &entries[1..] {
        let k = keys(&e["resource"]);
        for key in &k {
            assert!(
                [
                    "resourceType",
                    "status",
                    "vaccineCode",
                    "patient",
                    "occurrenceDateTime",
                    "performer",
                    "lotNumber"
                ]
                .contains(&key.as_str()),
                "unexpected `{key}`"
            );
        }
        assert_eq!(e["resource"]["patient"]["reference"], "resource:0");
        assert!(e["resource"]["vaccineCode"]["coding"][0]
            .get("display")
            .is_none());
    }
    // No gender, contact, identifier or registry id leaves in a card.
    let text = card.bundle.to_string();
    for absent in [
        "Female",
        "0190a7c2",
        "telecom",
        "address",
        "identifier",
        "\"id\"",
    ] {
        assert!(!text.contains(absent), "`{absent}` in the card");
    }
    assert!(card
        .types
        .contains(&"https://smarthealth.cards#immunization".to_owned()));
}

/// A long history still fits one QR code: lot numbers, then performers, are left out.
#[test]
fn a_long_history_is_minimized_to_fit_one_qr_code() {
    let mut record = sample();
    let many: Vec<DoseLine> = (0..30)
        .map(|i| {
            let mut d = dose("2020-01-01", &format!("{}", 100 + i), "Vaccine");
            d.date += chrono::TimeDelta::days(i * 40);
            d.lot_number = Some(format!("LOT-{i:05}-XYZ"));
            d.organization = Some(format!("Clinic number {i}"));
            d
        })
        .collect();
    record.groups = vec![VaccineGroupDoses {
        group: "Other".into(),
        doses: many,
    }];
    let issuer = issuer();
    let jws = shc::issue_record(&issuer, &record, NOW - 60).expect("fits");
    assert!(jws.len() <= shc::MAX_SINGLE_QR_JWS);
    let card = shc::verify(jws.as_bytes(), &jwks(&issuer), NOW).expect("verifies");
    assert_eq!(card[0].bundle["entry"].as_array().map(Vec::len), Some(31));
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name).arg("-v").output().is_ok()
}

#[test]
fn the_pdf_reads_back_with_every_dose_the_status_and_the_qr_code() {
    assert!(
        tool("pdftotext"),
        "poppler-utils (pdftotext, pdftoppm, pdffonts) is needed: .ci/run installs it"
    );
    let issuer = issuer();
    let mut record = sample();
    let jws = shc::issue_record(&issuer, &record, NOW - 60).expect("issue");
    record.card_qr = Some(shc::numeric(&jws));
    let pdf = record::pdf::render(&record).expect("render");
    let dir = std::env::temp_dir().join(format!("record-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("record.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Official Immunization Record",
        "Ava Marie Lindqvist",
        "2020-05-14",
        "2020-07-15",
        "2020-09-16",
        "2020-11-18",
        "2021-05-20",
        "Lakeside Pediatrics",
        "Grade CC: In progress",
        "3 of 4 doses",
        "Varicella",
        "Minnesota Immunization Information Connection",
        "Date issued: 2026-12-03",
    ] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
    let fonts = std::process::Command::new("pdffonts")
        .arg(&path)
        .output()
        .expect("pdffonts");
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    // Both DejaVu faces (regular and bold), each embedded.
    let faces: Vec<&str> = fonts.lines().skip(2).filter(|l| !l.is_empty()).collect();
    assert_eq!(faces.len(), 2, "{fonts}");
    for line in faces {
        assert!(
            line.contains("TrueType") && line.contains(" yes "),
            "not embedded: {line}"
        );
    }
    let png = dir.join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&png)
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let bytes = std::fs::read(dir.join("page.png")).expect("png");
    assert!(bytes.starts_with(b"\x89PNG"));
    if let Ok(keep) = std::env::var("RECORD_PDF_ARTEFACTS") {
        std::fs::copy(&path, format!("{keep}/official-record.pdf")).ok();
        std::fs::copy(dir.join("page.png"), format!("{keep}/official-record.png")).ok();
    }
    std::fs::remove_dir_all(&dir).ok();
}
