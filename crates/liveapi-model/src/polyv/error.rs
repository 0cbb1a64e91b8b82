//! Polyv's table of error codes and documented messages: which kind of refusal each answer is.

use crate::ApiErrorKind;

/// A message Polyv documents, and where.
#[derive(Clone, Copy, Debug)]
struct KnownMessage {
    /// The message as documented; matched whole (trimmed, ASCII case and a final `.`
    /// ignored), or as a prefix followed by a channel number when `with_channel`.
    message: &'static str,
    with_channel: bool,
    refined: ApiErrorKind,
    #[cfg_attr(not(test), allow(dead_code))]
    source: &'static str,
}

const fn known(message: &'static str, refined: ApiErrorKind, source: &'static str) -> KnownMessage {
    KnownMessage {
        message,
        with_channel: false,
        refined,
        source,
    }
}

/// Every message that decides a kind, with its source. Message matching happens here and
/// nowhere else: on whole messages, or the one documented phrase with a channel number.
const KNOWN_MESSAGES: &[KnownMessage] = &[
    known(
        "appId is required.",
        ApiErrorKind::BadParameter,
        "docs/polyv.md#errors: 未输入appId, 400",
    ),
    known(
        "application not found.",
        ApiErrorKind::UnknownApp,
        "docs/polyv.md#errors: appId不正确, 400",
    ),
    known(
        "invalid timestamp.",
        ApiErrorKind::ExpiredTimestamp,
        "docs/polyv.md#errors: 时间戳错误, 400",
    ),
    known(
        "invalid signature.",
        ApiErrorKind::BadSignature,
        "docs/polyv.md#errors: 签名错误, 403",
    ),
    KnownMessage {
        message: "illegal channel id:",
        with_channel: true,
        refined: ApiErrorKind::IllegalChannel,
        source: "docs/polyv.md#errors: channelId非法错误, 403, `illegal channel id: 10001`",
    },
    known(
        "param validate error",
        ApiErrorKind::BadParameter,
        "docs/polyv.md#errors: 参数错误, 400",
    ),
    known(
        "number range error",
        ApiErrorKind::BadParameter,
        "docs/polyv.md#errors: 数字类型校验错误, 400",
    ),
    known(
        "json format error",
        ApiErrorKind::BadParameter,
        "docs/polyv.md#errors: from the official SDKs",
    ),
    known(
        "param is not boolean (Y / N)",
        ApiErrorKind::BadParameter,
        "docs/polyv.md#errors: from the official SDKs, 400",
    ),
    known(
        "qps exceeds number of calls",
        ApiErrorKind::RateLimited,
        "docs/polyv.md#errors and #rate-limit: from the official SDKs",
    ),
];

/// The known message `message` is, and the channel it names if it is the channel phrase.
fn recognise(message: &str) -> Option<(ApiErrorKind, Option<String>)> {
    let message = message.trim();
    let message = message.strip_suffix('.').unwrap_or(message);
    KNOWN_MESSAGES.iter().find_map(|k| {
        let documented = k.message.strip_suffix('.').unwrap_or(k.message);
        if k.with_channel {
            let head = message.get(..documented.len())?;
            if !head.eq_ignore_ascii_case(documented) {
                return None;
            }
            let channel = message[documented.len()..].trim();
            let digits = !channel.is_empty() && channel.bytes().all(|b| b.is_ascii_digit());
            (channel.is_empty() || digits).then(|| (k.refined, digits.then(|| channel.to_owned())))
        } else {
            message
                .eq_ignore_ascii_case(documented)
                .then_some((k.refined, None))
        }
    })
}

/// The kind of a failed Polyv answer, and the channel its message names.
///
/// The code decides first: 400 is [`BadParameter`](ApiErrorKind::BadParameter), 401 and 403
/// [`BadSignature`](ApiErrorKind::BadSignature), 429 [`RateLimited`](ApiErrorKind::RateLimited),
/// 500–599 [`ServerError`](ApiErrorKind::ServerError) (参数错误为400, 签名失败为403, 服务端错误为500;
/// 401 and 429 by HTTP's meanings), any other code [`ServerError`](ApiErrorKind::ServerError)
/// when `status` is `fail` and [`Unrecognised`](ApiErrorKind::Unrecognised) otherwise.
///
/// Within the client errors (400–499), a documented message decides the kind, because the codes
/// vary between pages of the documentation (`docs/polyv.md#errors`):
///
/// | `message` | kind |
/// |---|---|
/// | `appId is required.` | [`BadParameter`](ApiErrorKind::BadParameter) |
/// | `application not found.` | [`UnknownApp`](ApiErrorKind::UnknownApp) |
/// | `invalid timestamp.` | [`ExpiredTimestamp`](ApiErrorKind::ExpiredTimestamp) |
/// | `invalid signature.` | [`BadSignature`](ApiErrorKind::BadSignature) |
/// | `illegal channel id: N` | [`IllegalChannel`](ApiErrorKind::IllegalChannel) |
/// | `param validate error`, `number range error` | [`BadParameter`](ApiErrorKind::BadParameter) |
/// | `json format error`, `param is not boolean (Y / N)` | [`BadParameter`](ApiErrorKind::BadParameter) |
/// | `qps exceeds number of calls` | [`RateLimited`](ApiErrorKind::RateLimited) |
///
/// A message matches whole (spaces around it, ASCII case and the final `.` aside), never as a
/// part of a longer one.
pub(crate) fn kind(code: i64, status: &str, message: &str) -> (ApiErrorKind, Option<String>) {
    if (400..=499).contains(&code)
        && let Some(known) = recognise(message)
    {
        return known;
    }
    let kind = match code {
        400 => ApiErrorKind::BadParameter,
        401 | 403 => ApiErrorKind::BadSignature,
        429 => ApiErrorKind::RateLimited,
        500..=599 => ApiErrorKind::ServerError,
        _ if status.eq_ignore_ascii_case("fail") => ApiErrorKind::ServerError,
        _ => ApiErrorKind::Unrecognised,
    };
    (kind, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_message_names_its_source_and_is_matched_whole() {
        for known in KNOWN_MESSAGES {
            assert!(!known.source.is_empty(), "{known:?}");
            let message = if known.with_channel {
                format!("{} 10001", known.message)
            } else {
                known.message.to_owned()
            };
            assert_eq!(recognise(&message).map(|r| r.0), Some(known.refined));
            assert_eq!(
                recognise(&format!("  {}  ", message.to_ascii_uppercase())).map(|r| r.0),
                Some(known.refined)
            );
            assert_eq!(recognise(&format!("{message} and more")), None, "{message}");
            assert_eq!(recognise(&format!("not {message}")), None, "{message}");
            // A server failure is never refined by its message.
            assert_eq!(kind(500, "fail", &message).0, ApiErrorKind::ServerError);
        }
    }

    #[test]
    fn the_code_decides_where_no_documented_message_does() {
        for (code, status, expected) in [
            (400, "error", ApiErrorKind::BadParameter),
            (401, "error", ApiErrorKind::BadSignature),
            (403, "error", ApiErrorKind::BadSignature),
            (429, "error", ApiErrorKind::RateLimited),
            (500, "fail", ApiErrorKind::ServerError),
            (599, "error", ApiErrorKind::ServerError),
            (600, "fail", ApiErrorKind::ServerError),
            (600, "FAIL", ApiErrorKind::ServerError),
            (600, "error", ApiErrorKind::Unrecognised),
            (404, "error", ApiErrorKind::Unrecognised),
        ] {
            assert_eq!(
                kind(code, status, "something"),
                (expected, None),
                "{code} {status}"
            );
        }
        assert_eq!(
            kind(403, "error", "illegal channel id: 10001"),
            (ApiErrorKind::IllegalChannel, Some("10001".to_owned()))
        );
        assert_eq!(
            kind(403, "error", "illegal channel id:"),
            (ApiErrorKind::IllegalChannel, None)
        );
        assert_eq!(
            kind(403, "error", "illegal channel id: x1"),
            (ApiErrorKind::BadSignature, None)
        );
        // Outside the client errors a documented message refines nothing.
        assert_eq!(
            kind(200, "error", "invalid timestamp.").0,
            ApiErrorKind::Unrecognised
        );
    }
}
