//! TLS to PostgreSQL: rustls with the SDK's crypto provider, the certificate always verified
//! against the Mozilla roots or the CA file given (`sslrootcert`), the host name checked.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::connect::bad_root_cert;
use crate::error::OutboxError;

/// The connector: verified TLS, with `root_cert`'s CAs or else the Mozilla roots.
pub(super) fn connector(
    root_cert: Option<&Path>,
    location: &str,
) -> Result<MakeRustlsConnect, OutboxError> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    bad_root_cert(
                        location,
                        format!("sslrootcert {} cannot be read: {e}", path.display()),
                    )
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad_root_cert(
                    location,
                    format!(
                        "sslrootcert {} holds no usable CA certificate",
                        path.display()
                    ),
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(liveapi::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad_root_cert(location, format!("TLS cannot be set up: {e}")))?
        .with_root_certificates(Arc::new(roots))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
