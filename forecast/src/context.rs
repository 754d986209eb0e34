//! The prepared patient: CVX and observation codes parsed to integers once, so the
//! engine's inner loops compare integers only; dates become day numbers and the
//! schedule's ages dates of this patient.

use crate::day::{Civil, Day, Span};
use crate::schedule::compiled::{Age, Window};
use crate::schedule::Schedule;
use crate::types::{Gender, Patient};
use chrono::NaiveDate;
use std::cell::Cell;

/// Observation codes as a bit set (codes are < 512).
#[derive(Debug, Clone, Default)]
pub(crate) struct ObsSet([u64; 8]);

impl ObsSet {
    pub fn insert(&mut self, code: u16) {
        if (code as usize) < 512 {
            self.0[code as usize / 64] |= 1 << (code % 64);
        }
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.iter().fold(0, |acc, w| acc | w) == 0
    }
    #[inline]
    pub fn contains(&self, code: u16) -> bool {
        (code as usize) < 512 && self.0[code as usize / 64] & (1 << (code % 64)) != 0
    }
}

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
    ages: Vec<Cell<Option<Day>>>,
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
    pub patient: &'p Patient,
    /// The schedule's ages as dates for this patient, each resolved on first use
    /// (a forecast asks for a few dozen distinct ages thousands of times).
    ages: Vec<Cell<Option<Day>>>,
    spans: &'p [Span],
    dob_civil: Civil,
}

/// Parses a code like "08" or "042"; unparseable codes become 0 (matches nothing).
pub(crate) fn parse_code(s: &str) -> u16 {
    // Fast path: 1 to 4 ASCII digits (every real code); anything else goes
    // through the general parser (same result).
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 4 && b.iter().all(u8::is_ascii_digit) {
        return b.iter().fold(0u16, |v, &c| v * 10 + u16::from(c - b'0'));
    }
    s.trim().parse().unwrap_or(0)
}

impl<'p> Ctx<'p> {
    pub fn new(
        schedule: &'p Schedule,
        patient: &'p Patient,
        assessment: NaiveDate,
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
        } = buffers;
        doses.clear();
        doses.extend(patient.doses.iter().enumerate().map(|(i, d)| Dose {
            date: Day::from_date(d.date_given),
            cvx: parse_code(&d.cvx),
            index: i as u32,
        }));
        if !doses.is_sorted_by_key(|d| d.date) {
            doses.sort_by_key(|d| d.date);
        }
        live_doses.clear();
        live_doses.extend(doses.iter().filter(|d| {
            schedule
                .live_previous
                .get(d.cvx as usize)
                .copied()
                .unwrap_or(false)
        }));
        ages.clear();
        ages.resize(schedule.ages.len(), Cell::new(None));
        let dob = Day::from_date(patient.date_of_birth);
        Ctx {
            dob,
            dob_civil: dob.civil(),
            assessment: Day::from_date(assessment),
            gender: patient.gender,
            obs,
            doses,
            live_doses,
            patient,
            ages,
            spans: &schedule.ages,
        }
    }

    /// Gives the working memory back for the next patient.
    pub fn into_buffers(self) -> CtxBuffers {
        CtxBuffers {
            doses: self.doses,
            live_doses: self.live_doses,
            ages: self.ages,
        }
    }

    /// Date at which the patient reaches `age`.
    #[inline]
    pub fn age(&self, age: Age) -> Day {
        match self.ages[age.0 as usize].get() {
            Some(d) => d,
            None => self.resolve(age),
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve(&self, age: Age) -> Day {
        let d = match age {
            Age::OPEN_LOW => Day::NEVER_BEFORE,
            Age::OPEN_HIGH => Day::NEVER_AFTER,
            Age(i) => self.spans[i as usize].after_civil(self.dob, self.dob_civil),
        };
        self.ages[age.0 as usize].set(Some(d));
        d
    }

    /// Is `date` within the age window?
    #[inline]
    pub fn within(&self, date: Day, w: Window) -> bool {
        date >= self.age(w.begin) && date < self.age(w.end)
    }

    /// The MVX of a dose, if given.
    pub fn mvx(&self, index: u32) -> Option<&str> {
        self.patient
            .doses
            .get(index as usize)
            .and_then(|d| d.mvx.as_deref())
    }
}

/// Is `date` within `[effective, cessation]` (both inclusive)?
#[inline]
pub(crate) fn in_effect(date: Day, effective: Day, cessation: Day) -> bool {
    date >= effective && date <= cessation
}
