//! What the engine reads from an answer's headers before the body is decoded: how long the
//! server asked the client to wait (`Retry-After`), and the server's clock (`Date`).

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{DATE, RETRY_AFTER};

/// How long `Retry-After` asks to wait, as of `now`: delay-seconds or an HTTP date (RFC 9110,
/// section 10.2.3). A date in the past asks for no wait; an unreadable value is ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is a wait longer than any deadline.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The server's clock when it answered (`Date`, RFC 9110, section 6.6.1), if it said.
pub(crate) fn server_date(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get(DATE)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, value.parse().unwrap());
        map
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        // 1994-11-06 08:49:37 UTC, the RFC's own example.
        let example = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let now = example - Duration::from_secs(30);
        let table = [
            ("120", Some(Duration::from_secs(120))),
            (" 0 ", Some(Duration::ZERO)),
            (
                "99999999999999999999999",
                Some(Duration::from_secs(u64::MAX)),
            ),
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                Some(Duration::from_secs(30)),
            ),
            (
                "Sunday, 06-Nov-94 08:49:37 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Sun Nov  6 08:49:37 1994", Some(Duration::from_secs(30))),
            ("Sun, 06 Nov 1994 08:48:37 GMT", Some(Duration::ZERO)),
            ("-5", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
        ];
        for (value, expected) in table {
            let map = if value.is_empty() {
                HeaderMap::new()
            } else {
                headers(RETRY_AFTER, value)
            };
            assert_eq!(retry_after(&map, now), expected, "{value:?}");
        }
    }

    #[test]
    fn the_server_date_is_read() {
        let map = headers(DATE, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            server_date(&map),
            Some(UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(server_date(&headers(DATE, "yesterday")), None);
        assert_eq!(server_date(&HeaderMap::new()), None);
    }
}
