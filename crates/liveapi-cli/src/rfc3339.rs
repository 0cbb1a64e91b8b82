//! Times as RFC 3339 text in UTC (`2027-03-01T00:00:00Z`), printed beside the unix numbers a
//! script computes with, so that a person reading the output needs no converter.
//!
//! The proleptic Gregorian calendar from a day count, as in H. Hinnant's `civil_from_days`:
//! a few lines instead of a date crate for the one conversion the command line makes.

/// The last second RFC 3339 can write: its years have four digits.
const LAST: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z

/// `secs` after the Unix epoch, to the second; `None` past the year 9999.
pub(crate) fn from_unix_seconds(secs: u64) -> Option<String> {
    let (date, time) = split(secs)?;
    Some(format!("{date}T{time}Z"))
}

/// `YYYY-MM-DD` and `hh:mm:ss` of `secs`.
fn split(secs: u64) -> Option<(String, String)> {
    if secs > LAST {
        return None;
    }
    let (days, second) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days);
    Some((
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            second / 3_600,
            second % 3_600 / 60,
            second % 60
        ),
    ))
}

/// The date `days` after 1970-01-01: counted in 400-year eras from 0000-03-01, so that the
/// leap day ends each year of the count.
fn civil(days: u64) -> (u64, u64, u64) {
    let days = days + 719_468; // 0000-03-01 to 1970-01-01
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_times() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (951_868_799, "2000-02-29T23:59:59Z"),
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (4_102_444_800, "2100-01-01T00:00:00Z"),
            (LAST, "9999-12-31T23:59:59Z"),
        ];
        for (secs, text) in cases {
            assert_eq!(from_unix_seconds(secs).as_deref(), Some(text), "{secs}");
        }
        assert_eq!(from_unix_seconds(LAST + 1), None);
        assert_eq!(from_unix_seconds(u64::MAX), None);
    }

    proptest! {
        /// The same date and time as HTTP's own formatter writes (RFC 9110 §5.6.7).
        #[test]
        fn agrees_with_http_dates(secs in 0..=LAST) {
            let http = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            // `Tue, 14 Nov 2023 22:13:20 GMT`
            let parts: Vec<&str> = http.split_whitespace().collect();
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                "Nov", "Dec"].iter().position(|m| *m == parts[2]).unwrap() + 1;
            let expected = format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4]);
            prop_assert_eq!(from_unix_seconds(secs), Some(expected));
        }
    }
}
