//! The prepared patient: CVX and observation codes parsed to integers once, so the
//! engine's inner loops compare integers only; dates become day numbers and the
//! schedule's ages dates of this patient.

use crate::day::{Day, Span};
use crate::schedule::compiled::{Age, Window};
use crate::schedule::Schedule;
use crate::types::{Gender, ObservationDate, Patient};
use chrono::NaiveDate;

/// A patient's codes as a bit set of `WORDS * 64` codes; codes past it are only
/// remembered as present (`beyond`).
#[derive(Debug, Clone)]
pub(crate) struct CodeBits<const WORDS: usize> {
    pub words: [u64; WORDS],
    pub beyond: bool,
    /// Whether some code within the range was inserted.
    any: bool,
}

impl<const WORDS: usize> Default for CodeBits<WORDS> {
    fn default() -> Self {
        CodeBits {
            words: [0; WORDS],
            beyond: false,
            any: false,
        }
    }
}

impl<const WORDS: usize> CodeBits<WORDS> {
    pub fn insert(&mut self, code: u16) {
        match self.words.get_mut(code as usize / 64) {
            Some(w) => {
                *w |= 1 << (code % 64);
                self.any = true;
            }
            None => self.beyond = true,
        }
    }
    /// No code within the set's range (codes past it match nothing).
    #[inline]
    pub fn is_empty(&self) -> bool {
        !self.any
    }
    #[inline]
    pub fn contains(&self, code: u16) -> bool {
        self.words
            .get(code as usize / 64)
            .is_some_and(|w| w & (1 << (code % 64)) != 0)
    }
}

/// Observation codes (the schedule's are < 512).
pub(crate) type ObsSet = CodeBits<8>;
/// CVX codes of the patient's doses (the schedule indexes codes < 1024).
pub(crate) type CvxSeen = CodeBits<16>;

/// One administered dose, interned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dose {
    pub date: Day,
    pub cvx: u16,
    /// Index of the dose in the patient's input.
    pub index: u32,
}

/// Working memory of a [`Ctx`], handed from one patient to the next.
#[derive(Default)]
pub(crate) struct CtxBuffers {
    doses: Vec<Dose>,
    live_doses: Vec<Dose>,
    ages: Vec<Day>,
    observation_dates: Vec<(u16, Day)>,
}

pub(crate) struct Ctx<'p> {
    pub dob: Day,
    pub assessment: Day,
    pub gender: Gender,
    pub obs: ObsSet,
    /// Doses sorted by date (stable: same-day doses keep input order).
    pub doses: Vec<Dose>,
    /// The doses that can be the earlier dose of a live virus conflict, in date order.
    pub live_doses: Vec<Dose>,
    /// The CVX codes of all doses.
    pub cvx_seen: CvxSeen,
    /// Dated observations (code, date); usually none.
    observation_dates: Vec<(u16, Day)>,
    pub patient: &'p Patient,
    /// The schedule's ages as dates for this patient (a forecast asks for them
    /// thousands of times), resolved up front in a tight loop.
    ages: Vec<Day>,
}

/// Parses a code like "08" or "042"; unparseable codes become 0 (matches nothing).
pub(crate) fn parse_code(s: &str) -> u16 {
    // Fast path: 1 to 4 ASCII digits (every real code); anything else goes
    // through the general parser (same result).
    let b = s.as_bytes();
    if (1..=4).contains(&b.len()) {
        let (mut value, mut digits) = (0u16, true);
        for &c in b {
            let d = c.wrapping_sub(b'0');
            digits &= d < 10;
            value = value.wrapping_mul(10).wrapping_add(u16::from(d));
        }
        if digits {
            return value;
        }
    }
    s.trim().parse().unwrap_or(0)
}

impl<'p> Ctx<'p> {
    pub fn new(
        schedule: &'p Schedule,
        patient: &'p Patient,
        assessment: NaiveDate,
        observation_dates: &[ObservationDate],
        buffers: CtxBuffers,
    ) -> Self {
        let mut obs = ObsSet::default();
        for o in &patient.observations {
            obs.insert(parse_code(o));
        }
        let CtxBuffers {
            mut doses,
            mut live_doses,
            mut ages,
            observation_dates: mut dated,
        } = buffers;
        dated.clear();
        dated.extend(
            observation_dates
                .iter()
                .map(|o| (parse_code(&o.code), Day::from_date(o.date))),
        );
        doses.clear();
        doses.extend(patient.doses.iter().enumerate().map(|(i, d)| Dose {
            date: Day::from_date(d.date_given),
            cvx: parse_code(&d.cvx),
            index: i as u32,
        }));
        if !doses.is_sorted_by_key(|d| d.date) {
            doses.sort_by_key(|d| d.date);
        }
        let mut cvx_seen = CvxSeen::default();
        for d in &doses {
            cvx_seen.insert(d.cvx);
        }
        live_doses.clear();
        live_doses.extend(doses.iter().filter(|d| {
            schedule
                .live_previous
                .get(d.cvx as usize)
                .copied()
                .unwrap_or(false)
        }));
        let dob = Day::from_date(patient.date_of_birth);
        resolve_ages(schedule, dob, &mut ages);
        Ctx {
            dob,
            assessment: Day::from_date(assessment),
            gender: patient.gender,
            obs,
            doses,
            live_doses,
            cvx_seen,
            observation_dates: dated,
            patient,
            ages,
        }
    }

    /// Gives the working memory back for the next patient.
    pub fn into_buffers(self) -> CtxBuffers {
        CtxBuffers {
            doses: self.doses,
            live_doses: self.live_doses,
            ages: self.ages,
            observation_dates: self.observation_dates,
        }
    }

    /// Date at which the patient reaches `age`.
    #[inline]
    pub fn age(&self, age: Age) -> Day {
        self.ages[age.0 as usize]
    }

    /// Is `date` within the age window?
    #[inline]
    pub fn within(&self, date: Day, w: Window) -> bool {
        date >= self.age(w.begin) && date < self.age(w.end)
    }

    /// The date of observation `code`, if known (the latest when given twice).
    pub fn observation_date(&self, code: u16) -> Option<Day> {
        self.observation_dates
            .iter()
            .filter(|(c, _)| *c == code)
            .map(|(_, d)| *d)
            .max()
    }

    /// The MVX of a dose, if given.
    pub fn mvx(&self, index: u32) -> Option<&str> {
        self.patient
            .doses
            .get(index as usize)
            .and_then(|d| d.mvx.as_deref())
    }
}

/// Fills `ages` with the dates at which a patient born on `dob` reaches each of the
/// schedule's ages; ages with the same months share the month arithmetic.
fn resolve_ages(schedule: &Schedule, dob: Day, ages: &mut Vec<Day>) {
    ages.clear();
    ages.resize(schedule.ages.len(), Day::NEVER_BEFORE);
    if let Some(open_high) = ages.get_mut(Age::OPEN_HIGH.0 as usize) {
        *open_high = Day::NEVER_AFTER;
    }
    let civil = dob.civil();
    let mut month: Option<(i32, Day)> = None;
    for &i in &schedule.ages_by_months {
        let span = schedule.ages[i as usize];
        let base = match month {
            Some((m, base)) if m == span.months => base,
            _ => {
                let base = Span {
                    months: span.months,
                    days: 0,
                }
                .after_civil(dob, civil);
                month = Some((span.months, base));
                base
            }
        };
        ages[i as usize] = if span.days == 0 {
            base
        } else {
            base.plus_days(span.days)
        };
    }
}

/// Is `date` within `[effective, cessation]` (both inclusive)?
#[inline]
pub(crate) fn in_effect(date: Day, effective: Day, cessation: Day) -> bool {
    date >= effective && date <= cessation
}
