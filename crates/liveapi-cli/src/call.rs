//! Running one API call: the async runtime it needs, and what its failure tells the user.

use std::error::Error as _;
use std::future::Future;

use liveapi::model::linkv::{Expiration, RequestId};
use liveapi::{ConfigError, Error, ErrorKind};

use crate::exit::{Failure, Status};

/// What a coin change needs to be resent as the same change: the server applies a
/// `request_id` at most once, and refuses it with different parameters, expiry included.
#[derive(Clone, Debug)]
pub(crate) struct Resend {
    /// The idempotency key.
    pub(crate) request_id: RequestId,
    /// The `expriation` that was sent.
    pub(crate) expires_at: Expiration,
}

impl Resend {
    /// The flags that repeat this change.
    pub(crate) fn flags(&self) -> String {
        format!(
            "--request-id {} --expires-at {}",
            self.request_id,
            self.expires_at.unix_seconds()
        )
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

/// The exit status of a failed call.
fn status(error: &Error) -> Status {
    match error.kind() {
        ErrorKind::Config(ConfigError::Transport(_)) | ErrorKind::Build(_) => Status::Local,
        ErrorKind::Invalid(_)
        | ErrorKind::Credentials(_)
        | ErrorKind::NotConfigured(_)
        | ErrorKind::Config(_) => Status::Usage,
        // A clock refused twice is this machine's fault, unless an earlier attempt may have
        // been applied: then what matters is to resend.
        ErrorKind::Clock(_) if !error.outcome_unknown() => Status::Local,
        _ if error.is_auth() => Status::Auth,
        ErrorKind::Transport(_) => Status::Unavailable,
        _ if error.is_retryable() || error.outcome_unknown() => Status::Unavailable,
        _ => Status::Refused,
    }
}

/// What to tell the user about a failed call, and its exit status. `resend` is given for
/// calls that change a ledger. No part of it comes from a secret: `liveapi::Error` never
/// holds one.
pub(crate) fn failure(error: &Error, resend: Option<&Resend>) -> Failure {
    let status = status(error);
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
            message
                .push_str(" (each LIVEAPI_ variable can be given as a flag instead: see --help)");
        }
        Status::Auth => {
            message.push_str(
                "; check the app id and secret (`liveapi sign --explain` shows the string signed)",
            );
        }
        Status::Unavailable => {
            if error.is_rate_limited() {
                message.push_str("; slow down and try again later");
            }
            if error.outcome_unknown() {
                message.push_str("; the outcome is unknown: the call may have been applied");
            }
            if let Some(resend) = resend {
                message.push_str(&format!(
                    "; to finish it without applying it twice, resend with {}",
                    resend.flags()
                ));
            }
        }
        _ => {}
    }
    Failure::new(status, message)
}

#[cfg(test)]
mod tests {
    use liveapi::model::linkv::LinkvError;
    use liveapi::model::polyv::PolyvError;

    use super::*;

    #[test]
    fn server_answers_map_to_their_documented_statuses() {
        let linkv = |status, msg: &str| Error::from(LinkvError::classify(status, msg.to_owned()));
        let polyv = |code, msg: &str| Error::from(PolyvError::classify(code, "error", msg.into()));
        let cases = [
            (linkv(400, "insufficient balance"), Status::Refused),
            (linkv(403, "sign err"), Status::Auth),
            (linkv(403, "app_id not found"), Status::Auth),
            (linkv(500, "system err"), Status::Unavailable),
            (linkv(429, "too many requests"), Status::Unavailable),
            (polyv(403, "illegal channel id: 9"), Status::Refused),
            (polyv(403, "invalid signature."), Status::Auth),
            (polyv(500, "fail"), Status::Unavailable),
            (Error::from(ConfigError::NoCredentials), Status::Usage),
        ];
        for (error, expected) in cases {
            assert_eq!(failure(&error, None).status(), expected, "{error}");
        }
    }

    #[test]
    fn an_unknown_outcome_says_how_to_resend() {
        let resend = Resend {
            request_id: RequestId::from_random_bytes([7; 16]),
            expires_at: Expiration::at_unix_seconds(1_700_000_000),
        };
        let error = Error::from(LinkvError::classify(500, "system err".into()));
        let failure = failure(&error, Some(&resend));
        let message = failure.message().unwrap_or_default();
        assert!(message.contains("outcome is unknown"), "{message}");
        assert!(message.contains(&resend.flags()), "{message}");
    }
}
