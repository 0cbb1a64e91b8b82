//! The high-level client: one value per process, for both vendors, over any transport.
//!
//! - `builder`: [`ClientBuilder`], its settings and how they become a client;
//! - `default_transport`: the hyper transport's settings (feature `hyper`);
//! - `timer`: the timer a client waits with unless it is given one;
//! - `polyv_rate_limit`: [`PolyvRateLimit`], what keeps Polyv calls under the vendor's limit;
//! - `transport`: the client's transport behind one trait object, whatever its type;
//! - here: [`Client`] and its calls, and how an operation finds its credentials.

mod builder;
#[cfg(feature = "hyper")]
mod default_transport;
mod polyv_rate_limit;
mod timer;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use liveapi_model::linkv::{
    ChangeType, Coins, Expiration, GetUserTokens, OpenId, OrderId, PendingChange, Platform,
    PortraitUri, RequestId, ThGetToken, UsdCents, UserId, UserName,
};
use liveapi_model::polyv::{CashSettings, GetDonate, GoodSettings, Scope, UpdateCash, UpdateGoods};
use liveapi_request::{
    CallSettings, Engine, LinkvCredentials, Operation, PolyvCredentials, Vendor,
};

pub use builder::{ClientBuilder, DEFAULT_COIN_LIFETIME_DAYS, DEFAULT_RESEND_WINDOW};
pub use polyv_rate_limit::PolyvRateLimit;

use crate::call::Call;
use crate::coins::{ChangeCoins, CompleteOrder, SendChange};
use crate::{ConfigError, Error, ErrorKind};
use transport::Transport;

/// A client of the LinkV and Polyv server APIs.
///
/// It signs every call, sends it through its transport (pooled HTTPS over hyper by default,
/// or any [`AsyncHttpSend`](crate::transport::AsyncHttpSend): see [`ClientBuilder::transport`]), retries what can be retried
/// (re-signed, with the same `request_id`) and returns typed results. Cloning is cheap: clones
/// share the transport and the Polyv rate limit. Build one per process with
/// [`Client::builder`] or [`Client::from_env`].
///
/// A user is named by two ids: [`UserId`], the app's own, given to
/// [`register_user`](Self::register_user) and [`login_user`](Self::login_user), and the
/// [`OpenId`] LinkV answers with, which every coin call takes as `open_id` (the wire's `uid`).
/// A balance is always coins, never the live token of `thGetToken`. The words and their wire
/// names: [docs/vocabulary.md](https://github.com/liveapi-rs/liveapi/blob/main/docs/vocabulary.md).
///
/// Every call is a value that is sent when awaited; its settings can be changed first
/// (`.attempt_timeout(…)`, `.deadline(…)`, `.max_attempts(…)`), and it owns a handle to the
/// client, so its future is `'static` and can be spawned.
///
/// # Dropping a call
///
/// Dropping a call's future before it completes (a `select!`, a timeout around it, a task
/// aborted at shutdown) may leave a request on the wire: for a coin change the outcome is then
/// unknown, as after a timeout, and the request id generated inside the call is lost with it.
/// To stay safe, make the change's request id (or the whole change) first, store it with your
/// business operation, then send it; after any interruption, resend with the same request id.
///
/// ```no_run
/// use liveapi::{Client, LinkvCredentials};
/// use liveapi::model::linkv::{Coins, UserId};
///
/// # async fn run() -> Result<(), liveapi::Error> {
/// let client = Client::builder()
///     .linkv(
///         LinkvCredentials::builder()
///             .app_id("app_key")
///             .secret("app_secret")
///             .base_url("https://live.example.com")
///             .build()?,
///     )
///     .build()?;
/// let user = client.login_user(UserId::new("user-42")?).await?;
/// client.add_coins(&user.open_id, Coins::new(100)?).await?;
/// println!("balance: {}", client.balance(&user.open_id).await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    transport: Transport,
    linkv: Option<LinkvCredentials>,
    polyv: Option<PolyvCredentials>,
    coin_lifetime_days: u32,
    resend_window: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("engine", &self.inner.engine)
            .field("transport", &self.inner.transport.name)
            .field("linkv", &self.inner.linkv)
            .field("polyv", &self.inner.polyv)
            .field("coin_lifetime_days", &self.inner.coin_lifetime_days)
            .field("resend_window", &self.inner.resend_window)
            .finish()
    }
}

/// Credentials the client holds, found by the type an operation asks for. Implemented for
/// [`LinkvCredentials`] and [`PolyvCredentials`] only.
pub trait ClientCredentials: sealed::Sealed + Sized {
    /// The credentials of this type configured on `client`.
    ///
    /// # Errors
    /// A not-configured error if there are none.
    fn of(client: &Client) -> Result<&Self, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for liveapi_request::LinkvCredentials {}
    impl Sealed for liveapi_request::PolyvCredentials {}
}

impl ClientCredentials for LinkvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .inner
            .linkv
            .as_ref()
            .ok_or_else(|| ConfigError::NotConfigured(Vendor::Linkv).into())
    }
}

impl ClientCredentials for PolyvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .inner
            .polyv
            .as_ref()
            .ok_or_else(|| ConfigError::NotConfigured(Vendor::Polyv).into())
    }
}

impl Client {
    /// A builder with the defaults and no credentials.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from environment variables only.
    ///
    /// # Errors
    /// As [`ClientBuilder::from_env`] and [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env()?.build()
    }

    /// The LinkV credentials, if configured.
    #[must_use]
    pub fn linkv_credentials(&self) -> Option<&LinkvCredentials> {
        self.inner.linkv.as_ref()
    }

    /// The Polyv credentials, if configured.
    #[must_use]
    pub fn polyv_credentials(&self) -> Option<&PolyvCredentials> {
        self.inner.polyv.as_ref()
    }

    /// The call engine: its retry policy, timeouts, clock and rate limiter.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The time by the client's clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.inner.engine.context().now()
    }

    /// How many days coins added without an explicit expiry live
    /// ([`ClientBuilder::coin_lifetime_days`], default [`DEFAULT_COIN_LIFETIME_DAYS`]).
    #[must_use]
    pub fn coin_lifetime_days(&self) -> u32 {
        self.inner.coin_lifetime_days
    }

    /// The expiry a coin change made at `made` gets unless it is given one: the start of that
    /// UTC day plus [the coin lifetime](Self::coin_lifetime_days), the vendor's own formula
    /// (`(time() / 86400 + 91) * 86400`, `docs/linkv.md#calls`). A change's `made` is the time
    /// its request id carries, or, for an id of your own, when the change was made.
    ///
    /// ```
    /// # fn run(client: liveapi::Client) {
    /// use std::time::{Duration, UNIX_EPOCH};
    /// // 2023-11-14 22:13:20 UTC: the day starts at 1 699 920 000; 91 days later.
    /// let made = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// assert_eq!(client.default_expiry(made).unix_seconds(), 1_699_920_000 + 91 * 86_400);
    /// # }
    /// ```
    #[must_use]
    pub fn default_expiry(&self, made: SystemTime) -> Expiration {
        Expiration::days_from_today(made, self.inner.coin_lifetime_days)
    }

    /// How old a coin change may be and still be sent.
    #[must_use]
    pub fn resend_window(&self) -> Option<Duration> {
        self.inner.resend_window
    }

    /// Sends a coin change made before ([`ChangeCoins::into_pending`],
    /// [`CompleteOrder::into_pending`]) and stored, or resends one whose outcome was unknown:
    /// the same business parameters every time, freshly signed, so the server applies it once.
    /// Answers the balance after when the call reports one (an order).
    ///
    /// Nothing is sent for a change older than the [resend window](ClientBuilder::resend_window).
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client, open_id: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{Coins, PendingChange};
    ///
    /// let change = client.add_coins(&open_id, Coins::new(5)?).into_pending()?;
    /// let stored = serde_json::to_string(&change).expect("a change serialises");
    /// // … the process restarts …
    /// let change: PendingChange = serde_json::from_str(&stored).expect("as stored");
    /// match client.send_change(&change).await {
    ///     Ok(_) => {}
    ///     Err(e) if e.outcome_unknown() => { /* resend `change` later, as it is */ }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn send_change(&self, change: &PendingChange) -> SendChange {
        SendChange::new(self.clone(), change.clone())
    }

    /// Whether `change` may still be sent: an error if it is older than the
    /// [resend window](ClientBuilder::resend_window) by the client's clock. Sending checks
    /// this too; call it to decide before announcing or queueing a resend.
    ///
    /// # Errors
    /// [`ErrorKind::ResendWindowPassed`] for a change too old to be sent.
    pub fn check_resend_window(&self, change: &PendingChange) -> Result<(), Error> {
        let Some(window) = self.inner.resend_window else {
            return Ok(());
        };
        let age = change.age(self.now());
        if age > window {
            let error = Error::from(ErrorKind::ResendWindowPassed { age, window });
            return Err(error.with_change(change.clone()));
        }
        Ok(())
    }

    /// Sends `request`, the call of `change`, within the resend window; its errors carry the
    /// change.
    pub(crate) async fn deliver<O>(
        &self,
        request: &O,
        change: &PendingChange,
        settings: &CallSettings,
    ) -> Result<O::Output, Error>
    where
        O: Operation,
        O::Credentials: ClientCredentials,
    {
        let sent = match self.check_resend_window(change) {
            Ok(()) => self.send(request, settings).await,
            Err(e) => Err(e),
        };
        sent.map_err(|e| e.with_change(change.clone()))
    }

    /// A fresh idempotency key from the client's CSPRNG.
    ///
    /// Store it with your business operation before the first attempt; sending the same
    /// change again with it, even from another process after a crash, applies it at most once.
    /// The server compares the parameters too, so a resend must carry the same ones, expiry
    /// included (see [`ChangeCoins::expires_at`]).
    ///
    /// # Errors
    /// A build error if the randomness source fails.
    pub fn new_request_id(&self) -> Result<RequestId, Error> {
        Ok(self.inner.engine.context().request_id()?)
    }

    /// Any operation of either vendor, sent with the matching credentials when awaited.
    pub fn execute<O: Operation>(&self, operation: O) -> Call<O> {
        Call::new(self.clone(), operation)
    }

    /// Sends `operation` with `settings`: what every call comes down to.
    pub(crate) async fn send<O>(
        &self,
        operation: &O,
        settings: &CallSettings,
    ) -> Result<O::Output, Error>
    where
        O: Operation,
        O::Credentials: ClientCredentials,
    {
        let credentials = O::Credentials::of(self)?;
        let inner = &*self.inner;
        Ok(inner
            .engine
            .execute_with(&inner.transport, operation, credentials, settings)
            .await?)
    }

    // LinkV.

    /// Registers a user or logs one in, and answers their live token and open id
    /// (`thGetToken`). Use [`register_user`](Self::register_user) or
    /// [`login_user`](Self::login_user) for the common cases.
    pub fn user_token(&self, request: ThGetToken) -> Call<ThGetToken> {
        self.execute(request)
    }

    /// Registers a user (name and portrait are required the first time), or logs them in and
    /// updates both. Await it, optionally after setting the device id
    /// ([`Call::aid`](crate::Call::aid)).
    pub fn register_user(
        &self,
        user_id: UserId,
        name: UserName,
        portrait_uri: PortraitUri,
    ) -> Call<ThGetToken> {
        self.user_token(ThGetToken::register(user_id, name, portrait_uri))
    }

    /// Logs in a registered user and answers a fresh live token. Await it, optionally after
    /// setting the device id ([`Call::aid`](crate::Call::aid)); LinkV refuses a user it has
    /// never seen.
    pub fn login_user(&self, user_id: UserId) -> Call<ThGetToken> {
        self.user_token(ThGetToken::login(user_id))
    }

    /// Completes a top-up order, crediting `coins` to the user `open_id` (`orderSuccess`, which
    /// calls it `uid`); answers the balance after. Await it, optionally after setting a
    /// request id or an expiry.
    ///
    /// An order can be completed once; resending with the same request id is harmless and
    /// answers the same balance.
    pub fn complete_order(
        &self,
        open_id: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder {
        CompleteOrder::new(
            self.clone(),
            open_id.clone(),
            ChangeType::Add,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Refunds a top-up order, taking `coins` back from the user `open_id` (`orderSuccess` with
    /// `type=2`), soonest-expiring first; answers the balance after. Await it, optionally after
    /// setting a request id. LinkV refuses to take a balance below zero.
    ///
    /// A refund is an `orderSuccess` call of its own: give it the order id your payment
    /// provider reports for the refund, and its own request id.
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client, open_id: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
    ///
    /// let balance = client
    ///     .refund_order(&open_id, OrderId::new("refund-of-order-1")?, Coins::new(100)?, UsdCents::new(199), Platform::Ios)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn refund_order(
        &self,
        open_id: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder {
        CompleteOrder::new(
            self.clone(),
            open_id.clone(),
            ChangeType::Remove,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Credits `coins` to the user `open_id` (`changeGold`, type 1). Await it, optionally after
    /// setting a request id, an expiry or a reason.
    pub fn add_coins(&self, open_id: &OpenId, coins: Coins) -> ChangeCoins {
        ChangeCoins::add(self.clone(), open_id.clone(), coins)
    }

    /// Takes `coins` from the user `open_id` (`changeGold`, type 2), soonest-expiring first.
    /// LinkV refuses to take a balance below zero.
    pub fn remove_coins(&self, open_id: &OpenId, coins: Coins) -> ChangeCoins {
        ChangeCoins::remove(self.clone(), open_id.clone(), coins)
    }

    /// The coin balance of the user `open_id` (`getUserTokens`).
    ///
    /// The server may add an `isMigrate` flag to the answer; [`execute`](Self::execute) with a
    /// [`GetUserTokens`] answers the whole [`Balance`](liveapi_model::linkv::Balance) with it.
    pub fn balance(&self, open_id: &OpenId) -> Call<GetUserTokens, Coins> {
        self.execute(GetUserTokens::new(open_id.clone()))
            .map(|balance| balance.coins)
    }

    // Polyv.

    /// Sets the cash tip amounts of a channel, or of the account when `scope` is
    /// [`Scope::Account`] (`donate/update-cash`).
    ///
    /// Only what `settings` gives is changed: [`CashSettings::switch`] turns tips on or off
    /// alone, [`CashSettings::from_parts`] changes any of the three parts. Leaving `enabled`
    /// out leaves the switch as it is; this client never sets it unasked.
    pub fn set_cash_tips(
        &self,
        scope: impl Into<Scope>,
        settings: CashSettings,
    ) -> Call<UpdateCash> {
        self.execute(UpdateCash::new(scope, settings))
    }

    /// Sets the gifts viewers can tip with, for a channel or the account
    /// (`donate/update-good`).
    pub fn set_gift_tips(
        &self,
        scope: impl Into<Scope>,
        settings: GoodSettings,
    ) -> Call<UpdateGoods> {
        self.execute(UpdateGoods::new(scope, settings))
    }

    /// The donate settings a channel effectively uses, or the account-wide ones
    /// (`donate/get`).
    pub fn donate_settings(&self, scope: impl Into<Scope>) -> Call<GetDonate> {
        self.execute(GetDonate::new(scope))
    }
}
