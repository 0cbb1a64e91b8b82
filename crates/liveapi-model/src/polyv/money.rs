//! Money in yuan, kept as whole fen (cents) and read from the JSON text exactly.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::ValidationError;
use crate::lenient;
use crate::validate::{Check, Rule};

/// Why a decimal text is not a whole number of cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecimalError {
    /// Not a decimal number at all.
    Syntax,
    /// Negative, finer than a cent, or too large.
    Range,
}

/// Parses a JSON-style decimal (`66.6`, `0.880`, `6.66e1`, `"88.80"`'s contents) into cents,
/// exactly: no float is involved, and `0.885` is refused rather than rounded.
fn parse_cents(text: &str) -> Result<u32, DecimalError> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err(DecimalError::Syntax);
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err(DecimalError::Syntax);
            }
            // Anything beyond a few digits is absurd for money; refuse before it overflows.
            if digits.len() > 4 {
                return Err(DecimalError::Range);
            }
            e.parse().map_err(|_| DecimalError::Syntax)?
        }
    };

    // Significant digits without leading or trailing zeros, and the power of ten they carry.
    let digits: String = int.chars().chain(frac.chars()).collect();
    let significant = digits.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    if trimmed.is_empty() {
        return Ok(0); // Zero, whatever its sign or exponent.
    }
    if negative {
        return Err(DecimalError::Range);
    }
    let trailing_zeros = (significant.len() - trimmed.len()) as i64;
    // value = trimmed × 10^(power); in cents, two more.
    let power = exponent + trailing_zeros - frac.len() as i64 + 2;
    if power < 0 || trimmed.len() as i64 + power > 10 {
        return Err(DecimalError::Range); // Finer than a cent, or more than u32 can hold.
    }
    let value: u64 = trimmed.parse().map_err(|_| DecimalError::Range)?;
    let value = value
        .checked_mul(10u64.pow(power as u32))
        .ok_or(DecimalError::Range)?;
    u32::try_from(value).map_err(|_| DecimalError::Range)
}

/// An amount of money in fen (1/100 yuan), as the donate calls read and write it.
///
/// On the wire it is a JSON number with at most two decimals (`0.88`, `66.6`); it is read from
/// a JSON number or string exactly, never through a float, so `0.1` is ten fen and `0.885` is
/// refused rather than rounded. Responses use `Cents`; requests use the range-checked
/// [`Amount`] and [`GoodPrice`].
///
/// ```
/// use liveapi_model::polyv::Cents;
/// let c: Cents = "66.60".parse()?;
/// assert_eq!(c.get(), 6660);
/// assert_eq!(c.to_string(), "66.60");
/// assert_eq!(serde_json::to_string(&c).unwrap(), "66.6");
/// assert_eq!(serde_json::from_str::<Cents>(r#""0.88""#).unwrap().get(), 88);
/// assert!("0.885".parse::<Cents>().is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(u32);

impl Cents {
    /// Wraps a number of fen.
    #[must_use]
    pub const fn new(cents: u32) -> Self {
        Self(cents)
    }

    /// The number of fen.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    fn parse_field(field: &'static str, text: &str) -> Result<Self, ValidationError> {
        let check = Check { field };
        match parse_cents(text) {
            Ok(cents) => Ok(Self(cents)),
            Err(DecimalError::Syntax) => Err(check.fail(Rule::Format {
                expected: "a decimal number of yuan",
            })),
            Err(DecimalError::Range) => Err(check.fail(Rule::Range {
                range: "a non-negative amount in whole fen (at most 2 decimals)",
            })),
        }
    }

    /// Reads a JSON number or string (the raw JSON text) for `field`.
    pub(crate) fn from_json(field: &'static str, raw: &RawValue) -> Result<Self, ValidationError> {
        match lenient::text(raw) {
            Ok(Some(text)) => Self::parse_field(field, &text),
            _ => Err(Check { field }.fail(Rule::Format {
                expected: "a decimal number of yuan",
            })),
        }
    }
}

impl fmt::Display for Cents {
    /// Yuan with two decimals: `66.60`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Cents {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        Self::parse_field("amount", s)
    }
}

impl Serialize for Cents {
    /// A JSON number with at most two decimals. `n / 100` in binary floating point is the
    /// double nearest to the decimal, and serde_json prints the shortest text that reads back
    /// as that double, which is the decimal itself (checked for every amount in the tests).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(self.0) / 100.0)
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        Self::from_json("amount", &raw).map_err(D::Error::custom)
    }
}

macro_rules! bounded_cents {
    (
        $(#[$meta:meta])*
        $name:ident, field = $field:literal, min = $min:literal, range = $range:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(into = "Cents")]
        pub struct $name(Cents);

        impl $name {
            /// The smallest allowed value, in fen.
            pub const MIN_CENTS: u32 = $min;
            /// The largest allowed value, in fen: 9999.99 yuan.
            pub const MAX_CENTS: u32 = 999_999;

            /// From a number of fen.
            ///
            /// # Errors
            /// A [`ValidationError`] outside the allowed range.
            pub fn from_cents(cents: u32) -> Result<Self, ValidationError> {
                Self::check($field, Cents(cents))
            }

            pub(crate) fn check(field: &'static str, cents: Cents) -> Result<Self, ValidationError> {
                if !(Self::MIN_CENTS..=Self::MAX_CENTS).contains(&cents.0) {
                    return Err(Check { field }.fail(Rule::Range { range: $range }));
                }
                Ok(Self(cents))
            }

            /// Reads a JSON number or string for `field`, checking the range.
            pub(crate) fn from_json(field: &'static str, raw: &RawValue) -> Result<Self, ValidationError> {
                Self::check(field, Cents::from_json(field, raw)?)
            }

            /// The amount in fen.
            #[must_use]
            pub const fn cents(self) -> Cents {
                self.0
            }
        }

        impl From<$name> for Cents {
            fn from(v: $name) -> Cents {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(s: &str) -> Result<Self, ValidationError> {
                Self::check($field, Cents::parse_field($field, s)?)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <Box<RawValue>>::deserialize(d)?;
                Self::from_json($field, &raw).map_err(D::Error::custom)
            }
        }
    };
}

bounded_cents! {
    /// A cash tip amount (`cashes`, `cashMin`): 0.01 to 9999.99 yuan, at most two decimals
    /// (`docs/polyv.md#validation-rules`).
    ///
    /// ```
    /// use liveapi_model::polyv::Amount;
    /// assert_eq!("0.88".parse::<Amount>()?.cents().get(), 88);
    /// assert!("0".parse::<Amount>().is_err());
    /// assert!("10000".parse::<Amount>().is_err());
    /// assert!(Amount::from_cents(999_999).is_ok());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    Amount, field = "amount", min = 1, range = "between 0.01 and 9999.99"
}

bounded_cents! {
    /// The price of a gift (`goodPrice`): 0 (free) to 9999.99 yuan, at most two decimals.
    ///
    /// The range and the decimals are those of amounts (`docs/polyv.md#validation-rules`); 0
    /// is allowed because Polyv's own default gifts (鲜花, 点赞) are free.
    ///
    /// ```
    /// use liveapi_model::polyv::GoodPrice;
    /// assert!("0".parse::<GoodPrice>().is_ok());
    /// assert!("5.5".parse::<GoodPrice>().is_ok());
    /// assert!("-1".parse::<GoodPrice>().is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    GoodPrice, field = "goodPrice", min = 0, range = "between 0 and 9999.99"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_forms() {
        let ok = [
            ("0.88", 88),
            ("66.6", 6660),
            ("66.60", 6660),
            ("0.880000", 88),
            ("1", 100),
            ("1.0", 100),
            ("6.66e1", 6660),
            ("666E-2", 666),
            ("0.0666e+3", 6660),
            ("9999.99", 999_999),
            ("0", 0),
            ("-0", 0),
            ("0e99", 0),
            ("  12.5 ", 1250),
            ("42949672.95", u32::MAX),
        ];
        for (text, cents) in ok {
            assert_eq!(parse_cents(text), Ok(cents), "{text}");
        }
        let range = [
            "0.885",
            "0.001",
            "-1",
            "42949672.96",
            "1e10",
            "1e99999",
            "1e-99999",
            "0e99999",
        ];
        for text in range {
            assert_eq!(parse_cents(text), Err(DecimalError::Range), "{text}");
        }
        let syntax = [
            "", ".", "e5", "1e", "1.2.3", "abc", "0x10", "1,5", "--1", "1e+",
        ];
        for text in syntax {
            assert_eq!(parse_cents(text), Err(DecimalError::Syntax), "{text}");
        }
    }

    #[test]
    fn every_amount_is_written_with_at_most_two_decimals_and_reads_back() {
        for cents in 0..=999_999u32 {
            let json = serde_json::to_string(&Cents(cents)).unwrap();
            let decimals = json.split_once('.').map_or(0, |(_, f)| f.len());
            let expected_decimals = if cents % 10 == 0 { 1 } else { 2 };
            assert!(
                decimals <= 2 && decimals == expected_decimals,
                "{cents}: {json}"
            );
            assert_eq!(parse_cents(&json), Ok(cents), "{json}");
        }
    }
}

crate::validate::try_from_str!(Cents, Amount, GoodPrice);
