//! The environment variables [`Client::from_env`](crate::Client::from_env) reads, by name, for
//! tools that set or document them (the `liveapi` command line lays its flags over them).
//!
//! A variable that is set but blank counts as unset.

use std::time::Duration;

use liveapi_request::{LinkvCredentials, PolyvCredentials};
use liveapi_sign::polyv::SignatureMethod;

use crate::Error;

/// LinkV `live_app_key`, sent as `app_id`.
pub const LINKV_APP_ID: &str = "LIVEAPI_LINKV_APP_ID";
/// LinkV `live_app_secret`, the decrypted one.
pub const LINKV_SECRET: &str = "LIVEAPI_LINKV_SECRET";
/// LinkV `live_app_alias`, sent as `channel`.
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
/// The value of the variable `name` in this process's environment; a blank value counts as
/// unset, as everywhere in this crate's configuration.
///
/// ```
/// assert_eq!(liveapi::env::var("LIVEAPI_SURELY_NOT_SET_BY_ANYONE"), None);
/// ```
#[must_use]
pub fn var(name: &str) -> Option<String> {
    non_blank(std::env::var(name).ok())
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Per-attempt timeout in milliseconds.
pub const ATTEMPT_TIMEOUT_MS: &str = "LIVEAPI_ATTEMPT_TIMEOUT_MS";
/// Overall deadline of a call in milliseconds, retries included.
pub const DEADLINE_MS: &str = "LIVEAPI_DEADLINE_MS";
/// Attempts per call, retries included.
pub const MAX_ATTEMPTS: &str = "LIVEAPI_MAX_ATTEMPTS";

/// What the environment configures.
pub(crate) struct Vars {
    pub(crate) linkv: Option<LinkvCredentials>,
    pub(crate) polyv: Option<PolyvCredentials>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) max_attempts: Option<u32>,
}

fn config(message: String) -> Error {
    Error::Config(message)
}

impl Vars {
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| non_blank(lookup(name));
        Ok(Self {
            linkv: linkv(&get)?,
            polyv: polyv(&get)?,
            attempt_timeout: number(&get, ATTEMPT_TIMEOUT_MS)?.map(Duration::from_millis),
            deadline: number(&get, DEADLINE_MS)?.map(Duration::from_millis),
            max_attempts: number(&get, MAX_ATTEMPTS)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

/// All four LinkV variables, or none of them.
fn linkv(get: &impl Fn(&str) -> Option<String>) -> Result<Option<LinkvCredentials>, Error> {
    let names = [LINKV_APP_ID, LINKV_SECRET, LINKV_ALIAS, LINKV_BASE_URL];
    let values = names.map(get);
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    let [Some(app_id), Some(secret), Some(alias), Some(base_url)] = values else {
        return Err(config(format!(
            "LinkV is configured only in part: {} not set",
            missing.join(", ")
        )));
    };
    LinkvCredentials::new(&app_id, secret, &alias, &base_url)
        .map(Some)
        .map_err(|e| config(format!("LinkV credentials from the environment: {e}")))
}

/// The Polyv app id and secret, with an optional base URL.
fn polyv(get: &impl Fn(&str) -> Option<String>) -> Result<Option<PolyvCredentials>, Error> {
    let (app_id, secret) = match (get(POLYV_APP_ID), get(POLYV_SECRET)) {
        (None, None) => return Ok(None),
        (Some(a), Some(s)) => (a, s),
        (None, Some(_)) => return Err(config(format!("{POLYV_APP_ID} is not set"))),
        (Some(_), None) => return Err(config(format!("{POLYV_SECRET} is not set"))),
    };
    let invalid = |e: liveapi_request::CredentialsError| {
        config(format!("Polyv credentials from the environment: {e}"))
    };
    let mut creds = PolyvCredentials::new(&app_id, secret).map_err(invalid)?;
    if let Some(url) = get(POLYV_BASE_URL) {
        creds = creds.with_base_url(&url).map_err(invalid)?;
    }
    if let Some(method) = get(POLYV_SIGNATURE_METHOD) {
        let method = SignatureMethod::parse(method.trim()).map_err(|_| {
            config(format!(
                "{POLYV_SIGNATURE_METHOD} is `{method}`, not MD5 or SHA256"
            ))
        })?;
        creds = creds.with_signature_method(method);
    }
    Ok(Some(creds))
}

fn number(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>, Error> {
    get(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| config(format!("{name} is not a whole number: `{v}`")))
        })
        .transpose()
}
