//! Flag values the harnesses' command lines share (clap `value_parser`s), so that each check
//! and its message is written once.

/// A share from 0 to 1: `--fault-rate 0.3`.
///
/// # Errors
/// A value that is not a number from 0 to 1.
pub fn share(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| format!("`{value}` is not between 0 and 1"))
}

/// A whole number above 0: `--connections 500`.
///
/// # Errors
/// 0, or not a whole number.
pub fn positive(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{value}` is not a positive whole number"))
}

/// A count above 0: `--calls 20000`.
///
/// # Errors
/// As [`positive`], or too large for this machine.
pub fn positive_count(value: &str) -> Result<usize, String> {
    usize::try_from(positive(value)?).map_err(|e| format!("`{value}`: {e}"))
}

/// One level of a comma-separated list of concurrencies (`--concurrency 1,8,32`, with
/// `value_delimiter = ','`); 0 counts as 1.
///
/// # Errors
/// Not a whole number.
pub fn level(value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .map(|n| n.max(1))
        .map_err(|_| format!("`{value}` is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_checked() {
        assert_eq!(share("0.3"), Ok(0.3));
        assert_eq!(share("1"), Ok(1.0));
        assert!(share("1.5").is_err() && share("-0.1").is_err() && share("x").is_err());
        assert_eq!(positive("7"), Ok(7));
        assert!(positive("0").is_err() && positive("-1").is_err());
        assert_eq!(positive_count("20000"), Ok(20_000));
        assert_eq!(level(" 0"), Ok(1));
        assert_eq!(level("32"), Ok(32));
        assert!(level("a").is_err());
    }
}
