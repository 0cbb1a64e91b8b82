//! Coin changes, as calls that can be given a request id, an expiry and a reason before they
//! are awaited.

use std::future::IntoFuture;

use liveapi_model::linkv::{
    ChangeGold, ChangeReason, ChangeType, Coins, Expiration, OpenId, OrderId, OrderSuccess,
    Platform, RequestId, UsdCents,
};
use liveapi_request::CallSettings;

use crate::call::{CallFuture, call_settings};
use crate::{Client, Error};

/// The request id to send: the caller's, or a fresh one.
fn request_id(client: &Client, given: Option<RequestId>) -> Result<RequestId, Error> {
    match given {
        Some(id) => Ok(id),
        None => client.new_request_id(),
    }
}

/// The expiry to send: the caller's, or the start of the UTC day the coin lifetime ahead,
/// which stays the same all day so that a resend with the same request id later that day is
/// the same request.
fn expiration(client: &Client, given: Option<Expiration>) -> Expiration {
    given.unwrap_or_else(|| Expiration::days_from_today(client.now(), client.coin_lifetime_days()))
}

/// A coin change (`changeGold`) of [`Client::add_coins`] or [`Client::remove_coins`], sent when
/// awaited.
///
/// ```no_run
/// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
/// use liveapi::model::linkv::{ChangeReason, Coins};
///
/// // An id stored with the business operation makes a resend after a crash safe.
/// let id = client.new_request_id()?;
/// client
///     .remove_coins(&uid, Coins::new(10)?)
///     .request_id(id)
///     .reason(ChangeReason::new("gift to a streamer")?)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a coin change is sent only when awaited"]
pub struct ChangeCoins {
    client: Client,
    uid: OpenId,
    change_type: ChangeType,
    coins: Coins,
    request_id: Option<RequestId>,
    expiration: Option<Expiration>,
    reason: Option<ChangeReason>,
    settings: CallSettings,
}

impl ChangeCoins {
    pub(crate) fn add(client: Client, uid: OpenId, coins: Coins) -> Self {
        Self::new(client, uid, ChangeType::Add, coins)
    }

    pub(crate) fn remove(client: Client, uid: OpenId, coins: Coins) -> Self {
        Self::new(client, uid, ChangeType::Remove, coins)
    }

    fn new(client: Client, uid: OpenId, change_type: ChangeType, coins: Coins) -> Self {
        Self {
            client,
            uid,
            change_type,
            coins,
            request_id: None,
            expiration: None,
            reason: None,
            settings: CallSettings::new(),
        }
    }

    call_settings!();

    /// The idempotency key (default: a fresh one). The same key sent twice applies once.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }

    /// When added coins expire (default: the start of the UTC day 91 days ahead, the client's
    /// coin lifetime). Ignored by the server for removals; the seed requires one on them too,
    /// so one is always sent.
    ///
    /// The server deduplicates on the request id *and* the parameters, so a resend must send
    /// the same expiry. The default is the same all day; to resend on a later day, store the
    /// expiry with the request id, or store the whole request from
    /// [`into_request`](Self::into_request) and send it with [`Client::execute`].
    pub fn expires_at(mut self, expiration: Expiration) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// Why the coins change, kept by LinkV.
    pub fn reason(mut self, reason: ChangeReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The request this call sends, with its request id fixed (generated if none was given).
    ///
    /// # Errors
    /// An invalid-input error for zero coins; a build error if no request id can be generated.
    pub fn into_request(self) -> Result<ChangeGold, Error> {
        let change = ChangeGold::new(
            self.uid,
            request_id(&self.client, self.request_id)?,
            self.change_type,
            self.coins,
            expiration(&self.client, self.expiration),
        )?;
        Ok(match self.reason {
            Some(reason) => change.with_reason(reason),
            None => change,
        })
    }
}

impl IntoFuture for ChangeCoins {
    type Output = Result<(), Error>;
    type IntoFuture = CallFuture<()>;

    fn into_future(self) -> Self::IntoFuture {
        let (client, settings) = (self.client.clone(), self.settings);
        Box::pin(async move { client.send(&self.into_request()?, &settings).await })
    }
}

/// A completed top-up order (`orderSuccess`) of [`Client::complete_order`], or its refund of
/// [`Client::refund_order`], sent when awaited; answers the balance after.
#[derive(Debug)]
#[must_use = "an order is completed only when awaited"]
pub struct CompleteOrder {
    client: Client,
    uid: OpenId,
    change_type: ChangeType,
    order_id: OrderId,
    coins: Coins,
    money: UsdCents,
    platform: Platform,
    request_id: Option<RequestId>,
    expiration: Option<Expiration>,
    settings: CallSettings,
}

impl CompleteOrder {
    pub(crate) fn new(
        client: Client,
        uid: OpenId,
        change_type: ChangeType,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> Self {
        Self {
            client,
            uid,
            change_type,
            order_id,
            coins,
            money,
            platform,
            request_id: None,
            expiration: None,
            settings: CallSettings::new(),
        }
    }

    call_settings!();

    /// The idempotency key (default: a fresh one). The same key sent twice applies once.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }

    /// When the coins expire (default: the start of the UTC day 91 days ahead, the client's
    /// coin lifetime). A resend must send the same expiry: see [`ChangeCoins::expires_at`].
    /// A refund sends one too, as the seed requires on every `orderSuccess`; it has no effect
    /// on removed coins.
    pub fn expires_at(mut self, expiration: Expiration) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// The request this call sends, with its request id fixed (generated if none was given).
    ///
    /// # Errors
    /// An invalid-input error for zero coins; a build error if no request id can be generated.
    pub fn into_request(self) -> Result<OrderSuccess, Error> {
        Ok(OrderSuccess::new(
            self.uid,
            request_id(&self.client, self.request_id)?,
            self.change_type,
            self.order_id,
            self.coins,
            self.money,
            self.platform,
            expiration(&self.client, self.expiration),
        )?)
    }
}

impl IntoFuture for CompleteOrder {
    type Output = Result<Coins, Error>;
    type IntoFuture = CallFuture<Coins>;

    fn into_future(self) -> Self::IntoFuture {
        let (client, settings) = (self.client.clone(), self.settings);
        Box::pin(async move { client.send(&self.into_request()?, &settings).await })
    }
}
