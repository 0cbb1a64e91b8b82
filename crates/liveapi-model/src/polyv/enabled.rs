//! The Y/N switches of the donate settings (`enabled`, `goodEnabled`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ValidationError;
use crate::validate::{Check, Rule};

/// A Y/N switch (`enabled`, `goodEnabled`): `Y` is on, `N` is off
/// (`docs/polyv.md#validation-rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Enabled {
    /// `Y`: on.
    #[serde(rename = "Y")]
    Yes,
    /// `N`: off.
    #[serde(rename = "N")]
    No,
}

impl Enabled {
    /// The value as sent on the wire.
    ///
    /// ```
    /// assert_eq!(liveapi_model::polyv::Enabled::Yes.as_str(), "Y");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "Y",
            Self::No => "N",
        }
    }

    /// Whether it is on.
    #[must_use]
    pub const fn is_on(self) -> bool {
        matches!(self, Self::Yes)
    }

    pub(super) fn from_json(field: &'static str, raw: &RawValue) -> Result<Self, ValidationError> {
        match serde_json::from_str::<&str>(raw.get()) {
            Ok("Y") => Ok(Self::Yes),
            Ok("N") => Ok(Self::No),
            _ => Err(Check { field }.fail(Rule::Format { expected: "Y or N" })),
        }
    }
}

impl From<bool> for Enabled {
    fn from(on: bool) -> Self {
        if on { Self::Yes } else { Self::No }
    }
}

impl FromStr for Enabled {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "Y" => Ok(Self::Yes),
            "N" => Ok(Self::No),
            _ => Err(Check { field: "enabled" }.fail(Rule::Format { expected: "Y or N" })),
        }
    }
}

impl fmt::Display for Enabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::validate::try_from_str!(Enabled);
