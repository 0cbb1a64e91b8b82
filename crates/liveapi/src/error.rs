//! The one error type of the client.

use std::fmt;

use std::time::Duration;

use liveapi_model::ValidationError;
use liveapi_model::linkv::{LinkvError, PendingChange, RequestId};
use liveapi_model::polyv::PolyvError;
use liveapi_request::{
    AttemptError, BuildError, CallError, ClockOffset, CredentialsError, EntropyError,
    TransportError, TransportErrorKind, Vendor, VendorError,
};

/// Everything a [`Client`](crate::Client) call can fail with.
///
/// [`kind`](Self::kind) says what happened; the questions a caller usually asks are methods:
/// [`is_retryable`](Self::is_retryable), [`outcome_unknown`](Self::outcome_unknown),
/// [`is_auth`](Self::is_auth), … Causes are kept as [`source`](std::error::Error::source)s.
/// No message ever contains a secret or a signature.
///
/// ```
/// use liveapi::{Error, ErrorKind};
/// use liveapi::model::linkv::LinkvError;
///
/// let err = Error::from(LinkvError::classify(403, "sign err".to_owned()));
/// assert!(err.is_auth());
/// assert!(!err.is_retryable());
/// assert!(matches!(err.kind(), ErrorKind::Linkv(LinkvError::BadSignature { .. })));
/// assert_eq!(err.to_string(), "LinkV rejected the signature (403): sign err");
/// ```
pub struct Error {
    kind: ErrorKind,
    call: Option<CallInfo>,
    /// The coin change the failed call was sending.
    change: Option<Box<PendingChange>>,
}

/// What a call that reached the engine adds to its error.
#[derive(Clone, Copy, Debug)]
struct CallInfo {
    attempts: u32,
    earlier_outcome_unknown: bool,
}

/// What went wrong, as [`Error::kind`] tells it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value given to the client breaks the vendor's documented limits. Nothing was sent.
    #[error(transparent)]
    Invalid(ValidationError),
    /// Credentials are missing or malformed.
    #[error(transparent)]
    Credentials(CredentialsError),
    /// The client is not configured for the vendor the call needs.
    #[error("{} credentials are not configured on this client", vendor_name(*.0))]
    NotConfigured(Vendor),
    /// The client could not be configured.
    #[error(transparent)]
    Config(ConfigError),
    /// The request could not be built or signed. Nothing was sent.
    #[error(transparent)]
    Build(BuildError),
    /// No usable answer arrived (connection, timeout, TLS, size limit, rate limit), after every
    /// retry the policy allowed.
    #[error(transparent)]
    Transport(TransportError),
    /// LinkV answered with an error.
    #[error(transparent)]
    Linkv(LinkvError),
    /// Polyv answered with an error.
    #[error(transparent)]
    Polyv(PolyvError),
    /// The server refused the request's time again after a retry with a fresh signature:
    /// this machine's clock is off. Nothing was applied by these attempts.
    #[error(transparent)]
    Clock(ClockError),
    /// A coin change older than the client's resend window was not sent: the server may have
    /// forgotten its request id, so sending it could apply it a second time. Reconcile it
    /// (the user's balance, the vendor's records) before anything else is sent for it.
    #[error(
        "not sent: the change is {} old, past the resend window of {}; the server may have forgotten its request_id, so a resend could apply it twice: reconcile it (the balance, the vendor's records) before anything else is sent",
        DisplayDuration(*.age),
        DisplayDuration(*.window)
    )]
    ResendWindowPassed {
        /// How old the change is.
        age: Duration,
        /// The client's resend window.
        window: Duration,
    },
    /// A coin change was given a request id that carries no creation time and no expiry, so
    /// the expiry a resend must repeat cannot be derived. Nothing was sent.
    #[error(
        "request_id {request_id} carries no creation time: give the expiry the change was (or will be) sent with, or keep and resend its pending change"
    )]
    ExpiryRequired {
        /// The request id.
        request_id: RequestId,
    },
}

/// A duration as people read it: `12 h`, `25 h 3 min`, `40 s`.
struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let (hours, minutes, seconds) = (secs / 3_600, secs / 60 % 60, secs % 60);
        match (hours, minutes, seconds) {
            (0, 0, s) => write!(f, "{s} s"),
            (0, m, 0) => write!(f, "{m} min"),
            (0, m, s) => write!(f, "{m} min {s} s"),
            (h, 0, _) => write!(f, "{h} h"),
            (h, m, _) => write!(f, "{h} h {m} min"),
        }
    }
}

/// The server refused the time of a request twice (a LinkV nonce outside its 5 minutes, a
/// Polyv timestamp outside its 3), so the local clock is off; its message gives the measured
/// offset when the server sent a `Date` header. The vendor's own refusal is the
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error(
    "{} refused the request's time: {}; correct this machine's clock (NTP) and resend",
    vendor_name(*.vendor),
    describe_offset(.offset.as_ref())
)]
pub struct ClockError {
    vendor: Vendor,
    offset: Option<ClockOffset>,
    #[source]
    refusal: Box<ErrorKind>,
}

impl ClockError {
    /// The vendor whose server refused.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// How far this machine's clock is from the server's, if the server said its time.
    #[must_use]
    pub fn offset(&self) -> Option<ClockOffset> {
        self.offset
    }

    /// The vendor's refusal (`nonce_str expired`, `invalid timestamp.`).
    #[must_use]
    pub fn refusal(&self) -> &ErrorKind {
        &self.refusal
    }
}

fn describe_offset(offset: Option<&ClockOffset>) -> String {
    match offset {
        Some(offset) => format!("this machine's clock is {offset}"),
        None => "this machine's clock is probably off (the server did not say its time)".to_owned(),
    }
}

/// A client that cannot be configured as asked.
///
/// No variant carries a secret: a malformed secret is reported by its variable's name only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither vendor's credentials were given.
    #[error("no credentials: configure LinkV, Polyv or both")]
    NoCredentials,
    /// Some of the variables that configure a vendor together are set, others not.
    #[error("{vendor} is configured only in part: {} not set", missing.join(", "), vendor = vendor_name(*vendor))]
    Incomplete {
        /// The vendor.
        vendor: Vendor,
        /// The variables that are missing.
        missing: Vec<&'static str>,
    },
    /// A variable's value cannot be used.
    #[error("{variable} {problem}")]
    Variable {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Credentials from the environment are malformed.
    #[error("{} credentials from the environment: {source}", vendor_name(*vendor))]
    Credentials {
        /// The vendor.
        vendor: Vendor,
        /// Why.
        #[source]
        source: CredentialsError,
    },
    /// A base URL is plain `http://` to a host other than this machine: signatures and users'
    /// data would cross the network unencrypted.
    #[error(
        "the {} base URL is plain http to {host}: use https, or allow insecure http (ClientBuilder::allow_insecure_http, LIVEAPI_ALLOW_INSECURE_HTTP=1)",
        vendor_name(*vendor)
    )]
    InsecureHttp {
        /// The vendor.
        vendor: Vendor,
        /// The host.
        host: String,
    },
    /// A base URL is `https://` but this build has no TLS (the `rustls` feature is off).
    #[error(
        "the {} base URL is https but this build has no TLS: enable the `rustls` feature",
        vendor_name(*vendor)
    )]
    HttpsWithoutTls {
        /// The vendor.
        vendor: Vendor,
    },
    /// Settings of the default hyper transport were given together with another transport,
    /// which would silently ignore them.
    #[error(
        "settings of the default transport (connect timeout, TLS roots, body limit, connections in flight) cannot apply to another transport: configure that transport itself"
    )]
    TransportSettingsIgnored,
    /// The default transport could not be set up (TLS roots, certificates).
    #[error(transparent)]
    Transport(#[from] liveapi_hyper::ConfigError),
    /// The Redis rate limiter cannot be configured as asked.
    #[cfg(feature = "redis")]
    #[error(transparent)]
    RedisRateLimiter(#[from] crate::RedisLimiterError),
}

fn vendor_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Linkv => "LinkV",
        Vendor::Polyv => "Polyv",
    }
}

impl Error {
    fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            call: None,
            change: None,
        }
    }

    /// This error, about the coin change `change`.
    pub(crate) fn with_change(mut self, change: PendingChange) -> Self {
        self.change = Some(Box::new(change));
        self
    }

    /// The coin change the failed call was sending, to store and resend as it is (with the
    /// same request id) when [`outcome_unknown`](Self::outcome_unknown), or to reconcile when
    /// [`needs_reconciliation`](Self::needs_reconciliation).
    #[must_use]
    pub fn pending_change(&self) -> Option<&PendingChange> {
        self.change.as_deref()
    }

    /// The request id of the coin change the failed call was sending.
    #[must_use]
    pub fn request_id(&self) -> Option<&RequestId> {
        match &self.kind {
            ErrorKind::ExpiryRequired { request_id } => Some(request_id),
            _ => self.pending_change().map(PendingChange::request_id),
        }
    }

    /// Whether the coin change must be reconciled by hand (the user's balance, the vendor's
    /// records) before anything else is sent for it: the server already applied another
    /// change with its request id ([`LinkvError::IdempotencyConflict`]), or it is older than
    /// the resend window ([`ErrorKind::ResendWindowPassed`]). Neither is retried.
    #[must_use]
    pub fn needs_reconciliation(&self) -> bool {
        matches!(
            &self.kind,
            ErrorKind::ResendWindowPassed { .. }
                | ErrorKind::Linkv(LinkvError::IdempotencyConflict { .. })
        )
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// What went wrong, by value.
    #[must_use]
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }

    /// How many attempts the call made (0 when it failed before its first attempt).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.call.map_or(0, |c| c.attempts)
    }

    /// Whether sending the same call again later (with the same `request_id`) may succeed: a
    /// network failure, a timeout, a server error (whether the HTTP status or only the body's
    /// `status` says so), rate limiting, an unreadable answer. Never a success whose data
    /// could not be read: the call took effect.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            ErrorKind::Transport(e) => e.is_retryable(),
            ErrorKind::Linkv(e) => e.is_retryable(),
            ErrorKind::Polyv(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether the call may have been applied although it failed: the answer was lost, cut
    /// off or unreadable, the server failed while handling it, or an earlier attempt's
    /// outcome was unknown and the last answer (rate limiting, say) does not settle it. For a
    /// coin change, send it again with the **same** `request_id` and parameters to find out:
    /// the server applies it at most once. A refusal of the request itself (a bad parameter)
    /// is not unknown: nothing was applied. A success whose data could not be read
    /// ([`LinkvError::UnexpectedData`]) counts as unknown too: it was applied, and only a
    /// resend with the same request id, never a new change, may follow it.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        let (last_unknown, settles) = match &self.kind {
            ErrorKind::Transport(e) => (e.may_have_been_sent(), false),
            ErrorKind::Linkv(e) => (e.outcome_unknown(), e.settles_outcome()),
            ErrorKind::Polyv(e) => (e.outcome_unknown(), e.settles_outcome()),
            _ => (false, false),
        };
        let earlier = self.call.is_some_and(|c| c.earlier_outcome_unknown);
        last_unknown || (earlier && !settles)
    }

    /// Whether the credentials are wrong: a bad signature, an unknown app, or malformed
    /// credentials.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        match &self.kind {
            ErrorKind::Linkv(e) => e.is_auth(),
            ErrorKind::Polyv(e) => e.is_auth(),
            ErrorKind::Credentials(_) => true,
            _ => false,
        }
    }

    /// Whether the server (or the client-side limit) asked to slow down.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        match &self.kind {
            ErrorKind::Linkv(e) => e.is_rate_limited(),
            ErrorKind::Polyv(e) => e.is_rate_limited(),
            ErrorKind::Transport(e) => e.kind() == TransportErrorKind::Throttled,
            _ => false,
        }
    }

    /// How far this machine's clock is from the server's, when the call failed because the
    /// server refused its time and said its own ([`ErrorKind::Clock`]).
    #[must_use]
    pub fn clock_offset(&self) -> Option<ClockOffset> {
        match &self.kind {
            ErrorKind::Clock(e) => e.offset,
            _ => None,
        }
    }

    /// Whether the call ran out of time.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(&self.kind, ErrorKind::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    }

    /// Whether a parameter was refused, by this crate before sending or by the server.
    #[must_use]
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            &self.kind,
            ErrorKind::Invalid(_)
                | ErrorKind::Linkv(LinkvError::BadParameter { .. })
                | ErrorKind::Polyv(PolyvError::BadParameter { .. })
        )
    }

    /// Whether the client's configuration is at fault (not the call, nor the server).
    #[must_use]
    pub fn is_config(&self) -> bool {
        matches!(
            &self.kind,
            ErrorKind::Config(_) | ErrorKind::Credentials(_) | ErrorKind::NotConfigured(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.kind);
        if let Some(call) = &self.call {
            debug
                .field("attempts", &call.attempts)
                .field("earlier_outcome_unknown", &call.earlier_outcome_unknown);
        }
        if let Some(change) = &self.change {
            debug.field("change", change);
        }
        debug.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

macro_rules! from_kind {
    ($($source:ty => $variant:ident),* $(,)?) => {$(
        impl From<$source> for Error {
            fn from(e: $source) -> Self {
                Self::new(ErrorKind::$variant(e))
            }
        }
    )*};
}

from_kind! {
    ValidationError => Invalid,
    CredentialsError => Credentials,
    ConfigError => Config,
    BuildError => Build,
    TransportError => Transport,
    LinkvError => Linkv,
    PolyvError => Polyv,
}

impl From<liveapi_hyper::ConfigError> for Error {
    fn from(e: liveapi_hyper::ConfigError) -> Self {
        ConfigError::from(e).into()
    }
}

#[cfg(feature = "redis")]
impl From<crate::RedisLimiterError> for Error {
    fn from(e: crate::RedisLimiterError) -> Self {
        ConfigError::from(e).into()
    }
}

impl From<EntropyError> for Error {
    fn from(e: EntropyError) -> Self {
        BuildError::Entropy(e).into()
    }
}

impl<E: VendorError + Into<Error>> From<CallError<E>> for Error {
    fn from(e: CallError<E>) -> Self {
        let call = CallInfo {
            attempts: e.attempts(),
            earlier_outcome_unknown: e.earlier_outcome_unknown(),
        };
        let offset = e.clock_offset();
        let mut error: Error = match e.into_last() {
            AttemptError::Build(e) => e.into(),
            AttemptError::Transport(e) => e.into(),
            AttemptError::Api(e) if e.is_clock_skew() => clock(e.into().kind, offset).into(),
            AttemptError::Api(e) => e.into(),
            // `AttemptError` may grow; what it grows with is an attempt that got no answer.
            _ => TransportError::new(TransportErrorKind::Io).into(),
        };
        error.call = Some(call);
        error
    }
}

/// The clock error a vendor's refusal of the request's time becomes.
fn clock(refusal: ErrorKind, offset: Option<ClockOffset>) -> ErrorKind {
    let vendor = match refusal {
        ErrorKind::Polyv(_) => Vendor::Polyv,
        _ => Vendor::Linkv,
    };
    ErrorKind::Clock(ClockError {
        vendor,
        offset,
        refusal: Box::new(refusal),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after_earlier_timeout(kind: impl Into<Error>) -> Error {
        let mut error = kind.into();
        error.call = Some(CallInfo {
            attempts: 2,
            earlier_outcome_unknown: true,
        });
        error
    }

    #[test]
    fn an_earlier_unknown_outcome_stays_unknown_unless_the_last_answer_settles_it() {
        let rate_limited = LinkvError::classify(429, "too many requests".into());
        let refused = LinkvError::classify(400, "param err".into());
        let throttled = TransportError::new(TransportErrorKind::Throttled);
        let signature = LinkvError::classify(403, "sign err".into());

        assert!(!Error::from(rate_limited.clone()).outcome_unknown());
        assert!(after_earlier_timeout(rate_limited).outcome_unknown());
        assert!(after_earlier_timeout(throttled).outcome_unknown());
        assert!(after_earlier_timeout(signature).outcome_unknown());
        assert!(!after_earlier_timeout(refused).outcome_unknown());
        assert!(
            !after_earlier_timeout(PolyvError::classify(
                400,
                "error",
                "param validate error".into()
            ))
            .outcome_unknown()
        );
        assert!(Error::from(LinkvError::classify(500, "x".into())).outcome_unknown());
        assert_eq!(
            after_earlier_timeout(ConfigError::NoCredentials).attempts(),
            2
        );
        assert_eq!(Error::from(ConfigError::NoCredentials).attempts(), 0);
    }

    #[test]
    fn a_clock_error_names_the_offset_and_settles_nothing() {
        use std::time::{Duration, UNIX_EPOCH};
        let server = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let offset = ClockOffset::between(server + Duration::from_secs(360), server);
        let refusal = LinkvError::classify(400, "nonce_str expired".into());
        let err = Error::from(clock(ErrorKind::Linkv(refusal.clone()), Some(offset)));
        assert_eq!(
            err.to_string(),
            "LinkV refused the request's time: this machine's clock is 6 min ahead of \
             the server's; correct this machine's clock (NTP) and resend"
        );
        assert_eq!(err.clock_offset(), Some(offset));
        assert!(!err.is_retryable() && !err.outcome_unknown());
        let polyv = PolyvError::classify(400, "error", "invalid timestamp.".into());
        let err = Error::from(clock(ErrorKind::Polyv(polyv), None));
        assert!(err.to_string().starts_with("Polyv refused"), "{err}");
        assert!(err.to_string().contains("probably off"), "{err}");
        assert_eq!(err.clock_offset(), None);
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("invalid timestamp."), "{source}");
        // After an attempt that may have been applied, the outcome stays unknown.
        let err = after_earlier_timeout(clock(ErrorKind::Linkv(refusal), None));
        assert!(err.outcome_unknown());
    }

    #[test]
    fn the_predicates_follow_the_kind() {
        let timeout = Error::from(TransportError::new(TransportErrorKind::Timeout));
        assert!(timeout.is_timeout() && timeout.is_retryable() && timeout.outcome_unknown());
        let throttled = Error::from(TransportError::new(TransportErrorKind::Throttled));
        assert!(throttled.is_rate_limited() && !throttled.outcome_unknown());
        assert!(!throttled.is_timeout());
        let invalid = Error::from(liveapi_model::linkv::UserId::new("").unwrap_err());
        assert!(invalid.is_invalid_input() && !invalid.is_config() && !invalid.is_auth());
        let config = Error::from(ConfigError::NoCredentials);
        assert!(config.is_config() && !config.is_invalid_input());
        let creds = Error::from(CredentialsError::Missing { field: "x" });
        assert!(creds.is_auth() && creds.is_config());
        let polyv = Error::from(PolyvError::classify(
            403,
            "error",
            "invalid signature.".into(),
        ));
        assert!(polyv.is_auth() && !polyv.is_retryable());
        let bad = Error::from(PolyvError::classify(
            400,
            "error",
            "param validate error".into(),
        ));
        assert!(bad.is_invalid_input());
    }
}
