//! Who is calling: app ids, signing secrets, aliases and base URLs.

use liveapi_sign::polyv::SignatureMethod;

use crate::{BaseUrl, Secret};

/// Credentials that cannot be used.
///
/// No variant carries a secret or a part of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A required field was not given.
    #[error(
        "{field} is not set: give it to the credentials builder (.{}(…))",
        setter(field)
    )]
    Missing {
        /// The field.
        field: &'static str,
    },
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

impl CredentialsError {
    /// The credential field at fault: `live_app_key`, `live_app_secret`, `alias`, `appId`,
    /// `appSecret`, `base URL`, or `app_secret` (the console's encrypted one).
    ///
    /// ```
    /// use liveapi_request::CredentialsError;
    /// assert_eq!(CredentialsError::Missing { field: "appId" }.field(), "appId");
    /// assert_eq!(CredentialsError::BaseUrl { why: "it has no host" }.field(), "base URL");
    /// ```
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing { field } | Self::Empty { field } | Self::Invalid { field, .. } => field,
            Self::BaseUrl { .. } => "base URL",
            Self::Console { .. } => "app_secret",
        }
    }
}

/// The builder method that gives `field`.
fn setter(field: &str) -> &'static str {
    match field {
        "live_app_key" | "appId" => "app_id",
        "live_app_secret" | "appSecret" => "secret",
        "alias" => "alias",
        _ => "base_url",
    }
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
/// `live_app_secret` (signs), the app's base URL, and the app's alias (sent as `channel` by
/// `orderSuccess` only, so credentials without one make every other call).
///
/// Built with [`LinkvCredentials::builder`], fields by name. `Debug` never shows the secret.
///
/// ```
/// use liveapi_request::LinkvCredentials;
/// let creds = LinkvCredentials::builder()
///     .app_id("LM6000101140927991745433")
///     .secret("demo_app_secret")
///     .alias("demo")
///     .base_url("https://live.example.com")
///     .build()?;
/// let debug = format!("{creds:?}");
/// assert!(debug.contains("LM6000101140927991745433") && !debug.contains("demo_app_secret"));
/// assert_eq!(creds.alias(), Some("demo"));
/// # Ok::<(), liveapi_request::CredentialsError>(())
/// ```
// `Debug` is derived: the secret is a `Secret`, whose own `Debug` prints `[redacted]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkvCredentials {
    app_id: String,
    secret: Secret,
    alias: Option<String>,
    base_url: BaseUrl,
}

/// Collects [`LinkvCredentials`] field by field; [`build`](Self::build) checks them.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LinkvCredentialsBuilder {
    app_id: Option<String>,
    secret: Option<Secret>,
    alias: Option<String>,
    base_url: Option<String>,
}

impl LinkvCredentialsBuilder {
    /// The console's `live_app_key`, sent as `app_id`.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The decrypted `live_app_secret`.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// The app's `live_app_alias`, sent as `channel` by `orderSuccess` (optional otherwise).
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// The app's LinkV base URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Checks and bundles the credentials.
    ///
    /// # Errors
    /// [`CredentialsError::Missing`] without an app id, secret or base URL; another
    /// [`CredentialsError`] for an empty or malformed field or base URL.
    pub fn build(self) -> Result<LinkvCredentials, CredentialsError> {
        let missing = |field| CredentialsError::Missing { field };
        Ok(LinkvCredentials {
            app_id: identifier(
                "live_app_key",
                &self.app_id.ok_or(missing("live_app_key"))?,
                128,
            )?,
            secret: secret(
                "live_app_secret",
                self.secret.ok_or(missing("live_app_secret"))?,
            )?,
            alias: self
                .alias
                .map(|alias| identifier("alias", &alias, 128))
                .transpose()?,
            base_url: BaseUrl::parse(&self.base_url.ok_or(missing("base URL"))?)?,
        })
    }
}

impl LinkvCredentials {
    /// A builder to fill in by field name.
    pub fn builder() -> LinkvCredentialsBuilder {
        LinkvCredentialsBuilder::default()
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

    /// The app's alias, sent as `channel` by `orderSuccess`, if configured.
    #[must_use]
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The app's base URL.
    #[must_use]
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
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
/// let creds = PolyvCredentials::builder()
///     .app_id("demo_polyv_app")
///     .secret("demo_polyv_secret")
///     .build()?;
/// assert_eq!(creds.base_url().to_string(), "https://api.polyv.net");
/// assert!(!format!("{creds:?}").contains("demo_polyv_secret"));
/// # Ok::<(), liveapi_request::CredentialsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolyvCredentials {
    app_id: String,
    secret: Secret,
    base_url: BaseUrl,
    signature_method: SignatureMethod,
}

impl PolyvCredentials {
    /// A builder, the same way as [`LinkvCredentials::builder`]: the app id and secret are
    /// required; the base URL defaults to the public host ([`POLYV_BASE_URL`]) and the
    /// signature method to MD5.
    ///
    /// ```
    /// use liveapi_request::PolyvCredentials;
    ///
    /// let creds = PolyvCredentials::builder()
    ///     .app_id("my_polyv_app")
    ///     .secret("my_polyv_secret")
    ///     .base_url("http://127.0.0.1:8080") // an emulator; omit for api.polyv.net
    ///     .build()?;
    /// assert_eq!(creds.app_id(), "my_polyv_app");
    /// assert_eq!(creds.base_url().to_string(), "http://127.0.0.1:8080");
    /// assert!(!format!("{creds:?}").contains("my_polyv_secret"));
    /// # Ok::<(), liveapi_request::CredentialsError>(())
    /// ```
    pub fn builder() -> PolyvCredentialsBuilder {
        PolyvCredentialsBuilder::default()
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

/// Builds [`PolyvCredentials`] by field name; see [`PolyvCredentials::builder`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PolyvCredentialsBuilder {
    app_id: Option<String>,
    secret: Option<Secret>,
    base_url: Option<String>,
    signature_method: Option<SignatureMethod>,
}

impl PolyvCredentialsBuilder {
    /// The console's `appId`.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app secret that signs requests.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Another API host (an emulator, a proxy); the public one ([`POLYV_BASE_URL`]) unless
    /// given.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Signs with SHA-256 (`signatureMethod=SHA256`, needs the `sha256` feature); MD5 unless
    /// given.
    pub fn signature_method(mut self, method: SignatureMethod) -> Self {
        self.signature_method = Some(method);
        self
    }

    /// Checks and bundles the credentials.
    ///
    /// # Errors
    /// [`CredentialsError::Missing`] without an app id or secret; another
    /// [`CredentialsError`] for an empty or malformed field or base URL.
    pub fn build(self) -> Result<PolyvCredentials, CredentialsError> {
        let missing = |field| CredentialsError::Missing { field };
        Ok(PolyvCredentials {
            app_id: identifier("appId", &self.app_id.ok_or(missing("appId"))?, 128)?,
            secret: secret("appSecret", self.secret.ok_or(missing("appSecret"))?)?,
            base_url: BaseUrl::parse(self.base_url.as_deref().unwrap_or(POLYV_BASE_URL))?,
            signature_method: self.signature_method.unwrap_or(SignatureMethod::Md5),
        })
    }
}
