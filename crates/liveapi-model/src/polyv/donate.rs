//! The donate (tipping) calls: update the cash amounts, update the gifts, read the settings,
//! per channel or account-wide.

use serde::Serialize;

use super::{CashSettings, DonateSettings, GoodSettings, PolyvResponse, Scope};

/// The HTTP method of a Polyv call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`, with no body.
    Get,
    /// `POST`, with a JSON body.
    Post,
}

/// What every Polyv donate call has: a path, a method, a scope and maybe a JSON body.
pub trait PolyvRequest {
    /// What the call answers with.
    type Response: PolyvResponse;
    /// The endpoint's name, for logs: `donate/update-cash`.
    const NAME: &'static str;
    /// The path below the API host: `/live/v3/channel/donate/update-cash`.
    const PATH: &'static str;
    /// The HTTP method.
    const METHOD: Method;

    /// The channel or the account; decides the signed `channelId` query parameter.
    fn scope(&self) -> Scope;

    /// The JSON body, if the call has one. It is never signed.
    fn body(&self) -> Option<Vec<u8>>;
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    #[allow(clippy::expect_used)] // An invariant of the types, not an input check.
    serde_json::to_vec(value)
        .expect("settings are plain structs of strings and finite numbers, always serialisable")
}

/// Sets the cash tip amounts of a channel or of the whole account
/// (`POST /live/v3/channel/donate/update-cash`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateCash {
    scope: Scope,
    settings: CashSettings,
}

impl UpdateCash {
    /// Sets `settings` for `scope`.
    ///
    /// ```
    /// use liveapi_model::polyv::*;
    /// let req = UpdateCash::new(
    ///     ChannelId::new(2_149_710)?,
    ///     CashSettings::new(Cashes::parse(["1", "2", "3", "4", "5", "6"])?, "0.5".parse()?),
    /// );
    /// assert_eq!(req.scope().channel().map(ChannelId::get), Some(2_149_710));
    /// assert_eq!(req.body().unwrap(), br#"{"cashes":[1.0,2.0,3.0,4.0,5.0,6.0],"cashMin":0.5}"#);
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    #[must_use]
    pub fn new(scope: impl Into<Scope>, settings: CashSettings) -> Self {
        Self {
            scope: scope.into(),
            settings,
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &CashSettings {
        &self.settings
    }
}

impl PolyvRequest for UpdateCash {
    type Response = ();
    const NAME: &'static str = "donate/update-cash";
    const PATH: &'static str = "/live/v3/channel/donate/update-cash";
    const METHOD: Method = Method::Post;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        Some(to_json(&self.settings))
    }
}

/// Sets the gifts of a channel or of the whole account
/// (`POST /live/v3/channel/donate/update-good`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateGoods {
    scope: Scope,
    settings: GoodSettings,
}

impl UpdateGoods {
    /// Sets `settings` for `scope`.
    #[must_use]
    pub fn new(scope: impl Into<Scope>, settings: GoodSettings) -> Self {
        Self {
            scope: scope.into(),
            settings,
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &GoodSettings {
        &self.settings
    }
}

impl PolyvRequest for UpdateGoods {
    type Response = ();
    const NAME: &'static str = "donate/update-good";
    const PATH: &'static str = "/live/v3/channel/donate/update-good";
    const METHOD: Method = Method::Post;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        Some(to_json(&self.settings))
    }
}

/// Reads the donate settings a channel effectively uses, or the account-wide ones
/// (`GET /live/v3/channel/donate/get`).
///
/// ```
/// use liveapi_model::polyv::{GetDonate, PolyvRequest, Scope};
/// let req = GetDonate::new(Scope::Account);
/// assert!(req.body().is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetDonate {
    scope: Scope,
}

impl GetDonate {
    /// Reads the settings of `scope`.
    #[must_use]
    pub fn new(scope: impl Into<Scope>) -> Self {
        Self {
            scope: scope.into(),
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

impl PolyvRequest for GetDonate {
    type Response = DonateSettings;
    const NAME: &'static str = "donate/get";
    const PATH: &'static str = "/live/v3/channel/donate/get";
    const METHOD: Method = Method::Get;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        None
    }
}
