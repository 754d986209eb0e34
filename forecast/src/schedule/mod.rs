//! The schedule: loading izgraph's JSON schedule files, validating them and compiling
//! them into the lookup structures the engine uses (CVX codes interned as integers,
//! per-CVX antigen associations, live-virus conflicts indexed by CVX).

pub(crate) mod compiled;
pub mod model;
pub(crate) mod twins;

use crate::day::Span;
use crate::types::Antigen;
use crate::vaccine_group::VaccineGroup;
use compiled::{AgeTable, Precautions, Series, Window};
use model::{AntigenData, ScheduleData};
use std::sync::OnceLock;

/// Largest CVX code the engine indexes directly (CVX codes are < 1000).
pub(crate) const MAX_CVX: usize = 1024;

/// Why a schedule could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule file {file} is not valid JSON for its format: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("unknown vaccine group {0:?} in the schedule")]
    UnknownVaccineGroup(String),
    #[error("vaccine group {group:?} names antigen {antigen:?} which has no antigen file")]
    UnknownAntigen { group: String, antigen: String },
    #[error("CVX {cvx} maps to antigen {antigen:?} which has no antigen file")]
    UnknownCvxAntigen { cvx: u16, antigen: String },
    #[error("CVX code {0} is out of range")]
    CvxOutOfRange(u16),
    #[error("antigen {antigen:?} series {series:?} is invalid: {reason}")]
    InvalidSeries {
        antigen: String,
        series: String,
        reason: String,
    },
    #[error("too many antigens ({0})")]
    TooManyAntigens(usize),
    #[error("too many distinct ages ({0})")]
    TooManyAges(usize),
}

/// An antigen association of a CVX code, with its age window.
#[derive(Debug, Clone)]
pub(crate) struct CvxAssoc {
    pub antigen: u8,
    pub window: Window,
}

/// A live virus conflict seen from the current dose.
#[derive(Debug, Clone)]
pub(crate) struct LiveConflict {
    pub previous_cvx: u16,
    pub begin: Span,
    pub min_end: Span,
    pub end: Span,
}

/// One antigen, compiled.
#[derive(Debug, Clone)]
pub(crate) struct AntigenDef {
    pub data: AntigenData,
    /// The series compiled for the engine (same index as `data.series`).
    pub series: Vec<Series>,
    pub precautions: Precautions,
    pub group: VaccineGroup,
    /// Per series (same index as `data.series`): facts precomputed for selection.
    pub series_meta: Vec<SeriesMeta>,
    /// Series indices ordered by series group (so "completed series" skip conditions
    /// can see the results of lower groups), restricted to the series each gender may get (index:
    /// [`gender_bit`] `>> 1`, i.e. Female 0, Male 1, Unknown 2).
    pub order_by_gender: [Vec<usize>; 3],
    /// `order_by_gender` without the risk series (which need an observation).
    pub standard_by_gender: [Vec<usize>; 3],
    /// Whether some series group has series of different priorities (otherwise the
    /// priority filter of series selection keeps everything).
    pub mixed_priorities: bool,
    /// An earlier antigen with the same rules (see [`twins`]).
    pub twin: Option<twins::Twin>,
}

/// Series facts the engine would otherwise recompute from strings per patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SeriesMeta {
    /// Bit per [`crate::Gender`] (Female 1, Male 2, Unknown 4) the series accepts.
    pub genders: u8,
    /// First byte of the series priority (`b'Z'` when empty).
    pub priority: u8,
}

/// The bit of a gender in [`SeriesMeta::genders`].
#[inline]
pub(crate) fn gender_bit(g: crate::types::Gender) -> u8 {
    match g {
        crate::types::Gender::Female => 1,
        crate::types::Gender::Male => 2,
        crate::types::Gender::Unknown => 4,
    }
}

/// The index of a gender in [`AntigenDef::order_by_gender`].
#[inline]
pub(crate) fn gender_index(g: crate::types::Gender) -> usize {
    match g {
        crate::types::Gender::Female => 0,
        crate::types::Gender::Male => 1,
        crate::types::Gender::Unknown => 2,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GroupDef {
    pub group: VaccineGroup,
    pub administer_full: bool,
    pub antigens: Vec<u8>,
}

/// A loaded, validated and compiled schedule. Immutable and cheap to share.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub(crate) data: ScheduleData,
    pub(crate) antigens: Vec<AntigenDef>,
    pub(crate) groups: Vec<GroupDef>,
    /// Antigen associations by CVX code.
    pub(crate) cvx: Vec<Vec<CvxAssoc>>,
    /// Live virus conflicts by current CVX code, each list by previous CVX code.
    pub(crate) live: Vec<Vec<LiveConflict>>,
    /// CVX codes that appear as the previous dose of a live virus conflict.
    pub(crate) live_previous: Vec<bool>,
    /// CVX codes formatted once ("08", "110"), for forecast output.
    pub(crate) cvx_text: &'static [String],
    /// The distinct ages of the schedule (see [`compiled::Age`]).
    pub(crate) ages: Vec<Span>,
    /// The indices of `ages` but the two open bounds, by months.
    pub(crate) ages_by_months: Vec<u16>,
}

/// Every CVX code the engine indexes, formatted ("08", "110"), once per process: a
/// forecast names its vaccines with these `'static` strings, without allocating.
fn cvx_texts() -> &'static [String] {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| (0..MAX_CVX).map(|c| format!("{c:02}")).collect())
}

/// The schedule files compiled into the crate: `(relative path, JSON)`.
pub const EMBEDDED_FILES: &[(&str, &str)] = &include!("embedded_files.rs");

impl Schedule {
    /// The schedule shipped with this crate (`forecast/schedule/`), parsed and
    /// compiled once per process.
    pub fn embedded() -> Result<&'static Schedule, &'static ScheduleError> {
        static CELL: OnceLock<Result<Schedule, ScheduleError>> = OnceLock::new();
        CELL.get_or_init(|| Schedule::from_json_files(EMBEDDED_FILES.iter().copied()))
            .as_ref()
    }

    /// Builds a schedule from JSON files: `schedule.json` plus any number of
    /// `antigens/*.json` (the name decides which is which).
    pub fn from_json_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Schedule, ScheduleError> {
        let mut sched: Option<ScheduleData> = None;
        let mut antigens = Vec::new();
        for (name, json) in files {
            if name.ends_with("schedule.json") {
                sched = Some(
                    serde_json::from_str(json).map_err(|source| ScheduleError::Json {
                        file: name.to_string(),
                        source,
                    })?,
                );
            } else {
                let a: AntigenData =
                    serde_json::from_str(json).map_err(|source| ScheduleError::Json {
                        file: name.to_string(),
                        source,
                    })?;
                antigens.push(a);
            }
        }
        let sched = sched.ok_or_else(|| ScheduleError::Json {
            file: "schedule.json".to_string(),
            source: serde::de::Error::custom("missing schedule.json"),
        })?;
        Schedule::compile(sched, antigens)
    }

    /// Compiles parsed data (see [`model`]).
    pub fn compile(
        data: ScheduleData,
        antigen_data: Vec<AntigenData>,
    ) -> Result<Schedule, ScheduleError> {
        if antigen_data.len() > 250 {
            return Err(ScheduleError::TooManyAntigens(antigen_data.len()));
        }
        let mut groups = Vec::new();
        for g in &data.vaccine_groups {
            let group = VaccineGroup::from_name(&g.name)
                .ok_or_else(|| ScheduleError::UnknownVaccineGroup(g.name.clone()))?;
            let mut ids = Vec::new();
            for a in &g.antigens {
                let id = antigen_data
                    .iter()
                    .position(|d| d.antigen == *a)
                    .ok_or_else(|| ScheduleError::UnknownAntigen {
                        group: g.name.clone(),
                        antigen: a.clone(),
                    })?;
                ids.push(id as u8);
            }
            groups.push(GroupDef {
                group,
                administer_full: g.administer_full_vaccine_group,
                antigens: ids,
            });
        }
        let mut live = vec![Vec::new(); MAX_CVX];
        for l in &data.live_virus_conflicts {
            if l.current_cvx as usize >= MAX_CVX || l.previous_cvx as usize >= MAX_CVX {
                return Err(ScheduleError::CvxOutOfRange(
                    l.current_cvx.max(l.previous_cvx),
                ));
            }
            live[l.current_cvx as usize].push(LiveConflict {
                previous_cvx: l.previous_cvx,
                begin: Span::of(l.begin),
                min_end: Span::of(l.min_end),
                end: Span::of(l.end),
            });
        }
        // By earlier CVX, so that a dose's conflicts with one earlier dose are found
        // by binary search.
        for conflicts in &mut live {
            conflicts.sort_by_key(|c| c.previous_cvx);
        }
        let mut ages = AgeTable::default();
        let mut antigens = Vec::new();
        for (i, a) in antigen_data.into_iter().enumerate() {
            let group = groups
                .iter()
                .find(|g| g.antigens.contains(&(i as u8)))
                .map(|g| g.group)
                .ok_or_else(|| ScheduleError::UnknownAntigen {
                    group: "(none)".into(),
                    antigen: a.antigen.clone(),
                })?;
            for s in &a.series {
                if s.doses.is_empty() {
                    return Err(ScheduleError::InvalidSeries {
                        antigen: a.antigen.clone(),
                        series: s.name.clone(),
                        reason: "no doses".into(),
                    });
                }
                for (k, d) in s.doses.iter().enumerate() {
                    if d.dose_number as usize != k + 1 {
                        return Err(ScheduleError::InvalidSeries {
                            antigen: a.antigen.clone(),
                            series: s.name.clone(),
                            reason: format!("dose {} out of order", d.dose_number),
                        });
                    }
                    for iv in &d.intervals {
                        if iv
                            .from_target_dose
                            .is_some_and(|t| t == 0 || t as usize > s.doses.len())
                        {
                            return Err(ScheduleError::InvalidSeries {
                                antigen: a.antigen.clone(),
                                series: s.name.clone(),
                                reason: "bad fromTargetDose".into(),
                            });
                        }
                    }
                }
            }
            let mut series_order: Vec<usize> = (0..a.series.len()).collect();
            series_order.sort_by_key(|&s| a.series[s].series_group);
            let series_meta = a
                .series
                .iter()
                .map(|s| SeriesMeta {
                    genders: if s.required_gender.is_empty() {
                        7
                    } else {
                        [
                            (crate::types::Gender::Female, "Female"),
                            (crate::types::Gender::Male, "Male"),
                            (crate::types::Gender::Unknown, "Unknown"),
                        ]
                        .iter()
                        .filter(|(_, n)| {
                            s.required_gender.iter().any(|g| g.eq_ignore_ascii_case(n))
                        })
                        .fold(0, |m, (g, _)| m | gender_bit(*g))
                    },
                    priority: s
                        .series_priority
                        .as_bytes()
                        .first()
                        .copied()
                        .unwrap_or(b'Z'),
                })
                .collect();
            let series_meta: Vec<SeriesMeta> = series_meta;
            let order_by_gender: [Vec<usize>; 3] = [1u8, 2, 4].map(|bit| {
                series_order
                    .iter()
                    .copied()
                    .filter(|&i| series_meta[i].genders & bit != 0)
                    .collect()
            });
            let mixed_priorities = a.series.iter().enumerate().any(|(i, x)| {
                a.series.iter().enumerate().any(|(j, y)| {
                    x.series_group == y.series_group
                        && series_meta[i].priority != series_meta[j].priority
                })
            });
            let standard_by_gender = order_by_gender.clone().map(|order| {
                order
                    .into_iter()
                    .filter(|&i| a.series[i].series_type != model::SeriesType::Risk)
                    .collect()
            });
            antigens.push(AntigenDef {
                series: a
                    .series
                    .iter()
                    .map(|s| compiled::series(s, &mut ages, &live))
                    .collect(),
                precautions: compiled::precautions(&a, &mut ages),
                data: a,
                group,
                series_meta,
                standard_by_gender,
                order_by_gender,
                mixed_priorities,
                twin: None,
            });
        }
        for b in 0..antigens.len() {
            antigens[b].twin = twins::find(&antigens[..b], &antigens[b]);
        }
        let mut cvx = vec![Vec::new(); MAX_CVX];
        for c in &data.cvx {
            if c.cvx as usize >= MAX_CVX {
                return Err(ScheduleError::CvxOutOfRange(c.cvx));
            }
            for a in &c.antigens {
                let id = antigens
                    .iter()
                    .position(|d| d.data.antigen == a.antigen)
                    .ok_or_else(|| ScheduleError::UnknownCvxAntigen {
                        cvx: c.cvx,
                        antigen: a.antigen.clone(),
                    })?;
                cvx[c.cvx as usize].push(CvxAssoc {
                    antigen: id as u8,
                    window: ages.window(a.begin_age, a.end_age),
                });
            }
        }
        if ages.spans.len() > usize::from(u16::MAX) {
            return Err(ScheduleError::TooManyAges(ages.spans.len()));
        }
        let mut live_previous = vec![false; MAX_CVX];
        for l in &data.live_virus_conflicts {
            live_previous[l.previous_cvx as usize] = true;
        }
        Ok(Schedule {
            cvx_text: cvx_texts(),
            ages_by_months: {
                let mut order: Vec<u16> = (2..ages.spans.len() as u16).collect();
                order.sort_by_key(|&i| ages.spans[i as usize].months);
                order
            },
            ages: ages.spans,
            live_previous,
            data,
            antigens,
            groups,
            cvx,
            live,
        })
    }

    /// Version of the CDC supporting data the schedule was converted from.
    pub fn cdc_version(&self) -> &str {
        &self.data.cdc_version
    }

    /// The vaccine groups of the schedule, in schedule order.
    pub fn vaccine_groups(&self) -> impl Iterator<Item = VaccineGroup> + '_ {
        self.groups.iter().map(|g| g.group)
    }

    /// The antigens of the schedule.
    pub fn antigens(&self) -> impl Iterator<Item = Antigen> + '_ {
        (0..self.antigens.len()).map(|i| Antigen(i as u8))
    }

    /// The name of an antigen ("Measles", "Diphtheria", ...).
    pub fn antigen_name(&self, antigen: Antigen) -> &str {
        self.antigens
            .get(antigen.0 as usize)
            .map(|a| a.data.antigen.as_str())
            .unwrap_or("")
    }

    /// The vaccine group an antigen belongs to.
    pub fn antigen_group(&self, antigen: Antigen) -> Option<VaccineGroup> {
        self.antigens.get(antigen.0 as usize).map(|a| a.group)
    }

    /// The antigens of a vaccine group.
    pub fn group_antigens(&self, group: VaccineGroup) -> Vec<Antigen> {
        self.groups
            .iter()
            .filter(|g| g.group == group)
            .flat_map(|g| g.antigens.iter().map(|&a| Antigen(a)))
            .collect()
    }

    /// The title of an observation code (e.g. 42 -> "Smoke cigarettes").
    pub fn observation_title(&self, code: u16) -> Option<&str> {
        self.data
            .observations
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.title.as_str())
    }

    /// The short description of a CVX code.
    pub fn cvx_description(&self, cvx: u16) -> Option<&str> {
        self.data
            .cvx
            .iter()
            .find(|c| c.cvx == cvx)
            .map(|c| c.description.as_str())
    }

    /// The uncompiled data (e.g. to re-serialize or compare with the CDC's).
    pub fn data(&self) -> (&ScheduleData, impl Iterator<Item = &AntigenData>) {
        (&self.data, self.antigens.iter().map(|a| &a.data))
    }
}
