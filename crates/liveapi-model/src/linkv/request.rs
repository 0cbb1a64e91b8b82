//! The four LinkV calls, as values that cannot be built invalid.

use crate::ValidationError;
use crate::params::{ParamSource, optional, required};
use crate::validate::{Check, Rule, UNDOCUMENTED_INPUT_BYTES, string_newtype};

use super::{
    Balance, Birthday, ChangeType, Coins, CountryCode, DeviceId, Email, Expiration, LinkvResponse,
    OpenId, OrderId, Platform, PortraitUri, RequestId, Sex, UsdCents, UserId, UserName, UserToken,
};

/// The business parameters of a request, in wire names, in the order they are listed in the
/// docs. Signing and the `app_id`, `nonce_str`, `channel` and `sign` parameters are added by
/// `liveapi-request`.
pub type Params = Vec<(&'static str, String)>;

/// What every LinkV call has: its path, its business parameters and what it answers.
pub trait LinkvRequest: Sized {
    /// What the call answers with.
    type Response: LinkvResponse;
    /// The endpoint's name, for logs: `thGetToken`.
    const NAME: &'static str;
    /// The path below the app's base URL: `/open/v0/thGetToken`.
    const PATH: &'static str;
    /// Whether the call carries the app's alias as `channel` (only `orderSuccess` does).
    const SENDS_CHANNEL: bool = false;

    /// The idempotency key, for calls that change the ledger.
    fn request_id(&self) -> Option<&RequestId> {
        None
    }

    /// The business parameters to send.
    fn params(&self) -> Params;

    /// Reads the request back from received parameters (what a server does).
    ///
    /// # Errors
    /// A [`ValidationError`] for the first missing or invalid parameter.
    fn from_params(source: &(impl ParamSource + ?Sized)) -> Result<Self, ValidationError>;
}

/// A change of zero coins changes nothing: `value` is the number of coins to change
/// (`docs/linkv.md#validation-rules`), so zero is refused before a request id is spent on it.
fn positive(field: &'static str, coins: Coins) -> Result<Coins, ValidationError> {
    if coins.get() == 0 {
        return Err(Check { field }.fail(Rule::Range {
            range: "at least 1",
        }));
    }
    Ok(coins)
}

/// Registers a user, or logs one in, and returns a live token and LinkV's open id for them
/// (`POST /open/v0/thGetToken`).
///
/// `name` and `portraitUri` are required the first time a `userId` is seen.
///
/// ```
/// use liveapi_model::linkv::{ThGetToken, UserId, UserName, PortraitUri, Sex, LinkvRequest};
///
/// let req = ThGetToken::register(
///     UserId::new("user-42")?,
///     UserName::new("Ann")?,
///     PortraitUri::new("https://cdn.example.com/ann.png")?,
/// )
/// .with_sex(Sex::Female);
/// assert_eq!(
///     req.params(),
///     vec![
///         ("userId", "user-42".to_owned()),
///         ("name", "Ann".to_owned()),
///         ("portraitUri", "https://cdn.example.com/ann.png".to_owned()),
///         ("sex", "0".to_owned()),
///     ]
/// );
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThGetToken {
    user_id: UserId,
    aid: Option<DeviceId>,
    name: Option<UserName>,
    portrait_uri: Option<PortraitUri>,
    email: Option<Email>,
    country_code: Option<CountryCode>,
    birthday: Option<Birthday>,
    sex: Option<Sex>,
}

impl ThGetToken {
    /// Logs in a user who is already registered.
    #[must_use]
    pub fn login(user_id: UserId) -> Self {
        Self {
            user_id,
            aid: None,
            name: None,
            portrait_uri: None,
            email: None,
            country_code: None,
            birthday: None,
            sex: None,
        }
    }

    /// Registers a user (or logs them in and updates name and portrait).
    #[must_use]
    pub fn register(user_id: UserId, name: UserName, portrait_uri: PortraitUri) -> Self {
        Self {
            name: Some(name),
            portrait_uri: Some(portrait_uri),
            ..Self::login(user_id)
        }
    }

    /// Adds the user's device id (`aid`).
    #[must_use]
    pub fn with_aid(mut self, aid: DeviceId) -> Self {
        self.aid = Some(aid);
        self
    }

    /// Adds the user's e-mail address.
    #[must_use]
    pub fn with_email(mut self, email: Email) -> Self {
        self.email = Some(email);
        self
    }

    /// Adds the user's country.
    #[must_use]
    pub fn with_country_code(mut self, country_code: CountryCode) -> Self {
        self.country_code = Some(country_code);
        self
    }

    /// Adds the user's birthday.
    #[must_use]
    pub fn with_birthday(mut self, birthday: Birthday) -> Self {
        self.birthday = Some(birthday);
        self
    }

    /// Adds the user's sex.
    #[must_use]
    pub fn with_sex(mut self, sex: Sex) -> Self {
        self.sex = Some(sex);
        self
    }

    /// Your app's id for the user.
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The device id, if given.
    #[must_use]
    pub fn aid(&self) -> Option<&DeviceId> {
        self.aid.as_ref()
    }

    /// The display name, if given.
    #[must_use]
    pub fn name(&self) -> Option<&UserName> {
        self.name.as_ref()
    }

    /// The portrait URI, if given.
    #[must_use]
    pub fn portrait_uri(&self) -> Option<&PortraitUri> {
        self.portrait_uri.as_ref()
    }

    /// The e-mail address, if given.
    #[must_use]
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    /// The country, if given.
    #[must_use]
    pub fn country_code(&self) -> Option<&CountryCode> {
        self.country_code.as_ref()
    }

    /// The birthday, if given.
    #[must_use]
    pub fn birthday(&self) -> Option<&Birthday> {
        self.birthday.as_ref()
    }

    /// The sex, if given.
    #[must_use]
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }
}

impl LinkvRequest for ThGetToken {
    type Response = UserToken;
    const NAME: &'static str = "thGetToken";
    const PATH: &'static str = "/open/v0/thGetToken";

    fn params(&self) -> Params {
        let mut params = vec![("userId", self.user_id.to_string())];
        let optional = [
            ("aid", self.aid.as_ref().map(ToString::to_string)),
            ("name", self.name.as_ref().map(ToString::to_string)),
            (
                "portraitUri",
                self.portrait_uri.as_ref().map(ToString::to_string),
            ),
            ("email", self.email.as_ref().map(ToString::to_string)),
            (
                "countryCode",
                self.country_code.as_ref().map(ToString::to_string),
            ),
            ("birthday", self.birthday.as_ref().map(ToString::to_string)),
            ("sex", self.sex.map(|s| s.as_str().to_owned())),
        ];
        params.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        params
    }

    fn from_params(source: &(impl ParamSource + ?Sized)) -> Result<Self, ValidationError> {
        Ok(Self {
            user_id: required(source, "userId", str::parse)?,
            aid: optional(source, "aid", str::parse)?,
            name: optional(source, "name", str::parse)?,
            portrait_uri: optional(source, "portraitUri", str::parse)?,
            email: optional(source, "email", str::parse)?,
            country_code: optional(source, "countryCode", str::parse)?,
            birthday: optional(source, "birthday", str::parse)?,
            sex: optional(source, "sex", str::parse)?,
        })
    }
}

/// Completes a top-up order and credits (or, for a refund, removes) its coins
/// (`POST /open/finanv0/orderSuccess`). Returns the balance after.
///
/// The `channel` parameter is the app's alias and comes from the credentials.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_model::linkv::*;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
/// let order = OrderSuccess::credit(
///     OpenId::new("1291371456374120449")?,
///     RequestId::new("6000101140927991745433-Ab3dE5gH7")?,
///     OrderId::new("ORD-2020-0001")?,
///     Coins::new(100)?,
///     UsdCents::new(199),
///     Platform::Ios,
///     Expiration::after_days(now, 91),
/// )?;
/// assert_eq!(order.params()[0], ("uid", "1291371456374120449".to_owned()));
/// assert!(OrderSuccess::credit(
///     OpenId::new("1")?, RequestId::new("6000101140927991745433-Ab3dE5gH7")?,
///     OrderId::new("o")?, Coins::ZERO, UsdCents::new(1), Platform::H5, Expiration::after_days(now, 1),
/// ).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSuccess {
    uid: OpenId,
    request_id: RequestId,
    change_type: ChangeType,
    value: Coins,
    order_id: OrderId,
    /// Always present on a credit (the constructors take one); absent only on a removal read
    /// from the wire without one.
    expiration: Option<Expiration>,
    money: UsdCents,
    platform: Platform,
}

impl OrderSuccess {
    /// Completes an order of `value` coins paid with `money` on `platform`.
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    pub fn credit(
        uid: OpenId,
        request_id: RequestId,
        order_id: OrderId,
        value: Coins,
        money: UsdCents,
        platform: Platform,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Self::new(
            uid,
            request_id,
            ChangeType::Add,
            order_id,
            value,
            money,
            platform,
            expiration,
        )
    }

    /// Refunds an order: takes its `value` coins back (`type=2`), soonest-expiring first.
    ///
    /// The vendor requires `expriation` on every `orderSuccess` (`docs/linkv.md#calls`), so a
    /// refund sends one too, although it means nothing for a removal.
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    pub fn refund(
        uid: OpenId,
        request_id: RequestId,
        order_id: OrderId,
        value: Coins,
        money: UsdCents,
        platform: Platform,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Self::new(
            uid,
            request_id,
            ChangeType::Remove,
            order_id,
            value,
            money,
            platform,
            expiration,
        )
    }

    /// An order whose `type` is given explicitly (`2` removes the coins, for a refund).
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    #[allow(clippy::too_many_arguments)] // One argument per documented parameter.
    pub fn new(
        uid: OpenId,
        request_id: RequestId,
        change_type: ChangeType,
        order_id: OrderId,
        value: Coins,
        money: UsdCents,
        platform: Platform,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            uid,
            request_id,
            change_type,
            value: positive("value", value)?,
            order_id,
            expiration: Some(expiration),
            money,
            platform,
        })
    }

    /// The user.
    #[must_use]
    pub fn uid(&self) -> &OpenId {
        &self.uid
    }

    /// The idempotency key.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// Whether coins are added or removed.
    #[must_use]
    pub fn change_type(&self) -> ChangeType {
        self.change_type
    }

    /// How many coins.
    #[must_use]
    pub fn value(&self) -> Coins {
        self.value
    }

    /// The order.
    #[must_use]
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// When the coins expire. Always `Some` for a credit and for what this crate builds;
    /// `None` only for a refund read from the wire without `expriation` (see
    /// [`LinkvRequest::from_params`]).
    #[must_use]
    pub fn expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// What was paid.
    #[must_use]
    pub fn money(&self) -> UsdCents {
        self.money
    }

    /// Where it was paid.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform
    }
}

impl LinkvRequest for OrderSuccess {
    /// The balance after the order.
    type Response = Coins;
    const NAME: &'static str = "orderSuccess";
    const PATH: &'static str = "/open/finanv0/orderSuccess";
    const SENDS_CHANNEL: bool = true;

    fn request_id(&self) -> Option<&RequestId> {
        Some(&self.request_id)
    }

    fn params(&self) -> Params {
        let mut params = vec![
            ("uid", self.uid.as_str().to_owned()),
            ("request_id", self.request_id.as_str().to_owned()),
            ("type", self.change_type.as_str().to_owned()),
            ("value", self.value.to_string()),
            ("order_id", self.order_id.to_string()),
        ];
        params.extend(self.expiration.map(|e| ("expriation", e.to_string())));
        params.push(("money", self.money.to_string()));
        params.push(("platform", self.platform.as_str().to_owned()));
        params
    }

    /// Reads an order as the server does: `expriation` may be left out of a refund
    /// (`type=2`) and may be written as a float of whole seconds (see [`Expiration`]'s
    /// `FromStr`).
    fn from_params(source: &(impl ParamSource + ?Sized)) -> Result<Self, ValidationError> {
        let uid = required(source, "uid", str::parse)?;
        let request_id = required(source, "request_id", str::parse)?;
        let change_type = required(source, "type", str::parse)?;
        let order = Self::new(
            uid,
            request_id,
            change_type,
            required(source, "order_id", str::parse)?,
            required(source, "value", str::parse)?,
            required(source, "money", str::parse)?,
            required(source, "platform", str::parse)?,
            // Replaced below; `new` checks the rest.
            Expiration::at_unix_seconds(0),
        )?;
        Ok(Self {
            expiration: wire_expiration(source, change_type)?,
            ..order
        })
    }
}

/// The `expriation` of a change read from the wire: required on a credit; optional on a
/// removal, where it means nothing, because the official Go and Python SDKs in production
/// leave it out of a removal and the real server takes that
/// (`docs/linkv.md#what-the-official-sdks-send`).
fn wire_expiration(
    source: &(impl ParamSource + ?Sized),
    change_type: ChangeType,
) -> Result<Option<Expiration>, ValidationError> {
    match change_type {
        ChangeType::Add => required(source, "expriation", str::parse).map(Some),
        ChangeType::Remove => optional(source, "expriation", str::parse),
    }
}

string_newtype! {
    /// Why coins were changed (`reason`): 1 to 1024 bytes of any text.
    ///
    /// The vendor says only that it is the reason for this change, optional and with no
    /// length (`docs/linkv.md#validation-rules`), so the bound is a generous one of this
    /// crate's.
    ///
    /// ```
    /// use liveapi_model::linkv::ChangeReason;
    /// assert!(ChangeReason::new("测试删除").is_ok());
    /// assert!(ChangeReason::new("gift\nto a streamer").is_ok());
    /// assert!(ChangeReason::new("r".repeat(1025)).is_err());
    /// ```
    ChangeReason, field = "reason", check = |c, s| {
        c.max_bytes(s, UNDOCUMENTED_INPUT_BYTES)?;
    }
}

/// Adds or removes coins outside of an order, for a gift or a purchase in your app
/// (`POST /open/finanv0/changeGold`).
///
/// Removing never takes a balance below zero: the server refuses instead.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_model::linkv::*;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
/// let spend = ChangeGold::remove(
///     OpenId::new("1291371456374120449")?,
///     RequestId::new("6000101140927991745433-Zz9yX8wV7")?,
///     Coins::new(10)?,
///     Expiration::after_days(now, 91),
/// )?
/// .with_reason(ChangeReason::new("gift to a streamer")?);
/// assert_eq!(spend.change_type(), ChangeType::Remove);
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeGold {
    uid: OpenId,
    request_id: RequestId,
    change_type: ChangeType,
    value: Coins,
    /// Always present on a credit (the constructors take one); absent only on a removal read
    /// from the wire without one.
    expiration: Option<Expiration>,
    reason: Option<ChangeReason>,
}

impl ChangeGold {
    /// Credits `value` coins that expire at `expiration`.
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    pub fn add(
        uid: OpenId,
        request_id: RequestId,
        value: Coins,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Self::new(uid, request_id, ChangeType::Add, value, expiration)
    }

    /// Takes `value` coins away, soonest-expiring first.
    ///
    /// The vendor requires `expriation` on removals too (`docs/linkv.md#calls`), so one is
    /// sent; it has no effect on them.
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    pub fn remove(
        uid: OpenId,
        request_id: RequestId,
        value: Coins,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Self::new(uid, request_id, ChangeType::Remove, value, expiration)
    }

    /// A change whose `type` is given as a value.
    ///
    /// # Errors
    /// A [`ValidationError`] if `value` is zero.
    pub fn new(
        uid: OpenId,
        request_id: RequestId,
        change_type: ChangeType,
        value: Coins,
        expiration: Expiration,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            uid,
            request_id,
            change_type,
            value: positive("value", value)?,
            expiration: Some(expiration),
            reason: None,
        })
    }

    /// Records why.
    #[must_use]
    pub fn with_reason(mut self, reason: ChangeReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The user.
    #[must_use]
    pub fn uid(&self) -> &OpenId {
        &self.uid
    }

    /// The idempotency key.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// Whether coins are added or removed.
    #[must_use]
    pub fn change_type(&self) -> ChangeType {
        self.change_type
    }

    /// How many coins.
    #[must_use]
    pub fn value(&self) -> Coins {
        self.value
    }

    /// When added coins expire. Always `Some` for a credit and for what this crate builds;
    /// `None` only for a removal read from the wire without `expriation` (see
    /// [`LinkvRequest::from_params`]).
    #[must_use]
    pub fn expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// Why, if given.
    #[must_use]
    pub fn reason(&self) -> Option<&ChangeReason> {
        self.reason.as_ref()
    }
}

impl LinkvRequest for ChangeGold {
    type Response = ();
    const NAME: &'static str = "changeGold";
    const PATH: &'static str = "/open/finanv0/changeGold";

    fn request_id(&self) -> Option<&RequestId> {
        Some(&self.request_id)
    }

    fn params(&self) -> Params {
        let mut params = vec![
            ("uid", self.uid.as_str().to_owned()),
            ("request_id", self.request_id.as_str().to_owned()),
            ("type", self.change_type.as_str().to_owned()),
            ("value", self.value.to_string()),
        ];
        params.extend(self.expiration.map(|e| ("expriation", e.to_string())));
        params.extend(self.reason.as_ref().map(|r| ("reason", r.to_string())));
        params
    }

    /// Reads a change as the server does: `expriation` may be left out of a removal
    /// (`type=2`) and may be written as a float of whole seconds (see [`Expiration`]'s
    /// `FromStr`).
    fn from_params(source: &(impl ParamSource + ?Sized)) -> Result<Self, ValidationError> {
        let uid = required(source, "uid", str::parse)?;
        let request_id = required(source, "request_id", str::parse)?;
        let change_type = required(source, "type", str::parse)?;
        let change = Self::new(
            uid,
            request_id,
            change_type,
            required(source, "value", str::parse)?,
            // Replaced below; `new` checks the rest.
            Expiration::at_unix_seconds(0),
        )?;
        Ok(Self {
            expiration: wire_expiration(source, change_type)?,
            reason: optional(source, "reason", str::parse)?,
            ..change
        })
    }
}

/// Reads a user's coin balance (`POST /open/finanv0/getUserTokens`).
///
/// ```
/// use liveapi_model::linkv::{GetUserTokens, LinkvRequest, OpenId};
/// let req = GetUserTokens::new(OpenId::new("1291371456374120449")?);
/// assert_eq!(GetUserTokens::PATH, "/open/finanv0/getUserTokens");
/// assert_eq!(req.params(), vec![("uid", "1291371456374120449".to_owned())]);
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetUserTokens {
    uid: OpenId,
}

impl GetUserTokens {
    /// The balance of `uid`.
    #[must_use]
    pub fn new(uid: OpenId) -> Self {
        Self { uid }
    }

    /// The user.
    #[must_use]
    pub fn uid(&self) -> &OpenId {
        &self.uid
    }
}

impl LinkvRequest for GetUserTokens {
    /// The balance, with `isMigrate` if the server sent it.
    type Response = Balance;
    const NAME: &'static str = "getUserTokens";
    const PATH: &'static str = "/open/finanv0/getUserTokens";

    fn params(&self) -> Params {
        vec![("uid", self.uid.as_str().to_owned())]
    }

    fn from_params(source: &(impl ParamSource + ?Sized)) -> Result<Self, ValidationError> {
        Ok(Self::new(required(source, "uid", str::parse)?))
    }
}
