//! The LinkV live server: `/open/v0/thGetToken` and the three `/open/finanv0/…` coin calls.
//!
//! Parameters come from the query string and the form body together (official SDKs send
//! `getUserTokens` as a GET with a query string). Checks run in this order, the first failure
//! answering: `app_id` present, the app known, `nonce_str` present, the signature, the nonce's
//! time, then the call's parameters (with the model's own validation) and the ledger.

use http::request::Parts;
use http::{Method, StatusCode};
use liveapi_model::ParamSource;
use liveapi_model::linkv::{ChangeGold, GetUserTokens, LinkvRequest, OrderSuccess, ThGetToken};
use liveapi_sign::{SignError, VerifyError, linkv};
use serde_json::json;

use crate::ledger::{Change, LedgerError};
use crate::reply::Reply;
use crate::state::{LinkvEntry, Shared, lock};

/// Error messages, chosen so that `LinkvError::classify` in `liveapi-model` maps each to the
/// right kind (documented in the crate docs).
pub(crate) mod msg {
    pub(crate) const SIGN_ERR: &str = "sign err";
    pub(crate) const APP_NOT_FOUND: &str = "app_id not found";
    pub(crate) const NONCE_EXPIRED: &str = "nonce_str expired";
    pub(crate) const MISSING_APP_ID: &str = "param err: app_id is required";
    pub(crate) const MISSING_NONCE: &str = "param err: nonce_str is required";
    pub(crate) const MALFORMED_NONCE: &str = "param err: nonce_str must be 8 letters or digits, 10 digits of unix seconds, 8 letters or digits";
    pub(crate) const REGISTRATION: &str =
        "param err: name and portraitUri are required to register a new userId";
    pub(crate) const MISSING_CHANNEL: &str = "param err: channel is required";
    pub(crate) const WRONG_CHANNEL: &str = "param err: channel does not match the app alias";
    pub(crate) const UNKNOWN_UID: &str = "uid not found";
    pub(crate) const INSUFFICIENT: &str = "insufficient balance";
    pub(crate) const REQUEST_ID_REUSED: &str = "request_id already used with different parameters";
    pub(crate) const ORDER_COMPLETED: &str = "order_id already completed";
    pub(crate) const EXPIRATION_PAST: &str = "param err: expriation must be in the future";
    pub(crate) const OVERFLOW: &str = "balance would exceed 9223372036854775807 coins";
    pub(crate) const NO_ENDPOINT: &str = "no such endpoint";
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
            "param err: {} is given more than once",
            crate::reply::clip(key, 64)
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

/// Reads the call's parameters with the model's own validation.
fn read<R: LinkvRequest>(params: &[(String, String)]) -> Result<R, Reply> {
    R::from_params(params).map_err(|e| bad(format!("param err: {e}")))
}

/// What a repeat of a `request_id` must match: the call and its business parameters, as the
/// model normalises them (so `nonce_str`, `sign`, `app_id` and `channel` do not count).
fn fingerprint<R: LinkvRequest>(request: &R) -> String {
    let mut text = form_urlencoded::Serializer::new(format!("{}?", R::NAME));
    text.extend_pairs(request.params());
    text.finish()
}

pub(crate) fn handle(shared: &Shared, parts: &Parts, body: &[u8]) -> Reply {
    let Some(endpoint) = Endpoint::of(parts.uri.path()) else {
        return Reply::linkv_error(StatusCode::NOT_FOUND, msg::NO_ENDPOINT);
    };
    if parts.method != Method::POST && parts.method != Method::GET {
        return Reply::linkv_error(StatusCode::METHOD_NOT_ALLOWED, msg::METHOD);
    }
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
    if let Err(e) = linkv::verify(
        pairs,
        &entry.app.app_secret,
        shared.clock.now(),
        shared.limits.linkv_nonce_window,
    ) {
        return verify_error(&e);
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
    let grant = lock(&entry.ledger)
        .get_token(&request)
        .map_err(|e| ledger_error(&e))?;
    shared.changed();
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
        kind: request.change_type().into(),
        value: request.value().get(),
        expiration: request.expiration().unix_seconds(),
        order_id: Some(request.order_id().as_str()),
        fingerprint: fingerprint(&request),
    };
    let outcome = lock(&entry.ledger)
        .change(&change, shared.clock.now_ms(), &shared.journal_seq)
        .map_err(|e| ledger_error(&e))?;
    if !outcome.replayed {
        shared.changed();
    }
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
        kind: request.change_type().into(),
        value: request.value().get(),
        expiration: request.expiration().unix_seconds(),
        order_id: None,
        fingerprint: fingerprint(&request),
    };
    let outcome = lock(&entry.ledger)
        .change(&change, shared.clock.now_ms(), &shared.journal_seq)
        .map_err(|e| ledger_error(&e))?;
    if !outcome.replayed {
        shared.changed();
    }
    Ok(Reply::linkv_ok(None))
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
    use super::msg;
    use liveapi_model::linkv::LinkvError;

    /// The messages the docs do not name must still land in the right kind on the client.
    #[test]
    fn the_sdk_classifies_every_message_as_intended() {
        let kind = |status, m: &str| match LinkvError::classify(status, m.to_owned()) {
            LinkvError::BadParameter { .. } => "bad parameter",
            LinkvError::BadSignature { .. } => "bad signature",
            LinkvError::ExpiredTimestamp { .. } => "expired",
            LinkvError::UnknownApp { .. } => "unknown app",
            LinkvError::RateLimited { .. } => "rate limited",
            LinkvError::Server { .. } => "server",
            _ => "other",
        };
        assert_eq!(kind(403, msg::SIGN_ERR), "bad signature");
        assert_eq!(kind(403, msg::APP_NOT_FOUND), "unknown app");
        assert_eq!(kind(400, msg::NONCE_EXPIRED), "expired");
        for m in [
            msg::MISSING_APP_ID,
            msg::MISSING_NONCE,
            msg::MALFORMED_NONCE,
            msg::REGISTRATION,
            msg::MISSING_CHANNEL,
            msg::WRONG_CHANNEL,
            msg::UNKNOWN_UID,
            msg::INSUFFICIENT,
            msg::REQUEST_ID_REUSED,
            msg::ORDER_COMPLETED,
            msg::EXPIRATION_PAST,
            msg::OVERFLOW,
            "param err: expriation: must be a whole number written in digits",
            "param err: uid is given more than once",
        ] {
            assert_eq!(kind(400, m), "bad parameter", "{m}");
        }
        assert_eq!(kind(500, "system err"), "server");
    }
}
