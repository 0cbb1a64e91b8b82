//! What a `rediss://` connection trusts, and the cryptography it runs on.
//!
//! Certificate and host name verification are always on: the `redis` crate is built without
//! its `tls-rustls-insecure` feature, and a URL asking for no verification (`#insecure`) is
//! refused here, in case another crate of the application turns that feature on. Without a
//! CA of its own, a connection trusts the Mozilla roots, as the SDK's HTTPS does.

use std::fmt;
use std::path::PathBuf;

use redis::ConnectionAddr;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::RedisLimiterError;

/// The CA a `rediss://` connection trusts instead of the Mozilla roots.
#[derive(Clone)]
pub(super) enum Ca {
    /// A PEM file, read when the limiter is built.
    File(PathBuf),
    /// PEM text.
    Pem(Vec<u8>),
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
        }
    }
}

impl Ca {
    /// The PEM text, checked to hold at least one certificate, each usable as a trust anchor:
    /// a CA that cannot work is a setting's mistake, told when the limiter is built rather
    /// than as a failed connection later.
    fn pem(&self) -> Result<Vec<u8>, RedisLimiterError> {
        let pem = match self {
            Self::File(path) => std::fs::read(path).map_err(|e| RedisLimiterError::Ca {
                problem: format!("cannot read {}: {e}", path.display()),
            })?,
            Self::Pem(pem) => pem.clone(),
        };
        let mut store = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| RedisLimiterError::Ca {
                problem: format!("the PEM does not parse: {e}"),
            })?;
            store.add(cert).map_err(|e| RedisLimiterError::Ca {
                problem: format!("a certificate cannot be trusted: {e}"),
            })?;
        }
        if store.is_empty() {
            return Err(RedisLimiterError::Ca {
                problem: "no CERTIFICATE block found".to_owned(),
            });
        }
        Ok(pem)
    }
}

/// The `redis` client for `url`, over TLS with verification for `rediss://` and
/// `valkeys://`, trusting `ca` when given. Errors never show the URL.
pub(super) fn client(url: &str, ca: Option<&Ca>) -> Result<redis::Client, RedisLimiterError> {
    let unparsed = || RedisLimiterError::Url {
        problem: "it does not parse",
    };
    let client = redis::Client::open(url).map_err(|_| unparsed())?;
    match (client.get_connection_info().addr(), ca) {
        (ConnectionAddr::TcpTls { insecure: true, .. }, _) => Err(RedisLimiterError::Url {
            problem: "it asks for no certificate verification (#insecure), which is never done",
        }),
        (ConnectionAddr::TcpTls { .. }, Some(ca)) => redis::Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.pem()?),
            },
        )
        .map_err(|_| unparsed()),
        (ConnectionAddr::TcpTls { .. }, None) => Ok(client),
        (_, Some(_)) => Err(RedisLimiterError::Url {
            problem: "a CA certificate was given, but the URL is not rediss:// or valkeys://, so the connection would not be encrypted",
        }),
        (_, None) => Ok(client),
    }
}

/// Whether `client` connects over TLS.
pub(super) fn is_tls(client: &redis::Client) -> bool {
    matches!(
        client.get_connection_info().addr(),
        ConnectionAddr::TcpTls { .. }
    )
}

/// Makes the SDK's rustls provider the process's default, unless the application installed
/// one. The `redis` crate builds its TLS configuration on the process default; without one,
/// rustls picks one by its crate features, and panics where an application's dependencies
/// enable two. Where the SDK's (*ring*) is the only one compiled in, this is the provider
/// rustls would pick anyway.
pub(super) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may have installed one meanwhile: then that one is used.
        let _ = sdk_provider().install_default();
    }
}

/// The SDK's one provider ([`crate::tls::crypto_provider`]), by value as rustls installs it.
fn sdk_provider() -> rustls::crypto::CryptoProvider {
    std::sync::Arc::unwrap_or_clone(crate::tls::crypto_provider())
}
