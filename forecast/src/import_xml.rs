//! Converter from the CDC's CDSi supporting data (XML) to izgraph's schedule model.
//!
//! Not part of the library proper: it is compiled into the `cdsi-import` binary and
//! into the `schedule_matches_cdc` test (via `#[path]`), so the library does not
//! depend on an XML parser.

use chrono::NaiveDate;
use forecast::duration::Duration;
use forecast::schedule::model::*;
use roxmltree::Node;
use std::collections::BTreeMap;
use std::path::Path;

/// The converted schedule: `schedule.json` plus one file per antigen, keyed by the
/// relative path the JSON is stored under.
pub fn convert_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("AntigenSupportingData-") && n.ends_with(".xml"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        let antigen = convert_antigen(&text).map_err(|e| format!("{name}: {e}"))?;
        let file = format!("antigens/{}.json", file_stem(&antigen.antigen));
        out.insert(file, to_json(&antigen)?);
    }
    let text = std::fs::read_to_string(dir.join("ScheduleSupportingData.xml"))
        .map_err(|e| format!("ScheduleSupportingData.xml: {e}"))?;
    let sched = convert_schedule(&text).map_err(|e| format!("ScheduleSupportingData.xml: {e}"))?;
    out.insert("schedule.json".to_string(), to_json(&sched)?);
    Ok(out)
}

/// File name used for an antigen (lower case, spaces and slashes to dashes).
pub fn file_stem(antigen: &str) -> String {
    antigen
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string_pretty(v)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| e.to_string())
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.has_tag_name(name))
}

fn children<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.has_tag_name(name))
}

fn text(n: Node, name: &str) -> String {
    child(n, name)
        .and_then(|c| c.text())
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn opt_text(n: Node, name: &str) -> Option<String> {
    let t = text(n, name);
    (!t.is_empty()).then_some(t)
}

fn dur(n: Node, name: &str) -> Result<Option<Duration>, String> {
    match opt_text(n, name) {
        None => Ok(None),
        Some(t) => Duration::parse_cdsi(&t)
            .map(Some)
            .ok_or_else(|| format!("bad duration {name}={t:?}")),
    }
}

fn date(n: Node, name: &str) -> Result<Option<NaiveDate>, String> {
    match opt_text(n, name) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(&t, "%Y%m%d")
            .or_else(|_| NaiveDate::parse_from_str(&t, "%m/%d/%Y"))
            .map(Some)
            .map_err(|_| format!("bad date {name}={t:?}")),
    }
}

fn code(t: &str) -> Result<u16, String> {
    t.trim().parse().map_err(|_| format!("bad code {t:?}"))
}

fn codes(t: &str) -> Result<Vec<u16>, String> {
    t.split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(code)
        .collect()
}

fn yes(n: Node, name: &str) -> bool {
    matches!(text(n, name).to_ascii_lowercase().as_str(), "yes" | "y")
}

fn aged_vaccine(v: Node) -> Result<AgedVaccine, String> {
    Ok(AgedVaccine {
        cvx: code(&text(v, "cvx"))?,
        begin_age: dur(v, "beginAge")?,
        end_age: dur(v, "endAge")?,
    })
}

/// Converts one `AntigenSupportingData-*.xml`.
pub fn convert_antigen(xml: &str) -> Result<AntigenData, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    let mut immunity = Immunity::default();
    if let Some(im) = child(root, "immunity") {
        for ch in children(im, "clinicalHistory") {
            immunity
                .clinical_history
                .push(code(&text(ch, "guidelineCode"))?);
        }
        for dob in children(im, "dateOfBirth") {
            let born_before = date(dob, "immunityBirthDate")?.ok_or("missing immunityBirthDate")?;
            let exclusions = children(dob, "exclusion")
                .map(|e| code(&text(e, "exclusionCode")))
                .collect::<Result<_, _>>()?;
            immunity.birth_date.push(BirthDateImmunity {
                born_before,
                birth_country: opt_text(dob, "birthCountry"),
                exclusions,
            });
        }
    }
    let mut contraindications = Contraindications::default();
    if let Some(ci) = child(root, "contraindications") {
        if let Some(g) = child(ci, "vaccineGroup") {
            for c in children(g, "contraindication") {
                contraindications.antigen.push(AntigenContraindication {
                    code: code(&text(c, "observationCode"))?,
                    title: text(c, "observationTitle"),
                    begin_age: dur(c, "beginAge")?,
                    end_age: dur(c, "endAge")?,
                });
            }
        }
        if let Some(g) = child(ci, "vaccine") {
            for c in children(g, "contraindication") {
                contraindications.vaccine.push(VaccineContraindication {
                    code: code(&text(c, "observationCode"))?,
                    title: text(c, "observationTitle"),
                    vaccines: children(c, "contraindicatedVaccine")
                        .map(aged_vaccine)
                        .collect::<Result<_, _>>()?,
                });
            }
        }
    }
    let mut series = Vec::new();
    let mut antigen = String::new();
    for s in children(root, "series") {
        let sd =
            convert_series(s).map_err(|e| format!("series {:?}: {e}", text(s, "seriesName")))?;
        if antigen.is_empty() {
            antigen = sd.target_disease.clone();
        }
        series.push(sd);
    }
    if antigen.is_empty() {
        return Err("no series".into());
    }
    Ok(AntigenData {
        antigen,
        immunity,
        contraindications,
        series,
    })
}

fn convert_series(s: Node) -> Result<SeriesData, String> {
    let sel = child(s, "selectSeries").ok_or("missing selectSeries")?;
    let series_type = match text(s, "seriesType").as_str() {
        "Standard" => SeriesType::Standard,
        "Risk" => SeriesType::Risk,
        "Evaluation Only" => SeriesType::EvaluationOnly,
        other => return Err(format!("unknown seriesType {other:?}")),
    };
    let mut indications = Vec::new();
    for ind in children(s, "indication") {
        if let Some(oc) = child(ind, "observationCode") {
            let c = text(oc, "code");
            if !c.is_empty() {
                indications.push(Indication {
                    code: code(&c)?,
                    begin_age: dur(ind, "beginAge")?,
                    end_age: dur(ind, "endAge")?,
                });
            }
        }
    }
    let mut doses = Vec::new();
    for d in children(s, "seriesDose") {
        doses.push(convert_dose(d).map_err(|e| format!("{}: {e}", text(d, "doseNumber")))?);
    }
    Ok(SeriesData {
        name: text(s, "seriesName"),
        target_disease: text(s, "targetDisease"),
        vaccine_group: text(s, "vaccineGroup"),
        series_type,
        equivalent_series_groups: codes(&text(s, "equivalentSeriesGroups"))?
            .into_iter()
            .map(u32::from)
            .collect(),
        required_gender: children(s, "requiredGender")
            .filter_map(|g| g.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        default_series: yes(sel, "defaultSeries"),
        product_path: yes(sel, "productPath"),
        series_group_name: text(sel, "seriesGroupName"),
        series_group: text(sel, "seriesGroup")
            .parse()
            .map_err(|_| "bad seriesGroup")?,
        series_priority: text(sel, "seriesPriority"),
        series_preference: match opt_text(sel, "seriesPreference") {
            Some(t) => Some(
                t.parse()
                    .map_err(|_| format!("bad seriesPreference {t:?}"))?,
            ),
            None => None,
        },
        min_age_to_start: dur(sel, "minAgeToStart")?,
        max_age_to_start: dur(sel, "maxAgeToStart")?,
        indications,
        doses,
    })
}

fn convert_interval(i: Node) -> Result<Option<IntervalData>, String> {
    let from_previous = matches!(text(i, "fromPrevious").as_str(), "Y" | "y" | "Yes");
    let from_target_dose = match opt_text(i, "fromTargetDose") {
        Some(t) => Some(t.parse().map_err(|_| format!("bad fromTargetDose {t:?}"))?),
        None => None,
    };
    let from_most_recent = codes(&text(i, "fromMostRecent"))?;
    let from_relevant_obs = match child(i, "fromRelevantObs").and_then(|o| opt_text(o, "code")) {
        Some(c) => Some(code(&c)?),
        None => None,
    };
    let iv = IntervalData {
        from_previous,
        from_target_dose,
        from_most_recent,
        from_relevant_obs,
        abs_min: dur(i, "absMinInt")?,
        min: dur(i, "minInt")?,
        earliest_rec: dur(i, "earliestRecInt")?,
        latest_rec: dur(i, "latestRecInt")?,
        priority_override: text(i, "intervalPriority").eq_ignore_ascii_case("override"),
        effective: date(i, "effectiveDate")?,
        cessation: date(i, "cessationDate")?,
    };
    let empty = !iv.from_previous
        && iv.from_target_dose.is_none()
        && iv.from_most_recent.is_empty()
        && iv.from_relevant_obs.is_none();
    Ok((!empty).then_some(iv))
}

fn convert_dose(d: Node) -> Result<SeriesDoseData, String> {
    let dn = text(d, "doseNumber");
    let dose_number = dn
        .trim_start_matches("Dose")
        .trim()
        .parse()
        .map_err(|_| format!("bad doseNumber {dn:?}"))?;
    let mut ages = Vec::new();
    for a in children(d, "age") {
        let age = AgeData {
            abs_min: dur(a, "absMinAge")?,
            min: dur(a, "minAge")?,
            earliest_rec: dur(a, "earliestRecAge")?,
            latest_rec: dur(a, "latestRecAge")?,
            max: dur(a, "maxAge")?,
            effective: date(a, "effectiveDate")?,
            cessation: date(a, "cessationDate")?,
        };
        if age != AgeData::default() {
            ages.push(age);
        }
    }
    let mut intervals = Vec::new();
    for i in children(d, "interval") {
        intervals.extend(convert_interval(i)?);
    }
    let mut allowable_intervals = Vec::new();
    for i in children(d, "allowableInterval") {
        allowable_intervals.extend(convert_interval(i)?);
    }
    let mut preferable_vaccines = Vec::new();
    for v in children(d, "preferableVaccine") {
        if text(v, "cvx").is_empty() {
            continue;
        }
        preferable_vaccines.push(PreferableVaccine {
            cvx: code(&text(v, "cvx"))?,
            vaccine_type: text(v, "vaccineType"),
            begin_age: dur(v, "beginAge")?,
            end_age: dur(v, "endAge")?,
            trade_name: opt_text(v, "tradeName"),
            mvx: opt_text(v, "mvx"),
            forecast: matches!(text(v, "forecastVaccineType").as_str(), "Y" | "Yes"),
        });
    }
    let allowable_vaccines = children(d, "allowableVaccine")
        .filter(|v| !text(*v, "cvx").is_empty())
        .map(aged_vaccine)
        .collect::<Result<_, _>>()?;
    let inadvertent_vaccines = children(d, "inadvertentVaccine")
        .filter(|v| !text(*v, "cvx").is_empty())
        .map(|v| code(&text(v, "cvx")))
        .collect::<Result<_, _>>()?;
    let mut conditional_skips = Vec::new();
    for cs in children(d, "conditionalSkip") {
        if let Some(c) = convert_skip(cs)? {
            conditional_skips.push(c);
        }
    }
    let seasonal = match child(d, "seasonalRecommendation") {
        Some(s) => {
            let v = Seasonal {
                start: date(s, "startDate")?,
                end: date(s, "endDate")?,
            };
            (v.start.is_some() || v.end.is_some()).then_some(v)
        }
        None => None,
    };
    Ok(SeriesDoseData {
        dose_number,
        ages,
        intervals,
        allowable_intervals,
        preferable_vaccines,
        allowable_vaccines,
        inadvertent_vaccines,
        conditional_skips,
        recurring: yes(d, "recurringDose"),
        seasonal,
    })
}

fn logic(t: &str) -> Result<Option<Logic>, String> {
    match t.to_ascii_lowercase().as_str() {
        "and" => Ok(Some(Logic::And)),
        "or" => Ok(Some(Logic::Or)),
        "" | "n/a" => Ok(None),
        other => Err(format!("bad logic {other:?}")),
    }
}

fn convert_skip(cs: Node) -> Result<Option<ConditionalSkip>, String> {
    let ctx = text(cs, "context");
    if ctx.is_empty() {
        return Ok(None);
    }
    let context = match ctx.as_str() {
        "Evaluation" => SkipContext::Evaluation,
        "Forecast" => SkipContext::Forecast,
        "Both" => SkipContext::Both,
        other => return Err(format!("bad context {other:?}")),
    };
    let mut sets = Vec::new();
    for s in children(cs, "set") {
        let mut conditions = Vec::new();
        for c in children(s, "condition") {
            let kind = match text(c, "conditionType").to_ascii_lowercase().as_str() {
                "age" => ConditionType::Age,
                "interval" => ConditionType::Interval,
                "completed series" => ConditionType::CompletedSeries,
                "vaccine count by age" => ConditionType::VaccineCountByAge,
                "vaccine count by date" => ConditionType::VaccineCountByDate,
                "vaccine count by date and age" => ConditionType::VaccineCountByDateAndAge,
                other => return Err(format!("bad conditionType {other:?}")),
            };
            let dose_count_logic = match text(c, "doseCountLogic").to_ascii_lowercase().as_str() {
                "greater than" => Some(DoseCountLogic::GreaterThan),
                "equal to" => Some(DoseCountLogic::EqualTo),
                "less than" => Some(DoseCountLogic::LessThan),
                "" => None,
                other => return Err(format!("bad doseCountLogic {other:?}")),
            };
            conditions.push(SkipCondition {
                id: text(c, "conditionID").parse().unwrap_or(0),
                kind,
                start_date: date(c, "startDate")?,
                end_date: date(c, "endDate")?,
                begin_age: dur(c, "beginAge")?,
                end_age: dur(c, "endAge")?,
                interval: dur(c, "interval")?,
                dose_count: match opt_text(c, "doseCount") {
                    Some(t) => Some(t.parse().map_err(|_| format!("bad doseCount {t:?}"))?),
                    None => None,
                },
                valid_only: text(c, "doseType").eq_ignore_ascii_case("valid"),
                dose_count_logic,
                vaccine_types: codes(&text(c, "vaccineTypes"))?,
                series_groups: codes(&text(c, "seriesGroups"))?
                    .into_iter()
                    .map(u32::from)
                    .collect(),
            });
        }
        sets.push(SkipSet {
            id: text(s, "setID").parse().unwrap_or(0),
            description: text(s, "setDescription"),
            effective: date(s, "effectiveDate")?,
            cessation: date(s, "cessationDate")?,
            condition_logic: logic(&text(s, "conditionLogic"))?,
            conditions,
        });
    }
    Ok(Some(ConditionalSkip {
        context,
        set_logic: logic(&text(cs, "setLogic"))?,
        sets,
    }))
}

/// Converts `ScheduleSupportingData.xml`.
pub fn convert_schedule(xml: &str) -> Result<ScheduleData, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    let mut live_virus_conflicts = Vec::new();
    if let Some(l) = child(root, "liveVirusConflicts") {
        for c in children(l, "liveVirusConflict") {
            let prev = child(c, "previous").ok_or("missing previous")?;
            let cur = child(c, "current").ok_or("missing current")?;
            live_virus_conflicts.push(LiveVirusConflict {
                previous_cvx: code(&text(prev, "cvx"))?,
                current_cvx: code(&text(cur, "cvx"))?,
                begin: dur(c, "conflictBeginInterval")?.ok_or("missing conflictBeginInterval")?,
                min_end: dur(c, "minConflictEndInterval")?
                    .ok_or("missing minConflictEndInterval")?,
                end: dur(c, "conflictEndInterval")?.ok_or("missing conflictEndInterval")?,
            });
        }
    }
    let mut group_antigens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(m) = child(root, "vaccineGroupToAntigenMap") {
        for g in children(m, "vaccineGroupMap") {
            group_antigens.insert(
                text(g, "name"),
                children(g, "antigen")
                    .filter_map(|a| a.text())
                    .map(|t| t.trim().to_string())
                    .collect(),
            );
        }
    }
    let mut vaccine_groups = Vec::new();
    if let Some(v) = child(root, "vaccineGroups") {
        for g in children(v, "vaccineGroup") {
            let name = text(g, "name");
            let antigens = group_antigens
                .get(&name)
                .cloned()
                .ok_or_else(|| format!("no antigen map for {name}"))?;
            vaccine_groups.push(VaccineGroupData {
                administer_full_vaccine_group: yes(g, "administerFullVaccineGroup"),
                name,
                antigens,
            });
        }
    }
    let mut cvx = Vec::new();
    if let Some(m) = child(root, "cvxToAntigenMap") {
        for c in children(m, "cvxMap") {
            let mut antigens = Vec::new();
            for a in children(c, "association") {
                antigens.push(CvxAntigen {
                    antigen: text(a, "antigen"),
                    begin_age: dur(a, "associationBeginAge")?,
                    end_age: dur(a, "associationEndAge")?,
                });
            }
            cvx.push(CvxData {
                cvx: code(&text(c, "cvx"))?,
                description: text(c, "shortDescription"),
                antigens,
            });
        }
    }
    let mut observations = Vec::new();
    if let Some(o) = child(root, "observations") {
        for ob in children(o, "observation") {
            observations.push(ObservationData {
                code: code(&text(ob, "observationCode"))?,
                title: text(ob, "observationTitle"),
            });
        }
    }
    Ok(ScheduleData {
        cdc_version: "4.64-508".to_string(),
        live_virus_conflicts,
        vaccine_groups,
        cvx,
        observations,
    })
}
