//! LinkV live (互动娱乐): users, live tokens and coin ledgers.
//!
//! | call | request | answer |
//! |---|---|---|
//! | `POST /open/v0/thGetToken` | [`ThGetToken`] | [`UserToken`] |
//! | `POST /open/finanv0/orderSuccess` | [`OrderSuccess`] | [`Coins`] (balance after) |
//! | `POST /open/finanv0/changeGold` | [`ChangeGold`] | `()` |
//! | `POST /open/finanv0/getUserTokens` | [`GetUserTokens`] | [`Balance`] |
//!
//! Every field is a validated type, so a request that exists can be sent. [`decode`] reads any
//! answer into the call's result or an [`ApiError`](crate::ApiError).

mod coins;
pub(crate) mod error;
mod ids;
mod pending;
mod profile;
mod request;
mod response;

pub use coins::{ChangeType, Coins, Expiration, Platform, UsdCents};
pub use ids::{DeviceId, OpenId, OrderId, RequestId, UserId};
pub use pending::{CoinRequest, PendingChange};
pub use profile::{Birthday, CountryCode, Email, PortraitUri, Sex, UserName};
pub use request::{
    ChangeGold, ChangeReason, GetUserTokens, LinkvRequest, OrderSuccess, Params, ThGetToken,
};
pub use response::{Balance, LinkvResponse, LiveToken, UserToken, decode};
