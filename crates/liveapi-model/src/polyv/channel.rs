//! Channels, and whether a call is about one channel or the whole account.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use crate::ValidationError;
use crate::validate::{Check, Rule};

/// A Polyv channel number (`channelId`): a positive integer (the vendor documents an `int`,
/// and its channels are numbered from 1, like `209796`: `docs/polyv.md#validation-rules`).
///
/// ```
/// use liveapi_model::polyv::ChannelId;
/// assert_eq!("2149710".parse::<ChannelId>()?.get(), 2_149_710);
/// assert!("0".parse::<ChannelId>().is_err());
/// assert!("21a".parse::<ChannelId>().is_err());
/// assert!(ChannelId::new(0).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(NonZeroU64);

impl ChannelId {
    /// The wire name of the field.
    pub const FIELD: &'static str = "channelId";

    /// Wraps a channel number.
    ///
    /// # Errors
    /// A [`ValidationError`] for zero.
    pub fn new(id: u64) -> Result<Self, ValidationError> {
        NonZeroU64::new(id)
            .map(Self)
            .ok_or(Check { field: Self::FIELD }.fail(Rule::Range {
                range: "a positive integer",
            }))
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for ChannelId {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        let check = Check { field: Self::FIELD };
        check.non_empty(s)?;
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(check.fail(Rule::Format {
                expected: "a channel number written in digits",
            }));
        }
        let id = s.parse::<u64>().map_err(|_| {
            check.fail(Rule::Range {
                range: "a positive integer that fits in 64 bits",
            })
        })?;
        Self::new(id)
    }
}

crate::validate::try_from_str!(ChannelId);

/// What a donate call applies to: one channel, or the account-wide setting that every channel
/// without its own uses.
///
/// On the wire, the scope is the presence of `channelId` in the **signed query** — never in the
/// body, where the server ignores it and changes the account-wide setting instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The account-wide setting (no `channelId`).
    Account,
    /// One channel's setting.
    Channel(ChannelId),
}

impl Scope {
    /// The channel, if the scope is one.
    ///
    /// ```
    /// use liveapi_model::polyv::{ChannelId, Scope};
    /// assert_eq!(Scope::Account.channel(), None);
    /// assert_eq!(Scope::Channel(ChannelId::new(7)?).channel().map(ChannelId::get), Some(7));
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    #[must_use]
    pub const fn channel(self) -> Option<ChannelId> {
        match self {
            Self::Account => None,
            Self::Channel(id) => Some(id),
        }
    }
}

impl From<ChannelId> for Scope {
    fn from(id: ChannelId) -> Self {
        Self::Channel(id)
    }
}

impl From<Option<ChannelId>> for Scope {
    fn from(id: Option<ChannelId>) -> Self {
        id.map_or(Self::Account, Self::Channel)
    }
}
