//! Dates as day numbers inside the engine. A forecast compares and shifts dates
//! thousands of times; as plain integers (days since 1970-01-01) a comparison is one
//! instruction and adding days is an addition, and CDSi's month arithmetic goes
//! through a short civil-date conversion instead of chrono's calendar types. Dates
//! enter as [`NaiveDate`] and leave as [`NaiveDate`]: the public API is unchanged.

use chrono::NaiveDate;
use std::num::NonZeroI32;

/// A date (days since 1970-01-01), always within chrono's range, or one of the two
/// sentinels [`Day::NEVER_BEFORE`] / [`Day::NEVER_AFTER`] that stand for a missing
/// lower / upper bound. Stored shifted so that no date is zero: `Option<Day>` is
/// then as small as `Day`, and the engine's date records stay compact.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(NonZeroI32);

impl std::fmt::Debug for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Day::NEVER_BEFORE => f.write_str("-inf"),
            Day::NEVER_AFTER => f.write_str("+inf"),
            d => write!(f, "{}", d.to_date()),
        }
    }
}

/// chrono's first and last representable dates, as days since 1970-01-01.
const FIRST: i32 = NaiveDate::MIN.to_epoch_days();
const LAST: i32 = NaiveDate::MAX.to_epoch_days();
/// Added to days since 1970-01-01 to store them (chrono's first date is 1).
const SHIFT: i32 = 1 - FIRST;
/// The number of dates in chrono's range (stored as `1..=STORED_DATES`).
const STORED_DATES: u32 = (LAST - FIRST + 1) as u32;
/// chrono's year range (a year inside it is entirely representable).
const FIRST_YEAR: i32 = (i32::MIN >> 13) + 1;
const LAST_YEAR: i32 = (i32::MAX >> 13) - 1;

impl Day {
    /// Before every date: an absent lower bound.
    pub const NEVER_BEFORE: Day = Day(NonZeroI32::MIN);
    /// After every date: an absent upper bound.
    pub const NEVER_AFTER: Day = Day(NonZeroI32::MAX);

    /// From days since 1970-01-01, clamped to chrono's range.
    #[inline]
    fn from_epoch(days: i32) -> Day {
        match NonZeroI32::new(days.clamp(FIRST, LAST) + SHIFT) {
            Some(v) => Day(v),
            None => Day::NEVER_BEFORE,
        }
    }

    /// Days since 1970-01-01 (sentinels clamped to chrono's range).
    #[inline]
    fn epoch(self) -> i32 {
        self.0.get().saturating_sub(SHIFT).clamp(FIRST, LAST)
    }

    #[inline]
    pub fn from_date(date: NaiveDate) -> Day {
        Day::from_epoch(date.to_epoch_days())
    }

    /// The date (sentinels clamp to chrono's range).
    #[inline]
    pub fn to_date(self) -> NaiveDate {
        NaiveDate::from_epoch_days(self.epoch()).unwrap_or(NaiveDate::MAX)
    }

    /// `days` later (earlier when negative), saturating at chrono's range like
    /// `NaiveDate::checked_add_days(..).unwrap_or(NaiveDate::MAX)` (and `MIN` when
    /// subtracting).
    #[inline]
    pub fn plus_days(self, days: i32) -> Day {
        // Fast path: the sum is a date of chrono's range (sentinels never are).
        let sum = self.0.get().wrapping_add(days);
        match NonZeroI32::new(sum) {
            Some(v) if (sum as u32).wrapping_sub(1) < STORED_DATES => Day(v),
            _ => Day::from_epoch(self.epoch().saturating_add(days)),
        }
    }

    /// The CDSi sum `self + months + days`: months first, a day that does not exist
    /// in the target month moving to the 1st of the next month, then days. Same
    /// result as [`crate::duration::add_months_days`] on the date, saturation included.
    #[inline]
    pub fn plus(self, months: i32, days: i32) -> Day {
        let shifted = if months == 0 {
            self
        } else {
            self.civil().plus_months(months)
        };
        if days == 0 {
            shifted
        } else {
            shifted.plus_days(days)
        }
    }

    /// The calendar date, for month arithmetic from this day.
    pub fn civil(self) -> Civil {
        let (year, month, day) = civil_from_days(self.epoch());
        Civil { year, month, day }
    }
}

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    year: i32,
    month: u32,
    day: u32,
}

impl Civil {
    /// `months` later (earlier when negative) by the CDSi rule; saturates like
    /// [`crate::duration::add_months_days`] (to chrono's last date either way).
    #[inline]
    pub fn plus_months(self, months: i32) -> Day {
        let total = self.year * 12 + (self.month as i32 - 1) + months;
        // Usual years: the month's first day and length from the table.
        let slot = total.wrapping_sub(TABLE_FIRST_YEAR * 12) as usize;
        if slot < TABLE_MONTHS {
            let (start, next) = (MONTH_STARTS[slot], MONTH_STARTS[slot + 1]);
            return if (self.day as i32) <= next - start {
                Day::from_epoch(start + self.day as i32 - 1)
            } else {
                Day::from_epoch(next)
            };
        }
        self.plus_months_far(total)
    }

    /// [`Civil::plus_months`] outside the table's years, `total` being the target
    /// month counted from year 0.
    #[cold]
    fn plus_months_far(self, total: i32) -> Day {
        let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        let representable = |y: i32| (FIRST_YEAR..=LAST_YEAR).contains(&y);
        if representable(y) && self.day <= days_in_month(y, m) {
            return Day::from_epoch(days_from_civil(y, m, self.day));
        }
        // Not a date: the first day of the next month, if that is one.
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        if representable(y) {
            Day::from_epoch(days_from_civil(y, m, 1))
        } else {
            Day::from_epoch(LAST)
        }
    }
}

/// A calendar duration folded to months and days (years are 12 months and weeks
/// 7 days, which is how CDSi adds them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Span {
    pub months: i32,
    pub days: i32,
}

impl Span {
    pub fn of(d: crate::duration::Duration) -> Span {
        Span {
            months: d.years * 12 + d.months,
            days: d.weeks * 7 + d.days,
        }
    }

    /// `date + self` by the CDSi rule.
    #[inline]
    pub fn after(self, date: Day) -> Day {
        date.plus(self.months, self.days)
    }

    /// [`Span::after`] for a date whose calendar form is already known.
    #[inline]
    pub fn after_civil(self, date: Day, civil: Civil) -> Day {
        let shifted = if self.months == 0 {
            date
        } else {
            civil.plus_months(self.months)
        };
        if self.days == 0 {
            shifted
        } else {
            shifted.plus_days(self.days)
        }
    }
}

fn is_leap(y: i32) -> bool {
    y & 3 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 => 28 + u32::from(is_leap(y)),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 400-year eras added to every year so that the civil conversions below divide
/// non-negative numbers only (chrono's first year is -262143).
const ERAS: i32 = 656;
const DAYS_PER_ERA: i32 = 146_097;
/// Days from 0000-03-01 to 1970-01-01.
const EPOCH_FROM_MARCH_0: i32 = 719_468;

/// The years whose months [`MONTH_STARTS`] holds (births and doses of anyone
/// alive, with every schedule age added).
const TABLE_FIRST_YEAR: i32 = 1900;
const TABLE_MONTHS: usize = 300 * 12;
/// The first day of each month from January of [`TABLE_FIRST_YEAR`] (and of the
/// month after the last), so that adding months is a table lookup.
static MONTH_STARTS: [i32; TABLE_MONTHS + 1] = month_starts();

const fn month_starts() -> [i32; TABLE_MONTHS + 1] {
    let mut table = [0; TABLE_MONTHS + 1];
    let mut i = 0;
    while i <= TABLE_MONTHS {
        table[i] = days_from_civil(TABLE_FIRST_YEAR + (i / 12) as i32, (i % 12) as u32 + 1, 1);
        i += 1;
    }
    table
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = (if m <= 2 { y - 1 } else { y } + ERAS * 400) as u32;
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * DAYS_PER_ERA as u32 + doe) as i32 - ERAS * DAYS_PER_ERA - EPOCH_FROM_MARCH_0
}

/// The proleptic Gregorian (year, month, day) of a day number (inverse of
/// [`days_from_civil`]).
fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = (z + EPOCH_FROM_MARCH_0 + ERAS * DAYS_PER_ERA) as u32;
    let era = z / DAYS_PER_ERA as u32;
    let doe = z - era * DAYS_PER_ERA as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = (yoe + era * 400) as i32 - ERAS * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::add_months_days;
    use chrono::Datelike;

    #[test]
    fn civil_conversion_matches_chrono_over_five_millennia() {
        let start = NaiveDate::from_ymd_opt(-500, 1, 1).expect("date");
        let mut date = start;
        let mut day = Day::from_date(start);
        for _ in 0..(5 * 366 * 1000) {
            assert_eq!(
                civil_from_days(day.epoch()),
                (date.year(), date.month(), date.day())
            );
            assert_eq!(
                days_from_civil(date.year(), date.month(), date.day()),
                day.epoch()
            );
            assert_eq!(day.to_date(), date);
            date = date.succ_opt().expect("in range");
            day = day.plus_days(1);
        }
    }

    #[test]
    fn month_and_day_arithmetic_matches_the_date_rule() {
        let dates = [
            NaiveDate::from_ymd_opt(2024, 1, 31),
            NaiveDate::from_ymd_opt(2024, 2, 29),
            NaiveDate::from_ymd_opt(2023, 12, 31),
            NaiveDate::from_ymd_opt(1999, 3, 30),
            NaiveDate::from_ymd_opt(2100, 2, 28),
            NaiveDate::from_ymd_opt(2026, 11, 25),
        ];
        for date in dates.into_iter().flatten() {
            for months in -30..=800 {
                for days in [-400, -4, -1, 0, 1, 4, 27, 365] {
                    assert_eq!(
                        Day::from_date(date).plus(months, days).to_date(),
                        add_months_days(date, months, days),
                        "{date} + {months} months + {days} days"
                    );
                }
            }
        }
    }

    #[test]
    fn month_arithmetic_agrees_inside_and_outside_the_month_table() {
        let mut date = NaiveDate::from_ymd_opt(TABLE_FIRST_YEAR - 3, 1, 1).expect("date");
        let end = NaiveDate::from_ymd_opt(TABLE_FIRST_YEAR + 303, 1, 1).expect("date");
        while date < end {
            for months in [-40, -13, -1, 1, 2, 11, 12, 13, 59, 227] {
                assert_eq!(
                    Day::from_date(date).plus(months, 0).to_date(),
                    add_months_days(date, months, 0),
                    "{date} + {months} months"
                );
            }
            date = date + chrono::Days::new(3);
        }
    }

    #[test]
    fn arithmetic_saturates_at_the_ends_of_the_range() {
        for (date, months, days) in [
            (NaiveDate::MAX, 1, 0),
            (NaiveDate::MAX, 0, 5),
            (NaiveDate::MAX, -1, 0),
            (NaiveDate::MIN, -1, 0),
            (NaiveDate::MIN, 0, -5),
            (NaiveDate::MIN, 13, -40),
            (
                NaiveDate::from_ymd_opt(LAST_YEAR, 11, 30).expect("date"),
                1,
                3,
            ),
            (
                NaiveDate::from_ymd_opt(LAST_YEAR, 10, 31).expect("date"),
                1,
                0,
            ),
        ] {
            assert_eq!(
                Day::from_date(date).plus(months, days).to_date(),
                add_months_days(date, months, days),
                "{date} + {months} months + {days} days"
            );
        }
        assert_eq!(Day::NEVER_AFTER.to_date(), NaiveDate::MAX);
        assert_eq!(Day::NEVER_BEFORE.to_date(), NaiveDate::MIN);
    }
}
