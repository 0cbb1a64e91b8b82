//! The LinkV live server: `/open/v0/thGetToken` and the three `/open/finanv0/…` coin calls.
//!
//! It takes what the real server takes, which is what the vendor's official SDKs send in
//! production (`docs/linkv.md#what-the-official-sdks-send`): parameters from the query string
//! and the form body together, by GET or POST (the Go and Python SDKs send `getUserTokens` as
//! a GET with a query string); signatures over the documented canonical string or the forms
//! those SDKs compute (`liveapi_sign::linkv::verify_lenient`); any printable `request_id` up to
//! 64 characters; `expriation` as a float of whole seconds, and none on a removal.
//!
//! Checks run in this order, the first failure answering: `app_id` present, the app known,
//! `nonce_str` present, the signature, the nonce's time, then the call's parameters (with the
//! model's own validation) and the ledger. Answers are dressed as the builder asked
//! ([`LinkvAnswers`]): errors in HTTP 200 by default, as the real server sends them.

use http::request::Parts;
use http::{Method, StatusCode};
use liveapi_model::linkv::{
    ChangeGold, ChangeType, Expiration, GetUserTokens, LinkvRequest, OrderSuccess, ThGetToken,
};
use liveapi_model::{ParamSource, Vendor};
use liveapi_sign::{SignError, VerifyError, linkv};
use serde_json::json;

use crate::books::ledger::{Change, ChangeOutcome, Delta, Event, Ledger, LedgerError};
use crate::http::reply::{LinkvAnswers, Reply};
use crate::persistence::Record;
use crate::shared::{LinkvEntry, Shared, lock};
use crate::vendors::signature_refusal;

/// Error messages, and where each comes from.
///
/// The vendor's documentation gives one message in its words, `sign err` (its error example, for
/// 签名错误; `docs/linkv.md#errors`). `param err` is its 参数错误 worded after it; the emulator adds `: `
/// and what is wrong, for people reading the answer. Every other message is the emulator's own, for
/// a case the documentation does not name; each says so. None was chosen to suit a client's
/// classifier: a client classifies by `status`.
pub(crate) mod msg {
    /// 403 签名错误: the documented error example, word for word (`docs/linkv.md#errors`).
    pub(crate) const SIGN_ERR: &str = "sign err";
    /// 400 参数错误 (the documented error table, `docs/linkv.md#errors`), worded after `sign err`.
    pub(crate) const PARAM_ERR: &str = "param err";
    /// The emulator's own: the documentation names no error for an unknown `app_id`.
    pub(crate) const APP_NOT_FOUND: &str = "app_id not found";
    /// The emulator's own: `docs/linkv.md#nonce-and-time` documents the refusal of a nonce
    /// more than five minutes off, not its words.
    pub(crate) const NONCE_EXPIRED: &str = "nonce_str expired";
    pub(crate) const MISSING_APP_ID: &str = "param err: app_id is required";
    pub(crate) const MISSING_NONCE: &str = "param err: nonce_str is required";
    pub(crate) const MALFORMED_NONCE: &str = "param err: nonce_str must be 8 letters or digits, 10 digits of unix seconds, 8 letters or digits";
    /// `name` and `portraitUri` are "注册必传", required to register
    /// (`docs/linkv.md#validation-rules`).
    pub(crate) const REGISTRATION: &str =
        "param err: name and portraitUri are required to register a new userId";
    /// `channel` is required on `orderSuccess` and is the app's alias (`docs/linkv.md#calls`).
    pub(crate) const MISSING_CHANNEL: &str = "param err: channel is required";
    pub(crate) const WRONG_CHANNEL: &str = "param err: channel does not match the app alias";
    /// The emulator's own, as are the ledger's refusals below: the documentation names none.
    pub(crate) const UNKNOWN_UID: &str = "uid not found";
    /// The emulator's own.
    pub(crate) const INSUFFICIENT: &str = "insufficient balance";
    /// The emulator's own.
    pub(crate) const REQUEST_ID_REUSED: &str = "request_id already used with different parameters";
    /// The emulator's own.
    pub(crate) const ORDER_COMPLETED: &str = "order_id already completed";
    /// The emulator's own rule and words: the documentation says nothing of a past expiry.
    pub(crate) const EXPIRATION_PAST: &str = "param err: expriation must be in the future";
    /// The emulator's own.
    pub(crate) const OVERFLOW: &str = "balance would exceed 9223372036854775807 coins";
    /// The emulator's own: a path the server does not serve.
    pub(crate) const NO_ENDPOINT: &str = "no such endpoint";
    /// The emulator's own.
    pub(crate) const METHOD: &str = "method not allowed";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    ThGetToken,
    OrderSuccess,
    ChangeGold,
    GetUserTokens,
}

impl Endpoint {
    fn of(path: &str) -> Option<Self> {
        match path {
            ThGetToken::PATH => Some(Self::ThGetToken),
            OrderSuccess::PATH => Some(Self::OrderSuccess),
            ChangeGold::PATH => Some(Self::ChangeGold),
            GetUserTokens::PATH => Some(Self::GetUserTokens),
            _ => None,
        }
    }
}

fn bad(message: impl Into<String>) -> Reply {
    Reply::linkv_error(StatusCode::BAD_REQUEST, message)
}

fn denied(message: &str) -> Reply {
    Reply::linkv_error(StatusCode::FORBIDDEN, message)
}

/// Query and form parameters together, in the order received.
fn params(parts: &Parts, body: &[u8]) -> Vec<(String, String)> {
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    form_urlencoded::parse(query)
        .chain(form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn verify_error(e: &VerifyError) -> Reply {
    match e {
        VerifyError::Missing { param } if *param == linkv::NONCE_PARAM => bad(msg::MISSING_NONCE),
        VerifyError::Missing { .. } | VerifyError::Mismatch => denied(msg::SIGN_ERR),
        VerifyError::Stale { .. } => bad(msg::NONCE_EXPIRED),
        VerifyError::Invalid(SignError::DuplicateKey { key }) => bad(format!(
            "{}: {} is given more than once",
            msg::PARAM_ERR,
            crate::http::reply::clip(key, 64)
        )),
        VerifyError::Invalid(SignError::MalformedNonce) => bad(msg::MALFORMED_NONCE),
        VerifyError::Invalid(_) => denied(msg::SIGN_ERR),
        // VerifyError is non-exhaustive: anything new is a signature problem until known.
        _ => denied(msg::SIGN_ERR),
    }
}

fn ledger_error(e: &LedgerError) -> Reply {
    bad(match e {
        LedgerError::UnknownUid => msg::UNKNOWN_UID,
        LedgerError::RegistrationIncomplete => msg::REGISTRATION,
        LedgerError::InsufficientBalance => msg::INSUFFICIENT,
        LedgerError::RequestIdReused => msg::REQUEST_ID_REUSED,
        LedgerError::OrderCompleted => msg::ORDER_COMPLETED,
        LedgerError::ExpirationPast => msg::EXPIRATION_PAST,
        LedgerError::Overflow => msg::OVERFLOW,
    })
}

/// Reads the call's parameters with the model's own validation, which reads them as the
/// server does (see `LinkvRequest::from_params`).
fn read<R: LinkvRequest>(params: &[(String, String)]) -> Result<R, Reply> {
    R::from_params(params).map_err(|e| bad(format!("{}: {e}", msg::PARAM_ERR)))
}

/// What a change does. The model reads a credit only with its expiry, so the second arm is a
/// refusal that cannot happen rather than a panic.
fn delta(change_type: ChangeType, expiration: Option<Expiration>) -> Result<Delta, Reply> {
    match (change_type, expiration) {
        (ChangeType::Add, Some(e)) => Ok(Delta::Add {
            expires_at: e.unix_seconds(),
        }),
        (ChangeType::Add, None) => Err(bad(format!("{}: expriation: is required", msg::PARAM_ERR))),
        (ChangeType::Remove, e) => Ok(Delta::Remove {
            expiration: e.map(Expiration::unix_seconds),
        }),
    }
}

/// What a repeat of a `request_id` must match: the call and its business parameters, as the
/// model normalises them (so `nonce_str`, `sign`, `app_id` and `channel` do not count, and
/// `1796343222.0` is `1796343222`). A removal's `expriation` does not count either: it means
/// nothing for a removal, and the official SDKs send it or not.
fn fingerprint<R: LinkvRequest>(request: &R, change_type: ChangeType) -> String {
    let mut text = form_urlencoded::Serializer::new(format!("{}?", R::NAME));
    text.extend_pairs(
        request
            .params()
            .into_iter()
            .filter(|(k, _)| change_type == ChangeType::Add || *k != "expriation"),
    );
    text.finish()
}

pub(crate) fn handle(shared: &Shared, parts: &Parts, body: &[u8]) -> Reply {
    let style: LinkvAnswers = shared.limits.linkv_answers;
    // Not API errors: what a web server says of a path or method it does not serve, with
    // its HTTP status in every style.
    let Some(endpoint) = Endpoint::of(parts.uri.path()) else {
        return style.typed(Reply::linkv_error(StatusCode::NOT_FOUND, msg::NO_ENDPOINT));
    };
    if parts.method != Method::POST && parts.method != Method::GET {
        return style.typed(Reply::linkv_error(
            StatusCode::METHOD_NOT_ALLOWED,
            msg::METHOD,
        ));
    }
    style.answer(answer(shared, endpoint, parts, body))
}

fn answer(shared: &Shared, endpoint: Endpoint, parts: &Parts, body: &[u8]) -> Reply {
    let params = params(parts, body);
    let Some(app_id) = params.param("app_id") else {
        return bad(msg::MISSING_APP_ID);
    };
    let Some(entry) = shared.linkv.get(app_id) else {
        return denied(msg::APP_NOT_FOUND);
    };
    // A request without a nonce is incomplete rather than forged, whatever its `sign`.
    if params.param(linkv::NONCE_PARAM).is_none() {
        return bad(msg::MISSING_NONCE);
    }
    let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if let Err(e) = linkv::verify_lenient(
        pairs,
        &entry.app.app_secret,
        shared.clock.now(),
        shared.limits.linkv_nonce_window,
    ) {
        let reply = verify_error(&e);
        if reply.status != StatusCode::FORBIDDEN {
            return reply;
        }
        // A refused signature: say what was expected, for the request log.
        let refusal =
            signature_refusal::explain(Vendor::Linkv, &params, body, &entry.app.app_secret);
        return reply.explained(refusal);
    }
    let result = match endpoint {
        Endpoint::ThGetToken => th_get_token(shared, entry, &params),
        Endpoint::OrderSuccess => order_success(shared, entry, &params),
        Endpoint::ChangeGold => change_gold(shared, entry, &params),
        Endpoint::GetUserTokens => get_user_tokens(shared, entry, &params),
    };
    result.unwrap_or_else(|reply| reply)
}

fn th_get_token(
    shared: &Shared,
    entry: &LinkvEntry,
    params: &[(String, String)],
) -> Result<Reply, Reply> {
    let request: ThGetToken = read(params)?;
    let grant = {
        let mut ledger = lock(&entry.ledger);
        let grant = ledger.get_token(&request).map_err(|e| ledger_error(&e))?;
        log_event(shared, entry, &mut ledger, grant.event.clone());
        grant
    };
    Ok(Reply::linkv_ok(Some(json!({
        "token": grant.token,
        "userId": request.user_id().as_str(),
        "aid": grant.aid.unwrap_or_default(),
        "openId": grant.open_id,
    }))))
}

fn order_success(
    shared: &Shared,
    entry: &LinkvEntry,
    params: &[(String, String)],
) -> Result<Reply, Reply> {
    let request: OrderSuccess = read(params)?;
    match params.param("channel") {
        None => return Err(bad(msg::MISSING_CHANNEL)),
        Some(channel) if channel != entry.app.alias => return Err(bad(msg::WRONG_CHANNEL)),
        Some(_) => {}
    }
    let change = Change {
        endpoint: OrderSuccess::NAME,
        request_id: request.request_id().as_str(),
        uid: request.uid().as_str(),
        delta: delta(request.change_type(), request.expiration())?,
        value: request.value().get(),
        order_id: Some(request.order_id().as_str()),
        fingerprint: fingerprint(&request, request.change_type()),
    };
    let outcome = apply(shared, entry, &change)?;
    Ok(Reply::linkv_ok(Some(
        json!({"tokens": outcome.balance_after.to_string()}),
    )))
}

fn change_gold(
    shared: &Shared,
    entry: &LinkvEntry,
    params: &[(String, String)],
) -> Result<Reply, Reply> {
    let request: ChangeGold = read(params)?;
    let change = Change {
        endpoint: ChangeGold::NAME,
        request_id: request.request_id().as_str(),
        uid: request.uid().as_str(),
        delta: delta(request.change_type(), request.expiration())?,
        value: request.value().get(),
        order_id: None,
        fingerprint: fingerprint(&request, request.change_type()),
    };
    apply(shared, entry, &change)?;
    Ok(Reply::linkv_ok(None))
}

/// Logs a ledger's event under its lock, so that the log has the ledger's changes in the
/// order they were made.
fn log_event(shared: &Shared, entry: &LinkvEntry, ledger: &mut Ledger, event: Event) {
    let seq = shared.log(|| Record::Linkv {
        app: entry.app.app_key.clone(),
        event,
    });
    ledger.set_log_seq(seq);
}

/// Applies a coin change (or counts a repeat) and logs it.
fn apply(shared: &Shared, entry: &LinkvEntry, change: &Change<'_>) -> Result<ChangeOutcome, Reply> {
    let mut ledger = lock(&entry.ledger);
    let outcome = ledger
        .change(change, shared.clock.now_ms(), &shared.journal_seq)
        .map_err(|e| ledger_error(&e))?;
    log_event(shared, entry, &mut ledger, outcome.event.clone());
    Ok(outcome)
}

fn get_user_tokens(
    shared: &Shared,
    entry: &LinkvEntry,
    params: &[(String, String)],
) -> Result<Reply, Reply> {
    let request: GetUserTokens = read(params)?;
    let balance = lock(&entry.ledger)
        .balance(request.uid().as_str(), shared.clock.now_ms() / 1_000)
        .map_err(|e| ledger_error(&e))?;
    Ok(Reply::linkv_ok(Some(
        json!({"tokens": balance.to_string()}),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveapi_model::ApiErrorKind;
    use liveapi_model::linkv::{Coins, decode};

    /// Every error answer the emulator builds from a refusal, with what caused it.
    fn refusals() -> Vec<(String, Reply)> {
        let mut all: Vec<(String, Reply)> = [
            LedgerError::UnknownUid,
            LedgerError::RegistrationIncomplete,
            LedgerError::InsufficientBalance,
            LedgerError::RequestIdReused,
            LedgerError::OrderCompleted,
            LedgerError::ExpirationPast,
            LedgerError::Overflow,
        ]
        .iter()
        .map(|e| (format!("{e:?}"), ledger_error(e)))
        .collect();
        let verify = [
            VerifyError::Missing {
                param: linkv::NONCE_PARAM,
            },
            VerifyError::Missing {
                param: linkv::SIGN_PARAM,
            },
            VerifyError::Mismatch,
            VerifyError::Stale {
                ahead: true,
                skew: std::time::Duration::from_secs(301),
                window: linkv::DEFAULT_WINDOW,
            },
            VerifyError::Invalid(SignError::DuplicateKey { key: "uid".into() }),
            VerifyError::Invalid(SignError::MalformedNonce),
            VerifyError::Invalid(SignError::MalformedSignature),
        ];
        all.extend(verify.iter().map(|e| (format!("{e:?}"), verify_error(e))));
        all.extend(
            [
                msg::MISSING_APP_ID,
                msg::MISSING_CHANNEL,
                msg::WRONG_CHANNEL,
            ]
            .map(|m| (m.to_owned(), bad(m))),
        );
        all.push((
            "read".into(),
            read::<GetUserTokens>(&[]).map(|_| ()).unwrap_err(),
        ));
        all.push(("app".into(), denied(msg::APP_NOT_FOUND)));
        all.push(("delta".into(), delta(ChangeType::Add, None).unwrap_err()));
        all
    }

    /// The documented error table (`docs/linkv.md#errors`) has three statuses: 400 参数错误 (and
    /// 参数长度错误), 403 签名错误 and 500 系统错误. Every refusal uses one of the first two, and its body is the
    /// documented error envelope (`status` as a string, `msg`, `data: []`).
    #[test]
    fn refusals_use_the_documented_statuses_and_envelope() {
        for (cause, reply) in refusals() {
            let status = reply.status.as_u16();
            assert!(matches!(status, 400 | 403), "{cause}: {status}");
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(body["status"], status.to_string(), "{cause}");
            assert_eq!(body["data"], json!([]), "{cause}");
            assert_eq!(body["msg"], reply.message.as_str(), "{cause}");
        }
    }

    /// A bad signature is the documented example, word for word; a parameter error starts
    /// with the documented 参数错误 in the same words (`docs/linkv.md#errors`).
    #[test]
    fn documented_errors_use_the_documents_words() {
        let reply = verify_error(&VerifyError::Mismatch);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap(),
            json!({"status": "403", "msg": "sign err", "data": []})
        );
        for (cause, reply) in refusals() {
            if reply.status == StatusCode::BAD_REQUEST && cause != "UnknownUid" {
                let documented = reply.message.starts_with("param err: ");
                let own = [
                    msg::INSUFFICIENT,
                    msg::REQUEST_ID_REUSED,
                    msg::ORDER_COMPLETED,
                    msg::OVERFLOW,
                    msg::NONCE_EXPIRED,
                ]
                .contains(&reply.message.as_str());
                assert!(documented || own, "{cause}: {}", reply.message);
            }
        }
    }

    /// A client that classifies by `status`, as the documented table says, gets every refusal's
    /// kind right, in both answer styles: the HTTP status does not matter. The three messages
    /// the documentation does not name but a client must tell apart (a stale nonce, an unknown app,
    /// a request id reused with other parameters) refine the kind; nothing else does.
    #[test]
    fn every_refusal_is_classified_by_its_status() {
        for style in [
            LinkvAnswers::default(),
            LinkvAnswers {
                error_http_status: true,
                json_content_type: true,
            },
        ] {
            for (cause, reply) in refusals() {
                let status = reply.status.as_u16();
                let message = reply.message.clone();
                let dressed = style.answer(reply);
                assert_eq!(
                    dressed.status.as_u16(),
                    if style.error_http_status { status } else { 200 }
                );
                let err = decode::<Coins>(dressed.status.as_u16(), &dressed.body).unwrap_err();
                // The SDK reads a LinkV refusal by its status alone; the emulator's words are
                // the message, for a person.
                let expected = match status {
                    400 => ApiErrorKind::BadParameter,
                    403 => ApiErrorKind::BadSignature,
                    _ => ApiErrorKind::Unrecognised,
                };
                assert_eq!(err.kind(), expected, "{cause}: {message}");
                assert_eq!(err.message(), message, "{cause}");
            }
        }
    }
}
