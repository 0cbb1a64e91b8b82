//! Which certificates HTTPS connections trust. Verification itself is never optional: there is
//! no setting that turns off certificate or hostname checks.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::TlsSetupError;

/// The root certificates to trust.
#[derive(Clone, Debug)]
pub(crate) struct Roots {
    #[cfg(feature = "webpki-roots")]
    pub(crate) webpki: bool,
    #[cfg(feature = "native-roots")]
    pub(crate) native: bool,
    pub(crate) extra: Vec<CertificateDer<'static>>,
}

// Not derived: the Mozilla roots are trusted unless turned off.
#[allow(clippy::derivable_impls)] // Derivable only in builds without `webpki-roots`.
impl Default for Roots {
    fn default() -> Self {
        Self {
            #[cfg(feature = "webpki-roots")]
            webpki: true,
            #[cfg(feature = "native-roots")]
            native: false,
            extra: Vec::new(),
        }
    }
}

impl Roots {
    /// Adds every certificate of a PEM document.
    pub(crate) fn add_pem(&mut self, pem: &[u8]) -> Result<(), TlsSetupError> {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| TlsSetupError::Certificate(e.to_string()))?;
            self.extra.push(cert);
            added += 1;
        }
        if added == 0 {
            return Err(TlsSetupError::Certificate(
                "no CERTIFICATE block found".to_owned(),
            ));
        }
        Ok(())
    }

    fn store(&self) -> Result<RootCertStore, TlsSetupError> {
        #[allow(unused_mut)]
        // Nothing is added before the extra certificates without root features.
        let mut store = RootCertStore::empty();
        #[cfg(feature = "webpki-roots")]
        if self.webpki {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native {
            let loaded = rustls_native_certs::load_native_certs();
            if loaded.certs.is_empty()
                && let Some(e) = loaded.errors.first()
            {
                return Err(TlsSetupError::NativeRoots(e.to_string()));
            }
            // A few unreadable system certificates are normal; the rest are still useful.
            store.add_parsable_certificates(loaded.certs);
        }
        for cert in &self.extra {
            store
                .add(cert.clone())
                .map_err(|e| TlsSetupError::Certificate(e.to_string()))?;
        }
        if store.is_empty() {
            return Err(TlsSetupError::NoRoots);
        }
        Ok(store)
    }

    /// A rustls client configuration with the ring provider, TLS 1.2 and 1.3, these roots.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, TlsSetupError> {
        Ok(
            rustls::ClientConfig::builder_with_provider(crypto_provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsSetupError::Tls(e.to_string()))?
                .with_root_certificates(self.store()?)
                .with_no_client_auth(),
        )
    }
}

/// The cryptography every TLS connection of the SDK uses: rustls' *ring* provider (TLS 1.2 and
/// 1.3, the default cipher suites and key exchange groups).
///
/// rustls 0.23.48 deprecated the function that makes it, because *ring* has no post-quantum key
/// exchange; the vendors' servers offer none either, and the other provider (aws-lc-rs) would
/// add a C and CMake build to every user's. So the provider is made here, in one place, with
/// the deprecation allowed, and tests and tools that need a provider take it from here.
///
/// ```
/// let provider = liveapi_hyper::crypto_provider();
/// assert!(!provider.cipher_suites.is_empty());
/// ```
#[must_use]
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}
