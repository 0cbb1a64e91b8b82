//! Today's date for the changelog, from the system clock, without a date crate.
//!
//! The date is the UTC one: a changelog needs a day, not a time zone, and reading the local
//! offset portably is the one thing that would justify a dependency (`time`'s `local-offset`,
//! which refuses to work in multi-threaded programs on some platforms anyway).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Date {
    /// The year, e.g. 2025.
    pub(crate) year: i64,
    /// 1 to 12.
    pub(crate) month: u32,
    /// 1 to 31.
    pub(crate) day: u32,
}

impl Date {
    /// The day `days` days after 1970-01-01 (before it, for negative `days`).
    ///
    /// Howard Hinnant's `civil_from_days`: counts in 400-year eras of 146 097 days, with years
    /// starting on March 1st so that the leap day comes last.
    pub(crate) fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
        let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
        let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            // Both are in range by construction.
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Today, in UTC, by the system clock.
    pub(crate) fn today_utc() -> Self {
        let days = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs() / 86_400).unwrap_or(i64::MAX),
            // A clock before 1970: count back, rounding towards the earlier day.
            Err(before) => {
                -i64::try_from(before.duration().as_secs().div_ceil(86_400)).unwrap_or(i64::MAX)
            }
        };
        Self::from_days_since_epoch(days)
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`, as Keep a Changelog writes dates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(days: i64) -> String {
        Date::from_days_since_epoch(days).to_string()
    }

    #[test]
    fn known_days() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(-1), "1969-12-31");
        assert_eq!(ymd(59), "1970-03-01");
        assert_eq!(ymd(10_956), "1999-12-31");
        assert_eq!(ymd(11_016), "2000-02-29"); // divisible by 400: leap
        assert_eq!(ymd(11_017), "2000-03-01");
        assert_eq!(ymd(19_722), "2023-12-31");
        assert_eq!(ymd(19_782), "2024-02-29");
        assert_eq!(ymd(20_088), "2024-12-31");
        assert_eq!(ymd(47_541), "2100-03-01"); // divisible by 100 only: no Feb 29
        assert_eq!(ymd(47_540), "2100-02-28");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // 1960 to 2100: the day advances by one, months and years roll over correctly.
        let mut prev = Date::from_days_since_epoch(-3_653);
        for days in -3_652..47_600 {
            let next = Date::from_days_since_epoch(days);
            let rolled = (next.day == 1)
                && ((next.month == prev.month + 1 && next.year == prev.year)
                    || (next.month == 1 && prev.month == 12 && next.year == prev.year + 1));
            assert!(
                next.day == prev.day + 1 && next.month == prev.month && next.year == prev.year
                    || rolled,
                "{prev} -> {next}"
            );
            if rolled {
                let leap = prev.year % 4 == 0 && (prev.year % 100 != 0 || prev.year % 400 == 0);
                let length = match prev.month {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(prev.day, length, "{prev} is not the last day of its month");
            }
            prev = next;
        }
    }

    #[test]
    fn today_is_a_plausible_date() {
        let today = Date::today_utc();
        assert!(today.year >= 2024, "{today}");
        assert_eq!(today.to_string().len(), 10);
    }
}
