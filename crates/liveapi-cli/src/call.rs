//! Running one API call: the async runtime it needs, and what its failure tells the user.

use std::error::Error as _;
use std::future::Future;

use liveapi::model::linkv::{Expiration, PendingChange};
use liveapi::request::meaning::Class;
use liveapi::{DEFAULT_COIN_LIFETIME_DAYS, Error, ErrorKind};
use serde_json::Value;

use crate::env;
use crate::exit::{Failure, Status};

/// The flags that repeat `change`: `--request-id` alone when the expiry is the one its
/// request id derives by default, with `--expires-at` otherwise.
pub(crate) fn resend_flags(change: &PendingChange) -> String {
    let id = change.request_id();
    let derived = id
        .created_at()
        .map(|made| Expiration::days_from_today(made, DEFAULT_COIN_LIFETIME_DAYS));
    match change.expiration() {
        Some(expiration) if Some(expiration) != derived => format!(
            "--request-id {id} --expires-at {}",
            expiration.unix_seconds()
        ),
        _ => format!("--request-id {id}"),
    }
}

/// Runs `future` to completion on a runtime of its own: one call needs one thread.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::local(format_args!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}

/// The exit status of a failed call, read from what the error means (`Error::meaning`, the
/// SDK's one table of answers): this is the command line's mapping of it to numbers, nothing
/// more.
fn status(error: &Error) -> Status {
    let meaning = error.meaning();
    match meaning.class() {
        Class::Reconcile => Status::Reconcile,
        Class::Invalid | Class::Config => Status::Usage,
        Class::Local => Status::Local,
        // A clock refused is this machine's fault, unless an earlier attempt may have been
        // applied: then what matters is to resend.
        Class::Clock if !meaning.may_have_been_applied() => Status::Local,
        Class::Auth => Status::Auth,
        Class::Refused if !meaning.may_have_been_applied() => Status::Refused,
        // No definite answer: unavailable, rate limited, or an outcome that may be applied.
        _ => Status::Unavailable,
    }
}

/// `--flag for LIVEAPI_VARIABLE` for each variable `message` names that has a flag.
fn flags_for_variables(message: &str) -> Vec<String> {
    let mut flags: Vec<String> = Vec::new();
    for word in message.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
    {
        if let Some(flag) = word.strip_prefix("LIVEAPI_").and(env::flag(word)) {
            let text = format!("{flag} for {word}");
            if !flags.contains(&text) {
                flags.push(text);
            }
        }
    }
    flags
}

/// What to tell the user about a failed call, and its exit status. For a coin change it
/// names the request id; when the outcome is unknown or must be reconciled it also gives the
/// pending change (and, to resend, its flags), so the change can be finished as it was. A
/// definite answer, a refusal, is one short line. With `--json` the same facts are fields of
/// the error. No part of it comes from a secret: `liveapi::Error` never holds one.
pub(crate) fn failure(error: &Error) -> Failure {
    let status = status(error);
    let meaning = error.meaning();
    let mut message = error.to_string();
    if let ErrorKind::Transport(_) = error.kind() {
        // The kind alone ("could not connect") hides the cause ("connection refused").
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
    }
    match status {
        Status::Usage if matches!(error.kind(), ErrorKind::Config(_)) => {
            // The SDK names variables; the user may have typed the flag that stands for one.
            let flags = flags_for_variables(&message);
            if flags.is_empty() {
                message.push_str(
                    " (each LIVEAPI_ variable can be given as a flag instead: see --help)",
                );
            } else {
                message.push_str(&format!(" (as flags: {})", flags.join(", ")));
            }
        }
        Status::Auth => {
            message.push_str(
                "; check the app id and secret (`liveapi sign linkv --explain` or `liveapi sign polyv --explain` shows the string signed)",
            );
        }
        Status::Unavailable if error.is_rate_limited() => {
            message.push_str("; slow down and try again later");
        }
        _ => {}
    }
    let unknown = error.outcome_unknown();
    let change = error.pending_change();
    if unknown {
        message.push_str("; the outcome is unknown: the change may have been applied");
        if let Some(change) = change {
            message.push_str(&format!(
                "; to finish it without applying it twice, resend with {}",
                resend_flags(change)
            ));
        }
    }
    let mut details: Vec<(&str, Value)> = Vec::new();
    if let Some(change) = change {
        message.push_str(&format!("; request_id {}", change.request_id()));
        details.push(("request_id", change.request_id().as_str().into()));
        // A definite answer needs no more than the request id: nothing was applied. The
        // change itself matters when it must be resent as it was, or reconciled.
        if (unknown || meaning.class() == Class::Reconcile)
            && let Ok(value) = serde_json::to_value(change)
        {
            message.push_str(&format!("; pending change {value}"));
            details.push(("pending_change", value));
        }
        if unknown {
            details.push(("resend_flags", resend_flags(change).into()));
        }
    }
    details.push(("outcome_unknown", unknown.into()));
    if let Some(answer) = error.api_error() {
        details.push(("vendor", answer.vendor().as_str().into()));
        details.push(("http_status", answer.http_status().into()));
        if let Some(code) = answer.code() {
            details.push(("vendor_code", code.into()));
        }
    }
    details.into_iter().fold(
        Failure::new(status, message).with_class(meaning.class()),
        |failure, (key, value)| failure.with_detail(key, value),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use liveapi::ConfigError;
    use liveapi::model::linkv::{ChangeGold, CoinRequest, Coins, OpenId, RequestId};
    use liveapi::model::{ApiError, RawBody, Vendor};
    use liveapi::request::{BuildError, TransportError, TransportErrorKind};

    use super::*;

    fn change(id: RequestId, expiration: Expiration) -> PendingChange {
        let gold = ChangeGold::add(
            OpenId::new("42").unwrap(),
            id,
            Coins::new(5).unwrap(),
            expiration,
        )
        .unwrap();
        PendingChange::new(CoinRequest::ChangeGold(gold), UNIX_EPOCH)
    }

    #[test]
    fn server_answers_map_to_their_documented_statuses() {
        let linkv = |status, msg: &str| Error::from(ApiError::linkv(status, msg));
        let polyv = |code, msg: &str| Error::from(ApiError::polyv(code, "error", msg));
        let transport = |kind| Error::from(TransportError::new(kind));
        let cases = [
            (linkv(400, "insufficient balance"), Status::Refused),
            (linkv(404, "gone"), Status::Refused),
            (linkv(403, "sign err"), Status::Auth),
            (linkv(403, "app_id not found"), Status::Auth),
            (linkv(500, "system err"), Status::Unavailable),
            (linkv(429, "too many requests"), Status::Unavailable),
            (
                linkv(400, "request_id already used with different parameters"),
                Status::Refused,
            ),
            (
                Error::from(ApiError::unreadable_data(
                    Vendor::Linkv,
                    200,
                    "no tokens",
                    RawBody::new(b"{}"),
                )),
                Status::Unavailable,
            ),
            (polyv(403, "illegal channel id: 9"), Status::Refused),
            (polyv(403, "invalid signature."), Status::Auth),
            (polyv(500, "fail"), Status::Unavailable),
            (polyv(400, "invalid timestamp."), Status::Local),
            (transport(TransportErrorKind::Timeout), Status::Unavailable),
            (transport(TransportErrorKind::Tls), Status::Unavailable),
            (
                transport(TransportErrorKind::Throttled),
                Status::Unavailable,
            ),
            (Error::from(BuildError::MissingBody), Status::Local),
            (Error::from(BuildError::MissingAlias), Status::Usage),
            (Error::from(ConfigError::NoCredentials), Status::Usage),
            (Error::from(OpenId::new("").unwrap_err()), Status::Usage),
            (
                Error::from(ErrorKind::ResendWindowPassed {
                    age: Duration::from_secs(90_000),
                    window: Duration::from_secs(43_200),
                }),
                Status::Reconcile,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(failure(&error).status(), expected, "{error}");
        }
    }

    #[test]
    fn variables_in_a_message_are_given_their_flags() {
        assert_eq!(
            flags_for_variables(
                "LinkV is configured only in part: LIVEAPI_LINKV_SECRET, LIVEAPI_LINKV_BASE_URL not set"
            ),
            [
                "--secret for LIVEAPI_LINKV_SECRET",
                "--base-url for LIVEAPI_LINKV_BASE_URL"
            ]
        );
        assert!(flags_for_variables("LIVEAPI_UNKNOWN is odd").is_empty());
    }

    #[test]
    fn a_time_ordered_id_alone_repeats_the_default_expiry() {
        let id = RequestId::from_unix_millis(1_700_000_000_000, [7; 10]);
        let made = id.created_at().unwrap();
        let derived = Expiration::days_from_today(made, DEFAULT_COIN_LIFETIME_DAYS);
        assert_eq!(
            resend_flags(&change(id.clone(), derived)),
            format!("--request-id {id}")
        );
        let other = Expiration::at_unix_seconds(1_800_000_000);
        assert_eq!(
            resend_flags(&change(id.clone(), other)),
            format!("--request-id {id} --expires-at 1800000000")
        );
        let own = RequestId::new("order-42-credit").unwrap();
        assert_eq!(
            resend_flags(&change(own, derived)),
            format!(
                "--request-id order-42-credit --expires-at {}",
                derived.unix_seconds()
            )
        );
    }
}
