//! LinkV's `nonce_str`: random text around the unix time in seconds.
//!
//! The shape is `8 random + 10 digits + 8 random`, for example `661a3893` `1563787713`
//! `61c1a022`. The server reads the middle ten digits as the request's time and refuses a
//! nonce more than five minutes from its own clock, which is why a retried request needs a
//! fresh nonce (and therefore a fresh signature).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::{SignError, window};

const RANDOM_LEN: usize = 8;
const TIME_LEN: usize = 10;
const LEN: usize = RANDOM_LEN + TIME_LEN + RANDOM_LEN;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Bytes at or above this are rejected so that `byte % 62` is uniform: 248 = 4 × 62.
const ACCEPT_BELOW: u8 = 248;
/// Refills of the sampling buffer before the source is declared broken. A working source
/// fails here with probability far below 2^-1000.
const MAX_REFILLS: usize = 16;

/// A LinkV `nonce_str`: 26 ASCII characters, stored inline.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::linkv::Nonce;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_563_787_713);
/// // Real callers pass a CSPRNG here, e.g. `|buf| getrandom::fill(buf).expect("os rng")`.
/// let mut counter = 0u8;
/// let nonce = Nonce::generate(now, |buf: &mut [u8]| {
///     for b in buf {
///         *b = counter;
///         counter = counter.wrapping_add(1);
///     }
/// })?;
/// assert_eq!(nonce.as_str().len(), 26);
/// assert_eq!(&nonce.as_str()[8..18], "1563787713");
/// assert_eq!(nonce.timestamp(), Duration::from_secs(1_563_787_713));
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; LEN]);

impl Nonce {
    /// Builds a nonce for `now` from randomness drawn through `fill`.
    ///
    /// `fill` must fill the buffer it is given with bytes from a cryptographically secure
    /// source. Characters are drawn from `[A-Za-z0-9]` by rejection sampling, so every
    /// character is equally likely; `fill` is called again when bytes run out.
    ///
    /// # Errors
    /// [`SignError::TimeOutOfRange`] if `now` does not have exactly ten digits of seconds
    /// (2001-09-09 to 2286-11-20); [`SignError::RandomnessExhausted`] if `fill` keeps
    /// producing bytes that must be rejected.
    pub fn generate(now: SystemTime, mut fill: impl FnMut(&mut [u8])) -> Result<Self, SignError> {
        let secs = window::since_epoch(now)?.as_secs();
        if !(1_000_000_000..=9_999_999_999).contains(&secs) {
            return Err(SignError::TimeOutOfRange);
        }
        let mut text = [0u8; LEN];
        let mut digits = secs;
        for slot in text[RANDOM_LEN..RANDOM_LEN + TIME_LEN].iter_mut().rev() {
            *slot = b'0' + (digits % 10) as u8;
            digits /= 10;
        }

        let mut random = [0u8; 2 * RANDOM_LEN];
        let mut filled = 0;
        let mut buf = [0u8; 32];
        for _ in 0..MAX_REFILLS {
            fill(&mut buf);
            for &byte in &buf {
                if byte < ACCEPT_BELOW && filled < random.len() {
                    random[filled] = ALPHABET[usize::from(byte % 62)];
                    filled += 1;
                }
            }
            if filled == random.len() {
                text[..RANDOM_LEN].copy_from_slice(&random[..RANDOM_LEN]);
                text[RANDOM_LEN + TIME_LEN..].copy_from_slice(&random[RANDOM_LEN..]);
                return Ok(Self(text));
            }
        }
        Err(SignError::RandomnessExhausted)
    }

    /// The nonce text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        #[allow(clippy::expect_used)] // An invariant of the type, not an input check.
        std::str::from_utf8(&self.0).expect("a nonce holds ASCII alphanumerics only")
    }

    /// The time carried in the middle ten digits, as a duration since the unix epoch.
    #[must_use]
    pub fn timestamp(&self) -> Duration {
        let secs = self.0[RANDOM_LEN..RANDOM_LEN + TIME_LEN]
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        Duration::from_secs(secs)
    }
}

impl FromStr for Nonce {
    type Err = SignError;

    /// Parses `8 alphanumerics + 10 digits + 8 alphanumerics`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let nonce: liveapi_sign::linkv::Nonce = "24dcadd615637909402f4877b0".parse()?;
    /// assert_eq!(nonce.timestamp(), Duration::from_secs(1_563_790_940));
    /// assert!("24dcadd6".parse::<liveapi_sign::linkv::Nonce>().is_err());
    /// # Ok::<(), liveapi_sign::SignError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, SignError> {
        let bytes: &[u8; LEN] = s
            .as_bytes()
            .try_into()
            .map_err(|_| SignError::MalformedNonce)?;
        let well_formed = bytes.iter().enumerate().all(|(i, b)| {
            if (RANDOM_LEN..RANDOM_LEN + TIME_LEN).contains(&i) {
                b.is_ascii_digit()
            } else {
                b.is_ascii_alphanumeric()
            }
        });
        if !well_formed {
            return Err(SignError::MalformedNonce);
        }
        Ok(Self(*bytes))
    }
}

impl AsRef<str> for Nonce {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Nonce").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rejected_bytes_are_skipped_not_folded() {
        // Every other byte is 0xFF (rejected); the accepted ones are 0, 1, 2, ...
        let mut next = 0u8;
        let mut toggle = false;
        let nonce = Nonce::generate(at(1_600_000_000), |buf| {
            for b in buf {
                toggle = !toggle;
                *b = if toggle { 0xFF } else { next };
                if !toggle {
                    next += 1;
                }
            }
        })
        .unwrap();
        assert_eq!(nonce.as_str(), "ABCDEFGH1600000000IJKLMNOP");
    }

    #[test]
    fn a_source_of_only_rejected_bytes_is_an_error() {
        let result = Nonce::generate(at(1_600_000_000), |buf| buf.fill(0xFF));
        assert_eq!(result, Err(SignError::RandomnessExhausted));
    }

    #[test]
    fn times_without_ten_digits_are_refused() {
        let fill = |buf: &mut [u8]| buf.fill(7);
        assert_eq!(
            Nonce::generate(at(999_999_999), fill),
            Err(SignError::TimeOutOfRange)
        );
        assert_eq!(
            Nonce::generate(at(10_000_000_000), fill),
            Err(SignError::TimeOutOfRange)
        );
        assert!(Nonce::generate(at(9_999_999_999), fill).is_ok());
    }

    #[test]
    fn every_character_has_exactly_four_accepted_byte_values() {
        let mut preimages = [0u32; 62];
        for byte in 0..=u8::MAX {
            match Nonce::generate(at(1_600_000_000), |buf| buf.fill(byte)) {
                Ok(nonce) => {
                    let s = nonce.as_str().as_bytes();
                    let c = s[0];
                    assert!(s[..8].iter().chain(&s[18..]).all(|&x| x == c));
                    preimages[ALPHABET.iter().position(|&a| a == c).unwrap()] += 1;
                }
                Err(e) => {
                    assert!(byte >= ACCEPT_BELOW);
                    assert_eq!(e, SignError::RandomnessExhausted);
                }
            }
        }
        assert_eq!(preimages, [4; 62]);
    }
}
