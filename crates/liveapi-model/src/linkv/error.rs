//! LinkV's table of error statuses: which kind of refusal each `status` is.

use crate::ApiErrorKind;

/// The kind of a failed LinkV answer, by its `status` alone.
///
/// | `status` | kind | source |
/// |---|---|---|
/// | 400 | [`BadParameter`](ApiErrorKind::BadParameter) | 参数错误, 参数长度错误 (`docs/linkv.md#errors`) |
/// | 401, 403 | [`BadSignature`](ApiErrorKind::BadSignature) | 403 签名错误 (`sign err`); 401 by HTTP's meaning |
/// | 429 | [`RateLimited`](ApiErrorKind::RateLimited) | HTTP's meaning (RFC 6585); LinkV documents no limit |
/// | 500–599 | [`ServerError`](ApiErrorKind::ServerError) | 500 系统错误 |
/// | any other | [`Unrecognised`](ApiErrorKind::Unrecognised) | undocumented |
///
/// LinkV documents no message, so no message refines a kind: a stale nonce is told by the
/// server's `Date` (`docs/answers.md`), never by words only one server uses.
pub(crate) fn kind(status: i64) -> ApiErrorKind {
    match status {
        400 => ApiErrorKind::BadParameter,
        401 | 403 => ApiErrorKind::BadSignature,
        429 => ApiErrorKind::RateLimited,
        500..=599 => ApiErrorKind::ServerError,
        _ => ApiErrorKind::Unrecognised,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_alone_decides() {
        for (status, expected) in [
            (400, ApiErrorKind::BadParameter),
            (401, ApiErrorKind::BadSignature),
            (403, ApiErrorKind::BadSignature),
            (429, ApiErrorKind::RateLimited),
            (500, ApiErrorKind::ServerError),
            (503, ApiErrorKind::ServerError),
            (599, ApiErrorKind::ServerError),
            (499, ApiErrorKind::Unrecognised),
            (600, ApiErrorKind::Unrecognised),
            (404, ApiErrorKind::Unrecognised),
            (201, ApiErrorKind::Unrecognised),
        ] {
            assert_eq!(kind(status), expected, "{status}");
        }
    }
}
