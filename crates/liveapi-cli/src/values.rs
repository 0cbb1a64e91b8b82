//! Values of flags that the command line reads more strictly than the SDK's types, so that
//! what it accepts is what its help says: amounts as a person writes them, coins with a
//! sentence for a negative number, expiries that a server's integer holds.
//!
//! Each parser checks the text's form here and leaves the value's rule to the model's type,
//! which cites its source in `docs/`.

use std::str::FromStr;

use liveapi::model::linkv::{Coins, UsdCents};

/// `--add N`: a whole number of coins from 1.
pub(crate) fn coins_to_add(text: &str) -> Result<Coins, String> {
    coins(text, "to take coins away use --remove N")
}

/// `--remove N`: a whole number of coins from 1.
pub(crate) fn coins_to_remove(text: &str) -> Result<Coins, String> {
    coins(text, "to add coins use --add N")
}

/// `--coins N` of an order: a whole number of coins from 1.
pub(crate) fn order_coins(text: &str) -> Result<Coins, String> {
    coins(text, "to take an order's coins back use --refund")
}

/// Coins, with `instead` said to a negative number (which clap would otherwise take for an
/// unknown flag).
fn coins(text: &str, instead: &str) -> Result<Coins, String> {
    if text.starts_with('-') {
        return Err(format!("coins are a positive whole number; {instead}"));
    }
    text.parse().map_err(|e| format!("{e}"))
}

/// `--money CENTS`: whole US cents, 0 or more.
pub(crate) fn money(text: &str) -> Result<UsdCents, String> {
    if text.starts_with('-') {
        return Err("money is what was paid, in whole US cents: 0 or more".to_owned());
    }
    text.parse().map_err(|e| format!("{e}"))
}

/// An amount in yuan as a person writes one: digits, and at most two decimals after a point
/// (`66.6`, `0.88`, `100`). The model's types also read the JSON forms the wire may carry
/// (`6.66e1`, `0.880`), which a flag has no need of: `1e2` typed for 1.2 must not set 100.
pub(crate) fn yuan<T>(text: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let (whole, decimals) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(decimals) || decimals.len() > 2 {
        return Err(format!(
            "`{text}` is not an amount of yuan: write digits with at most 2 decimals, such as 6.66 or 100"
        ));
    }
    text.parse().map_err(|e| format!("{e}"))
}

/// `--expires-at UNIX_SECS`: whole seconds, at most what a server's signed 64-bit integer
/// holds (`docs/linkv.md#validation-rules`, `Expiration`).
pub(crate) fn unix_seconds(text: &str) -> Result<u64, String> {
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(secs) if valid && i64::try_from(secs).is_ok() => Ok(secs),
        _ => Err(format!(
            "`{text}` is not a unix time in whole seconds from 0 to {}",
            i64::MAX
        )),
    }
}

/// `--resend-window SECS|off`: seconds from 1, or `off`, as `LIVEAPI_RESEND_WINDOW_SECS`
/// takes them; checked here so that the message names the flag.
pub(crate) fn resend_window(text: &str) -> Result<String, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(text.to_owned());
    }
    match text.trim().parse::<u64>() {
        Ok(secs) if secs >= 1 => Ok(text.to_owned()),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 1, or `off`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use liveapi::model::polyv::{Amount, GoodPrice};

    use super::*;

    #[test]
    fn amounts_are_plain_decimals() {
        let cents = |text| yuan::<Amount>(text).map(|a| a.cents().get());
        assert_eq!(cents("66.6"), Ok(6660));
        assert_eq!(cents("0.88"), Ok(88));
        assert_eq!(cents("100"), Ok(10_000));
        assert_eq!(cents("9999.99"), Ok(999_999));
        for bad in [
            "1e2", "6.66e1", "0.880", "0.885", "+1", "-1", " 1", "1 ", ".5", "5.", "", "1,5",
            "0x10", "inf",
        ] {
            assert!(cents(bad).is_err(), "{bad}");
        }
        // The range is the model's.
        assert!(cents("0").is_err());
        assert!(cents("10000").is_err());
        assert_eq!(yuan::<GoodPrice>("0").map(|p| p.cents().get()), Ok(0));
    }

    #[test]
    fn a_negative_number_of_coins_gets_a_sentence() {
        assert_eq!(coins_to_add("5").map(Coins::get), Ok(5));
        let error = coins_to_add("-1").unwrap_err();
        assert!(error.contains("positive whole number"), "{error}");
        assert!(error.contains("--remove N"), "{error}");
        assert!(coins_to_remove("-3").unwrap_err().contains("--add N"));
        assert!(order_coins("-3").unwrap_err().contains("--refund"));
        // 0 is read, and refused by the change itself ("at least 1"), on one line.
        assert_eq!(coins_to_add("0").map(Coins::get), Ok(0));
        assert!(coins_to_add("1.5").is_err());
        assert!(money("-1").is_err());
        assert_eq!(money("0").map(UsdCents::get), Ok(0));
    }

    #[test]
    fn expiries_fit_a_signed_64_bit_integer() {
        assert_eq!(unix_seconds("4102444800"), Ok(4_102_444_800));
        assert_eq!(unix_seconds("9223372036854775807"), Ok(i64::MAX as u64));
        for bad in [
            "9223372036854775808",
            "18446744073709551615",
            "-1",
            "1.0",
            "+5",
            "",
        ] {
            assert!(unix_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resend_windows_are_seconds_from_1_or_off() {
        for good in ["1", "43200", "off", "OFF"] {
            assert!(resend_window(good).is_ok(), "{good}");
        }
        for bad in ["0", "-1", "12h", ""] {
            assert!(resend_window(bad).is_err(), "{bad}");
        }
    }
}
