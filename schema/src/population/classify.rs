//! What a job says about one person, from the forecast engine's answer: due or overdue
//! (reminder/recall), at risk (outbreak), up to date or not (coverage), given the recalled
//! lot (lot recall). Pure: the worker hands it what the shard read.

use chrono::NaiveDate;
use entities::codes::ContraindicationKind;
use entities::model::{dose, person};
use entities::repo::population::{
    address_key, dose_matches_recall, zip5, Contact, DoseLine, GroupLine, PopulationParams,
    ResultRow, ShardInput,
};
use forecast::{EvaluationStatus, SeriesStatus, VaccineGroup};
use policies::{age_in_years, PopulationGrant, PopulationKind, ADULT_AGE};

use crate::forecasts::compute;

/// The 4:3:1:3:3:1:4 series (DTaP, polio, MMR, Hib, HepB, varicella, PCV) of the CDC's
/// 24–35-month coverage measure: valid doses each group needs.
pub const CHILD_SERIES: [(VaccineGroup, usize); 7] = [
    (VaccineGroup::DtapTdapTd, 4),
    (VaccineGroup::Polio, 3),
    (VaccineGroup::Mmr, 1),
    (VaccineGroup::Hib, 3),
    (VaccineGroup::HepB, 3),
    (VaccineGroup::Varicella, 1),
    (VaccineGroup::Pneumococcal, 4),
];

/// Adolescent coverage: Tdap, MenACWY, HPV (one valid dose each on or after age 10 counts
/// for Tdap; the engine judges the rest).
pub const ADOLESCENT_SERIES: [(VaccineGroup, usize); 3] = [
    (VaccineGroup::DtapTdapTd, 1),
    (VaccineGroup::Meningococcal, 1),
    (VaccineGroup::Hpv, 1),
];

/// One person's output row and category, or `None` when the job leaves them out.
pub struct Classified {
    pub category: &'static str,
    pub household: String,
    pub row: ResultRow,
}

fn groups_of(params: &PopulationParams) -> Vec<VaccineGroup> {
    if params.vaccine_groups.is_empty() {
        VaccineGroup::ALL.to_vec()
    } else {
        params
            .vaccine_groups
            .iter()
            .filter_map(|g| VaccineGroup::from_name(g))
            .collect()
    }
}

fn contact(p: &person::Model) -> Contact {
    Contact {
        address_line1: p.address_line1.clone(),
        address_line2: p.address_line2.clone(),
        city: p.city.clone(),
        state: p.state.clone(),
        postal_code: p.postal_code.clone(),
        phone: p.phone.clone(),
        email: p.email.clone(),
    }
}

/// The household a letter goes to: the mailing address (a minor's guardian's when the minor
/// has none), else the person alone.
fn household(p: &person::Model, guardian: Option<&person::Model>) -> String {
    address_key(p)
        .or_else(|| guardian.and_then(address_key))
        .unwrap_or_else(|| p.id.to_string())
}

/// Classifies every person of a shard.
pub fn classify_shard(
    schedule: &forecast::Schedule,
    grant: &PopulationGrant,
    params: &PopulationParams,
    series: &[(VaccineGroup, usize)],
    as_of: NaiveDate,
    input: &ShardInput,
) -> Vec<(uuid::Uuid, Classified)> {
    let groups = groups_of(params);
    let empty_doses: Vec<dose::Model> = Vec::new();
    let empty_findings = Vec::new();
    let mut out = Vec::new();
    for p in &input.persons {
        let doses = input.doses.get(&p.id).unwrap_or(&empty_doses);
        let findings = input.findings.get(&p.id).unwrap_or(&empty_findings);
        let minor = age_in_years(p.date_of_birth, as_of) < i32::try_from(ADULT_AGE).unwrap_or(18);
        let guardian = minor.then(|| input.guardians.get(&p.id)).flatten();
        let county = p
            .postal_code
            .as_deref()
            .and_then(|z| input.county_of_zip.get(zip5(z)).cloned());
        let mut row = ResultRow {
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            date_of_birth: p.date_of_birth,
            county: county.clone(),
            contact: grant.contact.then(|| contact(p)),
            guardian: grant
                .contact
                .then(|| guardian.map(|g| format!("{} {}", g.first_name, g.last_name)))
                .flatten(),
            address_bad: address_key(p).is_some_and(|k| input.returned_addresses.contains(&k)),
            groups: Vec::new(),
            doses: Vec::new(),
            key: None,
        };
        let mut household = household(p, guardian);
        let category = match grant.kind {
            PopulationKind::ReminderRecall => {
                if input.recently_reminded.contains(&p.id) {
                    continue;
                }
                let f = compute(schedule, p, doses, findings, as_of);
                let mut worst = None;
                for g in f
                    .forecast
                    .vaccine_groups
                    .iter()
                    .filter(|g| groups.contains(&g.vaccine_group))
                {
                    if g.status != SeriesStatus::NotComplete {
                        continue;
                    }
                    let Some(due) = g.recommended_date else {
                        continue;
                    };
                    let status = match g.past_due_date {
                        Some(pd) if as_of >= pd => "OVERDUE",
                        _ if as_of >= due => "DUE",
                        _ => continue,
                    };
                    if status == "OVERDUE" || worst.is_none() {
                        worst = Some(status);
                    }
                    row.groups.push(GroupLine {
                        group: g.vaccine_group.name().to_owned(),
                        status: status.to_owned(),
                        due_date: Some(due),
                        past_due_date: g.past_due_date,
                    });
                }
                let Some(c) = worst else { continue };
                c
            }
            PopulationKind::OutbreakAtRisk => {
                let f = compute(schedule, p, doses, findings, as_of);
                for g in f
                    .forecast
                    .vaccine_groups
                    .iter()
                    .filter(|g| groups.contains(&g.vaccine_group))
                {
                    // Evidence of immunity: a complete series, recorded immunity, or doses
                    // up to date for age (the next one not yet due).
                    let protected = match g.status {
                        SeriesStatus::Complete
                        | SeriesStatus::Immune
                        | SeriesStatus::NotRecommended => true,
                        SeriesStatus::NotComplete => g.recommended_date.is_some_and(|r| r > as_of),
                        SeriesStatus::Contraindicated | SeriesStatus::AgedOut => false,
                    };
                    if protected {
                        continue;
                    }
                    let exempt = findings.iter().any(|x| {
                        matches!(
                            x.kind,
                            ContraindicationKind::MedicalExemption
                                | ContraindicationKind::NonMedicalExemption
                        ) && x.expires_on.is_none_or(|e| e >= as_of)
                            && x.vaccine_group
                                .as_deref()
                                .is_none_or(|n| VaccineGroup::from_name(n) == Some(g.vaccine_group))
                    });
                    row.groups.push(GroupLine {
                        group: g.vaccine_group.name().to_owned(),
                        status: if exempt { "EXEMPT" } else { "AT_RISK" }.to_owned(),
                        due_date: g.recommended_date,
                        past_due_date: g.past_due_date,
                    });
                }
                if row.groups.is_empty() {
                    continue;
                }
                "AT_RISK"
            }
            PopulationKind::Coverage => {
                let f = compute(schedule, p, doses, findings, as_of);
                let mut all = true;
                for (group, needed) in series {
                    let status = f.forecast.group(*group).map(|g| g.status);
                    let valid = f
                        .forecast
                        .dose_status_for_group(schedule, *group)
                        .into_iter()
                        .filter(|s| *s == Some(EvaluationStatus::Valid))
                        .count();
                    let ok = valid >= *needed
                        || matches!(status, Some(SeriesStatus::Complete | SeriesStatus::Immune));
                    all &= ok;
                    row.groups.push(GroupLine {
                        group: group.name().to_owned(),
                        status: if ok { "UP_TO_DATE" } else { "NOT_UP_TO_DATE" }.to_owned(),
                        due_date: None,
                        past_due_date: None,
                    });
                }
                let key = match params.group_by.as_deref() {
                    Some("ZIP") => p.postal_code.as_deref().map(|z| zip5(z).to_owned()),
                    Some("SCHOOL") => input.school_of.get(&p.id).map(|o| o.to_string()),
                    Some("PROVIDER") => input.provider_of.get(&p.id).map(|o| o.to_string()),
                    _ => county,
                }
                .unwrap_or_else(|| "UNKNOWN".to_owned());
                household = key.clone();
                row.key = Some(key);
                if all {
                    "UP_TO_DATE"
                } else {
                    "NOT_UP_TO_DATE"
                }
            }
            PopulationKind::LotRecall => {
                row.doses = doses
                    .iter()
                    .filter(|d| dose_matches_recall(grant, params, d))
                    .map(|d| DoseLine {
                        date_given: d.date_given,
                        cvx: d.cvx.clone(),
                        mvx: d.mvx.clone(),
                        lot_number: d.lot_number.clone(),
                        administered_by: d.administered_by_org_id,
                    })
                    .collect();
                if row.doses.is_empty() {
                    continue;
                }
                "RECALLED"
            }
        };
        out.push((
            p.id,
            Classified {
                category,
                household,
                row,
            },
        ));
    }
    out
}
