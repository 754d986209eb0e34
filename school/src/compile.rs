//! Checking a parsed requirements file against the forecasting schedule and compiling it:
//! every vaccine group, CVX code, grade and condition it names must exist and make sense, or
//! the load fails with the rule at fault.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use forecast::{Antigen, Schedule, VaccineGroup};

use crate::evidence::Documenter;
use crate::file::{AgesData, CheckData, ConditionData, DocumenterData, RequirementsFile, RuleData};
use crate::grades::GRADES;
use crate::requirements::{
    Age, AgeRange, Check, Condition, DoseOption, ImmunityRule, Requirements, RequirementsError,
    Rule, VaccineDef,
};

pub(crate) fn compile(
    file: RequirementsFile,
    origin: &str,
    schedule: &Schedule,
) -> Result<Requirements, RequirementsError> {
    let malformed = |rule: &str, why: String| RequirementsError::Malformed {
        origin: origin.to_owned(),
        rule: rule.to_owned(),
        why,
    };
    let code = file.jurisdiction.trim();
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(malformed(
            "-",
            format!("jurisdiction `{code}` is not a two-letter upper-case code"),
        ));
    }
    let completion = match &file.completion {
        None => None,
        Some(c) => {
            let window = Age::parse(&c.window)
                .filter(|a| a.months > 0)
                .ok_or_else(|| {
                    malformed(
                        "completion",
                        format!(
                            "window `{}` is not like \"18 months\" or \"2 years\"",
                            c.window
                        ),
                    )
                })?;
            if c.source.trim().is_empty() {
                return Err(malformed(
                    "completion",
                    "`source` must cite where the window comes from".into(),
                ));
            }
            Some((window, c.source.clone()))
        }
    };
    let known_groups: HashSet<VaccineGroup> = schedule.vaccine_groups().collect();
    let cvx_antigens = cvx_antigens(schedule);
    let mut vaccines = Vec::with_capacity(file.vaccines.len());
    for (name, data) in &file.vaccines {
        let group = VaccineGroup::from_name(&data.group)
            .filter(|g| known_groups.contains(g))
            .ok_or_else(|| RequirementsError::UnknownVaccineGroup {
                origin: origin.to_owned(),
                vaccine: name.clone(),
                group: data.group.clone(),
            })?;
        let antigens = schedule.group_antigens(group);
        let cvx = data
            .cvx
            .as_deref()
            .map(|codes| cvx_codes(codes, &antigens, &cvx_antigens, origin, name))
            .transpose()?;
        vaccines.push(VaccineDef {
            name: Arc::from(name.as_str()),
            group,
            antigens,
            cvx,
        });
    }
    let vaccine_index = |rule: &str, name: &str| {
        vaccines
            .iter()
            .position(|v| &*v.name == name)
            .ok_or_else(|| {
                malformed(
                    rule,
                    format!(
                        "vaccine `{name}` is not one of [vaccines] ({})",
                        vaccines
                            .iter()
                            .map(|v| &*v.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    };

    let mut rules = Vec::with_capacity(file.rules.len());
    let mut ids = HashSet::new();
    // (vaccine, grade) → rule id: two rules for one vaccine in one grade would be ambiguous.
    let mut claimed: BTreeMap<(usize, String), String> = BTreeMap::new();
    for r in &file.rules {
        let id = r.id.trim();
        if id.is_empty() {
            return Err(malformed("?", "`id` is blank".into()));
        }
        if !ids.insert(id.to_owned()) {
            return Err(malformed(id, "the id is used by another rule".into()));
        }
        if r.source.trim().is_empty() {
            return Err(malformed(
                id,
                "`source` must cite where the rule comes from".into(),
            ));
        }
        if r.grades.is_empty() {
            return Err(malformed(id, "`grades` is empty".into()));
        }
        for g in &r.grades {
            if !GRADES.contains(&g.as_str()) {
                return Err(malformed(
                    id,
                    format!("grade `{g}` is not one of {}", GRADES.join(", ")),
                ));
            }
        }
        let ages = r
            .ages
            .as_ref()
            .map(|a| age_range(a, "ages", id, &malformed))
            .transpose()?;
        let mut sources = vec![r.source.clone()];
        let cvx_of = |vaccine: usize, codes: &[String]| {
            let v = &vaccines[vaccine];
            cvx_codes(codes, &v.antigens, &cvx_antigens, origin, &v.name)
        };
        let check = match r.check {
            CheckData::Doses => {
                doses_check(r, id, &vaccine_index, &cvx_of, &malformed, &mut sources)?
            }
            CheckData::UpToDate => {
                if r.vaccine.is_some()
                    || r.doses.is_some()
                    || !r.also.is_empty()
                    || !r.fewer.is_empty()
                    || r.count_from_birthday.is_some()
                {
                    return Err(malformed(
                        id,
                        "an `up_to_date` check takes only `vaccines` and `immunity` (the forecast decides the doses)"
                            .into(),
                    ));
                }
                let names = r
                    .vaccines
                    .as_ref()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| malformed(id, "`vaccines` is required and not empty".into()))?;
                Check::UpToDate {
                    vaccines: names
                        .iter()
                        .map(|n| vaccine_index(id, n))
                        .collect::<Result<_, _>>()?,
                    immunity: immunity_rules(r, id, &malformed, &mut sources)?,
                }
            }
        };
        let covered: Vec<usize> = match &check {
            Check::Doses { vaccine, .. } => vec![*vaccine],
            Check::UpToDate { vaccines, .. } => vaccines.clone(),
        };
        for v in covered {
            for g in &r.grades {
                if let Some(other) = claimed.insert((v, g.clone()), id.to_owned()) {
                    return Err(malformed(
                        id,
                        format!(
                            "vaccine `{}` in grade {g} is already required by rule `{other}`",
                            vaccines[v].name
                        ),
                    ));
                }
            }
        }
        rules.push(Rule {
            id: Arc::from(id),
            grades: r.grades.clone(),
            ages,
            check,
            sources,
        });
    }
    if rules.is_empty() {
        return Err(malformed("-", "the file has no [[rule]]".into()));
    }
    Ok(Requirements {
        jurisdiction: code.to_owned(),
        name: file.name,
        grace_days: file.grace_days,
        completion_window: completion.as_ref().map(|(w, _)| *w),
        completion_source: completion.map(|(_, s)| s),
        vaccines,
        rules,
    })
}

fn doses_check(
    r: &RuleData,
    id: &str,
    vaccine_index: &impl Fn(&str, &str) -> Result<usize, RequirementsError>,
    cvx_of: &impl Fn(usize, &[String]) -> Result<Vec<u16>, RequirementsError>,
    malformed: &impl Fn(&str, String) -> RequirementsError,
    sources: &mut Vec<String>,
) -> Result<Check, RequirementsError> {
    if r.vaccines.is_some() {
        return Err(malformed(
            id,
            "a `doses` check names one `vaccine`, not `vaccines`".into(),
        ));
    }
    let name = r
        .vaccine
        .as_deref()
        .ok_or_else(|| malformed(id, "`vaccine` is required".into()))?;
    let vaccine = vaccine_index(id, name)?;
    let doses = r
        .doses
        .filter(|d| *d >= 1)
        .ok_or_else(|| malformed(id, "`doses` (at least 1) is required".into()))?;
    let condition = |c: &ConditionData| -> Result<Condition, RequirementsError> {
        match (c.dose, c.on_or_after_birthday, c.age_at_least) {
            (Some(dose), Some(years), None) if dose >= 1 => {
                Ok(Condition::DoseOnOrAfterBirthday { dose, years })
            }
            (None, None, Some(years)) => Ok(Condition::AgeAtLeast { years }),
            _ => Err(malformed(
                id,
                "a condition is `{ dose = N, on_or_after_birthday = Y }` (N ≥ 1) or `{ age_at_least = Y }`"
                    .into(),
            )),
        }
    };
    let mut options = vec![DoseOption {
        doses,
        conditions: r.also.iter().map(&condition).collect::<Result<_, _>>()?,
        cvx: None,
        given_at: None,
    }];
    for f in &r.fewer {
        if f.doses == 0 || f.doses >= doses {
            return Err(malformed(
                id,
                format!(
                    "`fewer` doses ({}) must be between 1 and {}",
                    f.doses,
                    doses - 1
                ),
            ));
        }
        if f.when.is_none() && f.cvx.is_none() && f.given_at.is_none() {
            return Err(malformed(
                id,
                "a `fewer` alternative needs `when`, `cvx` or `given_at`".into(),
            ));
        }
        let when = f.when.as_ref().map(&condition).transpose()?;
        if let Some(Condition::DoseOnOrAfterBirthday { dose, .. }) = when {
            if dose > f.doses {
                return Err(malformed(
                    id,
                    format!("`fewer` names dose {dose} but requires only {}", f.doses),
                ));
            }
        }
        if f.source.trim().is_empty() {
            return Err(malformed(id, "a `fewer` source is blank".into()));
        }
        sources.push(f.source.clone());
        options.push(DoseOption {
            doses: f.doses,
            conditions: when.into_iter().collect(),
            cvx: f.cvx.as_deref().map(|c| cvx_of(vaccine, c)).transpose()?,
            given_at: f
                .given_at
                .as_ref()
                .map(|a| age_range(a, "given_at", id, malformed))
                .transpose()?,
        });
    }
    for o in &options {
        for c in &o.conditions {
            if let Condition::DoseOnOrAfterBirthday { dose, .. } = c {
                if *dose > o.doses {
                    return Err(malformed(
                        id,
                        format!("a condition names dose {dose} of only {}", o.doses),
                    ));
                }
            }
        }
    }
    let immunity = immunity_rules(r, id, malformed, sources)?;
    Ok(Check::Doses {
        vaccine,
        options,
        count_from_birthday: r.count_from_birthday,
        immunity,
    })
}

/// The rule's `immunity` entries: who may document immunity, and before when the disease.
fn immunity_rules(
    r: &RuleData,
    id: &str,
    malformed: &impl Fn(&str, String) -> RequirementsError,
    sources: &mut Vec<String>,
) -> Result<Vec<ImmunityRule>, RequirementsError> {
    let mut immunity = Vec::with_capacity(r.immunity.len());
    for i in &r.immunity {
        if i.documented_by.is_empty() {
            return Err(malformed(
                id,
                "an `immunity` entry's `documented_by` is empty".into(),
            ));
        }
        if i.source.trim().is_empty() {
            return Err(malformed(id, "an `immunity` source is blank".into()));
        }
        sources.push(i.source.clone());
        immunity.push(ImmunityRule {
            documented_by: i
                .documented_by
                .iter()
                .map(|d| match d {
                    DocumenterData::Provider => Documenter::Provider,
                    DocumenterData::Parent => Documenter::Parent,
                    DocumenterData::Laboratory => Documenter::Laboratory,
                })
                .collect(),
            disease_before: i.disease_before,
        });
    }
    Ok(immunity)
}

/// `{ from, before }` with at least one bound, each like `"2 months"`, `from` below `before`.
fn age_range(
    a: &AgesData,
    key: &str,
    id: &str,
    malformed: &impl Fn(&str, String) -> RequirementsError,
) -> Result<AgeRange, RequirementsError> {
    let parse = |text: &Option<String>| -> Result<Option<Age>, RequirementsError> {
        text.as_deref()
            .map(|t| {
                Age::parse(t).ok_or_else(|| {
                    malformed(
                        id,
                        format!("`{key}`: age `{t}` is not like \"2 months\" or \"18 years\""),
                    )
                })
            })
            .transpose()
    };
    let range = AgeRange {
        from: parse(&a.from)?,
        before: parse(&a.before)?,
    };
    match (range.from, range.before) {
        (None, None) => Err(malformed(
            id,
            format!("`{key}` needs `from`, `before` or both"),
        )),
        (Some(f), Some(b)) if f >= b => Err(malformed(
            id,
            format!("`{key}`: `from` must be below `before`"),
        )),
        _ => Ok(range),
    }
}

/// A list of CVX codes, each in the schedule and holding an antigen of the vaccine's group.
fn cvx_codes(
    codes: &[String],
    antigens: &[Antigen],
    cvx_antigens: &BTreeMap<u16, Vec<Antigen>>,
    origin: &str,
    vaccine: &str,
) -> Result<Vec<u16>, RequirementsError> {
    if codes.is_empty() {
        return Err(RequirementsError::BadCvx {
            origin: origin.to_owned(),
            vaccine: vaccine.to_owned(),
            cvx: String::new(),
            why: "list is empty (leave `cvx` out to count the whole group)",
        });
    }
    codes
        .iter()
        .map(|c| {
            let bad = |why| RequirementsError::BadCvx {
                origin: origin.to_owned(),
                vaccine: vaccine.to_owned(),
                cvx: c.clone(),
                why,
            };
            let n: u16 = c.trim().parse().map_err(|_| bad("is not a CVX code"))?;
            let of = cvx_antigens
                .get(&n)
                .ok_or_else(|| bad("is not in the forecasting schedule"))?;
            if !of.iter().any(|a| antigens.contains(a)) {
                return Err(bad("has no antigen of the vaccine's group"));
            }
            Ok(n)
        })
        .collect()
}

/// CVX code → the antigens it contains, from the schedule's data.
fn cvx_antigens(schedule: &Schedule) -> BTreeMap<u16, Vec<Antigen>> {
    let by_name: BTreeMap<&str, Antigen> = schedule
        .antigens()
        .map(|a| (schedule.antigen_name(a), a))
        .collect();
    let (data, _) = schedule.data();
    data.cvx
        .iter()
        .map(|c| {
            (
                c.cvx,
                c.antigens
                    .iter()
                    .filter_map(|a| by_name.get(a.antigen.as_str()).copied())
                    .collect(),
            )
        })
        .collect()
}
