//! VXU^V04 (Z22) → ACK (Z23): the message read into a [`VxuSubmission`], the data-quality
//! checks beyond the profile (issue 16 item 5), the store, and one ERR per problem.

use std::collections::HashSet;

use entities::codes::{ContraindicationKind, Gender};
use entities::repo::hl7::{
    Completion, OrderAction, OrderResult, PatientIdentifier, PatientReport, PersonOutcome,
    ReportedDose, ReportedFinding, VxuSubmission,
};
use entities::repo::persons::Contact;
use entities::{Access, SameDay};
use hl7::segments::{Order, Vxu};
use hl7::{
    AckCode, AppErrorCode as App, Hl7ErrorCode as Code, Issue, Location, Message, ResponseHeader,
    Severity, Validation,
};

use super::{ack_code_of, hl7_date, message_record, products, Answer, Hl7Failure};
use crate::app::AppState;

fn issue(loc: Location, code: Code, sev: Severity, app: Option<App>, text: &str) -> Issue {
    Issue::new(loc, code, sev, app, text)
}

fn rxa_field(order: usize, field: usize) -> Location {
    Location::field("RXA", order, field)
}

/// SNOMED CT codes of the CDC's evidence-of-immunity value set, by the vaccine group they
/// close (the registry's group names).
fn immunity_group(snomed: &str) -> Option<&'static str> {
    Some(match snomed {
        "409498004" => "Anthrax",
        "397428000" | "76902006" | "27836007" => "DTaP/Tdap/Td",
        "40468003" => "HepA",
        "66071002" | "271511000" => "HepB",
        "91428005" => "Hib",
        "240532009" => "HPV",
        "6142004" => "Influenza",
        "52947006" => "Japanese Encephalitis",
        "14189004" | "36989005" | "36653000" | "371111005" | "371112003" | "278968001" => "MMR",
        "23511006" => "Meningococcal",
        "16814004" => "Pneumococcal",
        "398102009" => "Polio",
        "14168008" => "Rabies",
        "18624000" => "Rotavirus",
        "4834000" => "Typhoid",
        "38907003" => "Varicella",
        "16541001" => "Yellow Fever",
        "840535000" | "840539006" => "COVID-19",
        _ => return None,
    })
}

/// Reads, checks, stores and acknowledges a validated VXU.
pub(super) async fn process(
    state: &AppState,
    access: &Access,
    msg: &Message,
    validation: Validation,
    header: &ResponseHeader,
    kind: &str,
) -> Result<Answer, Hl7Failure> {
    let control_id = msg
        .segments
        .first()
        .map(|s| s.value(10).to_owned())
        .unwrap_or_default();
    let mut issues = validation.issues.clone();
    let Some(view) = Vxu::read(msg, &validation.ignored_segments) else {
        return Err(Hl7Failure::Internal);
    };
    // Errors outside every ORDER group (MSH, PID...) leave nothing to store.
    let in_orders: HashSet<usize> = view
        .orders
        .iter()
        .flat_map(|o| o.segments.iter().copied())
        .collect();
    let header_errors = issues.iter().any(|i| {
        i.severity == Severity::Error && i.segment_index.is_none_or(|s| !in_orders.contains(&s))
    });
    let patient = if header_errors {
        None
    } else {
        read_patient(&view, &mut issues)
    };
    let Some(patient) = patient else {
        let code = ack_code_of(&issues);
        return finish(
            state,
            access,
            msg,
            &control_id,
            code,
            issues,
            header,
            kind,
            None,
        )
        .await;
    };

    let mut orders = Vec::new();
    let mut kept: Vec<(usize, String, chrono::NaiveDate)> = Vec::new();
    for order in &view.orders {
        let refused_by_profile = issues.iter().any(|i| {
            i.severity == Severity::Error
                && i.segment_index.is_some_and(|s| order.segments.contains(&s))
        });
        if refused_by_profile {
            continue;
        }
        if let Some(dose) = read_order(state, access, &view, order, &patient, &mut issues).await? {
            if matches!(dose.completion, Completion::Complete | Completion::Partial)
                && dose.action != OrderAction::Delete
            {
                // A combination and its component (or two vaccines sharing antigens) on one
                // date in one message: both kept, the sender warned.
                for (other, cvx, date) in &kept {
                    if *date == dose.date_given
                        && state.store.codes().same_day(cvx, &dose.cvx) == SameDay::SharesAntigens
                    {
                        issues.push(issue(
                            rxa_field(order.number, 5),
                            Code::Accepted,
                            Severity::Warning,
                            Some(App::IllogicalValue),
                            &format!(
                                "This vaccine shares antigens with the one of ORDER group {other} given the same day"
                            ),
                        ));
                    }
                }
                kept.push((order.number, dose.cvx.clone(), dose.date_given));
            }
            orders.push(dose);
        }
    }
    let submission = VxuSubmission {
        control_id: control_id.clone(),
        patient,
        orders,
    };
    // The record of the message is written with it: its findings as they will be answered,
    // plus what storing adds (known only after).
    let pre_store = issues.clone();
    let provisional = message_record(kind, ack_code_of(&pre_store), &pre_store);
    let result = match state
        .store
        .submit_vxu(access, submission, provisional)
        .await
    {
        Ok(r) => r,
        // The patient's data refused by the registry (a birth order out of range, an
        // identifier too long...): nothing stored.
        Err(entities::StoreError::Invalid(why)) => {
            issues.push(issue(
                Location::segment("PID", 1),
                Code::ApplicationInternalError,
                Severity::Error,
                Some(App::InvalidValue),
                &format!("The patient could not be recorded: {why}"),
            ));
            return finish(
                state,
                access,
                msg,
                &control_id,
                AckCode::Error,
                issues,
                header,
                kind,
                None,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    match result.person_outcome {
        PersonOutcome::HeldForReview => issues.push(issue(
            Location::segment("PID", 1),
            Code::Accepted,
            Severity::Information,
            None,
            "The patient resembles more than one person of the registry: the record is held for review",
        )),
        PersonOutcome::Matched | PersonOutcome::Created | PersonOutcome::OptedOut => {}
    }
    for (n, outcome) in &result.orders {
        match outcome {
            OrderResult::Rejected(why) => issues.push(issue(
                rxa_field(*n, 5),
                Code::ApplicationInternalError,
                Severity::Error,
                Some(App::InvalidValue),
                &format!("ORDER group {n} was not stored: {why}"),
            )),
            OrderResult::UnknownOrder => issues.push(issue(
                Location::field("ORC", *n, 3),
                Code::UnknownKeyIdentifier,
                Severity::Warning,
                Some(App::DataIgnored),
                "No immunization from this sender has this order id: nothing was updated or deleted",
            )),
            _ => {}
        }
    }
    let code = ack_code_of(&issues);
    let ack = hl7::ack(Some(msg), &control_id, code, &issues, header);
    Ok(Answer {
        text: ack.encode(),
        ack: code,
    })
}

/// Answers a VXU nothing of which could be stored, recording it for the data-quality report.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &AppState,
    access: &Access,
    msg: &Message,
    control_id: &str,
    code: AckCode,
    issues: Vec<Issue>,
    header: &ResponseHeader,
    kind: &str,
    _person: Option<uuid::Uuid>,
) -> Result<Answer, Hl7Failure> {
    state
        .store
        .record_hl7_message(access.principal.org, message_record(kind, code, &issues))
        .await?;
    let ack = hl7::ack(Some(msg), control_id, code, &issues, header);
    Ok(Answer {
        text: ack.encode(),
        ack: code,
    })
}

/// The patient of PID (and PD1), or `None` with the issues that make it unusable.
fn read_patient(view: &Vxu<'_>, issues: &mut Vec<Issue>) -> Option<PatientReport> {
    let pid = view.pid?;
    let names = pid.names();
    let legal = names
        .iter()
        .find(|n| n.type_code == "L")
        .or(names.first())?
        .clone();
    let mut missing = |field: usize, text: &str| {
        issues.push(issue(
            Location::field("PID", 1, field),
            Code::RequiredFieldMissing,
            Severity::Error,
            Some(App::RequiredDataMissing),
            text,
        ));
    };
    if legal.family.trim().is_empty() || legal.given.trim().is_empty() {
        missing(5, "The patient's legal family and given names are required");
        return None;
    }
    let Some(dob) = hl7_date(pid.birth_date()) else {
        missing(7, "The patient's birth date is required");
        return None;
    };
    let gender = match pid.sex() {
        "F" => Gender::Female,
        "M" => Gender::Male,
        "X" => Gender::Nonbinary,
        _ => Gender::Unknown,
    };
    let address = pid.addresses().into_iter().next().unwrap_or_default();
    let phone = pid
        .phones()
        .into_iter()
        .find(|p| !p.number.is_empty())
        .map(|p| format!("{}{}", p.area_code, p.number));
    let contact = Contact {
        address_line1: Some(address.street).filter(|s| !s.is_empty()),
        address_line2: Some(address.other).filter(|s| !s.is_empty()),
        city: Some(address.city).filter(|s| !s.is_empty()),
        state: Some(address.state).filter(|s| !s.is_empty()),
        postal_code: Some(address.zip).filter(|s| !s.is_empty()),
        phone,
        email: None,
    };
    Some(PatientReport {
        identifiers: pid
            .identifiers()
            .into_iter()
            .map(|i| PatientIdentifier {
                id: i.id,
                authority: i.authority,
                type_code: i.type_code,
            })
            .collect(),
        first_name: legal.given,
        middle_name: Some(legal.middle).filter(|m| !m.is_empty()),
        last_name: legal.family,
        date_of_birth: dob,
        gender,
        mothers_maiden_name: Some(pid.mothers_maiden_name().to_owned()).filter(|m| !m.is_empty()),
        multiple_birth: match pid.multiple_birth() {
            "Y" => Some(true),
            "N" => Some(false),
            _ => None,
        },
        birth_order: pid.birth_order().parse().ok(),
        contact,
    })
}

/// One ORDER group read into a dose, with its data-quality findings; `None` when the group
/// is refused (its issues pushed).
async fn read_order(
    state: &AppState,
    access: &Access,
    view: &Vxu<'_>,
    order: &Order<'_>,
    patient: &PatientReport,
    issues: &mut Vec<Issue>,
) -> Result<Option<ReportedDose>, Hl7Failure> {
    let n = order.number;
    let Some(rxa) = order.rxa else {
        return Ok(None);
    };
    let Some(date) = hl7_date(rxa.administered_at()) else {
        issues.push(issue(
            rxa_field(n, 3),
            Code::DataTypeError,
            Severity::Error,
            Some(App::InvalidDate),
            "The administration date is not a date",
        ));
        return Ok(None);
    };
    let action = match rxa.action_code() {
        "U" => OrderAction::Update,
        "D" => OrderAction::Delete,
        _ => OrderAction::Add,
    };
    let completion = match rxa.completion_status() {
        "RE" => Completion::Refused,
        "NA" => Completion::NotAdministered,
        "PA" => Completion::Partial,
        _ => Completion::Complete,
    };
    let vaccine = rxa.vaccine();
    let cvx = if vaccine.system.is_empty() || vaccine.system == "CVX" {
        vaccine.code.trim().to_owned()
    } else if vaccine.alt_system == "CVX" {
        vaccine.alt_code.trim().to_owned()
    } else {
        vaccine.code.trim().to_owned()
    };
    let is_dose = matches!(completion, Completion::Complete | Completion::Partial);
    let known = state.store.codes().get(&cvx).cloned();
    if is_dose && action != OrderAction::Delete && known.is_none() {
        issues.push(issue(
            rxa_field(n, 5),
            Code::TableValueNotFound,
            Severity::Error,
            Some(App::TableValueNotFound),
            "The vaccine is not a CVX code of the registry's code set",
        ));
        return Ok(None);
    }
    if !cvx.chars().all(|c| c.is_ascii_digit()) || cvx.is_empty() || cvx.len() > 10 {
        issues.push(issue(
            rxa_field(n, 5),
            Code::TableValueNotFound,
            Severity::Error,
            Some(App::TableValueNotFound),
            "The vaccine is not a CVX code",
        ));
        return Ok(None);
    }
    if date > access.today {
        issues.push(issue(
            rxa_field(n, 3),
            Code::DataTypeError,
            Severity::Error,
            Some(App::IllogicalDate),
            "The administration date is in the future",
        ));
        return Ok(None);
    }
    if date < patient.date_of_birth {
        issues.push(issue(
            rxa_field(n, 3),
            Code::DataTypeError,
            Severity::Error,
            Some(App::IllogicalDate),
            "The administration date is before the patient's birth date",
        ));
        return Ok(None);
    }
    if let Some(death) = view.pid.and_then(|p| hl7_date(p.death_date())) {
        if date > death {
            issues.push(issue(
                rxa_field(n, 3),
                Code::Accepted,
                Severity::Warning,
                Some(App::IllogicalDate),
                "The administration date is after the patient's death",
            ));
        }
    }
    let expiration = hl7_date(rxa.expiration());
    if is_dose && expiration.is_some_and(|e| e < date) {
        issues.push(issue(
            rxa_field(n, 16),
            Code::Accepted,
            Severity::Warning,
            Some(App::IllogicalDate),
            "The lot had expired on the administration date",
        ));
    }
    let mvx = rxa.manufacturer().code.trim().to_uppercase();
    if is_dose && !mvx.is_empty() && !products::made_by(&cvx, &mvx) {
        issues.push(issue(
            rxa_field(n, 17),
            Code::Accepted,
            Severity::Warning,
            Some(App::IllogicalValue),
            "The manufacturer does not make this vaccine",
        ));
    }
    let historical = !rxa.is_administered();
    let facility = rxa.administered_at_facility().trim();
    let administered_at = if facility.is_empty() {
        None
    } else {
        state.store.organization_by_facility(facility).await?
    };
    if !historical && administered_at.is_some_and(|o| Some(o) != access.principal.org) {
        issues.push(issue(
            rxa_field(n, 11),
            Code::ApplicationInternalError,
            Severity::Error,
            Some(App::IllogicalValue),
            "An administered dose (RXA-9 00) must name the sending facility in RXA-11",
        ));
        return Ok(None);
    }
    let groups: Vec<String> = known
        .as_ref()
        .map(|v| v.vaccine_groups.clone())
        .unwrap_or_default();
    let mut vfc = None;
    let mut vis = Vec::new();
    let mut findings = Vec::new();
    for obx in &order.observations {
        let loinc = obx.observation().code;
        match loinc.as_str() {
            "64994-7" => vfc = Some(obx.coded_value().code).filter(|c| !c.is_empty()),
            // VIS document, publication and presentation dates (30956-7 in a VIS group names
            // the vaccine the VIS is for).
            "69764-9" | "29768-9" | "29769-7" | "30956-7" => {
                vis.push(
                    serde_json::json!({
                        "loinc": loinc,
                        "subId": obx.sub_id(),
                        "value": if obx.value_type() == "CE" || obx.value_type() == "CWE" {
                            obx.coded_value().code
                        } else {
                            obx.value().to_owned()
                        },
                    })
                    .to_string(),
                );
            }
            "30945-0" => {
                let v = obx.coded_value();
                if v.code.is_empty() {
                    continue;
                }
                findings.push(ReportedFinding {
                    kind: ContraindicationKind::Contraindication,
                    vaccine_group: (groups.len() == 1).then(|| groups[0].clone()),
                    reason: format!("{}^{}", v.code, v.system),
                });
            }
            "59784-9" | "75505-8" => {
                let v = obx.coded_value();
                match immunity_group(&v.code) {
                    Some(group) if state.store.codes().has_group(group) => {
                        findings.push(ReportedFinding {
                            kind: ContraindicationKind::Immunity,
                            vaccine_group: Some(group.to_owned()),
                            reason: format!("{}^{}", v.code, v.system),
                        })
                    }
                    _ => issues.push(issue(
                        Location::field("OBX", obx_sequence(view, obx.segment()), 5),
                        Code::TableValueNotFound,
                        Severity::Warning,
                        Some(App::TableValueNotFound),
                        "The evidence of immunity names no disease the registry knows: not recorded",
                    )),
                }
            }
            _ => {}
        }
    }
    let filler = rxa_filler(order);
    Ok(Some(ReportedDose {
        order: n,
        action,
        filler_order: filler,
        cvx,
        date_given: date,
        mvx: Some(mvx).filter(|m| !m.is_empty()),
        lot_number: rxa.lots().first().map(|l| (*l).to_owned()),
        lot_expiration: expiration,
        site: order.rxr.map(|r| r.site().code).filter(|c| !c.is_empty()),
        route: order.rxr.map(|r| r.route().code).filter(|c| !c.is_empty()),
        historical,
        administered_at,
        completion,
        refusal_reason: rxa.refusal_reasons().first().map(|r| r.code.clone()),
        vfc_eligibility: vfc,
        vis,
        findings,
    }))
}

/// ORC-3 with its namespace: the sender's id of the order.
fn rxa_filler(order: &Order<'_>) -> Option<String> {
    let id = order.orc.filler_order().trim();
    if id.is_empty() {
        return None;
    }
    let ns = order.orc.filler_namespace().trim();
    Some(if ns.is_empty() {
        id.to_owned()
    } else {
        format!("{id}^{ns}")
    })
}

/// The 1-based occurrence of an OBX segment among the message's OBX segments.
fn obx_sequence(view: &Vxu<'_>, seg: &hl7::Segment) -> usize {
    let mut n = 0;
    for o in &view.orders {
        for obx in &o.observations {
            n += 1;
            if std::ptr::eq(obx.segment(), seg) {
                return n;
            }
        }
    }
    n
}
