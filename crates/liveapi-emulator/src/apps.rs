//! The apps the emulator knows, and their credentials as plain data.
//!
//! This crate sits below `liveapi-request`, so it cannot hand out that crate's credential
//! types; tests build them from these fields.

use std::fmt;

/// The demo LinkV `live_app_key`, sent as `app_id`: 24 characters, `LM` and 22 digits, the
/// shape of a real key (`docs/linkv.md#what-the-official-sdks-send`), so that the request ids
/// the official SDKs build from it (the key without `LM`, `-`, 9 random characters) come out
/// at their real length of 32.
pub const DEMO_LINKV_APP_KEY: &str = "LM6000100000000000000042";
/// The demo LinkV `live_app_secret`.
pub const DEMO_LINKV_APP_SECRET: &str = "demo_app_secret";
/// The demo LinkV app alias, sent as `channel` by `orderSuccess`.
pub const DEMO_LINKV_ALIAS: &str = "demo";
/// The demo Polyv `appId`.
pub const DEMO_POLYV_APP_ID: &str = "demo_polyv_app";
/// The demo Polyv `appSecret`.
pub const DEMO_POLYV_SECRET: &str = "demo_polyv_secret";
/// The demo Polyv app's channels.
pub const DEMO_POLYV_CHANNELS: [u64; 2] = [1_000_001, 1_000_002];

/// A LinkV app: what its console would issue, already decrypted.
///
/// `Debug` does not print the secret.
///
/// ```
/// use liveapi_emulator::LinkvApp;
/// let app = LinkvApp::demo();
/// assert_eq!(app.app_key, "LM6000100000000000000042");
/// assert!(!format!("{app:?}").contains(&app.app_secret));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkvApp {
    /// `live_app_key`: the `app_id` parameter.
    pub app_key: String,
    /// `live_app_secret`: signs every request.
    pub app_secret: String,
    /// The app's alias: the `channel` parameter of `orderSuccess`.
    pub alias: String,
}

impl LinkvApp {
    /// An app with these credentials.
    #[must_use]
    pub fn new(
        app_key: impl Into<String>,
        app_secret: impl Into<String>,
        alias: impl Into<String>,
    ) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            alias: alias.into(),
        }
    }

    /// The demo app: `LM6000100000000000000042` / `demo_app_secret`, alias `demo`.
    #[must_use]
    pub fn demo() -> Self {
        Self::new(DEMO_LINKV_APP_KEY, DEMO_LINKV_APP_SECRET, DEMO_LINKV_ALIAS)
    }
}

impl fmt::Debug for LinkvApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkvApp")
            .field("app_key", &self.app_key)
            .field("app_secret", &format_args!("[redacted]"))
            .field("alias", &self.alias)
            .finish()
    }
}

/// A Polyv account: its `appId`, its secret and the channels it owns.
///
/// `Debug` does not print the secret.
///
/// ```
/// use liveapi_emulator::PolyvApp;
/// let app = PolyvApp::demo();
/// assert_eq!(app.channels, vec![1_000_001, 1_000_002]);
/// assert!(!format!("{app:?}").contains(&app.secret));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolyvApp {
    /// The `appId` parameter.
    pub app_id: String,
    /// The `appSecret` that signs every request.
    pub secret: String,
    /// The channels of the account; any other `channelId` is `illegal channel id: N`.
    pub channels: Vec<u64>,
}

impl PolyvApp {
    /// An account with these credentials and channels.
    #[must_use]
    pub fn new(
        app_id: impl Into<String>,
        secret: impl Into<String>,
        channels: impl IntoIterator<Item = u64>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            secret: secret.into(),
            channels: channels.into_iter().collect(),
        }
    }

    /// The demo account: `demo_polyv_app` / `demo_polyv_secret`, channels `1000001` and
    /// `1000002`.
    #[must_use]
    pub fn demo() -> Self {
        Self::new(DEMO_POLYV_APP_ID, DEMO_POLYV_SECRET, DEMO_POLYV_CHANNELS)
    }
}

impl fmt::Debug for PolyvApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolyvApp")
            .field("app_id", &self.app_id)
            .field("secret", &format_args!("[redacted]"))
            .field("channels", &self.channels)
            .finish()
    }
}
