//! The one error type of the client.

use std::fmt;

use std::time::Duration;

use liveapi_model::linkv::{PendingChange, RequestId};
use liveapi_model::{ApiError, ApiErrorKind, RawBody, ValidationError};
use liveapi_request::meaning::{self, Class, Meaning};
use liveapi_request::{
    AttemptError, BuildError, CallError, ClockOffset, CredentialsError, EntropyError, InsecureHttp,
    TransportError, TransportErrorKind, Vendor,
};

/// Everything a [`Client`](crate::Client) call can fail with.
///
/// [`kind`](Self::kind) says what happened; [`meaning`](Self::meaning) what it means, read from
/// the one table of `liveapi_request::meaning` (`docs/answers.md`), and the questions a caller
/// usually asks are methods over it: [`is_retryable`](Self::is_retryable),
/// [`outcome_unknown`](Self::outcome_unknown), [`is_auth`](Self::is_auth), … Causes are kept
/// as [`source`](std::error::Error::source)s. No message ever contains a secret or a
/// signature.
///
/// ```
/// use liveapi::{Error, ErrorKind};
/// use liveapi::model::{ApiError, ApiErrorKind, Vendor};
///
/// let err = Error::from(ApiError::linkv(403, "sign err"));
/// assert!(err.is_auth());
/// assert!(!err.is_retryable());
/// assert!(matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadSignature));
/// assert_eq!((err.vendor(), err.code()), (Some(Vendor::Linkv), Some(403)));
/// assert_eq!(err.to_string(), "LinkV rejected the signature (403): sign err");
/// ```
pub struct Error {
    kind: ErrorKind,
    meaning: Meaning,
    /// The vendor of the call, when the error is about one.
    vendor: Option<Vendor>,
    attempts: u32,
    /// The coin change the failed call was sending.
    change: Option<Box<PendingChange>>,
}

/// What went wrong, as [`Error::kind`] tells it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value given to the client breaks the vendor's documented limits. Nothing was sent.
    #[error(transparent)]
    Invalid(ValidationError),
    /// Credentials are malformed.
    #[error(transparent)]
    Credentials(CredentialsError),
    /// The client could not be configured, or is not configured for the call.
    #[error(transparent)]
    Config(ConfigError),
    /// The request could not be built or signed. Nothing was sent.
    #[error(transparent)]
    Build(BuildError),
    /// No usable answer arrived (connection, timeout, TLS, size limit, rate limit), after every
    /// retry the policy allowed.
    #[error(transparent)]
    Transport(TransportError),
    /// The server answered with an error.
    #[error(transparent)]
    Api(ApiError),
    /// The server refused the request's time: this machine's clock is off. Nothing was applied
    /// by these attempts.
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

/// The server refused the time of a request (a LinkV nonce outside its 5 minutes, a Polyv
/// timestamp outside its 3), so the local clock is off: its `Date` said so, or it refused
/// twice. The message gives the measured offset when the server sent a `Date` header. The
/// vendor's own refusal is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error(
    "{} refused the request's time: {}; correct this machine's clock (NTP) and resend",
    .refusal.vendor(),
    describe_offset(.offset.as_ref())
)]
pub struct ClockError {
    offset: Option<ClockOffset>,
    #[source]
    refusal: ApiError,
}

impl ClockError {
    /// The vendor whose server refused.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.refusal.vendor()
    }

    /// How far this machine's clock is from the server's, if the server said its time.
    #[must_use]
    pub fn offset(&self) -> Option<ClockOffset> {
        self.offset
    }

    /// The vendor's refusal (`invalid timestamp.`, or whatever a LinkV server says).
    #[must_use]
    pub fn refusal(&self) -> &ApiError {
        &self.refusal
    }
}

fn describe_offset(offset: Option<&ClockOffset>) -> String {
    match offset {
        Some(offset) => format!("this machine's clock is {offset}"),
        None => "this machine's clock is probably off (the server did not say its time)".to_owned(),
    }
}

/// A client that cannot be configured as asked, or is not configured for a call.
///
/// No variant carries a secret: a malformed secret is reported by its variable's name only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither vendor's credentials were given.
    #[error(
        "no credentials: configure LinkV (ClientBuilder::linkv, or {}), Polyv \
         (ClientBuilder::polyv, or {}), or both",
        env_vars(Vendor::Linkv),
        env_vars(Vendor::Polyv)
    )]
    NoCredentials,
    /// The client is not configured for the vendor the call needs.
    #[error("{}", not_configured(*.0))]
    NotConfigured(Vendor),
    /// Some of the variables that configure a vendor together are set, others not.
    #[error("{vendor} is configured only in part: {} not set", missing.join(", "))]
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
    #[error("{variable}: {source}")]
    Credentials {
        /// The vendor.
        vendor: Vendor,
        /// The variable that held the malformed value.
        variable: &'static str,
        /// Why.
        #[source]
        source: CredentialsError,
    },
    /// A base URL is plain `http://` to a host other than this machine: signatures and users'
    /// data would cross the network unencrypted.
    #[error(transparent)]
    InsecureHttp(InsecureHttp),
    /// A base URL is `https://` but this build's hyper transport has no TLS (the `rustls`
    /// feature is off).
    #[cfg(feature = "hyper")]
    #[error(
        "the {vendor} base URL is https but this build has no TLS: enable the `rustls` feature"
    )]
    HttpsWithoutTls {
        /// The vendor.
        vendor: Vendor,
    },
    /// Settings of the default hyper transport were given together with another transport,
    /// which would silently ignore them.
    #[cfg(feature = "hyper")]
    #[error(
        "settings of the default transport (connect timeout, TLS roots, body limit, connections in flight) cannot apply to another transport: configure that transport itself"
    )]
    TransportSettingsIgnored,
    /// The default transport's TLS could not be set up (roots, certificates).
    #[cfg(feature = "hyper")]
    #[error(transparent)]
    Tls(#[from] liveapi_hyper::TlsSetupError),
    /// No transport was given, and this build has no default one (the `hyper` feature is
    /// off).
    #[error(
        "no transport: enable the `hyper` feature or give a transport with ClientBuilder::transport"
    )]
    NoTransport,
    /// No timer was given, and this build has no default one (neither the `hyper` nor the
    /// `tokio` feature is on).
    #[error(
        "no timer: enable the `tokio` feature (or `hyper`) or give a timer with ClientBuilder::timer"
    )]
    NoTimer,
    /// The Redis rate limiter cannot be configured as asked.
    #[cfg(feature = "redis")]
    #[error(transparent)]
    RedisRateLimiter(#[from] crate::RedisLimiterError),
}

fn not_configured(vendor: Vendor) -> String {
    format!(
        "{vendor} credentials are not configured on this client: give them with \
         ClientBuilder::{} or set {}",
        vendor.as_str(),
        env_vars(vendor)
    )
}

/// The variables that configure `vendor`, for messages that say how to fix a configuration.
fn env_vars(vendor: Vendor) -> String {
    use crate::env::{LINKV_APP_ID, LINKV_BASE_URL, LINKV_SECRET, POLYV_APP_ID, POLYV_SECRET};
    match vendor {
        Vendor::Linkv => format!("{LINKV_APP_ID}, {LINKV_SECRET} and {LINKV_BASE_URL}"),
        Vendor::Polyv => format!("{POLYV_APP_ID} and {POLYV_SECRET}"),
    }
}

impl Error {
    fn new(kind: ErrorKind) -> Self {
        let (meaning, vendor) = match &kind {
            ErrorKind::Invalid(_) => (Meaning::INVALID, None),
            ErrorKind::Credentials(_) => (Meaning::CONFIG, None),
            ErrorKind::Config(ConfigError::NotConfigured(vendor)) => {
                (Meaning::CONFIG, Some(*vendor))
            }
            ErrorKind::Config(_) => (Meaning::CONFIG, None),
            ErrorKind::Build(e) => (meaning::of_build(e), None),
            ErrorKind::Transport(e) => (e.meaning(), None),
            ErrorKind::Api(e) => (meaning::of_answer(e, None).of_call(false), Some(e.vendor())),
            ErrorKind::Clock(e) => (
                meaning::of_answer(&e.refusal, e.offset).of_call(false),
                Some(e.vendor()),
            ),
            ErrorKind::ResendWindowPassed { .. } => (Meaning::RECONCILE, Some(Vendor::Linkv)),
        };
        Self {
            kind,
            meaning,
            vendor,
            attempts: 0,
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
        self.pending_change().map(PendingChange::request_id)
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

    /// What the error means (its class; applied, not applied or unknown; whether a retry may
    /// help), from the one table every part of the SDK reads (`docs/answers.md`). The
    /// predicates below are questions over it.
    #[must_use]
    pub fn meaning(&self) -> Meaning {
        self.meaning
    }

    /// The vendor the failed call was for, when the error is about a call.
    #[must_use]
    pub fn vendor(&self) -> Option<Vendor> {
        self.vendor
    }

    /// The server's answer, when it gave one: the vendor's refusal, or the refusal of the
    /// request's time behind a clock error.
    #[must_use]
    pub fn api_error(&self) -> Option<&ApiError> {
        match &self.kind {
            ErrorKind::Api(e) => Some(e),
            ErrorKind::Clock(e) => Some(&e.refusal),
            _ => None,
        }
    }

    /// The HTTP status of the server's answer (LinkV answers its errors with 200: see
    /// [`code`](Self::code) for the status in its body).
    #[must_use]
    pub fn status(&self) -> Option<http::StatusCode> {
        self.api_error()
            .and_then(|e| http::StatusCode::from_u16(e.http_status()).ok())
    }

    /// The status (LinkV) or code (Polyv) in the body of the server's answer, which decides
    /// its kind.
    #[must_use]
    pub fn code(&self) -> Option<i64> {
        self.api_error().and_then(ApiError::code)
    }

    /// The start of the server's answer as it came, for a person to read; withheld when it
    /// may carry a live token.
    #[must_use]
    pub fn answer(&self) -> Option<&RawBody> {
        self.api_error().and_then(ApiError::body)
    }

    /// How many attempts the call made (0 when it failed before its first attempt).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the coin change must be reconciled by hand (the user's balance, the vendor's
    /// records) before anything else is sent for it: it is older than the resend window
    /// ([`ErrorKind::ResendWindowPassed`]). Never retried.
    #[must_use]
    pub fn needs_reconciliation(&self) -> bool {
        self.meaning.needs_reconciliation()
    }

    /// Whether sending the same call again later (with the same `request_id`) may succeed: a
    /// network failure, a timeout, a server error (whether the HTTP status or only the body's
    /// `status` says so), rate limiting, an unreadable answer. Never a success whose data
    /// could not be read: the call took effect.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.meaning.is_retryable()
    }

    /// Whether the call may have been applied although it failed: the answer was lost, cut
    /// off or unreadable, the server failed while handling it, or an earlier attempt's
    /// outcome was unknown and the last answer (rate limiting, say) does not settle it. For a
    /// coin change, send it again with the **same** `request_id` and parameters to find out:
    /// the server applies it at most once. A refusal of the request itself (a bad parameter)
    /// is not unknown: nothing was applied. A success whose data could not be read
    /// ([`ApiErrorKind::UnreadableData`]) counts as unknown too: it was applied, and only a
    /// resend with the same request id, never a new change, may follow it.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        self.meaning.may_have_been_applied()
    }

    /// Whether the server rejected the credentials: a bad signature or an unknown app.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        self.meaning.class() == Class::Auth
    }

    /// Whether the server (or the client-side limit) asked to slow down.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.meaning.class() == Class::RateLimited
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
        match self.meaning.class() {
            Class::Invalid => true,
            Class::Refused => self
                .api_error()
                .is_some_and(|e| e.kind() == ApiErrorKind::BadParameter),
            _ => false,
        }
    }

    /// Whether the client's configuration is at fault (not the call, nor the server).
    #[must_use]
    pub fn is_config(&self) -> bool {
        self.meaning.class() == Class::Config
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

/// `Debug` says what went wrong first, in words: it is what `fn main() -> Result<(), Error>`
/// prints. The message, its causes, then what the SDK makes of it; `{:#?}` gives the fields.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            write!(f, "{self}")?;
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                write!(f, "\n  caused by: {cause}")?;
                source = cause.source();
            }
            let meaning = self.meaning;
            write!(
                f,
                "\n  ({}; retryable: {}; outcome unknown: {}",
                meaning.class().as_str(),
                meaning.is_retryable(),
                meaning.may_have_been_applied()
            )?;
            if self.attempts > 0 {
                write!(f, "; {} attempts", self.attempts)?;
            }
            if let Some(change) = &self.change {
                write!(f, "; request_id {}", change.request_id())?;
            }
            return f.write_str(")");
        }
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &self.kind)
            .field("meaning", &self.meaning);
        if self.attempts > 0 {
            debug.field("attempts", &self.attempts);
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
    ApiError => Api,
}

#[cfg(feature = "hyper")]
impl From<liveapi_hyper::TlsSetupError> for Error {
    fn from(e: liveapi_hyper::TlsSetupError) -> Self {
        ConfigError::from(e).into()
    }
}

impl From<InsecureHttp> for Error {
    fn from(e: InsecureHttp) -> Self {
        ConfigError::InsecureHttp(e).into()
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

impl From<CallError> for Error {
    fn from(e: CallError) -> Self {
        let (meaning, vendor, attempts) = (e.meaning(), e.vendor(), e.attempts());
        let kind = match e.into_last() {
            AttemptError::Build(e) => ErrorKind::Build(e),
            AttemptError::Transport(e) => ErrorKind::Transport(e),
            AttemptError::Api {
                error,
                clock_offset,
            } if meaning.class() == Class::Clock => ErrorKind::Clock(ClockError {
                offset: clock_offset,
                refusal: error,
            }),
            AttemptError::Api { error, .. } => ErrorKind::Api(error),
        };
        Self {
            kind,
            meaning,
            vendor: Some(vendor),
            attempts,
            change: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use liveapi_request::meaning::Outcome;

    use super::*;

    fn offset(seconds: u64) -> ClockOffset {
        let server = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        ClockOffset::between(server + Duration::from_secs(seconds), server)
    }

    #[test]
    fn a_clock_error_names_the_offset_and_settles_nothing() {
        let refusal = ApiError::linkv(400, "nonce_str expired");
        let err = Error::from(ErrorKind::Clock(ClockError {
            offset: Some(offset(362)),
            refusal: refusal.clone(),
        }));
        assert_eq!(
            err.to_string(),
            "LinkV refused the request's time: this machine's clock is 6 min 2 s ahead of \
             the server's; correct this machine's clock (NTP) and resend"
        );
        assert_eq!(err.clock_offset(), Some(offset(362)));
        assert_eq!(err.meaning().class(), Class::Clock);
        assert!(!err.is_retryable() && !err.outcome_unknown());
        assert_eq!((err.vendor(), err.code()), (Some(Vendor::Linkv), Some(400)));
        let polyv = ApiError::polyv(400, "error", "invalid timestamp.");
        let err = Error::from(ErrorKind::Clock(ClockError {
            offset: None,
            refusal: polyv,
        }));
        assert!(err.to_string().starts_with("Polyv refused"), "{err}");
        assert!(err.to_string().contains("probably off"), "{err}");
        assert_eq!(err.clock_offset(), None);
        assert_eq!(err.meaning().class(), Class::Clock);
        assert!(!err.is_retryable(), "the policy already retried it once");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("invalid timestamp."), "{source}");
    }

    #[test]
    fn the_predicates_read_the_meaning() {
        let timeout = Error::from(TransportError::new(TransportErrorKind::Timeout));
        assert!(timeout.is_timeout() && timeout.is_retryable() && timeout.outcome_unknown());
        assert_eq!(timeout.vendor(), None);
        let throttled = Error::from(TransportError::new(TransportErrorKind::Throttled));
        assert!(throttled.is_rate_limited() && !throttled.outcome_unknown());
        assert!(!throttled.is_timeout() && throttled.is_retryable());
        let invalid = Error::from(liveapi_model::linkv::UserId::new("").unwrap_err());
        assert!(invalid.is_invalid_input() && !invalid.is_config() && !invalid.is_auth());
        let config = Error::from(ConfigError::NoCredentials);
        assert!(config.is_config() && !config.is_invalid_input());
        let not_configured = Error::from(ConfigError::NotConfigured(Vendor::Polyv));
        assert!(not_configured.is_config());
        assert_eq!(not_configured.vendor(), Some(Vendor::Polyv));
        let creds = Error::from(CredentialsError::Missing { field: "x" });
        assert!(creds.is_config() && !creds.is_auth());
        let polyv = Error::from(ApiError::polyv(403, "error", "invalid signature."));
        assert!(polyv.is_auth() && !polyv.is_retryable());
        let bad = Error::from(ApiError::polyv(400, "error", "param validate error"));
        assert!(bad.is_invalid_input() && !bad.outcome_unknown());
        let channel = Error::from(ApiError::polyv(403, "error", "illegal channel id: 9"));
        assert!(!channel.is_invalid_input() && !channel.is_auth());
        let server = Error::from(ApiError::linkv(500, "system err"));
        assert!(server.is_retryable() && server.outcome_unknown());
        let unreadable = Error::from(ApiError::unreadable_data(
            Vendor::Linkv,
            200,
            "balance is not a number",
            RawBody::new(b"{}"),
        ));
        assert!(unreadable.outcome_unknown() && !unreadable.is_retryable());
        assert_eq!(unreadable.meaning().outcome(), Outcome::Applied);
        let late = Error::from(ErrorKind::ResendWindowPassed {
            age: Duration::from_secs(50_000),
            window: Duration::from_secs(43_200),
        });
        assert!(late.needs_reconciliation() && !late.outcome_unknown() && !late.is_retryable());
        assert!(!server.needs_reconciliation());
        let insecure = Error::from(InsecureHttp::new(Vendor::Linkv, "example.com"));
        assert!(insecure.is_config());
        let entropy = Error::from(BuildError::MissingBody);
        assert_eq!(entropy.meaning().class(), Class::Local);
        assert_eq!(Error::from(ConfigError::NoCredentials).attempts(), 0);
    }

    #[test]
    fn the_answer_is_kept_for_a_person_to_read() {
        let answer = ApiError::linkv(403, "sign err")
            .with_http_status(403)
            .with_body(RawBody::new(br#"{"status":"403","msg":"sign err"}"#));
        let err = Error::from(answer);
        assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));
        assert_eq!(err.code(), Some(403));
        assert_eq!(
            err.answer().map(RawBody::text),
            Some(r#"{"status":"403","msg":"sign err"}"#)
        );
        let transport = Error::from(TransportError::new(TransportErrorKind::Io));
        assert_eq!((transport.status(), transport.code()), (None, None));
        assert!(transport.answer().is_none() && transport.api_error().is_none());
    }

    #[test]
    fn a_missing_transport_or_timer_names_the_fix() {
        let transport = Error::from(ConfigError::NoTransport);
        assert!(transport.is_config() && !transport.is_retryable());
        let text = transport.to_string();
        assert!(
            text.contains("`hyper` feature") && text.contains("ClientBuilder::transport"),
            "{text}"
        );
        let text = Error::from(ConfigError::NoTimer).to_string();
        assert!(
            text.contains("`tokio` feature") && text.contains("ClientBuilder::timer"),
            "{text}"
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        for (secs, text) in [
            (40, "40 s"),
            (120, "2 min"),
            (125, "2 min 5 s"),
            (43_200, "12 h"),
            (90_180, "25 h 3 min"),
        ] {
            assert_eq!(DisplayDuration(Duration::from_secs(secs)).to_string(), text);
        }
    }

    #[test]
    fn debug_says_what_went_wrong_and_what_follows() {
        let err = Error::from(ConfigError::NoCredentials);
        let debug = format!("{err:?}");
        assert!(
            debug.starts_with("no credentials: configure LinkV"),
            "{debug}"
        );
        assert!(
            debug.contains("(config; retryable: false; outcome unknown: false)"),
            "{debug}"
        );
        let err = Error::from(TransportError::with_source(
            TransportErrorKind::Connect,
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ));
        let debug = format!("{err:?}");
        assert!(
            debug.starts_with("could not connect to the server\n  caused by: "),
            "{debug}"
        );
        assert!(
            debug.ends_with("(unavailable; retryable: true; outcome unknown: false)"),
            "{debug}"
        );
        // The fields on request.
        let alternate = format!("{err:#?}");
        assert!(alternate.starts_with("Error {"), "{alternate}");
        assert!(alternate.contains("meaning:"), "{alternate}");
    }

    #[test]
    fn configuration_errors_name_what_fixes_them() {
        let none = ConfigError::NoCredentials.to_string();
        for fix in [
            "ClientBuilder::linkv",
            "LIVEAPI_LINKV_APP_ID, LIVEAPI_LINKV_SECRET and LIVEAPI_LINKV_BASE_URL",
            "ClientBuilder::polyv",
            "LIVEAPI_POLYV_APP_ID and LIVEAPI_POLYV_SECRET",
        ] {
            assert!(none.contains(fix), "{none}");
        }
        assert_eq!(
            ConfigError::NotConfigured(Vendor::Polyv).to_string(),
            "Polyv credentials are not configured on this client: give them with \
             ClientBuilder::polyv or set LIVEAPI_POLYV_APP_ID and LIVEAPI_POLYV_SECRET"
        );
        let missing = Error::from(CredentialsError::Missing {
            field: "live_app_secret",
        });
        assert_eq!(
            missing.to_string(),
            "live_app_secret is not set: give it to the credentials builder (.secret(…))"
        );
    }

    #[test]
    fn a_clock_error_keeps_its_parts() {
        let refusal = ApiError::polyv(400, "error", "invalid timestamp.");
        let clock = ClockError {
            offset: Some(offset(200)),
            refusal,
        };
        assert_eq!(clock.offset(), Some(offset(200)));
        assert_eq!(clock.vendor(), Vendor::Polyv);
        assert_eq!(clock.refusal().message(), "invalid timestamp.");
        let err = Error::from(ErrorKind::Clock(clock));
        assert!(!err.is_rate_limited() && !err.is_auth() && !err.is_timeout());
        assert!(!err.is_config() && !err.is_invalid_input() && !err.needs_reconciliation());
    }
}
