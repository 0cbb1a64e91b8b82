//! The environment variables [`ClientBuilder::from_env`](crate::ClientBuilder::from_env) reads,
//! by name, for tools that set or document them (the `liveapi` command line lays its flags
//! over them).
//!
//! A variable that is set but blank counts as unset.

use std::path::PathBuf;
use std::time::Duration;

use liveapi_request::{LinkvCredentials, PolyvCredentials, RateLimit, Secret, Vendor};
use liveapi_sign::polyv::SignatureMethod;

use crate::{ClientBuilder, ConfigError, Error};

/// LinkV `live_app_key`, sent as `app_id`.
pub const LINKV_APP_ID: &str = "LIVEAPI_LINKV_APP_ID";
/// LinkV `live_app_secret`, the decrypted one.
pub const LINKV_SECRET: &str = "LIVEAPI_LINKV_SECRET";
/// LinkV `live_app_alias`, sent as `channel` by `orderSuccess`; optional.
pub const LINKV_ALIAS: &str = "LIVEAPI_LINKV_ALIAS";
/// The app's LinkV base URL.
pub const LINKV_BASE_URL: &str = "LIVEAPI_LINKV_BASE_URL";
/// Polyv `appId`.
pub const POLYV_APP_ID: &str = "LIVEAPI_POLYV_APP_ID";
/// Polyv app secret.
pub const POLYV_SECRET: &str = "LIVEAPI_POLYV_SECRET";
/// Polyv API host; `https://api.polyv.net` when unset.
pub const POLYV_BASE_URL: &str = "LIVEAPI_POLYV_BASE_URL";
/// Polyv sign digest, `MD5` (when unset) or `SHA256` (needs the `sha256` feature).
pub const POLYV_SIGNATURE_METHOD: &str = "LIVEAPI_POLYV_SIGNATURE_METHOD";
/// Per-attempt timeout in milliseconds (at least 1).
pub const ATTEMPT_TIMEOUT_MS: &str = "LIVEAPI_ATTEMPT_TIMEOUT_MS";
/// Overall deadline of a call in milliseconds, retries included (at least 1).
pub const DEADLINE_MS: &str = "LIVEAPI_DEADLINE_MS";
/// Attempts per call, retries included (at least 1).
pub const MAX_ATTEMPTS: &str = "LIVEAPI_MAX_ATTEMPTS";
/// `1` (or `true`) to allow plain `http://` base URLs to hosts other than this machine.
pub const ALLOW_INSECURE_HTTP: &str = "LIVEAPI_ALLOW_INSECURE_HTTP";
/// How old a coin change may be and still be sent, in seconds (at least 1), or `off` to
/// trust the server to remember request ids for ever.
pub const RESEND_WINDOW_SECS: &str = "LIVEAPI_RESEND_WINDOW_SECS";
/// The Polyv budget of this process, or of the fleet with [`POLYV_RATE_LIMIT_REDIS_URL`]:
/// requests per 10 s (`1200`, the default), or per a window of its own (`100/1s`,
/// `50/500ms`). At least 1, and at most Polyv's 1500 in any 10 s.
pub const POLYV_RATE_LIMIT: &str = "LIVEAPI_POLYV_RATE_LIMIT";
/// How many processes share the Polyv budget (at least 1). Without
/// [`POLYV_RATE_LIMIT_REDIS_URL`] each keeps to `budget / processes`; with it, that is the
/// share each keeps to while Redis is unreachable, and it is required.
pub const POLYV_RATE_LIMIT_PROCESSES: &str = "LIVEAPI_POLYV_RATE_LIMIT_PROCESSES";
/// A Redis URL (`redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS): the
/// processes share one Polyv budget there (feature `redis`). It may hold a password and is
/// never printed.
pub const POLYV_RATE_LIMIT_REDIS_URL: &str = "LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL";
/// A PEM file of the CA certificates a `rediss://` [`POLYV_RATE_LIMIT_REDIS_URL`] is verified
/// against, instead of the Mozilla roots: for a Redis whose certificate a private CA signed.
pub const POLYV_RATE_LIMIT_REDIS_CA: &str = "LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA";
/// A label for the egress IP of the processes sharing the budget through Redis (default
/// `default`): Polyv counts per source IP, so each egress IP gets its own budget.
pub const POLYV_RATE_LIMIT_EGRESS: &str = "LIVEAPI_POLYV_RATE_LIMIT_EGRESS";

/// Polyv's own limit: 1500 requests per 10 s per IP (`docs/polyv.md#rate-limit`).
const POLYV_VENDOR_LIMIT: u128 = 1_500;
const POLYV_VENDOR_WINDOW: Duration = Duration::from_secs(10);

/// The value of `name` in this process's environment; blank counts as unset.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// What the environment configures.
#[derive(Debug)]
pub(crate) struct Vars {
    pub(crate) linkv: Option<LinkvCredentials>,
    pub(crate) polyv: Option<PolyvCredentials>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) allow_insecure_http: Option<bool>,
    /// `Some(None)`: `off`.
    pub(crate) resend_window: Option<Option<Duration>>,
    pub(crate) polyv_rate_limit: Option<RateLimit>,
    pub(crate) polyv_processes: Option<u32>,
    pub(crate) polyv_redis_url: Option<Secret>,
    pub(crate) polyv_redis_ca: Option<PathBuf>,
    pub(crate) polyv_egress: Option<String>,
}

impl Vars {
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| non_blank(lookup(name));
        Ok(Self {
            linkv: linkv(&get)?,
            polyv: polyv(&get)?,
            attempt_timeout: positive(&get, ATTEMPT_TIMEOUT_MS)?.map(Duration::from_millis),
            deadline: positive(&get, DEADLINE_MS)?.map(Duration::from_millis),
            max_attempts: positive(&get, MAX_ATTEMPTS)?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            allow_insecure_http: flag(&get, ALLOW_INSECURE_HTTP)?,
            resend_window: match get(RESEND_WINDOW_SECS) {
                Some(v) if v.trim().eq_ignore_ascii_case("off") => Some(None),
                _ => positive(&get, RESEND_WINDOW_SECS)?.map(|s| Some(Duration::from_secs(s))),
            },
            polyv_rate_limit: get(POLYV_RATE_LIMIT)
                .map(|v| parse_rate_limit(&v))
                .transpose()
                .map_err(|problem| ConfigError::Variable {
                    variable: POLYV_RATE_LIMIT,
                    problem,
                })?,
            polyv_processes: positive(&get, POLYV_RATE_LIMIT_PROCESSES)?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            polyv_redis_url: get(POLYV_RATE_LIMIT_REDIS_URL).map(|url| Secret::new(url.trim())),
            polyv_redis_ca: get(POLYV_RATE_LIMIT_REDIS_CA).map(|path| PathBuf::from(path.trim())),
            polyv_egress: get(POLYV_RATE_LIMIT_EGRESS).map(|label| label.trim().to_owned()),
        })
    }
}

/// Lays the variables `lookup` finds over `builder`'s settings: what
/// [`ClientBuilder::from_env_with`] does.
pub(crate) fn configure(
    mut builder: ClientBuilder,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ClientBuilder, Error> {
    let vars = Vars::read(lookup)?;
    if let Some(linkv) = vars.linkv {
        builder = builder.linkv(linkv);
    }
    if let Some(polyv) = vars.polyv {
        builder = builder.polyv(polyv);
    }
    if let Some(timeout) = vars.attempt_timeout {
        builder = builder.attempt_timeout(timeout);
    }
    if let Some(deadline) = vars.deadline {
        builder = builder.deadline(deadline);
    }
    if let Some(attempts) = vars.max_attempts {
        // Only the count: the backoff of a policy set before stays.
        builder.retry = builder.retry.with_max_attempts(attempts);
    }
    if let Some(allow) = vars.allow_insecure_http {
        builder = builder.allow_insecure_http(allow);
    }
    builder = match vars.resend_window {
        Some(Some(window)) => builder.resend_window(window),
        Some(None) => builder.no_resend_window(),
        None => builder,
    };
    polyv_limit(
        builder,
        vars.polyv_rate_limit,
        vars.polyv_processes,
        vars.polyv_redis_url,
        vars.polyv_redis_ca,
        vars.polyv_egress,
    )
}

/// The Polyv rate limit from the environment: shared through Redis with a URL, else this
/// process's share of the budget. A Redis limiter set in code keeps its URL and takes the
/// budget, process count, CA and egress label from the variables that are set.
fn polyv_limit(
    mut builder: ClientBuilder,
    limit: Option<RateLimit>,
    processes: Option<u32>,
    redis_url: Option<Secret>,
    redis_ca: Option<PathBuf>,
    egress: Option<String>,
) -> Result<ClientBuilder, Error> {
    #[cfg(feature = "redis")]
    {
        if let Some(url) = redis_url {
            let processes = processes.ok_or_else(|| ConfigError::Incomplete {
                vendor: Vendor::Polyv,
                missing: vec![POLYV_RATE_LIMIT_PROCESSES],
            })?;
            let mut redis = crate::RedisRateLimiter::builder(url)
                .limit(limit.unwrap_or(RateLimit::POLYV))
                .processes(processes);
            if let Some(egress) = egress {
                redis = redis.egress(egress);
            }
            if let Some(ca) = redis_ca {
                redis = redis.ca_file(ca);
            }
            return Ok(builder.polyv_rate_limit(redis));
        }
        if let Some(redis) = builder.polyv_limit.redis_mut() {
            if let Some(limit) = limit {
                redis.set_limit(limit);
            }
            if let Some(processes) = processes {
                redis.set_processes(processes);
            }
            if let Some(egress) = egress {
                redis.set_egress(egress);
            }
            if let Some(ca) = redis_ca {
                redis.set_ca_file(ca);
            }
            return Ok(builder);
        }
    }
    #[cfg(not(feature = "redis"))]
    if redis_url.is_some() {
        return Err(ConfigError::Variable {
            variable: POLYV_RATE_LIMIT_REDIS_URL,
            problem: "is set, but this build of liveapi has no Redis support (its `redis` feature)"
                .to_owned(),
        }
        .into());
    }
    for (variable, set) in [
        (POLYV_RATE_LIMIT_EGRESS, egress.is_some()),
        (POLYV_RATE_LIMIT_REDIS_CA, redis_ca.is_some()),
    ] {
        if set {
            return Err(ConfigError::Variable {
                variable,
                problem: format!("applies only together with {POLYV_RATE_LIMIT_REDIS_URL}"),
            }
            .into());
        }
    }
    if limit.is_some() || processes.is_some() {
        let share = limit
            .unwrap_or(RateLimit::POLYV)
            .share(processes.unwrap_or(1));
        builder = builder.polyv_rate_limit(share);
    }
    Ok(builder)
}

/// A Polyv budget: `N` requests per 10 s, or `N/<window>` with the window in `s` or `ms`.
/// Refused when it lets more than Polyv's 1500 through in some 10 s
/// (`docs/polyv.md#rate-limit`): a sliding window of `w` allows `N` in each of the
/// `floor(10 s / w) + 1` windows that touch one 10 s span.
fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    let text = text.trim();
    let (count, window) = match text.split_once('/') {
        None => (text, POLYV_VENDOR_WINDOW),
        Some((count, window)) => {
            let window = window.trim();
            let (digits, unit) = if let Some(ms) = window.strip_suffix("ms") {
                (ms, Duration::from_millis(1))
            } else if let Some(s) = window.strip_suffix('s') {
                (s, Duration::from_secs(1))
            } else {
                return Err(format!(
                    "is `{text}`: the window needs a unit, as in `100/1s` or `50/500ms`"
                ));
            };
            let n: u32 = digits.trim().parse().map_err(|_| {
                format!("is `{text}`: the window must be a whole number of s or ms")
            })?;
            (count, unit * n)
        }
    };
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| format!("is `{text}`, not requests per 10 s (`1200`) or `N/<window>`"))?;
    let limit = RateLimit::new(count, window)
        .ok_or_else(|| format!("is `{text}`: requests and window must be at least 1"))?;
    let per_ten_seconds = if window >= POLYV_VENDOR_WINDOW {
        u128::from(count)
    } else {
        u128::from(count) * (POLYV_VENDOR_WINDOW.as_nanos() / window.as_nanos() + 1)
    };
    if per_ten_seconds > POLYV_VENDOR_LIMIT {
        return Err(format!(
            "is `{text}`: it lets up to {per_ten_seconds} requests through in 10 s, above Polyv's limit of 1500 per 10 s per IP, which blocks the IP for 5 minutes"
        ));
    }
    Ok(limit)
}

/// The LinkV app id, secret and base URL together (or none of them), and an optional alias.
fn linkv(get: &impl Fn(&str) -> Option<String>) -> Result<Option<LinkvCredentials>, ConfigError> {
    let names = [LINKV_APP_ID, LINKV_SECRET, LINKV_BASE_URL];
    let values = names.map(get);
    let alias = get(LINKV_ALIAS);
    if values.iter().all(Option::is_none) {
        if alias.is_some() {
            return Err(ConfigError::Incomplete {
                vendor: Vendor::Linkv,
                missing: names.to_vec(),
            });
        }
        return Ok(None);
    }
    let missing: Vec<&'static str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    let [Some(app_id), Some(secret), Some(base_url)] = values else {
        return Err(ConfigError::Incomplete {
            vendor: Vendor::Linkv,
            missing,
        });
    };
    let mut builder = LinkvCredentials::builder()
        .app_id(app_id)
        .secret(secret)
        .base_url(base_url);
    if let Some(alias) = alias {
        builder = builder.alias(alias);
    }
    builder
        .build()
        .map(Some)
        .map_err(|source| ConfigError::Credentials {
            vendor: Vendor::Linkv,
            variable: match source.field() {
                "live_app_secret" => LINKV_SECRET,
                "alias" => LINKV_ALIAS,
                "base URL" => LINKV_BASE_URL,
                _ => LINKV_APP_ID,
            },
            source,
        })
}

/// The Polyv app id and secret, with an optional base URL and signature method.
fn polyv(get: &impl Fn(&str) -> Option<String>) -> Result<Option<PolyvCredentials>, ConfigError> {
    let incomplete = |missing| ConfigError::Incomplete {
        vendor: Vendor::Polyv,
        missing: vec![missing],
    };
    let (app_id, secret) = match (get(POLYV_APP_ID), get(POLYV_SECRET)) {
        (None, None) => {
            if get(POLYV_BASE_URL).is_some() || get(POLYV_SIGNATURE_METHOD).is_some() {
                return Err(ConfigError::Incomplete {
                    vendor: Vendor::Polyv,
                    missing: vec![POLYV_APP_ID, POLYV_SECRET],
                });
            }
            return Ok(None);
        }
        (Some(a), Some(s)) => (a, s),
        (None, Some(_)) => return Err(incomplete(POLYV_APP_ID)),
        (Some(_), None) => return Err(incomplete(POLYV_SECRET)),
    };
    let invalid = |source: liveapi_request::CredentialsError| ConfigError::Credentials {
        vendor: Vendor::Polyv,
        variable: match source.field() {
            "appSecret" => POLYV_SECRET,
            "base URL" => POLYV_BASE_URL,
            _ => POLYV_APP_ID,
        },
        source,
    };
    let mut creds = PolyvCredentials::builder().app_id(app_id).secret(secret);
    if let Some(url) = get(POLYV_BASE_URL) {
        creds = creds.base_url(url);
    }
    if let Some(method) = get(POLYV_SIGNATURE_METHOD) {
        let method = SignatureMethod::parse(method.trim()).map_err(|_| ConfigError::Variable {
            variable: POLYV_SIGNATURE_METHOD,
            problem: format!("is `{method}`, not MD5 or SHA256"),
        })?;
        creds = creds.signature_method(method);
    }
    creds.build().map(Some).map_err(invalid)
}

/// A whole number of at least 1: a zero timeout or attempt count would make every call fail.
fn positive(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<u64>, ConfigError> {
    get(name)
        .map(|v| match v.trim().parse::<u64>() {
            Ok(0) => Err(ConfigError::Variable {
                variable: name,
                problem: "is 0: it must be at least 1".to_owned(),
            }),
            Ok(n) => Ok(n),
            Err(_) => Err(ConfigError::Variable {
                variable: name,
                problem: format!("is not a whole number: `{v}`"),
            }),
        })
        .transpose()
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    get(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(ConfigError::Variable {
                variable: name,
                problem: format!("is `{v}`, not 1 or 0"),
            }),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Vars, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Vars::read(|name| vars.get(name).cloned())
    }

    const LINKV: [(&str, &str); 3] = [
        (LINKV_APP_ID, "LM6000101140927991745433"),
        (LINKV_SECRET, "s3cr3t-value"),
        (LINKV_BASE_URL, "https://live.example.com"),
    ];

    #[test]
    fn linkv_without_alias_is_complete() {
        let vars = read(&LINKV).unwrap();
        assert_eq!(vars.linkv.unwrap().alias(), None);
        let mut with_alias = LINKV.to_vec();
        with_alias.push((LINKV_ALIAS, "demo"));
        assert_eq!(
            read(&with_alias).unwrap().linkv.unwrap().alias(),
            Some("demo")
        );
    }

    #[test]
    fn partial_sets_name_what_is_missing_and_never_a_secret() {
        let err = read(&[(LINKV_SECRET, "s3cr3t-value")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(LINKV_APP_ID) && text.contains(LINKV_BASE_URL),
            "{text}"
        );
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(matches!(
            read(&[(LINKV_ALIAS, "demo")]),
            Err(ConfigError::Incomplete { .. })
        ));
        assert!(matches!(
            read(&[(POLYV_BASE_URL, "https://x.example.com")]),
            Err(ConfigError::Incomplete { .. })
        ));
        assert!(matches!(
            read(&[(POLYV_SECRET, "x")]),
            Err(ConfigError::Incomplete { .. })
        ));
    }

    #[test]
    fn zero_and_garbage_numbers_are_errors() {
        for (name, value) in [
            (MAX_ATTEMPTS, "0"),
            (ATTEMPT_TIMEOUT_MS, "0"),
            (DEADLINE_MS, "0"),
            (MAX_ATTEMPTS, "three"),
            (ATTEMPT_TIMEOUT_MS, "-5"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Variable { variable, .. } if variable == name),
                "{name}={value}"
            );
        }
        let vars = read(&[(MAX_ATTEMPTS, " 2 "), (ATTEMPT_TIMEOUT_MS, "1")]).unwrap();
        assert_eq!(vars.max_attempts, Some(2));
        assert_eq!(vars.attempt_timeout, Some(Duration::from_millis(1)));
    }

    #[test]
    fn blank_is_unset() {
        let vars = read(&[(MAX_ATTEMPTS, "  "), (LINKV_APP_ID, "")]).unwrap();
        assert!(vars.max_attempts.is_none() && vars.linkv.is_none());
    }

    #[test]
    fn the_resend_window() {
        assert_eq!(
            read(&[(RESEND_WINDOW_SECS, "3600")]).unwrap().resend_window,
            Some(Some(Duration::from_secs(3600)))
        );
        assert_eq!(
            read(&[(RESEND_WINDOW_SECS, " OFF ")])
                .unwrap()
                .resend_window,
            Some(None)
        );
        assert_eq!(read(&[]).unwrap().resend_window, None);
        assert!(read(&[(RESEND_WINDOW_SECS, "0")]).is_err());
        assert!(read(&[(RESEND_WINDOW_SECS, "a day")]).is_err());
    }

    #[test]
    fn the_insecure_http_flag() {
        assert_eq!(
            read(&[(ALLOW_INSECURE_HTTP, "1")])
                .unwrap()
                .allow_insecure_http,
            Some(true)
        );
        assert_eq!(
            read(&[(ALLOW_INSECURE_HTTP, "false")])
                .unwrap()
                .allow_insecure_http,
            Some(false)
        );
        assert_eq!(read(&[]).unwrap().allow_insecure_http, None);
        assert!(read(&[(ALLOW_INSECURE_HTTP, "maybe")]).is_err());
    }

    #[test]
    fn rate_limits_parse_and_bad_ones_are_named() {
        let secs = Duration::from_secs;
        for (text, limit, window) in [
            ("1200", 1200, secs(10)),
            (" 1500 ", 1500, secs(10)),
            ("1200/10s", 1200, secs(10)),
            ("100/1s", 100, secs(1)),
            ("50/500ms", 50, Duration::from_millis(500)),
            ("1500/60s", 1500, secs(60)),
        ] {
            assert_eq!(
                parse_rate_limit(text),
                Ok(RateLimit::new(limit, window).unwrap()),
                "{text}"
            );
        }
        for text in [
            "0", "0/1s", "10/0s", "many", "-5", "100/1", "100/1m", "1501", "137/1s", "100/s", "1.5",
        ] {
            let err = read(&[(POLYV_RATE_LIMIT, text)]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Variable { variable, .. } if variable == POLYV_RATE_LIMIT),
                "{text}: {err}"
            );
        }
        // 136 per second is 1496 in the 11 one-second windows touching 10 s; 137 is 1507.
        assert!(parse_rate_limit("136/1s").is_ok());
        let err = parse_rate_limit("1501").unwrap_err();
        assert!(err.contains("1500"), "{err}");
    }

    #[test]
    fn the_fleet_variables() {
        let vars = read(&[
            (POLYV_RATE_LIMIT_PROCESSES, "3"),
            (POLYV_RATE_LIMIT_REDIS_URL, " redis://:hunter2@10.0.0.5/1 "),
            (POLYV_RATE_LIMIT_EGRESS, "nat-a"),
            (POLYV_RATE_LIMIT_REDIS_CA, " /etc/liveapi/redis-ca.pem "),
        ])
        .unwrap();
        assert_eq!(
            vars.polyv_redis_ca.as_deref(),
            Some(std::path::Path::new("/etc/liveapi/redis-ca.pem"))
        );
        assert_eq!(vars.polyv_processes, Some(3));
        assert_eq!(
            vars.polyv_redis_url.as_ref().map(Secret::expose),
            Some("redis://:hunter2@10.0.0.5/1")
        );
        assert_eq!(vars.polyv_egress.as_deref(), Some("nat-a"));
        assert!(!format!("{vars:?}").contains("hunter2"));
        assert!(read(&[(POLYV_RATE_LIMIT_PROCESSES, "0")]).is_err());
        assert!(read(&[(POLYV_RATE_LIMIT_PROCESSES, "three")]).is_err());
    }

    #[test]
    fn a_bad_signature_method_is_named() {
        let err = read(&[
            (POLYV_APP_ID, "app"),
            (POLYV_SECRET, "secret"),
            (POLYV_SIGNATURE_METHOD, "SHA1"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("SHA1"), "{err}");
    }
}
