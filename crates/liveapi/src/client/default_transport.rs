//! The default transport, hyper (feature `hyper`): its settings on the client's builder, and
//! how they become the client's transport. Without the feature none of this exists, and a
//! client is given its transport.

use std::time::Duration;

use liveapi_hyper::{HyperTransport, HyperTransportBuilder};
use liveapi_request::{BaseUrl, Vendor};

use super::transport::Transport;
use crate::{ClientBuilder, ConfigError, Error};

/// The hyper transport's settings, as the client's builder has them.
#[derive(Debug)]
pub(super) struct DefaultTransport {
    builder: HyperTransportBuilder,
    /// Whether a setting was given: another transport would silently ignore it.
    configured: bool,
}

impl DefaultTransport {
    pub(super) fn new() -> Self {
        Self {
            builder: HyperTransport::builder(),
            configured: false,
        }
    }

    pub(super) fn configured(&self) -> bool {
        self.configured
    }

    /// Refuses an `https://` base URL in a build whose hyper transport has no TLS.
    pub(super) fn check_url(vendor: Vendor, url: &BaseUrl) -> Result<(), ConfigError> {
        if url.is_https() && !HyperTransport::supports_https() {
            return Err(ConfigError::HttpsWithoutTls { vendor });
        }
        Ok(())
    }

    /// The transport.
    ///
    /// # Errors
    /// A configuration error if TLS cannot be set up.
    pub(super) fn build(self) -> Result<Transport, Error> {
        Ok(Transport::new(self.builder.build()?))
    }
}

/// Settings of the default transport (feature `hyper`): each is an error at
/// [`build`](ClientBuilder::build) next to a transport given with
/// [`transport`](ClientBuilder::transport).
impl ClientBuilder {
    /// How long opening a connection may take (default 5 s). Default transport only (feature
    /// `hyper`).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.hyper.builder = self.hyper.builder.connect_timeout(timeout);
        self.hyper.configured = true;
        self
    }

    /// The most requests in flight at once, and so the most open connections (default 128).
    /// Default transport only (feature `hyper`).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.hyper.builder = self.hyper.builder.max_in_flight(limit);
        self.hyper.configured = true;
        self
    }

    /// The largest response body accepted (default 1 MiB). Default transport only (feature
    /// `hyper`).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.hyper.builder = self.hyper.builder.max_body_bytes(limit);
        self.hyper.configured = true;
        self
    }

    /// Also trusts the CA certificates of a PEM document (a private deployment, a test
    /// server). Verification itself cannot be turned off. Default transport only (feature
    /// `hyper`).
    ///
    /// # Errors
    /// A configuration error if the document holds no readable certificate.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        self.hyper.builder = self.hyper.builder.add_root_certificate_pem(pem)?;
        self.hyper.configured = true;
        Ok(self)
    }

    /// Whether the Mozilla roots compiled in are trusted (default: yes). Default transport
    /// only (feature `hyper`).
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.hyper.builder = self.hyper.builder.webpki_roots(trust);
        self.hyper.configured = true;
        self
    }

    /// Whether the operating system's root certificates are trusted (default: no). Default
    /// transport only.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.hyper.builder = self.hyper.builder.native_roots(trust);
        self.hyper.configured = true;
        self
    }
}
