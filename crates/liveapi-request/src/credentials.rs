//! Who is calling: app ids, signing secrets, aliases and base URLs.

use std::fmt;

use liveapi_sign::polyv::SignatureMethod;

use crate::{BaseUrl, Secret};

/// Credentials that cannot be used.
///
/// No variant carries a secret or a part of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A field is empty.
    #[error("{field} is empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A field has characters that cannot travel in a request, or is too long.
    #[error("{field} is invalid: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        why: &'static str,
    },
    /// The base URL is unusable.
    #[error("base URL is invalid: {why}")]
    BaseUrl {
        /// Why.
        why: &'static str,
    },
    /// The console's encrypted `app_secret` could not be decrypted.
    #[error("cannot decrypt the console app_secret: {why}")]
    Console {
        /// Why (never the plaintext).
        why: &'static str,
    },
}

/// An identifier: 1 to `max` printable ASCII characters without spaces.
fn identifier(field: &'static str, value: &str, max: usize) -> Result<String, CredentialsError> {
    if value.is_empty() {
        return Err(CredentialsError::Empty { field });
    }
    if value.len() > max {
        return Err(CredentialsError::Invalid {
            field,
            why: "it is too long",
        });
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CredentialsError::Invalid {
            field,
            why: "only printable ASCII without spaces is allowed",
        });
    }
    Ok(value.to_owned())
}

fn secret(field: &'static str, secret: Secret) -> Result<Secret, CredentialsError> {
    if secret.is_empty() {
        return Err(CredentialsError::Empty { field });
    }
    Ok(secret)
}

/// LinkV live credentials, already decrypted: `live_app_key` (sent as `app_id`),
/// `live_app_secret` (signs), the app's alias (sent as `channel`) and the app's base URL.
///
/// `Debug` never shows the secret.
///
/// ```
/// use liveapi_request::LinkvCredentials;
/// let creds = LinkvCredentials::new("demo_app_key", "demo_app_secret", "demo", "http://127.0.0.1:8080")?;
/// let debug = format!("{creds:?}");
/// assert!(debug.contains("demo_app_key") && !debug.contains("demo_app_secret"));
/// # Ok::<(), liveapi_request::CredentialsError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LinkvCredentials {
    app_id: String,
    secret: Secret,
    alias: String,
    base_url: BaseUrl,
}

impl LinkvCredentials {
    /// Checks and bundles the credentials.
    ///
    /// # Errors
    /// A [`CredentialsError`] for an empty or malformed field or base URL.
    pub fn new(
        app_id: &str,
        secret: impl Into<Secret>,
        alias: &str,
        base_url: &str,
    ) -> Result<Self, CredentialsError> {
        Ok(Self {
            app_id: identifier("live_app_key", app_id, 128)?,
            secret: self::secret("live_app_secret", secret.into())?,
            alias: identifier("alias", alias, 128)?,
            base_url: BaseUrl::parse(base_url)?,
        })
    }

    /// The `app_id` parameter (the console's `live_app_key`).
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The signing secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The app's alias, sent as `channel` by `orderSuccess`.
    #[must_use]
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The app's base URL.
    #[must_use]
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }
}

impl fmt::Debug for LinkvCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkvCredentials")
            .field("app_id", &self.app_id)
            .field("secret", &self.secret)
            .field("alias", &self.alias)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Polyv's public API host.
pub const POLYV_BASE_URL: &str = "https://api.polyv.net";

/// Polyv live credentials: `appId`, `appSecret`, the API host and the signature method.
///
/// `Debug` never shows the secret.
///
/// ```
/// use liveapi_request::PolyvCredentials;
/// let creds = PolyvCredentials::new("demo_polyv_app", "demo_polyv_secret")?;
/// assert_eq!(creds.base_url().to_string(), "https://api.polyv.net");
/// assert!(!format!("{creds:?}").contains("demo_polyv_secret"));
/// # Ok::<(), liveapi_request::CredentialsError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PolyvCredentials {
    app_id: String,
    secret: Secret,
    base_url: BaseUrl,
    signature_method: SignatureMethod,
}

impl PolyvCredentials {
    /// Credentials for the public API host, signing with MD5.
    ///
    /// # Errors
    /// A [`CredentialsError`] for an empty or malformed field.
    pub fn new(app_id: &str, secret: impl Into<Secret>) -> Result<Self, CredentialsError> {
        Ok(Self {
            app_id: identifier("appId", app_id, 128)?,
            secret: self::secret("appSecret", secret.into())?,
            base_url: BaseUrl::parse(POLYV_BASE_URL)?,
            signature_method: SignatureMethod::Md5,
        })
    }

    /// Sends calls to another host (an emulator, a proxy).
    ///
    /// # Errors
    /// [`CredentialsError::BaseUrl`] for an unusable URL.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, CredentialsError> {
        self.base_url = BaseUrl::parse(base_url)?;
        Ok(self)
    }

    /// Signs with SHA-256 (`signatureMethod=SHA256`, needs the `sha256` feature) or MD5.
    #[must_use]
    pub fn with_signature_method(mut self, method: SignatureMethod) -> Self {
        self.signature_method = method;
        self
    }

    /// The `appId` parameter.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The signing secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The API host.
    #[must_use]
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The signature method.
    #[must_use]
    pub fn signature_method(&self) -> SignatureMethod {
        self.signature_method
    }
}

impl fmt::Debug for PolyvCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolyvCredentials")
            .field("app_id", &self.app_id)
            .field("secret", &self.secret)
            .field("base_url", &self.base_url)
            .field("signature_method", &self.signature_method)
            .finish()
    }
}
