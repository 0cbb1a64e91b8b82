//! Times as RFC 3339 text in UTC (`2027-03-01T00:00:00Z`), printed beside the unix numbers a
//! script computes with, so that a person reading the output needs no converter. `humantime`
//! writes the format; this module keeps the times it is given inside the years it can write.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second RFC 3339 can write: its years have four digits.
const LAST: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z

/// `secs` after the Unix epoch, to the second; `None` past the year 9999.
pub(crate) fn from_unix_seconds(secs: u64) -> Option<String> {
    (secs <= LAST).then(|| {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    })
}

/// `time` to the millisecond (`2026-03-01T12:00:00.250Z`), held to 1970–9999: the outbox's
/// times are now or a few minutes away, and a clock outside those years is shown at the edge.
pub(crate) fn with_millis(time: SystemTime) -> String {
    let last = UNIX_EPOCH + Duration::from_secs(LAST);
    humantime::format_rfc3339_millis(time.clamp(UNIX_EPOCH, last)).to_string()
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

    #[test]
    fn milliseconds_and_the_edges() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(with_millis(at), "2023-11-14T22:13:20.250Z");
        assert_eq!(
            with_millis(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
        let far = UNIX_EPOCH + Duration::from_secs(LAST + 86_400);
        assert_eq!(with_millis(far), "9999-12-31T23:59:59.000Z");
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
