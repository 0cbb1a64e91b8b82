//! A PostgreSQL location read into the driver's settings: `sslmode` and `sslrootcert` taken
//! out (the driver reads neither as libpq does), everything else left to the driver.

use std::path::PathBuf;

use tokio_postgres::config::SslMode as DriverSslMode;

use crate::error::OutboxError;
use crate::location::{Location, key_values, percent_decode};

/// How a connection uses TLS: the `sslmode` values of libpq. Whenever TLS is used the
/// server's certificate is verified, against the Mozilla roots or the CA of `sslrootcert`, and
/// its host name checked: `require` and `verify-ca` verify as much as `verify-full` (stricter
/// than libpq), and nothing turns verification off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SslMode {
    /// Plain text: for a trusted network or a Unix socket. The default when a location says
    /// nothing (as before TLS was supported; libpq's default is `prefer`).
    #[default]
    Disable,
    /// TLS, verified, if the server offers it; plain text if it does not. A server offering
    /// TLS with a certificate that cannot be verified is refused, never fallen back from.
    Prefer,
    /// TLS, verified: the server must offer it.
    Require,
    /// As [`Require`](Self::Require) (libpq checks the CA only; this crate checks the host
    /// name too).
    VerifyCa,
    /// As [`Require`](Self::Require).
    VerifyFull,
}

impl SslMode {
    /// Its libpq name: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// Whether TLS is used at all when the server offers it.
    pub(crate) fn uses_tls(self) -> bool {
        self != Self::Disable
    }

    fn driver(self) -> DriverSslMode {
        match self {
            Self::Disable => DriverSslMode::Disable,
            Self::Prefer => DriverSslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => DriverSslMode::Require,
        }
    }
}

impl std::str::FromStr for SslMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            Self::Disable,
            Self::Prefer,
            Self::Require,
            Self::VerifyCa,
            Self::VerifyFull,
        ]
        .into_iter()
        .find(|mode| mode.name() == text)
        .ok_or_else(|| {
            format!(
                "sslmode `{text}` is not one of disable, prefer, require, verify-ca, verify-full (`allow` is not supported: it prefers plain text)"
            )
        })
    }
}

/// What a location says, read.
pub(crate) struct Settings {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) ssl_mode: Option<SslMode>,
    pub(crate) root_cert: Option<PathBuf>,
}

impl Settings {
    /// Reads the PostgreSQL `location`.
    pub(crate) fn read(location: &Location) -> Result<Self, OutboxError> {
        let bad = |detail: String| OutboxError::BadLocation {
            location: location.redacted().to_owned(),
            detail,
        };
        let Some((text, url)) = location.postgres_text() else {
            return Err(bad("not a PostgreSQL location".to_owned()));
        };
        let mut ssl_mode = None;
        let mut root_cert = None;
        let mut take = |key: &str, value: &str| -> Result<bool, OutboxError> {
            match key {
                "sslmode" => {
                    ssl_mode = Some(value.parse::<SslMode>().map_err(bad)?);
                    Ok(true)
                }
                "sslrootcert" => {
                    root_cert = Some(PathBuf::from(value));
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        let rest = if url {
            // The driver reads the scheme in lower case only.
            let (scheme, after) = text.split_once("://").unwrap_or(("postgres", text));
            let text = format!("{}://{after}", scheme.to_ascii_lowercase());
            match text.split_once('?') {
                None => text.clone(),
                Some((base, query)) => {
                    let mut kept = Vec::new();
                    for pair in query.split('&').filter(|p| !p.is_empty()) {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        if !take(key, &percent_decode(value))? {
                            kept.push(pair);
                        }
                    }
                    if kept.is_empty() {
                        base.to_owned()
                    } else {
                        format!("{base}?{}", kept.join("&"))
                    }
                }
            }
        } else {
            let mut kept = Vec::new();
            for (key, value) in key_values(text) {
                if !take(&key, &value)? {
                    let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
                    kept.push(format!("{key}='{quoted}'"));
                }
            }
            kept.join(" ")
        };
        let mut config: tokio_postgres::Config =
            rest.parse().map_err(|e: tokio_postgres::Error| {
                bad(format!(
                    "it cannot be read as a PostgreSQL {}: {}",
                    if url { "URL" } else { "key=value string" },
                    crate::location::redact_in(&e.to_string(), text)
                ))
            })?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            return Err(bad(
                "it names no host: give host= (or the URL's host), so that the outbox never connects where it was not told to".to_owned(),
            ));
        }
        config.ssl_mode(ssl_mode.unwrap_or_default().driver());
        Ok(Self {
            config,
            ssl_mode,
            root_cert,
        })
    }
}

/// Sets the mode in a driver configuration.
pub(crate) fn apply(config: &mut tokio_postgres::Config, mode: SslMode) {
    config.ssl_mode(mode.driver());
}
