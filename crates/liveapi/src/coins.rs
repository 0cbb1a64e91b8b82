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
use crate::{Client, Error, ErrorKind};

/// The request id, expiry and creation time of a change about to be made.
///
/// - No request id given: a fresh time-ordered one, made now.
/// - No expiry given: the start of the UTC day the request id was made, plus the client's coin
///   lifetime (the vendor's own formula, `(time() / 86400 + 91) * 86400`, taken at the id's
///   time rather than the clock's), so a resend with only the id reproduces the request on
///   any later day.
/// - A caller's id that carries no time, and no expiry: an error, since a resend on another
///   day could not reproduce the expiry.
fn identity(
    client: &Client,
    given_id: Option<RequestId>,
    given_expiry: Option<Expiration>,
) -> Result<(RequestId, Expiration, SystemTime), Error> {
    let id = match given_id {
        Some(id) => id,
        None => client.new_request_id()?,
    };
    let created_at = id.created_at();
    let expiration = match (given_expiry, created_at) {
        (Some(expiration), _) => expiration,
        (None, Some(made)) => Expiration::days_from_today(made, client.coin_lifetime_days()),
        (None, None) => {
            return Err(ErrorKind::ExpiryRequired { request_id: id }.into());
        }
    };
    Ok((id, expiration, created_at.unwrap_or_else(|| client.now())))
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
    request_id: Option<RequestId>,
    expiration: Option<Expiration>,
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
            request_id: None,
            expiration: None,
            reason: None,
            settings: CallSettings::new(),
        }
    }

    call_settings!();

    /// The idempotency key (default: a fresh, time-ordered one). The same key with the same
    /// parameters applies once.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }

    /// When added coins expire (default: the start of the UTC day the request id was made,
    /// plus the client's coin lifetime). Removals send one too, as the API summary requires
    /// (`changeGold` in `docs/linkv.md#calls`); it has no effect on them.
    ///
    /// The server deduplicates on the request id *and* the parameters, so a resend must send
    /// the same expiry. The default derives from the request id alone, so resending with the
    /// same time-ordered id reproduces it on any day; a request id of your own that carries no
    /// time needs the expiry given (or the stored [`PendingChange`]).
    pub fn expires_at(mut self, expiration: Expiration) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// Why the coins change, kept by LinkV.
    pub fn reason(mut self, reason: ChangeReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The change as a value, every parameter fixed (a request id generated if none was
    /// given): store it, then send it with [`Client::send_change`].
    ///
    /// # Errors
    /// An invalid-input error for zero coins; an error if no request id can be generated, or
    /// if a request id without a time is given without an expiry.
    pub fn into_pending(self) -> Result<PendingChange, Error> {
        self.build().map(|(_, change)| change)
    }

    /// The request and the change that holds it.
    fn build(self) -> Result<(ChangeGold, PendingChange), Error> {
        let (id, expiration, created_at) =
            identity(&self.client, self.request_id, self.expiration)?;
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
    request_id: Option<RequestId>,
    expiration: Option<Expiration>,
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
            request_id: None,
            expiration: None,
            settings: CallSettings::new(),
        }
    }

    call_settings!();

    /// The idempotency key (default: a fresh, time-ordered one). The same key with the same
    /// parameters applies once.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }

    /// When the coins expire (default: the start of the UTC day the request id was made, plus
    /// the client's coin lifetime). A resend must send the same expiry: see
    /// [`ChangeCoins::expires_at`]. A refund sends one too, as the API summary requires on
    /// every `orderSuccess` (`docs/linkv.md#calls`); it has no effect on removed coins.
    pub fn expires_at(mut self, expiration: Expiration) -> Self {
        self.expiration = Some(expiration);
        self
    }

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
        let (id, expiration, created_at) =
            identity(&self.client, self.request_id, self.expiration)?;
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
