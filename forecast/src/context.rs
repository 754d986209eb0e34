//! The prepared patient: CVX and observation codes parsed to integers once, so the
//! engine's inner loops compare integers only.

use crate::duration::Duration;
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
        self.0 == [0; 8]
    }
    #[inline]
    pub fn contains(&self, code: u16) -> bool {
        (code as usize) < 512 && self.0[code as usize / 64] & (1 << (code % 64)) != 0
    }
}

/// One administered dose, interned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dose {
    pub date: NaiveDate,
    pub cvx: u16,
    /// Index of the dose in the patient's input.
    pub index: u32,
}

/// Memo of `dob + age` for the ages the schedule uses (a handful of distinct
/// durations are asked for thousands of times per patient). Per thread and keyed by
/// the birth date too, so it needs no reset between patients.
const AGE_SLOTS: usize = 512;

type AgeSlot = Cell<(u32, NaiveDate, NaiveDate)>;

thread_local! {
    static AGE_CACHE: [AgeSlot; AGE_SLOTS] =
        const { [const { Cell::new((u32::MAX, NaiveDate::MIN, NaiveDate::MIN)) }; AGE_SLOTS] };
}

pub(crate) struct Ctx<'p> {
    pub dob: NaiveDate,
    pub assessment: NaiveDate,
    pub gender: Gender,
    pub obs: ObsSet,
    /// Doses sorted by date (stable: same-day doses keep input order).
    pub doses: Vec<Dose>,
    pub patient: &'p Patient,
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
    pub fn new(patient: &'p Patient, assessment: NaiveDate) -> Self {
        let mut obs = ObsSet::default();
        for o in &patient.observations {
            obs.insert(parse_code(o));
        }
        let mut doses: Vec<Dose> = patient
            .doses
            .iter()
            .enumerate()
            .map(|(i, d)| Dose {
                date: d.date_given,
                cvx: parse_code(&d.cvx),
                index: i as u32,
            })
            .collect();
        if !doses.is_sorted_by_key(|d| d.date) {
            doses.sort_by_key(|d| d.date);
        }
        Ctx {
            dob: patient.date_of_birth,
            assessment,
            gender: patient.gender,
            obs,
            doses,
            patient,
        }
    }

    /// Date at which the patient reaches `age`.
    #[inline]
    pub fn at_age(&self, age: Duration) -> NaiveDate {
        let months = age.years * 12 + age.months;
        let days = age.weeks * 7 + age.days;
        // Key: months and days packed (schedule ages fit easily in 16 bits each).
        let key = ((months as u32 & 0xFFFF) << 16) | (days as u32 & 0xFFFF);
        let idx = (key.wrapping_mul(0x9E37_79B1) >> 23) as usize % AGE_SLOTS;
        let dob = self.dob;
        AGE_CACHE.with(|slots| {
            let slot = &slots[idx];
            let (k, b, d) = slot.get();
            if k == key && b == dob {
                return d;
            }
            let d = crate::duration::add_months_days(dob, months, days);
            slot.set((key, dob, d));
            d
        })
    }

    /// Is `date` within the age window `[begin, end)`? Missing bounds are open.
    #[inline]
    pub fn age_in(&self, date: NaiveDate, begin: Option<Duration>, end: Option<Duration>) -> bool {
        begin.is_none_or(|b| date >= self.at_age(b)) && end.is_none_or(|e| date < self.at_age(e))
    }

    /// The MVX of a dose, if given.
    pub fn mvx(&self, index: u32) -> Option<&str> {
        self.patient
            .doses
            .get(index as usize)
            .and_then(|d| d.mvx.as_deref())
    }
}

/// Is `date` within `[effective, cessation]` (both inclusive, missing bounds open)?
#[inline]
pub(crate) fn in_effect(
    date: NaiveDate,
    effective: Option<NaiveDate>,
    cessation: Option<NaiveDate>,
) -> bool {
    effective.is_none_or(|e| date >= e) && cessation.is_none_or(|c| date <= c)
}
