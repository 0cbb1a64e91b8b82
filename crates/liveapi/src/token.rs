//! Registering and logging in users, as calls that can be given a device id before they are
//! awaited.

use std::future::IntoFuture;

use liveapi_model::linkv::{DeviceId, ThGetToken, UserToken};

use crate::coins::CallFuture;
use crate::{Client, Error};

/// A `thGetToken` call of [`Client::register_user`] or [`Client::login_user`], sent when
/// awaited; answers the user's live token and open id.
///
/// ```no_run
/// # async fn run(client: liveapi::Client) -> Result<(), liveapi::Error> {
/// use liveapi::model::linkv::{DeviceId, UserId};
///
/// let user = client
///     .login_user(UserId::new("user-42")?)
///     .aid(DeviceId::new("3f2a9c1e-device")?)
///     .await?;
/// println!("open id {}", user.open_id);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a user is registered or logged in only when awaited"]
pub struct GetToken<'a> {
    client: &'a Client,
    request: ThGetToken,
}

impl<'a> GetToken<'a> {
    pub(crate) fn new(client: &'a Client, request: ThGetToken) -> Self {
        Self { client, request }
    }

    /// Sends the user's device id (`aid`). The 2020 doc requires it and the 2021 doc dropped
    /// it (API-NOTES, endpoints), so it is optional: send it if your LinkV deployment asks
    /// for it.
    pub fn aid(mut self, aid: DeviceId) -> Self {
        self.request = self.request.with_aid(aid);
        self
    }

    /// The request this call sends, to send with [`Client::execute`] or to inspect.
    #[must_use]
    pub fn into_request(self) -> ThGetToken {
        self.request
    }
}

impl<'a> IntoFuture for GetToken<'a> {
    type Output = Result<UserToken, Error>;
    type IntoFuture = CallFuture<'a, UserToken>;

    fn into_future(self) -> Self::IntoFuture {
        let client = self.client;
        Box::pin(async move { client.execute(&self.request).await })
    }
}
