//! The Polyv live server's donate calls under `/live/v3/channel/donate/`.
//!
//! Checks run in the order of the vendor's list of errors, the first failure answering: rate
//! limit, `appId`, the account, `timestamp`, the signature, `channelId`, then the JSON body. Only the query string is
//! signed; the body never is, and a `channelId` inside it is ignored, as by the real server
//! (which then changes the account-wide setting).

use std::net::IpAddr;

use http::request::Parts;
use http::{Method, StatusCode};
use liveapi_model::polyv::{
    BodyError, CashSettings, GetDonate, GoodSettings, PolyvRequest, UpdateCash, UpdateGoods,
};
use liveapi_model::{ParamSource, Rule, ValidationError, Vendor};
use liveapi_sign::{SignError, VerifyError, polyv};
use serde_json::Value;

use crate::books::donate::Donate;
use crate::http::reply::{Reply, clip};
use crate::persistence::Record;
use crate::shared::{PolyvEntry, Shared, lock};
use crate::vendors::signature_refusal;

/// Error messages, and where each comes from: the documented error examples word for word,
/// then the other messages the real server is known to send (both in `docs/polyv.md#errors`);
/// the two routing messages are the emulator's own.
pub(crate) mod msg {
    /// Documented: 未输入appId, code 400.
    pub(crate) const APP_ID_REQUIRED: &str = "appId is required.";
    /// Documented: appId不正确, code 400.
    pub(crate) const APP_NOT_FOUND: &str = "application not found.";
    /// Documented: 时间戳错误, code 400 (`docs/polyv.md#timestamp`).
    pub(crate) const TIMESTAMP: &str = "invalid timestamp.";
    /// Documented: 签名错误, code 403.
    pub(crate) const SIGNATURE: &str = "invalid signature.";
    /// Documented: channelId非法错误, code 403, followed by the channel.
    pub(crate) const ILLEGAL_CHANNEL: &str = "illegal channel id: ";
    /// Documented: 参数错误 and json为空, code 400.
    pub(crate) const PARAM: &str = "param validate error";
    /// Known from the real server.
    pub(crate) const JSON: &str = "json format error";
    /// Documented: cashes/cashMin 数字类型校验错误, code 400.
    pub(crate) const RANGE: &str = "number range error";
    /// Known from the real server, 400.
    pub(crate) const BOOLEAN: &str = "param is not boolean (Y / N)";
    /// Known from the real server and its rate limit (`docs/polyv.md#rate-limit`); the code
    /// (429) is HTTP's.
    pub(crate) const QPS: &str = "qps exceeds number of calls";
    /// The emulator's own.
    pub(crate) const NOT_FOUND: &str = "not found";
    /// The emulator's own.
    pub(crate) const METHOD: &str = "method not allowed";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    UpdateCash,
    UpdateGoods,
    Get,
}

impl Endpoint {
    fn of(path: &str) -> Option<Self> {
        match path {
            UpdateCash::PATH => Some(Self::UpdateCash),
            UpdateGoods::PATH => Some(Self::UpdateGoods),
            GetDonate::PATH => Some(Self::Get),
            _ => None,
        }
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Self::UpdateCash | Self::UpdateGoods => method == Method::POST,
            Self::Get => method == Method::GET || method == Method::POST,
        }
    }
}

fn error(status: StatusCode, message: &str) -> Reply {
    Reply::polyv_error(status, message)
}

fn bad(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message)
}

fn verify_error(e: &VerifyError) -> Reply {
    match e {
        VerifyError::Stale { .. }
        | VerifyError::Missing {
            param: polyv::TIMESTAMP_PARAM,
        }
        | VerifyError::Invalid(SignError::MalformedTimestamp) => bad(msg::TIMESTAMP),
        VerifyError::Invalid(
            SignError::DuplicateKey { .. } | SignError::UnsupportedSignatureMethod { .. },
        ) => bad(msg::PARAM),
        _ => error(StatusCode::FORBIDDEN, msg::SIGNATURE),
    }
}

/// The message Polyv gives for a body field that breaks a rule.
fn validation_message(e: &ValidationError) -> &'static str {
    match (e.field(), e.rule()) {
        ("enabled" | "goodEnabled", _) => msg::BOOLEAN,
        (_, Rule::Range { .. }) => msg::RANGE,
        // An amount that is not a number at all is a "number type" error in the vendor's
        // words; a list that is not a list is a plain validation error.
        ("cashes" | "cashMin" | "goodPrice", Rule::Format { expected })
            if expected.contains("decimal") =>
        {
            msg::RANGE
        }
        _ => msg::PARAM,
    }
}

fn body_error(body: &[u8], e: &BodyError) -> Reply {
    bad(match e {
        BodyError::Invalid(v) => validation_message(v),
        BodyError::Syntax(_) if body.trim_ascii().is_empty() => msg::PARAM,
        BodyError::Syntax(_) if serde_json::from_slice::<Value>(body).is_err() => msg::JSON,
        // Well-formed JSON that is not an object.
        _ => msg::PARAM,
    })
}

/// The scope of the call: `Ok(None)` for the account, the channel number otherwise.
fn scope(entry: &PolyvEntry, params: &[(String, String)]) -> Result<Option<u64>, Reply> {
    let Some(text) = params.param("channelId") else {
        return Ok(None);
    };
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(msg::PARAM));
    }
    match text.parse::<u64>() {
        Ok(channel) if lock(&entry.donate).has_channel(channel) => Ok(Some(channel)),
        _ => Err(error(
            StatusCode::FORBIDDEN,
            &format!("{}{}", msg::ILLEGAL_CHANNEL, clip(text, 32)),
        )),
    }
}

/// Logs an account's settings under its lock, so that the last record has the last settings.
fn log_settings(shared: &Shared, entry: &PolyvEntry, donate: &Donate) {
    shared.log(|| Record::Polyv {
        app: entry.app.app_id.clone(),
        settings: donate.snapshot(),
    });
}

pub(crate) fn handle(shared: &Shared, parts: &Parts, body: &[u8], client: IpAddr) -> Reply {
    if !shared.limiter.allow(client) {
        return error(StatusCode::TOO_MANY_REQUESTS, msg::QPS);
    }
    let Some(endpoint) = Endpoint::of(parts.uri.path()) else {
        return error(StatusCode::NOT_FOUND, msg::NOT_FOUND);
    };
    if !endpoint.allows(&parts.method) {
        return error(StatusCode::METHOD_NOT_ALLOWED, msg::METHOD);
    }
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    let params: Vec<(String, String)> = form_urlencoded::parse(query).into_owned().collect();
    let Some(app_id) = params.param("appId") else {
        return bad(msg::APP_ID_REQUIRED);
    };
    let Some(entry) = shared.polyv.get(app_id) else {
        return bad(msg::APP_NOT_FOUND);
    };
    let now = shared.clock.now();
    let window = shared.limits.polyv_timestamp_window;
    let fresh = params
        .param(polyv::TIMESTAMP_PARAM)
        .is_some_and(|ts| polyv::check_timestamp(ts, now, window).is_ok());
    if !fresh {
        return bad(msg::TIMESTAMP);
    }
    let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if let Err(e) = polyv::verify(pairs, &entry.app.secret, now, window) {
        let reply = verify_error(&e);
        if reply.status != StatusCode::FORBIDDEN {
            return reply;
        }
        // A refused signature: say what was expected, for the request log.
        let refusal = signature_refusal::explain(Vendor::Polyv, &params, body, &entry.app.secret);
        return reply.explained(refusal);
    }
    let channel = match scope(entry, &params) {
        Ok(channel) => channel,
        Err(reply) => return reply,
    };
    match endpoint {
        Endpoint::UpdateCash => match CashSettings::from_json(body) {
            Ok(settings) => {
                let mut donate = lock(&entry.donate);
                donate.set_cash(channel, &settings);
                log_settings(shared, entry, &donate);
                Reply::polyv_ok(Value::Bool(true))
            }
            Err(e) => body_error(body, &e),
        },
        Endpoint::UpdateGoods => match GoodSettings::from_json(body) {
            Ok(settings) => {
                let mut donate = lock(&entry.donate);
                donate.set_goods(channel, &settings);
                log_settings(shared, entry, &donate);
                Reply::polyv_ok(Value::Bool(true))
            }
            Err(e) => body_error(body, &e),
        },
        Endpoint::Get => {
            let view = lock(&entry.donate).view(channel);
            Reply::polyv_ok(serde_json::to_value(view).unwrap_or(Value::Null))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented error examples (`docs/polyv.md#errors`), word for word, with their codes;
    /// and the envelope it shows
    /// (`status` `error`, `data` `""`).
    #[test]
    fn refusals_use_the_documented_codes_words_and_envelope() {
        let documented = [
            (bad(msg::APP_ID_REQUIRED), 400, "appId is required."),
            (bad(msg::APP_NOT_FOUND), 400, "application not found."),
            (bad(msg::TIMESTAMP), 400, "invalid timestamp."),
            (
                verify_error(&VerifyError::Mismatch),
                403,
                "invalid signature.",
            ),
            (bad(msg::PARAM), 400, "param validate error"),
            (bad(msg::RANGE), 400, "number range error"),
        ];
        for (reply, code, message) in documented {
            assert_eq!(reply.status.as_u16(), code, "{message}");
            let body: Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"code": code, "status": "error", "message": message, "data": ""})
            );
        }
    }

    /// The documented validation errors: an empty or unreadable JSON is `param validate error`,
    /// a number out of range or of the wrong type `number range error`.
    #[test]
    fn body_errors_take_the_documented_messages() {
        for (body, message) in [
            (&b""[..], msg::PARAM),
            (b"{}", msg::PARAM),
            (b"[1]", msg::PARAM),
            (b"{", msg::JSON),
            (br#"{"cashes":[1,2,3]}"#, msg::PARAM),
            (br#"{"cashMin":0}"#, msg::RANGE),
            (br#"{"cashMin":"x"}"#, msg::RANGE),
            (br#"{"cashes":[1,2,3,4,5,1e9]}"#, msg::RANGE),
            (br#"{"enabled":"yes"}"#, msg::BOOLEAN),
        ] {
            let err = CashSettings::from_json(body).unwrap_err();
            assert_eq!(
                body_error(body, &err).message,
                message,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
