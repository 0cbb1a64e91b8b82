//! The environment variables [`ClientBuilder::from_env`](crate::ClientBuilder::from_env) reads,
//! by name, for tools that set or document them (the `liveapi` command line lays its flags
//! over them).
//!
//! A variable that is set but blank counts as unset.

use std::time::Duration;

use liveapi_request::{LinkvCredentials, PolyvCredentials, Vendor};
use liveapi_sign::polyv::SignatureMethod;

use crate::ConfigError;

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
        })
    }
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
    let invalid = |source| ConfigError::Credentials {
        vendor: Vendor::Polyv,
        source,
    };
    let mut creds = PolyvCredentials::new(&app_id, secret).map_err(invalid)?;
    if let Some(url) = get(POLYV_BASE_URL) {
        creds = creds.with_base_url(&url).map_err(invalid)?;
    }
    if let Some(method) = get(POLYV_SIGNATURE_METHOD) {
        let method = SignatureMethod::parse(method.trim()).map_err(|_| ConfigError::Variable {
            variable: POLYV_SIGNATURE_METHOD,
            problem: format!("is `{method}`, not MD5 or SHA256"),
        })?;
        creds = creds.with_signature_method(method);
    }
    Ok(Some(creds))
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
