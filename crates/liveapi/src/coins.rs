//! Coin changes: calls that are given a request id, an expiry and a reason before they are
//! awaited, and that become a [`PendingChange`] to store and send, or resend, verbatim.

use std::future::IntoFuture;
use std::time::SystemTime;

use liveapi_model::linkv::{
    ChangeGold, ChangeReason, ChangeType, CoinRequest, Coins, Expiration, OpenId, OrderId,
    OrderSuccess, PendingChange, Platform, RequestId, UsdCents,
};
use liveapi_request::CallSettings;

use crate::call::{CallFuture, call_settings};
use crate::{Client, Error};

/// The request id and expiry a change is given before it is made, and the setters both kinds
/// of change share.
#[derive(Debug, Default)]
struct Identity {
    request_id: Option<RequestId>,
    expiration: Option<Expiration>,
}

impl Identity {
    /// The request id, expiry and creation time of the change, made now:
    ///
    /// - No request id given: a fresh time-ordered one, made now.
    /// - No expiry given: [`Client::default_expiry`] of the day the request id was made (the
    ///   vendor's own formula, `(time() / 86400 + 91) * 86400`, taken at the id's time rather
    ///   than the clock's), so a resend with only a time-ordered id reproduces the request on
    ///   any later day. An id of the caller's own carries no time: its day is the day the
    ///   change is made, and the [`PendingChange`] keeps the expiry for every resend.
    fn resolve(self, client: &Client) -> Result<(RequestId, Expiration, SystemTime), Error> {
        let id = match self.request_id {
            Some(id) => id,
            None => client.new_request_id()?,
        };
        let created_at = id.created_at().unwrap_or_else(|| client.now());
        let expiration = self
            .expiration
            .unwrap_or_else(|| client.default_expiry(created_at));
        Ok((id, expiration, created_at))
    }
}

/// The request id and expiry setters of a coin change, written once for both kinds.
macro_rules! identity_setters {
    () => {
        /// The idempotency key (default: a fresh, time-ordered one). The same key with the
        /// same parameters applies once.
        pub fn request_id(mut self, id: RequestId) -> Self {
            self.identity.request_id = Some(id);
            self
        }

        /// When added coins expire (default: [`Client::default_expiry`] of the day the
        /// request id was made, or, for an id of your own, of the day the change is made).
        /// Removals and refunds send one too, as the API summary requires on `changeGold` and
        /// `orderSuccess` (`docs/linkv.md#calls`); it has no effect on coins taken away.
        ///
        /// The server deduplicates on the request id *and* the parameters, so a resend must
        /// send the same expiry: resend the stored [`PendingChange`], or the same
        /// time-ordered id, whose default expiry is the same on any day.
        pub fn expires_at(mut self, expiration: Expiration) -> Self {
            self.identity.expiration = Some(expiration);
            self
        }
    };
}

/// A coin change (`changeGold`) of [`Client::add_coins`] or [`Client::remove_coins`], sent when
/// awaited.
///
/// Awaiting it sends the change through [`Client::send_change`]; an error of the call carries
/// the change's [`PendingChange`] ([`Error::pending_change`]) and request id, above all when
/// its outcome is unknown. Dropping the future before it completes also leaves the outcome
/// unknown, and then the change is lost with it: to be safe across crashes, make the change
/// first ([`into_pending`](Self::into_pending)), store it, then send it.
///
/// ```no_run
/// # async fn run(client: liveapi::Client, open_id: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
/// use liveapi::model::linkv::{ChangeReason, Coins};
///
/// // Made and stored before it is sent: a resend after a crash is the same change.
/// let change = client
///     .remove_coins(&open_id, Coins::new(10)?)
///     .reason(ChangeReason::new("gift to a streamer")?)
///     .into_pending()?;
/// // store(&change) with the business operation, then:
/// client.send_change(&change).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a coin change is sent only when awaited"]
pub struct ChangeCoins {
    client: Client,
    open_id: OpenId,
    change_type: ChangeType,
    coins: Coins,
    identity: Identity,
    reason: Option<ChangeReason>,
    settings: CallSettings,
}

impl ChangeCoins {
    pub(crate) fn add(client: Client, open_id: OpenId, coins: Coins) -> Self {
        Self::new(client, open_id, ChangeType::Add, coins)
    }

    pub(crate) fn remove(client: Client, open_id: OpenId, coins: Coins) -> Self {
        Self::new(client, open_id, ChangeType::Remove, coins)
    }

    fn new(client: Client, open_id: OpenId, change_type: ChangeType, coins: Coins) -> Self {
        Self {
            client,
            open_id,
            change_type,
            coins,
            identity: Identity::default(),
            reason: None,
            settings: CallSettings::new(),
        }
    }

    call_settings!();
    identity_setters!();

    /// Why the coins change, kept by LinkV.
    pub fn reason(mut self, reason: ChangeReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The change as a value, every parameter fixed (a request id generated if none was
    /// given): store it, then send it with [`Client::send_change`].
    ///
    /// # Errors
    /// An invalid-input error for zero coins; an error if no request id can be generated.
    pub fn into_pending(self) -> Result<PendingChange, Error> {
        self.build().map(|(_, change)| change)
    }

    /// The request and the change that holds it.
    fn build(self) -> Result<(ChangeGold, PendingChange), Error> {
        let (id, expiration, created_at) = self.identity.resolve(&self.client)?;
        let change = ChangeGold::new(self.open_id, id, self.change_type, self.coins, expiration)?;
        let change = match self.reason {
            Some(reason) => change.with_reason(reason),
            None => change,
        };
        let pending = PendingChange::new(CoinRequest::ChangeGold(change.clone()), created_at);
        Ok((change, pending))
    }
}

impl IntoFuture for ChangeCoins {
    type Output = Result<(), Error>;
    type IntoFuture = CallFuture<()>;

    fn into_future(self) -> Self::IntoFuture {
        let (client, settings) = (self.client.clone(), self.settings);
        Box::pin(async move {
            let (request, change) = self.build()?;
            client.deliver(&request, &change, &settings).await
        })
    }
}

/// A completed top-up order (`orderSuccess`) of [`Client::complete_order`], or its refund of
/// [`Client::refund_order`], sent when awaited; answers the balance after.
///
/// Like [`ChangeCoins`], it becomes a [`PendingChange`] with
/// [`into_pending`](Self::into_pending), and its errors carry that change.
#[derive(Debug)]
#[must_use = "an order is completed only when awaited"]
pub struct CompleteOrder {
    client: Client,
    open_id: OpenId,
    change_type: ChangeType,
    order_id: OrderId,
    coins: Coins,
    money: UsdCents,
    platform: Platform,
    identity: Identity,
    settings: CallSettings,
}

impl CompleteOrder {
    pub(crate) fn new(
        client: Client,
        open_id: OpenId,
        change_type: ChangeType,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> Self {
        Self {
            client,
            open_id,
            change_type,
            order_id,
            coins,
            money,
            platform,
            identity: Identity::default(),
            settings: CallSettings::new(),
        }
    }

    call_settings!();
    identity_setters!();

    /// The order as a value, every parameter fixed (a request id generated if none was
    /// given): store it, then send it with [`Client::send_change`].
    ///
    /// # Errors
    /// As [`ChangeCoins::into_pending`].
    pub fn into_pending(self) -> Result<PendingChange, Error> {
        self.build().map(|(_, change)| change)
    }

    /// The request and the change that holds it.
    fn build(self) -> Result<(OrderSuccess, PendingChange), Error> {
        let (id, expiration, created_at) = self.identity.resolve(&self.client)?;
        let order = OrderSuccess::new(
            self.open_id,
            id,
            self.change_type,
            self.order_id,
            self.coins,
            self.money,
            self.platform,
            expiration,
        )?;
        let pending = PendingChange::new(CoinRequest::Order(order.clone()), created_at);
        Ok((order, pending))
    }
}

impl IntoFuture for CompleteOrder {
    type Output = Result<Coins, Error>;
    type IntoFuture = CallFuture<Coins>;

    fn into_future(self) -> Self::IntoFuture {
        let (client, settings) = (self.client.clone(), self.settings);
        Box::pin(async move {
            let (request, change) = self.build()?;
            client.deliver(&request, &change, &settings).await
        })
    }
}

/// A [`PendingChange`] sent by [`Client::send_change`], when awaited: answers the balance
/// after when the call reports one (`orderSuccess` does, `changeGold` does not).
///
/// Before anything is sent, the change's age is checked against the client's resend window
/// ([`ClientBuilder::resend_window`](crate::ClientBuilder::resend_window)): a change older
/// than that may have been forgotten by the server, so resending it could apply it twice, and
/// it is refused with nothing sent. Every error carries the change
/// ([`Error::pending_change`]).
#[derive(Debug)]
#[must_use = "a coin change is sent only when awaited"]
pub struct SendChange {
    client: Client,
    change: PendingChange,
    settings: CallSettings,
}

impl SendChange {
    pub(crate) fn new(client: Client, change: PendingChange) -> Self {
        Self {
            client,
            change,
            settings: CallSettings::new(),
        }
    }

    call_settings!();
}

impl IntoFuture for SendChange {
    type Output = Result<Option<Coins>, Error>;
    type IntoFuture = CallFuture<Option<Coins>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Self {
                client,
                change,
                settings,
            } = self;
            match change.request() {
                CoinRequest::Order(order) => {
                    client.deliver(order, &change, &settings).await.map(Some)
                }
                CoinRequest::ChangeGold(gold) => client
                    .deliver(gold, &change, &settings)
                    .await
                    .map(|()| None),
            }
        })
    }
}
