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

mod body;
mod cash;
mod channel;
mod donate;
mod enabled;
pub(crate) mod error;
mod goods;
mod money;
mod response;

pub use body::BodyError;
pub use cash::{CashSettings, Cashes};
pub use channel::{ChannelId, Scope};
pub use donate::{GetDonate, Method, PolyvRequest, UpdateCash, UpdateGoods};
pub use enabled::Enabled;
pub use goods::{DonateGood, DonateGoods, GoodImage, GoodName, GoodSettings};
pub use money::{Amount, Cents, GoodPrice};
pub use response::{DonateSettings, GoodSetting, PolyvResponse, decode};
