//! The high-level client: one value per process, for both vendors.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use liveapi_hyper::{Executor, ExecutorBuilder, RateLimit};
use liveapi_model::linkv::{
    ChangeType, Coins, GetUserTokens, OpenId, OrderId, Platform, PortraitUri, RequestId,
    ThGetToken, UsdCents, UserId, UserName, UserToken,
};
use liveapi_model::polyv::{
    CashSettings, DonateSettings, GetDonate, GoodSettings, Scope, UpdateCash, UpdateGoods,
};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{Context, LinkvCredentials, Operation, PolyvCredentials, Vendor};

use crate::coins::{ChangeCoins, CompleteOrder};
use crate::token::GetToken;
use crate::{Error, env};

/// How many days credited coins last unless a call says otherwise: the 91 days of the vendor's
/// own example, counted from the start of the current UTC day.
pub const DEFAULT_COIN_LIFETIME_DAYS: u32 = 91;

/// A client of the LinkV and Polyv server APIs.
///
/// It signs every call, sends it over a pooled HTTPS connection, retries what can be retried
/// (re-signed, with the same `request_id`) and returns typed results. Cloning is cheap: clones
/// share the connection pool and the Polyv rate limit. Build one per process with
/// [`Client::builder`] or [`Client::from_env`].
///
/// ```no_run
/// use liveapi::{Client, LinkvCredentials};
/// use liveapi::model::linkv::{Coins, UserId};
///
/// # async fn run() -> Result<(), liveapi::Error> {
/// let client = Client::builder()
///     .linkv(LinkvCredentials::new("app_key", "app_secret", "alias", "https://live.example.com")?)
///     .build()?;
/// let user = client.login_user(UserId::new("user-42")?).await?;
/// client.add_coins(&user.open_id, Coins::new(100)?).await?;
/// println!("balance: {}", client.balance(&user.open_id).await?);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    executor: Executor,
    linkv: Option<Arc<LinkvCredentials>>,
    polyv: Option<Arc<PolyvCredentials>>,
    coin_lifetime_days: u32,
}

/// Configures a [`Client`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    linkv: Option<LinkvCredentials>,
    polyv: Option<PolyvCredentials>,
    executor: ExecutorBuilder,
    coin_lifetime_days: Option<u32>,
}

impl ClientBuilder {
    /// Talks to LinkV with these credentials.
    pub fn linkv(mut self, credentials: LinkvCredentials) -> Self {
        self.linkv = Some(credentials);
        self
    }

    /// Talks to Polyv with these credentials.
    pub fn polyv(mut self, credentials: PolyvCredentials) -> Self {
        self.polyv = Some(credentials);
        self
    }

    /// How long one attempt may take (default 10 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.executor = self.executor.attempt_timeout(timeout);
        self
    }

    /// How long opening a connection may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.executor = self.executor.connect_timeout(timeout);
        self
    }

    /// How long a call may take in all, retries included (default 30 s; `None`: no limit).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.executor = self.executor.deadline(deadline);
        self
    }

    /// When failed attempts are retried (default [`RetryPolicy::default`]: 4 attempts,
    /// exponential backoff from 100 ms with jitter).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.executor = self.executor.retry_policy(policy);
        self
    }

    /// The client-side limit on Polyv calls (default [`RateLimit::POLYV`]); `None` turns it
    /// off.
    pub fn polyv_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.executor = self.executor.polyv_rate_limit(limit);
        self
    }

    /// The most attempts in flight at once, and so the most open connections (default 128).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.executor = self.executor.max_in_flight(limit);
        self
    }

    /// The largest response body accepted (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.executor = self.executor.max_body_bytes(limit);
        self
    }

    /// How many days credited coins last when a call does not say (default
    /// [`DEFAULT_COIN_LIFETIME_DAYS`]).
    pub fn coin_lifetime_days(mut self, days: u32) -> Self {
        self.coin_lifetime_days = Some(days);
        self
    }

    /// The clock and randomness calls are signed with (default: system clock, OS CSPRNG).
    /// Tests pass a [`ManualClock`](liveapi_request::ManualClock).
    pub fn context(mut self, context: Context) -> Self {
        self.executor = self.executor.context(context);
        self
    }

    /// Also trusts the CA certificates of a PEM document (a private deployment, a test
    /// server). Verification itself cannot be turned off.
    ///
    /// # Errors
    /// [`Error::Executor`] if the document holds no readable certificate.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        self.executor = self.executor.add_root_certificate_pem(pem)?;
        Ok(self)
    }

    /// Whether the Mozilla roots compiled in are trusted (default: yes).
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.executor = self.executor.webpki_roots(trust);
        self
    }

    /// Whether the operating system's root certificates are trusted (default: no).
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.executor = self.executor.native_roots(trust);
        self
    }

    /// Reads credentials and settings from environment variables, over what is set already.
    /// See [the crate docs](crate#configuration-by-environment) for the variables.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is malformed or incomplete.
    pub fn from_env(self) -> Result<Self, Error> {
        self.from_env_with(crate::env::var)
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by `lookup` (for tests
    /// and for configuration kept elsewhere).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use liveapi::Client;
    ///
    /// let vars = HashMap::from([
    ///     ("LIVEAPI_POLYV_APP_ID", "my_app"),
    ///     ("LIVEAPI_POLYV_SECRET", "my_secret"),
    ///     ("LIVEAPI_ATTEMPT_TIMEOUT_MS", "2500"),
    /// ]);
    /// let client = Client::builder()
    ///     .from_env_with(|name| vars.get(name).map(|v| v.to_string()))?
    ///     .build()?;
    /// assert!(client.polyv_credentials().is_some());
    /// assert!(client.linkv_credentials().is_none());
    /// # Ok::<(), liveapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is malformed or incomplete.
    pub fn from_env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = env::Vars::read(lookup)?;
        if let Some(linkv) = vars.linkv {
            self.linkv = Some(linkv);
        }
        if let Some(polyv) = vars.polyv {
            self.polyv = Some(polyv);
        }
        if let Some(t) = vars.attempt_timeout {
            self = self.attempt_timeout(t);
        }
        if let Some(d) = vars.deadline {
            self = self.deadline(Some(d));
        }
        if let Some(n) = vars.max_attempts {
            self = self.retry_policy(RetryPolicy::default().with_max_attempts(n));
        }
        Ok(self)
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] without credentials of either vendor, or with an `https://` base URL
    /// in a build without TLS; [`Error::Executor`] if TLS cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        if self.linkv.is_none() && self.polyv.is_none() {
            return Err(Error::Config(
                "no credentials: configure LinkV, Polyv or both".to_owned(),
            ));
        }
        let https = self.linkv.as_ref().is_some_and(|c| c.base_url().is_https())
            || self.polyv.as_ref().is_some_and(|c| c.base_url().is_https());
        if https && !Executor::supports_https() {
            return Err(Error::Config(
                "an https:// base URL needs TLS: enable the `rustls` feature of liveapi".to_owned(),
            ));
        }
        Ok(Client {
            executor: self.executor.build()?,
            linkv: self.linkv.map(Arc::new),
            polyv: self.polyv.map(Arc::new),
            coin_lifetime_days: self
                .coin_lifetime_days
                .unwrap_or(DEFAULT_COIN_LIFETIME_DAYS),
        })
    }
}

/// Credentials the client holds, found by the type an operation asks for.
pub trait ClientCredentials: Sized {
    /// The credentials of this type configured on `client`.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] if there are none.
    fn of(client: &Client) -> Result<&Self, Error>;
}

impl ClientCredentials for LinkvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .linkv
            .as_deref()
            .ok_or(Error::NotConfigured(Vendor::Linkv))
    }
}

impl ClientCredentials for PolyvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .polyv
            .as_deref()
            .ok_or(Error::NotConfigured(Vendor::Polyv))
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
        self.linkv.as_deref()
    }

    /// The Polyv credentials, if configured.
    #[must_use]
    pub fn polyv_credentials(&self) -> Option<&PolyvCredentials> {
        self.polyv.as_deref()
    }

    /// The executor underneath, for calls through `liveapi-request` directly.
    #[must_use]
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// The time by the client's clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.executor.context().now()
    }

    pub(crate) fn coin_lifetime_days(&self) -> u32 {
        self.coin_lifetime_days
    }

    /// A fresh idempotency key from the client's CSPRNG.
    ///
    /// Store it with your business operation before the first attempt; sending the same
    /// change again with it, even from another process after a crash, applies it at most once.
    /// The server compares the parameters too, so a resend must carry the same ones, expiry
    /// included (see [`ChangeCoins::expires_at`]).
    ///
    /// # Errors
    /// [`Error::Build`] if the randomness source fails.
    pub fn new_request_id(&self) -> Result<RequestId, Error> {
        Ok(self.executor.context().entropy().request_id()?)
    }

    /// Sends any operation of either vendor with the matching credentials.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without the vendor's credentials; otherwise whatever the call
    /// failed with after retries.
    pub async fn execute<O>(&self, operation: &O) -> Result<O::Output, Error>
    where
        O: Operation,
        O::Credentials: ClientCredentials,
        O::Error: Into<Error>,
    {
        let credentials = O::Credentials::of(self)?;
        Ok(self.executor.execute(operation, credentials).await?)
    }

    // LinkV.

    /// Registers a user or logs one in, and returns their live token and open id
    /// (`thGetToken`). Use [`register_user`](Self::register_user) or
    /// [`login_user`](Self::login_user) for the common cases.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn user_token(&self, request: ThGetToken) -> Result<UserToken, Error> {
        self.execute(&request).await
    }

    /// Registers a user (name and portrait are required the first time), or logs them in and
    /// updates both. Await it, optionally after setting the device id
    /// ([`GetToken::aid`]); it fails as [`execute`](Self::execute) does.
    pub fn register_user(
        &self,
        user_id: UserId,
        name: UserName,
        portrait_uri: PortraitUri,
    ) -> GetToken<'_> {
        GetToken::new(self, ThGetToken::register(user_id, name, portrait_uri))
    }

    /// Logs in a registered user and returns a fresh live token. Await it, optionally after
    /// setting the device id ([`GetToken::aid`]); it fails as [`execute`](Self::execute)
    /// does, and LinkV refuses a user it has never seen.
    pub fn login_user(&self, user_id: UserId) -> GetToken<'_> {
        GetToken::new(self, ThGetToken::login(user_id))
    }

    /// Completes a top-up order, crediting `coins` to `uid` (`orderSuccess`); answers the
    /// balance after. Await it, optionally after setting a request id or an expiry.
    ///
    /// An order can be completed once; resending with the same request id is harmless and
    /// answers the same balance.
    pub fn complete_order(
        &self,
        uid: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder<'_> {
        CompleteOrder::new(
            self,
            uid.clone(),
            ChangeType::Add,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Refunds a top-up order, taking `coins` back from `uid` (`orderSuccess` with `type=2`),
    /// soonest-expiring first; answers the balance after. Await it, optionally after setting
    /// a request id. LinkV refuses to take a balance below zero.
    ///
    /// A refund is an `orderSuccess` call of its own: give it the order id your payment
    /// provider reports for the refund, and its own request id.
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
    ///
    /// let balance = client
    ///     .refund_order(&uid, OrderId::new("refund-of-order-1")?, Coins::new(100)?, UsdCents::new(199), Platform::Ios)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn refund_order(
        &self,
        uid: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder<'_> {
        CompleteOrder::new(
            self,
            uid.clone(),
            ChangeType::Remove,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Credits `coins` to `uid` (`changeGold`, type 1). Await it, optionally after setting a
    /// request id, an expiry or a reason.
    pub fn add_coins(&self, uid: &OpenId, coins: Coins) -> ChangeCoins<'_> {
        ChangeCoins::add(self, uid.clone(), coins)
    }

    /// Takes `coins` from `uid` (`changeGold`, type 2), soonest-expiring first. LinkV refuses
    /// to take a balance below zero.
    pub fn remove_coins(&self, uid: &OpenId, coins: Coins) -> ChangeCoins<'_> {
        ChangeCoins::remove(self, uid.clone(), coins)
    }

    /// The coin balance of `uid` (`getUserTokens`).
    ///
    /// The server may add an `isMigrate` flag to the answer; `execute` with a
    /// [`GetUserTokens`] answers the whole [`Balance`](liveapi_model::linkv::Balance) with it.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn balance(&self, uid: &OpenId) -> Result<Coins, Error> {
        Ok(self.execute(&GetUserTokens::new(uid.clone())).await?.coins)
    }

    // Polyv.

    /// Sets the cash tip amounts of a channel, or of the account when `scope` is
    /// [`Scope::Account`] (`donate/update-cash`).
    ///
    /// Only what `settings` gives is changed: [`CashSettings::switch`] turns tips on or off
    /// alone, [`CashSettings::from_parts`] changes any of the three parts. Leaving `enabled`
    /// out leaves the switch as it is; this client never sets it unasked.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn set_cash_tips(
        &self,
        scope: impl Into<Scope>,
        settings: CashSettings,
    ) -> Result<(), Error> {
        self.execute(&UpdateCash::new(scope, settings)).await
    }

    /// Sets the gifts viewers can tip with, for a channel or the account
    /// (`donate/update-good`).
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn set_gift_tips(
        &self,
        scope: impl Into<Scope>,
        settings: GoodSettings,
    ) -> Result<(), Error> {
        self.execute(&UpdateGoods::new(scope, settings)).await
    }

    /// The donate settings a channel effectively uses, or the account-wide ones
    /// (`donate/get`).
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn donate_settings(&self, scope: impl Into<Scope>) -> Result<DonateSettings, Error> {
        self.execute(&GetDonate::new(scope)).await
    }
}
