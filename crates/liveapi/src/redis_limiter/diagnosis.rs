//! Which failures of a Redis call are the configuration's rather than an outage.
//!
//! Falling back to the process's share is right for a Redis that is away: it may come back,
//! and until then the shares keep the fleet under its budget. It is wrong for a Redis that
//! answers but cannot be used as configured: a refused password, a database that does not
//! exist, something on the port that is not Redis, a certificate that does not verify. No
//! wait helps there, and falling back would hide the mistake behind slow calls; those fail
//! the call as configuration errors instead. What is not recognised here (a timeout, a
//! refused or dropped connection, a name that does not resolve, a Redis that is loading or
//! full) stays an outage: the safe side, since the shares hold whatever the cause.

use redis::{ErrorKind, RedisError, ServerErrorKind};

/// How a question to Redis went unanswered.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// No usable answer, for now: an outage, or one slow answer.
    Unanswered(String),
    /// Redis (or whatever is at its address) answered, and cannot be used as configured.
    Misconfigured(String),
}

/// What went wrong with one Redis call, in words that never hold `password`.
pub(super) fn judge(error: &RedisError, db: i64, key: &str, password: Option<&str>) -> Failure {
    let scrub = |text: String| match password {
        Some(password) if !password.is_empty() => text.replace(password, "***"),
        _ => text,
    };
    match misconfiguration(error, db, key) {
        Some(problem) => Failure::Misconfigured(scrub(problem)),
        None => Failure::Unanswered(scrub(error.to_string())),
    }
}

fn misconfiguration(error: &RedisError, db: i64, key: &str) -> Option<String> {
    let detail = error.detail().unwrap_or_default();
    if let Some(tls) = tls_error(error) {
        return Some(format!(
            "the TLS handshake failed ({tls}): the server's certificate must be valid for the URL's host name and signed by a CA this process trusts (the Mozilla roots, or the CA given as LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA, --rate-limit-redis-ca or RedisRateLimiterBuilder::ca_file), and the server must speak TLS"
        ));
    }
    let problem = match (error.kind(), error.code()) {
        (ErrorKind::AuthenticationFailed, _) | (_, Some("WRONGPASS")) => {
            "it refused the user name or password in the URL (WRONGPASS): fix them there, or the server's users".to_owned()
        }
        (_, Some("NOAUTH")) => {
            "it requires a password and the URL gives none (NOAUTH): give it as redis://:PASSWORD@host:port/db".to_owned()
        }
        (ErrorKind::Server(ServerErrorKind::NoPerm), _) | (_, Some("NOPERM")) => format!(
            "its user may not run what the limiter needs, EVALSHA and EVAL of a script that calls TIME and the sorted-set commands on its key (NOPERM: {detail})"
        ),
        (_, Some("WRONGTYPE")) => format!(
            "its key {key} holds something else than the limiter's sorted set: another program uses that key; give the limiter a key prefix of its own"
        ),
        (_, Some("ERR")) if detail.contains("DB index") => format!(
            "it has no database {db} (SELECT: {detail}): name one below its `databases` setting in the URL"
        ),
        (_, Some("ERR")) if detail.starts_with("unknown command") => format!(
            "it does not know a command the limiter needs ({detail}): the limiter needs Redis 3.2 or later (or Valkey) with scripting, not a proxy that forbids it"
        ),
        (ErrorKind::Parse | ErrorKind::UnexpectedReturnType, _) => {
            "it does not answer as Redis does: is the URL's host and port a Redis server's (and rediss:// where it speaks TLS)?".to_owned()
        }
        (ErrorKind::InvalidClientConfig, _) => {
            format!("the Redis client cannot be set up for it: {error}")
        }
        _ => return None,
    };
    Some(problem)
}

/// The rustls error under `error`, when the TLS handshake failed: the `redis` crate keeps it
/// inside the `std::io::Error` it was given.
fn tls_error(error: &RedisError) -> Option<&rustls::Error> {
    let source = std::error::Error::source(error)?;
    let io = match source.downcast_ref::<std::sync::Arc<dyn std::error::Error + Send + Sync>>() {
        Some(shared) => (**shared).downcast_ref::<std::io::Error>()?,
        None => source.downcast_ref::<std::io::Error>()?,
    };
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn judged(error: &RedisError) -> Failure {
        judge(
            error,
            99,
            "liveapi:rate-limit:polyv:app:default",
            Some("hunter2"),
        )
    }

    fn misconfigured(error: &RedisError, needle: &str) {
        match judged(error) {
            Failure::Misconfigured(problem) => {
                assert!(problem.contains(needle), "{problem}");
                assert!(!problem.contains("hunter2"), "{problem}");
            }
            other => panic!("{error}: {other:?}"),
        }
    }

    #[test]
    fn what_redis_refuses_is_the_configuration() {
        let auth = RedisError::from((
            ErrorKind::AuthenticationFailed,
            "Password authentication failed",
        ));
        misconfigured(&auth, "WRONGPASS");
        let noauth =
            redis::make_extension_error("NOAUTH".into(), Some("Authentication required.".into()));
        misconfigured(&noauth, "NOAUTH");
        let noperm = redis::make_extension_error(
            "NOPERM".into(),
            Some("User bob has no permissions to run the 'evalsha' command".into()),
        );
        misconfigured(&noperm, "'evalsha'");
        let wrongtype = redis::make_extension_error(
            "WRONGTYPE".into(),
            Some("Operation against a key holding the wrong kind of value".into()),
        );
        misconfigured(&wrongtype, "liveapi:rate-limit:polyv:app:default");
        let parse = RedisError::from((
            ErrorKind::Parse,
            "Parse error",
            "Unexpected `72`".to_owned(),
        ));
        misconfigured(&parse, "does not answer as Redis does");
        let db = redis::make_extension_error("ERR".into(), Some("DB index is out of range".into()));
        misconfigured(&db, "no database 99");
        // A server that echoes what it does not know, password included.
        let echo = redis::make_extension_error(
            "ERR".into(),
            Some("unknown command 'AUTH', with args beginning with: 'hunter2'".into()),
        );
        misconfigured(&echo, "with args beginning with: '***'");
    }

    #[test]
    fn a_certificate_refused_is_the_configuration() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let error = RedisError::from(io::Error::new(io::ErrorKind::InvalidData, refused));
        misconfigured(
            &error,
            "TLS handshake failed (invalid peer certificate: UnknownIssuer)",
        );
    }

    #[test]
    fn what_may_pass_is_an_outage() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::TimedOut,
            io::ErrorKind::UnexpectedEof,
        ] {
            let error = RedisError::from(io::Error::from(kind));
            assert!(matches!(judged(&error), Failure::Unanswered(_)), "{kind:?}");
        }
        let dns = RedisError::from(io::Error::other("failed to lookup address information"));
        assert!(matches!(judged(&dns), Failure::Unanswered(_)));
        for (code, detail) in [
            ("LOADING", "Redis is loading the dataset in memory"),
            ("BUSY", "Redis is busy running a script"),
            ("ERR", "max number of clients reached"),
            ("OOM", "command not allowed when used memory > 'maxmemory'"),
            ("READONLY", "You can't write against a read only replica."),
        ] {
            let error = redis::make_extension_error(code.into(), Some(detail.into()));
            assert!(matches!(judged(&error), Failure::Unanswered(_)), "{code}");
        }
    }
}
