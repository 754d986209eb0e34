//! CDSi durations ("6 weeks - 4 days", "4 years", "7 months + 4 weeks") and the
//! specification's date arithmetic.
//!
//! The schedule stores durations pre-parsed as `{years, months, weeks, days}` so that
//! the engine never touches strings. Date arithmetic follows the CDSi logic
//! specification: years and months are added first; a calendar date that does not
//! exist (e.g. 02/31, or 02/29 in a non-leap year) is moved to the first day of the
//! next month; weeks and days are added (or subtracted) afterwards.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A signed calendar duration. Every component may be negative (e.g. `- 4 days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Duration {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub years: i32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months: i32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weeks: i32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days: i32,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

impl Duration {
    /// A duration of `days` days.
    pub const fn days(days: i32) -> Self {
        Duration {
            years: 0,
            months: 0,
            weeks: 0,
            days,
        }
    }

    /// Parses the CDC's textual form: terms like `N years`, `N months`, `N weeks`,
    /// `N days` joined by `+` or `-`. Returns `None` for empty or unparseable text.
    pub fn parse_cdsi(text: &str) -> Option<Duration> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut d = Duration::default();
        let mut sign = 1;
        let mut tokens = text.split_whitespace().peekable();
        let mut any = false;
        while let Some(tok) = tokens.next() {
            match tok {
                "+" => sign = 1,
                "-" => sign = -1,
                num => {
                    let n: i32 = num.parse().ok()?;
                    let unit = tokens.next()?.to_ascii_lowercase();
                    let v = sign * n;
                    match unit.trim_end_matches('s') {
                        "year" => d.years += v,
                        "month" => d.months += v,
                        "week" => d.weeks += v,
                        "day" => d.days += v,
                        _ => return None,
                    }
                    any = true;
                }
            }
        }
        any.then_some(d)
    }

    /// Adds this duration to `date` with the CDSi rule (see module docs).
    #[inline]
    pub fn add_to(self, date: NaiveDate) -> NaiveDate {
        add_months_days(
            date,
            self.years * 12 + self.months,
            self.weeks * 7 + self.days,
        )
    }
}

/// Adds `months` calendar months (moving non-existent dates to the 1st of the next
/// month) and then `days` days. Saturates at the representable range.
#[inline]
pub fn add_months_days(date: NaiveDate, months: i32, days: i32) -> NaiveDate {
    let mut d = date;
    if months != 0 {
        let total = date.year() * 12 + date.month0() as i32 + months;
        let y = total.div_euclid(12);
        let m0 = total.rem_euclid(12) as u32;
        d = match NaiveDate::from_ymd_opt(y, m0 + 1, date.day()) {
            Some(v) => v,
            None => {
                // Day does not exist in the target month: first day of the next month.
                let (ny, nm) = if m0 == 11 { (y + 1, 1) } else { (y, m0 + 2) };
                NaiveDate::from_ymd_opt(ny, nm, 1).unwrap_or(NaiveDate::MAX)
            }
        };
    }
    if days != 0 {
        d = if days > 0 {
            d.checked_add_days(chrono::Days::new(days as u64))
                .unwrap_or(NaiveDate::MAX)
        } else {
            d.checked_sub_days(chrono::Days::new(days.unsigned_abs() as u64))
                .unwrap_or(NaiveDate::MIN)
        };
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).expect("valid date")
    }

    #[test]
    fn parse_compound_durations() {
        assert_eq!(
            Duration::parse_cdsi("6 weeks - 4 days"),
            Some(Duration {
                years: 0,
                months: 0,
                weeks: 6,
                days: -4
            })
        );
        assert_eq!(
            Duration::parse_cdsi("3 months + 4 weeks"),
            Some(Duration {
                years: 0,
                months: 3,
                weeks: 4,
                days: 0
            })
        );
        assert_eq!(
            Duration::parse_cdsi(" 1 year"),
            Some(Duration {
                years: 1,
                months: 0,
                weeks: 0,
                days: 0
            })
        );
        assert_eq!(Duration::parse_cdsi(""), None);
        assert_eq!(Duration::parse_cdsi("abc"), None);
    }

    #[test]
    fn date_math_nonexistent_day_rolls_to_first_of_next_month() {
        let one_month = Duration {
            months: 1,
            ..Default::default()
        };
        assert_eq!(one_month.add_to(d(2026, 1, 31)), d(2026, 3, 1));
        let one_year = Duration {
            years: 1,
            ..Default::default()
        };
        assert_eq!(one_year.add_to(d(2024, 2, 29)), d(2025, 3, 1));
        assert_eq!(one_month.add_to(d(2026, 12, 31)), d(2027, 1, 31));
    }

    #[test]
    fn date_math_days_after_months() {
        let dur = Duration::parse_cdsi("4 months - 4 days").expect("parses");
        assert_eq!(dur.add_to(d(2026, 1, 15)), d(2026, 5, 11));
        let dur = Duration::parse_cdsi("7 months - 4 days").expect("parses");
        assert_eq!(dur.add_to(d(2025, 7, 31)), d(2026, 2, 25));
    }
}
