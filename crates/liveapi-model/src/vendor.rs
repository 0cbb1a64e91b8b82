//! Which of the two APIs something belongs to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the two vendors: the SDK's operations say which they call, the emulator which API a
/// request was for.
///
/// ```
/// use liveapi_model::Vendor;
/// assert_eq!(Vendor::Polyv.as_str(), "polyv");
/// assert_eq!(Vendor::Polyv.to_string(), "Polyv");
/// assert_eq!(serde_json::to_string(&Vendor::Linkv).unwrap(), r#""linkv""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// LinkV live (互动娱乐), the paths under `/open/`.
    Linkv,
    /// Polyv live (保利威), the paths under `/live/`.
    Polyv,
}

impl Vendor {
    /// `"linkv"` or `"polyv"`: the key in logs, metrics, JSON and configuration.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Linkv => "linkv",
            Self::Polyv => "polyv",
        }
    }

    /// `"LinkV"` or `"Polyv"`: the name in sentences, as [`Display`](fmt::Display) writes it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Linkv => "LinkV",
            Self::Polyv => "Polyv",
        }
    }
}

impl fmt::Display for Vendor {
    /// The vendor's name, for messages: `LinkV`, `Polyv` (its key is [`Vendor::as_str`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
