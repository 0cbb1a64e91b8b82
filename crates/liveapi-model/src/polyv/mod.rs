//! Polyv live (保利威): donate (tipping) settings per channel or for the whole account.
//!
//! | call | request | answer |
//! |---|---|---|
//! | `POST /live/v3/channel/donate/update-cash` | [`UpdateCash`] | `()` |
//! | `POST /live/v3/channel/donate/update-good` | [`UpdateGoods`] | `()` |
//! | `GET /live/v3/channel/donate/get` | [`GetDonate`] | [`DonateSettings`] |
//!
//! The [`Scope`] of a call (one channel or the account) travels as `channelId` in the signed
//! query; settings travel as a JSON body, which is not signed.

mod channel;
mod donate;
pub(crate) mod error;
mod money;
mod response;

pub use channel::{ChannelId, Scope};
pub use donate::{
    BodyError, CashSettings, Cashes, DonateGood, DonateGoods, Enabled, GetDonate, GoodImage,
    GoodName, GoodSettings, Method, PolyvRequest, UpdateCash, UpdateGoods,
};
pub use money::{Amount, Cents, GoodPrice};
pub use response::{DonateSettings, GoodSetting, PolyvResponse, decode};
