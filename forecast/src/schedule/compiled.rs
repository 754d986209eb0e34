//! The engine's form of the schedule, built once at load from the [`model`] types:
//! dates are day numbers with open bounds as sentinels, intervals are month/day
//! spans, skip conditions are split by context and their kinds resolved to variants,
//! and every age is an index into one table of the schedule's distinct ages, which
//! each forecast resolves against the patient's birth date at most once per age.
//!
//! [`model`]: super::model

use super::model::{
    AgeData, AgedVaccine, AntigenData, ConditionType, ConditionalSkip, DoseCountLogic,
    IntervalData, Logic, SeriesData, SeriesDoseData, SeriesType, SkipContext, SkipSet,
};
use super::LiveConflict;
use crate::day::{Day, Span};
use crate::duration::Duration;
use std::collections::HashMap;

/// An age: an index into [`AgeTable::spans`]. Index 0 is an absent lower bound and
/// index 1 an absent upper bound, so an age window needs no `Option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Age(pub u16);

impl Age {
    /// Before every birth-relative date.
    pub const OPEN_LOW: Age = Age(0);
    /// After every birth-relative date.
    pub const OPEN_HIGH: Age = Age(1);
}

/// An age window `[begin, end)`; missing bounds are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub begin: Age,
    pub end: Age,
}

/// The schedule's distinct ages (as spans from birth), interned while compiling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgeTable {
    pub spans: Vec<Span>,
    index: HashMap<Span, u16>,
}

impl Default for AgeTable {
    fn default() -> Self {
        AgeTable {
            // The two open bounds (their spans are never used).
            spans: vec![Span::default(), Span::default()],
            index: HashMap::new(),
        }
    }
}

impl AgeTable {
    pub fn age(&mut self, d: Duration) -> Age {
        let span = Span::of(d);
        if let Some(&i) = self.index.get(&span) {
            return Age(i);
        }
        // A table past u16 is rejected by `Schedule::compile`.
        let i = u16::try_from(self.spans.len()).unwrap_or(u16::MAX);
        self.spans.push(span);
        self.index.insert(span, i);
        Age(i)
    }
    pub fn opt(&mut self, d: Option<Duration>) -> Option<Age> {
        d.map(|d| self.age(d))
    }
    pub fn window(&mut self, begin: Option<Duration>, end: Option<Duration>) -> Window {
        Window {
            begin: begin.map_or(Age::OPEN_LOW, |d| self.age(d)),
            end: end.map_or(Age::OPEN_HIGH, |d| self.age(d)),
        }
    }
}

/// A set of CVX codes as a bit set: membership is one load and a shift.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CvxSet {
    bits: Box<[u64]>,
}

impl CvxSet {
    pub fn of(codes: &[u16]) -> CvxSet {
        let words = codes.iter().max().map_or(0, |&m| m as usize / 64 + 1);
        let mut bits = vec![0u64; words];
        for &c in codes {
            bits[c as usize / 64] |= 1 << (c % 64);
        }
        CvxSet {
            bits: bits.into_boxed_slice(),
        }
    }
    #[inline]
    pub fn contains(&self, cvx: u16) -> bool {
        self.bits
            .get(cvx as usize / 64)
            .is_some_and(|w| (w >> (cvx % 64)) & 1 != 0)
    }
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
    /// Might a code of the patient's be in the set? (Codes past the patient's bit
    /// set count as possibly in it.)
    #[inline]
    pub fn meets<const WORDS: usize>(&self, seen: &crate::context::CodeBits<WORDS>) -> bool {
        self.bits
            .iter()
            .enumerate()
            .any(|(i, w)| match seen.words.get(i) {
                Some(s) => w & s != 0,
                None => *w != 0 && seen.beyond,
            })
    }
    /// The codes of the set.
    pub fn codes(&self) -> impl Iterator<Item = u16> + '_ {
        (0..self.bits.len() * 64)
            .map(|c| c as u16)
            .filter(|&c| self.contains(c))
    }
}

/// Lower and upper date bounds (inclusive) with open bounds as sentinels.
fn effective(e: Option<chrono::NaiveDate>) -> Day {
    e.map_or(Day::NEVER_BEFORE, Day::from_date)
}
fn cessation(c: Option<chrono::NaiveDate>) -> Day {
    c.map_or(Day::NEVER_AFTER, Day::from_date)
}

/// A patient series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub series_type: SeriesType,
    pub series_group: u32,
    pub default_series: bool,
    pub series_preference: Option<u32>,
    pub min_age_to_start: Option<Age>,
    pub max_age_to_start: Option<Age>,
    pub equivalent_series_groups: Vec<u32>,
    pub indications: Vec<Indication>,
    pub doses: Vec<TargetDose>,
    /// Some target dose can be passed only by a valid dose (it has no conditional
    /// skip): the series cannot be complete without one.
    pub needs_a_dose: bool,
    /// Whether series selection can skip the series for a patient without a dose
    /// old enough to count for it: it is not a default series and needs a dose.
    pub prunable: bool,
    /// The ages from which a dose can be the series' first valid dose (absolute
    /// minimum, else minimum, of each age requirement of the target doses it can
    /// satisfy). Empty (and the series not prunable) when one accepts any age.
    pub first_valid_ages: Vec<Age>,
}

/// An observation that makes a risk series relevant, within an age window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Indication {
    pub code: u16,
    pub window: Window,
}

/// A target dose of a series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TargetDose {
    pub ages: Vec<AgeReq>,
    pub intervals: Vec<Interval>,
    pub allowable_intervals: Vec<Interval>,
    pub preferable_vaccines: Vec<Preferable>,
    pub allowable_vaccines: Vec<AgedCvx>,
    pub inadvertent_vaccines: CvxSet,
    /// Conditional skips that apply when evaluating (context Evaluation or Both).
    pub evaluation_skips: Vec<Skip>,
    /// Conditional skips that apply when forecasting (context Forecast or Both).
    pub forecast_skips: Vec<Skip>,
    /// Live virus conflicts of the preferable vaccines, as (earlier CVX, end of the
    /// conflict), without duplicates, by earlier CVX: a forecast is not earlier than
    /// their ends.
    pub live_conflicts: Vec<(u16, Span)>,
    pub recurring: bool,
    pub seasonal: bool,
    pub season_start: Option<Day>,
}

/// An age requirement, in effect from `effective` to `cessation` (inclusive).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgeReq {
    pub effective: Day,
    pub cessation: Day,
    pub abs_min: Option<Age>,
    pub min: Option<Age>,
    pub earliest_rec: Option<Age>,
    pub latest_rec: Option<Age>,
    pub max: Option<Age>,
}

/// What an interval is measured from (in the specification's order of precedence).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IntervalFrom {
    PreviousDose,
    /// The dose that satisfied this target dose (0-based).
    TargetDose(usize),
    /// The most recent dose of one of these CVX codes.
    MostRecent(CvxSet),
    /// The date of this observation (CDSi 6.5 "from relevant observation"): applies
    /// only when the observation's date is known ([`crate::forecast_with_dates`]).
    Observation(u16),
}

/// A preferable or allowable interval.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Interval {
    pub from: IntervalFrom,
    pub effective: Day,
    pub cessation: Day,
    pub abs_min: Option<Span>,
    pub min: Option<Span>,
    pub earliest_rec: Option<Span>,
    pub latest_rec: Option<Span>,
}

/// A preferable vaccine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Preferable {
    pub cvx: u16,
    pub window: Window,
    pub mvx: Option<String>,
    /// Named in the forecast's recommended vaccines.
    pub forecast: bool,
}

/// A CVX code usable within an age window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgedCvx {
    pub cvx: u16,
    pub window: Window,
}

/// A conditional skip: met when any (`any_set`) or every set is met.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Skip {
    pub any_set: bool,
    pub sets: Vec<ConditionSet>,
}

/// A set of conditions in effect between two dates: met when any (`any`) or every
/// condition is met.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConditionSet {
    pub effective: Day,
    pub cessation: Day,
    pub any: bool,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// The reference date is within the age window.
    Age(Window),
    /// The reference date is at least this long after the previous dose.
    Interval(Option<Span>),
    /// A series of one of these series groups is complete.
    CompletedSeries(Vec<u32>),
    /// The number of matching doses compares to `want` by `logic`.
    Count(Count),
}

/// A dose count condition: doses in the age window and date range (both open for
/// the condition kinds that do not use them), of the vaccine types (any when empty).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Count {
    /// No age window, date range or vaccine type: every dose counts.
    pub any_dose: bool,
    pub window: Window,
    pub start: Day,
    pub end: Day,
    pub valid_only: bool,
    /// Empty: any vaccine.
    pub vaccine_types: CvxSet,
    pub want: u32,
    pub logic: Option<DoseCountLogic>,
}

/// Evidence of immunity and contraindications of an antigen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Precautions {
    pub immune_history: Vec<u16>,
    /// Born before the date (unless an exclusion code is observed).
    pub immune_born_before: Vec<(Day, Vec<u16>)>,
    pub antigen_contraindications: Vec<(u16, Window)>,
    pub vaccine_contraindications: Vec<(u16, Vec<AgedCvx>)>,
}

/// Compiles a series; `live` holds the live virus conflicts by current CVX.
pub(crate) fn series(s: &SeriesData, ages: &mut AgeTable, live: &[Vec<LiveConflict>]) -> Series {
    let doses: Vec<TargetDose> = s.doses.iter().map(|d| target_dose(d, ages, live)).collect();
    // Until a dose is valid, evaluation moves past a target dose only by skipping
    // it: the first valid dose satisfies one up to the first that has no skip.
    let reachable = doses
        .iter()
        .position(|d| d.evaluation_skips.is_empty())
        .map_or(doses.len(), |j| j + 1);
    let mut first_valid_ages = Some(Vec::new());
    for d in &doses[..reachable] {
        if d.ages.is_empty() {
            first_valid_ages = None;
        }
        for a in &d.ages {
            match (a.abs_min.or(a.min), first_valid_ages.as_mut()) {
                (None, _) => first_valid_ages = None,
                (Some(age), Some(list)) if !list.contains(&age) => list.push(age),
                _ => {}
            }
        }
    }
    let needs_a_dose = doses
        .iter()
        .any(|d| d.evaluation_skips.is_empty() && d.forecast_skips.is_empty());
    Series {
        needs_a_dose,
        prunable: !s.default_series && needs_a_dose && first_valid_ages.is_some(),
        first_valid_ages: first_valid_ages.unwrap_or_default(),
        series_type: s.series_type,
        series_group: s.series_group,
        default_series: s.default_series,
        series_preference: s.series_preference,
        min_age_to_start: ages.opt(s.min_age_to_start),
        max_age_to_start: ages.opt(s.max_age_to_start),
        equivalent_series_groups: s.equivalent_series_groups.clone(),
        indications: s
            .indications
            .iter()
            .map(|i| Indication {
                code: i.code,
                window: ages.window(i.begin_age, i.end_age),
            })
            .collect(),
        doses,
    }
}

fn target_dose(d: &SeriesDoseData, ages: &mut AgeTable, live: &[Vec<LiveConflict>]) -> TargetDose {
    let mut live_conflicts = Vec::new();
    for v in &d.preferable_vaccines {
        for c in live.get(v.cvx as usize).into_iter().flatten() {
            if !live_conflicts.contains(&(c.previous_cvx, c.end)) {
                live_conflicts.push((c.previous_cvx, c.end));
            }
        }
    }
    live_conflicts.sort_by_key(|(previous, _)| *previous);
    let skips = |context: SkipContext, ages: &mut AgeTable| -> Vec<Skip> {
        d.conditional_skips
            .iter()
            .filter(|cs| cs.context == context || cs.context == SkipContext::Both)
            .map(|cs| skip(cs, ages))
            .collect()
    };
    TargetDose {
        ages: d.ages.iter().map(|a| age_req(a, ages)).collect(),
        intervals: d.intervals.iter().map(interval).collect(),
        allowable_intervals: d.allowable_intervals.iter().map(interval).collect(),
        preferable_vaccines: d
            .preferable_vaccines
            .iter()
            .map(|v| Preferable {
                cvx: v.cvx,
                window: ages.window(v.begin_age, v.end_age),
                mvx: v.mvx.clone(),
                forecast: v.forecast,
            })
            .collect(),
        allowable_vaccines: d
            .allowable_vaccines
            .iter()
            .map(|v| aged_cvx(v, ages))
            .collect(),
        inadvertent_vaccines: CvxSet::of(&d.inadvertent_vaccines),
        evaluation_skips: skips(SkipContext::Evaluation, ages),
        forecast_skips: skips(SkipContext::Forecast, ages),
        live_conflicts,
        recurring: d.recurring,
        seasonal: d.seasonal.is_some(),
        season_start: d
            .seasonal
            .as_ref()
            .and_then(|s| s.start)
            .map(Day::from_date),
    }
}

fn age_req(a: &AgeData, ages: &mut AgeTable) -> AgeReq {
    AgeReq {
        effective: effective(a.effective),
        cessation: cessation(a.cessation),
        abs_min: ages.opt(a.abs_min),
        min: ages.opt(a.min),
        earliest_rec: ages.opt(a.earliest_rec),
        latest_rec: ages.opt(a.latest_rec),
        max: ages.opt(a.max),
    }
}

fn interval(iv: &IntervalData) -> Interval {
    let from = if iv.from_previous {
        IntervalFrom::PreviousDose
    } else if let Some(t) = iv.from_target_dose {
        // Validated at load: 1 <= t <= the number of target doses.
        IntervalFrom::TargetDose(t.saturating_sub(1) as usize)
    } else if !iv.from_most_recent.is_empty() {
        IntervalFrom::MostRecent(CvxSet::of(&iv.from_most_recent))
    } else if let Some(code) = iv.from_relevant_obs {
        IntervalFrom::Observation(code)
    } else {
        // An interval with no reference point never applies.
        IntervalFrom::Observation(u16::MAX)
    };
    Interval {
        from,
        effective: effective(iv.effective),
        cessation: cessation(iv.cessation),
        abs_min: iv.abs_min.map(Span::of),
        min: iv.min.map(Span::of),
        earliest_rec: iv.earliest_rec.map(Span::of),
        latest_rec: iv.latest_rec.map(Span::of),
    }
}

fn aged_cvx(v: &AgedVaccine, ages: &mut AgeTable) -> AgedCvx {
    AgedCvx {
        cvx: v.cvx,
        window: ages.window(v.begin_age, v.end_age),
    }
}

fn skip(cs: &ConditionalSkip, ages: &mut AgeTable) -> Skip {
    match cs.set_logic {
        Some(logic) => Skip {
            any_set: logic == Logic::Or,
            sets: cs.sets.iter().map(|s| condition_set(s, ages)).collect(),
        },
        // A single set: only the first one counts.
        None => Skip {
            any_set: true,
            sets: cs
                .sets
                .first()
                .map(|s| condition_set(s, ages))
                .into_iter()
                .collect(),
        },
    }
}

fn condition_set(set: &SkipSet, ages: &mut AgeTable) -> ConditionSet {
    ConditionSet {
        effective: effective(set.effective),
        cessation: cessation(set.cessation),
        any: set.condition_logic == Some(Logic::Or),
        conditions: set
            .conditions
            .iter()
            .map(|c| match c.kind {
                ConditionType::Age => Condition::Age(ages.window(c.begin_age, c.end_age)),
                ConditionType::Interval => Condition::Interval(c.interval.map(Span::of)),
                ConditionType::CompletedSeries => {
                    Condition::CompletedSeries(c.series_groups.clone())
                }
                ConditionType::VaccineCountByAge
                | ConditionType::VaccineCountByDate
                | ConditionType::VaccineCountByDateAndAge => {
                    let by_age = c.kind != ConditionType::VaccineCountByDate;
                    let by_date = c.kind != ConditionType::VaccineCountByAge;
                    let open_age = !by_age || (c.begin_age.is_none() && c.end_age.is_none());
                    let open_dates = !by_date || (c.start_date.is_none() && c.end_date.is_none());
                    Condition::Count(Count {
                        any_dose: open_age && open_dates && c.vaccine_types.is_empty(),
                        window: if by_age {
                            ages.window(c.begin_age, c.end_age)
                        } else {
                            ages.window(None, None)
                        },
                        start: if by_date {
                            effective(c.start_date)
                        } else {
                            Day::NEVER_BEFORE
                        },
                        end: if by_date {
                            cessation(c.end_date)
                        } else {
                            Day::NEVER_AFTER
                        },
                        valid_only: c.valid_only,
                        vaccine_types: CvxSet::of(&c.vaccine_types),
                        want: c.dose_count.unwrap_or(0),
                        logic: c.dose_count_logic,
                    })
                }
            })
            .collect(),
    }
}

pub(crate) fn precautions(a: &AntigenData, ages: &mut AgeTable) -> Precautions {
    Precautions {
        immune_history: a.immunity.clinical_history.clone(),
        immune_born_before: a
            .immunity
            .birth_date
            .iter()
            .map(|b| (Day::from_date(b.born_before), b.exclusions.clone()))
            .collect(),
        antigen_contraindications: a
            .contraindications
            .antigen
            .iter()
            .map(|c| (c.code, ages.window(c.begin_age, c.end_age)))
            .collect(),
        vaccine_contraindications: a
            .contraindications
            .vaccine
            .iter()
            .map(|c| {
                (
                    c.code,
                    c.vaccines.iter().map(|v| aged_cvx(v, ages)).collect(),
                )
            })
            .collect(),
    }
}
