//! Cash tips: the six amounts a viewer picks from and the `donate/update-cash` body.

use serde::Serialize;
use serde_json::value::RawValue;

use super::body::{body_fields, optional_enabled, present};
use super::{Amount, BodyError, Enabled};
use crate::ValidationError;
use crate::validate::{Check, Rule};

/// The six cash amounts a viewer can pick from (`cashes`): exactly six, each 0.01–9999.99
/// (see [`Amount`]; `docs/polyv.md#validation-rules`).
///
/// ```
/// use liveapi_model::polyv::{Amount, Cashes};
/// let cashes = Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"])?;
/// assert_eq!(serde_json::to_string(&cashes).unwrap(), "[0.88,6.66,8.88,18.11,66.6,88.8]");
/// assert!(Cashes::parse(["1", "2"]).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Cashes([Amount; 6]);

impl Cashes {
    /// The wire name of the field.
    pub const FIELD: &'static str = "cashes";

    /// Six amounts.
    #[must_use]
    pub const fn new(amounts: [Amount; 6]) -> Self {
        Self(amounts)
    }

    /// Parses six decimal texts of yuan.
    ///
    /// # Errors
    /// A [`ValidationError`] for a count other than six or an amount out of range.
    pub fn parse<S: AsRef<str>>(
        texts: impl IntoIterator<Item = S>,
    ) -> Result<Self, ValidationError> {
        let amounts = texts
            .into_iter()
            .map(|t| {
                t.as_ref()
                    .parse::<Amount>()
                    .map_err(|e| ValidationError::new(Self::FIELD, e.rule().clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::try_from(amounts.as_slice())
    }

    /// The amounts.
    #[must_use]
    pub const fn amounts(&self) -> &[Amount; 6] {
        &self.0
    }

    fn from_json(raw: &RawValue) -> Result<Self, ValidationError> {
        let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).map_err(|_| {
            Check { field: Self::FIELD }.fail(Rule::Format {
                expected: "an array of six amounts",
            })
        })?;
        let amounts = items
            .iter()
            .map(|raw| Amount::from_json(Self::FIELD, raw))
            .collect::<Result<Vec<_>, _>>()?;
        Self::try_from(amounts.as_slice())
    }
}

impl TryFrom<&[Amount]> for Cashes {
    type Error = ValidationError;

    fn try_from(amounts: &[Amount]) -> Result<Self, ValidationError> {
        <[Amount; 6]>::try_from(amounts).map(Self).map_err(|_| {
            Check { field: Self::FIELD }.fail(Rule::Count {
                expected: "exactly 6",
                actual: amounts.len(),
            })
        })
    }
}

/// The JSON body of `donate/update-cash`: any of `cashes`, `cashMin` and `enabled`, at least
/// one of them: `{"cashes":[…6],"cashMin":0.02,"enabled":"Y"}`, `{"enabled":"N"}`,
/// `{"cashMin":0.5}`.
///
/// The vendor marks none of the three required, so an update may change any one alone
/// (`docs/polyv.md#validation-rules`). **A field left out is left as it is, the switch
/// included**: an update without `enabled` never switches cash tips on or off. (The
/// documented "on when not sent" is the state of a switch never set: cash tips start on.) An
/// update with nothing in it is refused, as the vendor refuses an empty JSON object with
/// `param validate error` (`docs/polyv.md#errors`).
///
/// ```
/// use liveapi_model::polyv::{CashSettings, Cashes, Enabled};
/// let settings = CashSettings::new(
///     Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"])?,
///     "0.02".parse()?,
/// )
/// .with_enabled(Enabled::Yes);
/// let json = serde_json::to_string(&settings).unwrap();
/// assert_eq!(json, r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"enabled":"Y"}"#);
/// assert_eq!(CashSettings::from_json(json.as_bytes()).unwrap(), settings);
///
/// // Switching tips off, and nothing else.
/// let off = CashSettings::switch(Enabled::No);
/// assert_eq!(serde_json::to_string(&off).unwrap(), r#"{"enabled":"N"}"#);
///
/// // Changing only the smallest amount.
/// let min = CashSettings::from_parts(None, Some("0.5".parse()?), None)?;
/// assert_eq!(serde_json::to_string(&min).unwrap(), r#"{"cashMin":0.5}"#);
/// assert!(CashSettings::from_parts(None, None, None).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CashSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    cashes: Option<Cashes>,
    #[serde(rename = "cashMin", skip_serializing_if = "Option::is_none")]
    cash_min: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<Enabled>,
}

impl CashSettings {
    /// What an update with nothing in it is refused as.
    fn nothing() -> ValidationError {
        Check {
            field: "cashes, cashMin or enabled",
        }
        .fail(Rule::Missing)
    }

    /// The six amounts and the smallest custom amount; the switch left as it is.
    #[must_use]
    pub fn new(cashes: Cashes, cash_min: Amount) -> Self {
        Self {
            cashes: Some(cashes),
            cash_min: Some(cash_min),
            enabled: None,
        }
    }

    /// Only the switch: turns cash tips on or off and leaves the amounts as they are.
    #[must_use]
    pub fn switch(enabled: Enabled) -> Self {
        Self {
            cashes: None,
            cash_min: None,
            enabled: Some(enabled),
        }
    }

    /// Whichever parts are given; what is `None` is left as it is.
    ///
    /// # Errors
    /// A [`ValidationError`] if all three are `None`: such an update changes nothing.
    pub fn from_parts(
        cashes: Option<Cashes>,
        cash_min: Option<Amount>,
        enabled: Option<Enabled>,
    ) -> Result<Self, ValidationError> {
        if cashes.is_none() && cash_min.is_none() && enabled.is_none() {
            return Err(Self::nothing());
        }
        Ok(Self {
            cashes,
            cash_min,
            enabled,
        })
    }

    /// Sets the six amounts too.
    #[must_use]
    pub fn with_cashes(mut self, cashes: Cashes) -> Self {
        self.cashes = Some(cashes);
        self
    }

    /// Sets the smallest custom amount too.
    #[must_use]
    pub fn with_cash_min(mut self, cash_min: Amount) -> Self {
        self.cash_min = Some(cash_min);
        self
    }

    /// Switches cash tips on or off too.
    #[must_use]
    pub fn with_enabled(mut self, enabled: Enabled) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// The six amounts, if this update sets them.
    #[must_use]
    pub fn cashes(&self) -> Option<&Cashes> {
        self.cashes.as_ref()
    }

    /// The smallest custom amount, if this update sets it.
    #[must_use]
    pub fn cash_min(&self) -> Option<Amount> {
        self.cash_min
    }

    /// The switch, if this update sets it.
    #[must_use]
    pub fn enabled(&self) -> Option<Enabled> {
        self.enabled
    }

    /// Reads a request body (what a server does). A field that is absent or `null` is left
    /// out of the update; other fields (such as a `channelId`, which belongs in the query)
    /// are ignored.
    ///
    /// # Errors
    /// [`BodyError::Syntax`] for a body that is not a JSON object, [`BodyError::Invalid`] for
    /// an invalid field or an object with none of the three.
    pub fn from_json(body: &[u8]) -> Result<Self, BodyError> {
        let fields = body_fields(body)?;
        let cashes = present(&fields, Cashes::FIELD)
            .map(Cashes::from_json)
            .transpose()?;
        let cash_min = present(&fields, "cashMin")
            .map(|raw| Amount::from_json("cashMin", raw))
            .transpose()?;
        let enabled = optional_enabled(&fields)?;
        Ok(Self::from_parts(cashes, cash_min, enabled)?)
    }
}
