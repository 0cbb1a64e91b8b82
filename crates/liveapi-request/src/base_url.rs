//! Where an API lives.

use std::fmt;
use std::str::FromStr;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

use liveapi_model::Vendor;

use crate::CredentialsError;

/// The base URL of an API: `http` or `https`, a host, and optionally a path prefix
/// (`https://gateway.example.com/linkv`). Call paths are appended to it.
///
/// ```
/// use liveapi_request::BaseUrl;
/// let base: BaseUrl = "https://api.polyv.net/".parse()?;
/// assert_eq!(base.to_string(), "https://api.polyv.net");
/// assert!(base.is_https());
/// assert!("ftp://example.com".parse::<BaseUrl>().is_err());
/// assert!("https://example.com/?a=1".parse::<BaseUrl>().is_err());
/// # Ok::<(), liveapi_request::CredentialsError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    /// The path prefix without a trailing slash; empty for none.
    prefix: String,
}

impl BaseUrl {
    /// Parses and checks a base URL.
    ///
    /// # Errors
    /// [`CredentialsError::BaseUrl`] unless it is an absolute `http`/`https` URL without query
    /// or fragment.
    pub fn parse(url: &str) -> Result<Self, CredentialsError> {
        let invalid = |why: &'static str| CredentialsError::BaseUrl { why };
        if url.contains('#') {
            return Err(invalid("it has a fragment"));
        }
        let uri: Uri = url.trim().parse().map_err(|_| invalid("it is not a URL"))?;
        let scheme = uri.scheme().cloned().ok_or(invalid("it has no scheme"))?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(invalid("the scheme is not http or https"));
        }
        let authority = uri.authority().cloned().ok_or(invalid("it has no host"))?;
        if authority.host().is_empty() {
            return Err(invalid("it has no host"));
        }
        if authority.as_str().contains('@') {
            return Err(invalid("it carries user information"));
        }
        if uri.query().is_some() {
            return Err(invalid("it has a query"));
        }
        Ok(Self {
            scheme,
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// Whether requests go over TLS.
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    /// Whether the host is this machine: `localhost` or a loopback address.
    ///
    /// ```
    /// use liveapi_request::BaseUrl;
    /// assert!(BaseUrl::parse("http://127.0.0.1:8080")?.is_loopback());
    /// assert!(BaseUrl::parse("http://[::1]:8080")?.is_loopback());
    /// assert!(BaseUrl::parse("http://LocalHost")?.is_loopback());
    /// assert!(!BaseUrl::parse("http://live.example.com")?.is_loopback());
    /// # Ok::<(), liveapi_request::CredentialsError>(())
    /// ```
    #[must_use]
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.authority.host())
    }

    /// Whether what is sent to this URL is protected in transit: `https`, or plain `http` to
    /// this machine only. Signatures and the data of users must not cross a network in clear
    /// text, so clients refuse other plain-HTTP URLs unless told otherwise.
    #[must_use]
    pub fn is_protected(&self) -> bool {
        self.is_https() || self.is_loopback()
    }

    /// Refuses this URL unless [what is sent to it is protected](Self::is_protected), for
    /// `vendor`'s calls.
    ///
    /// ```
    /// use liveapi_request::{BaseUrl, Vendor};
    /// assert!(BaseUrl::parse("https://live.example.com")?.require_protected(Vendor::Linkv).is_ok());
    /// let err = BaseUrl::parse("http://live.example.com")?.require_protected(Vendor::Linkv).unwrap_err();
    /// assert_eq!(err.host(), "live.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`InsecureHttp`] for plain `http://` to a host other than this machine.
    pub fn require_protected(&self, vendor: Vendor) -> Result<(), InsecureHttp> {
        if self.is_protected() {
            Ok(())
        } else {
            Err(InsecureHttp::new(vendor, self.authority.host()))
        }
    }

    /// The host and port.
    #[must_use]
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The URI of `path` (which starts with `/`) with an optional, already encoded query.
    pub(crate) fn join(&self, path: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        let path_and_query = match (self.prefix.is_empty(), query) {
            (true, None) => PathAndQuery::try_from(path)?,
            _ => {
                let mut text = format!("{}{path}", self.prefix);
                if let Some(query) = query {
                    text.push('?');
                    text.push_str(query);
                }
                PathAndQuery::try_from(text)?
            }
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Ok(Uri::from_parts(parts)?)
    }
}

fn is_loopback_host(host: &str) -> bool {
    // Checked on every attempt: the common spellings are answered without parsing an address.
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return true;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// [`BaseUrl::require_protected`] for the URI of a built request.
pub(crate) fn require_protected(uri: &Uri, vendor: Vendor) -> Result<(), InsecureHttp> {
    if uri.scheme() == Some(&Scheme::HTTPS) || uri.host().is_some_and(is_loopback_host) {
        Ok(())
    } else {
        Err(InsecureHttp::new(vendor, uri.host().unwrap_or("(no host)")))
    }
}

/// A base URL is plain `http://` to a host other than this machine, and insecure HTTP was not
/// allowed: signatures and users' data would cross the network unencrypted. The client
/// refuses it when it is built, the engine before each request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {vendor} base URL is plain http to {host}: use https, or allow insecure http \
     (ClientBuilder::allow_insecure_http, EngineBuilder::allow_insecure_http, \
     LIVEAPI_ALLOW_INSECURE_HTTP=1)"
)]
pub struct InsecureHttp {
    vendor: Vendor,
    host: String,
}

impl InsecureHttp {
    /// Plain HTTP to `host` for `vendor`'s calls.
    #[must_use]
    pub fn new(vendor: Vendor, host: impl Into<String>) -> Self {
        Self {
            vendor,
            host: host.into(),
        }
    }

    /// The vendor whose base URL it is.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The host the requests were for.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl FromStr for BaseUrl {
    type Err = CredentialsError;

    fn from_str(s: &str) -> Result<Self, CredentialsError> {
        Self::parse(s)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({self})")
    }
}
