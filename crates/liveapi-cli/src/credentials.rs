//! Credentials and client settings from flags, falling back to the environment.
//!
//! The flags are laid over the environment variable by variable, and the result is handed
//! to `liveapi`'s own `from_env_with`, so the CLI reads, checks and reports these settings
//! exactly as the SDK does. Each vendor's commands see only that vendor's variables: a
//! half-configured Polyv environment does not break `liveapi linkv`.

use liveapi::Client;

use crate::call;
use crate::env;
use crate::exit::Failure;

/// Settings of the HTTP client, shared by both vendors' commands.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Client settings")]
pub(crate) struct NetFlags {
    /// How long one attempt may take, in milliseconds, at least 1 [env:
    /// LIVEAPI_ATTEMPT_TIMEOUT_MS; default: 10000].
    #[arg(long, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    attempt_timeout_ms: Option<u64>,

    /// How long the call may take in all, retries included, in milliseconds, at least 1
    /// [env: LIVEAPI_DEADLINE_MS; default: 30000].
    #[arg(long, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: Option<u64>,

    /// How many attempts the call gets, retries included, at least 1 [env:
    /// LIVEAPI_MAX_ATTEMPTS; default: 4]. Retries are re-signed and keep the request id.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: Option<u32>,

    /// Allow a plain http:// base URL to a host other than this machine: signatures and
    /// users' data then cross the network unencrypted [env: LIVEAPI_ALLOW_INSECURE_HTTP=1].
    #[arg(long, global = true)]
    allow_insecure_http: bool,

    /// How old a coin change may be and still be sent, in seconds (at least 1), or `off`: an
    /// older one may have been forgotten by the server, so it is refused (exit 6) with
    /// nothing sent [env: LIVEAPI_RESEND_WINDOW_SECS; default: 43200, 12 hours].
    #[arg(long, global = true, value_name = "SECS|off", value_parser = crate::values::resend_window)]
    resend_window: Option<String>,
}

impl NetFlags {
    fn vars(&self) -> [(&'static str, Option<String>); 5] {
        [
            (
                env::ATTEMPT_TIMEOUT_MS,
                self.attempt_timeout_ms.map(|v| v.to_string()),
            ),
            (env::DEADLINE_MS, self.deadline_ms.map(|v| v.to_string())),
            (env::MAX_ATTEMPTS, self.max_attempts.map(|v| v.to_string())),
            (
                env::ALLOW_INSECURE_HTTP,
                self.allow_insecure_http.then(|| "1".to_owned()),
            ),
            (env::RESEND_WINDOW_SECS, self.resend_window.clone()),
        ]
    }
}

/// LinkV credentials; each flag overrides its environment variable.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "LinkV credentials")]
pub(crate) struct LinkvFlags {
    /// The app's live_app_key, sent as app_id [env: LIVEAPI_LINKV_APP_ID].
    #[arg(long, global = true, value_name = "KEY")]
    app_id: Option<String>,

    /// The app's live_app_secret, the decrypted one (see `liveapi decrypt-credentials`)
    /// [env: LIVEAPI_LINKV_SECRET]. Prefer the variable: arguments show in process lists.
    #[arg(long, global = true, value_name = "SECRET")]
    secret: Option<String>,

    /// The app's alias, sent as `channel` with orders; only `order` needs it [env:
    /// LIVEAPI_LINKV_ALIAS].
    #[arg(long, global = true, value_name = "ALIAS")]
    alias: Option<String>,

    /// The app's base URL, such as `https://live.example.com` [env: LIVEAPI_LINKV_BASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,

    #[command(flatten)]
    net: NetFlags,
}

impl LinkvFlags {
    /// A client of the LinkV app these flags and the environment describe.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        let vars = [
            (env::LINKV_APP_ID, self.app_id.clone()),
            (env::LINKV_SECRET, self.secret.clone()),
            (env::LINKV_BASE_URL, self.base_url.clone()),
            (env::LINKV_ALIAS, self.alias.clone()),
        ];
        // The alias alone does not configure LinkV: it is optional.
        client(
            "LinkV",
            "--app-id, --secret and --base-url (and --alias for orders)",
            &vars,
            3,
            &self.net,
        )
    }
}

/// Checks, before anything is announced or sent, that `client` has the app's alias, which
/// `orderSuccess` sends as `channel` (`docs/linkv.md#calls`): without it the order could
/// only fail once on its way.
pub(crate) fn require_alias(client: &Client) -> Result<(), Failure> {
    match client.linkv_credentials().and_then(|c| c.alias()) {
        Some(_) => Ok(()),
        None => Err(Failure::config(format_args!(
            "orders send the app's alias as `channel`, and none is configured: pass --alias or set {} (`liveapi decrypt-credentials` prints it)",
            env::LINKV_ALIAS
        ))),
    }
}

/// Polyv credentials; each flag overrides its environment variable.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Polyv credentials")]
pub(crate) struct PolyvFlags {
    /// The account's appId [env: LIVEAPI_POLYV_APP_ID].
    #[arg(long, global = true, value_name = "APP_ID")]
    app_id: Option<String>,

    /// The account's appSecret [env: LIVEAPI_POLYV_SECRET]. Prefer the variable: arguments
    /// show in process lists.
    #[arg(long, global = true, value_name = "SECRET")]
    secret: Option<String>,

    /// The API host [env: LIVEAPI_POLYV_BASE_URL; default: `https://api.polyv.net`].
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,

    /// The sign digest, MD5 or SHA256 [env: LIVEAPI_POLYV_SIGNATURE_METHOD; default: MD5].
    #[arg(long, global = true, value_name = "METHOD")]
    signature_method: Option<String>,

    #[command(flatten)]
    rate: RateLimitFlags,

    #[command(flatten)]
    net: NetFlags,
}

/// Polyv's rate limit: 1500 requests per 10 s per IP, then a five-minute ban. Scripts that
/// run many `liveapi polyv` at once from one machine share one budget through Redis.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Polyv rate limit")]
pub(crate) struct RateLimitFlags {
    /// The budget: requests per 10 s, or N/<window> such as 100/1s; at most Polyv's 1500 in
    /// any 10 s [env: LIVEAPI_POLYV_RATE_LIMIT; default: 1200].
    #[arg(long, global = true, value_name = "N[/WINDOW]")]
    rate_limit: Option<String>,

    /// How many processes share the budget: each keeps to budget / N, or, with Redis, to that
    /// share while Redis is unreachable [env: LIVEAPI_POLYV_RATE_LIMIT_PROCESSES; required
    /// with Redis].
    #[arg(long, global = true, value_name = "N")]
    rate_limit_processes: Option<u32>,

    /// Share the budget with every process using this Redis, such as redis://host:6379/0,
    /// or rediss://host:6380/0 for TLS, its certificate and host name always verified [env:
    /// LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL]. Prefer the variable when the URL holds a
    /// password: arguments show in process lists.
    #[arg(long, global = true, value_name = "URL")]
    rate_limit_redis_url: Option<String>,

    /// A PEM file of the CA certificates to verify a rediss:// Redis against, instead of the
    /// Mozilla roots [env: LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA].
    #[arg(long, global = true, value_name = "PATH")]
    rate_limit_redis_ca: Option<String>,

    /// A label for the egress IP this machine sends from: one budget per label [env:
    /// LIVEAPI_POLYV_RATE_LIMIT_EGRESS; default: default].
    #[arg(long, global = true, value_name = "LABEL")]
    rate_limit_egress: Option<String>,
}

impl RateLimitFlags {
    fn vars(&self) -> [(&'static str, Option<String>); 5] {
        [
            (env::POLYV_RATE_LIMIT, self.rate_limit.clone()),
            (
                env::POLYV_RATE_LIMIT_PROCESSES,
                self.rate_limit_processes.map(|n| n.to_string()),
            ),
            (
                env::POLYV_RATE_LIMIT_REDIS_URL,
                self.rate_limit_redis_url.clone(),
            ),
            (
                env::POLYV_RATE_LIMIT_REDIS_CA,
                self.rate_limit_redis_ca.clone(),
            ),
            (env::POLYV_RATE_LIMIT_EGRESS, self.rate_limit_egress.clone()),
        ]
    }
}

impl PolyvFlags {
    /// A client of the Polyv account these flags and the environment describe.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        let mut vars = vec![
            (env::POLYV_APP_ID, self.app_id.clone()),
            (env::POLYV_SECRET, self.secret.clone()),
            (env::POLYV_BASE_URL, self.base_url.clone()),
            (env::POLYV_SIGNATURE_METHOD, self.signature_method.clone()),
        ];
        vars.extend(self.rate.vars());
        // The base URL has a default, so it alone does not configure Polyv.
        client("Polyv", "--app-id and --secret", &vars, 2, &self.net)
    }
}

/// Builds a client from `vars` (flag values by variable name) over the environment.
/// `vars` lists every variable of the vendor; unless one of the first `essential` is set,
/// by flag or variable, the vendor counts as not configured at all.
fn client(
    vendor: &str,
    needed: &str,
    vars: &[(&'static str, Option<String>)],
    essential: usize,
    net: &NetFlags,
) -> Result<Client, Failure> {
    let net = net.vars();
    // A blank value is refused, by flag or by variable, before anything reads it: blank would
    // otherwise mean "unset", and a default (a production base URL) would be used instead.
    for (name, flag) in vars.iter().chain(&net) {
        match flag {
            Some(value) if value.trim().is_empty() => {
                let flag = env::flag(name).unwrap_or(name);
                return Err(Failure::usage(format_args!(
                    "{flag} is empty: give it a value, or leave it out"
                )));
            }
            Some(_) => {}
            None => {
                env::checked(name)?;
            }
        }
    }
    let lookup = |name: &str| -> Option<String> {
        let (_, flag) = vars.iter().chain(&net).find(|(n, _)| *n == name)?;
        flag.clone().or_else(|| env::var(name))
    };
    let essential = &vars[..essential.min(vars.len())];
    if essential.iter().all(|(name, _)| lookup(name).is_none()) {
        let names: Vec<&str> = essential.iter().map(|(name, _)| *name).collect();
        return Err(Failure::config(format_args!(
            "no {vendor} credentials: pass {needed}, or set {}",
            names.join(", ")
        )));
    }
    Client::builder()
        .from_env_with(lookup)
        .and_then(liveapi::ClientBuilder::build)
        .map_err(|e| call::failure(&e))
}
