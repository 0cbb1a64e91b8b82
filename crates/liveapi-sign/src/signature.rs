//! The [`Signature`] value: hexadecimal text of a fixed maximum size.

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;

use crate::SignError;

/// Longest signature text: SHA-256 in hexadecimal.
const MAX_LEN: usize = 64;

/// A signature as it travels on the wire: 32 (MD5) or 64 (SHA-256) hexadecimal digits.
///
/// It lives inline (no heap) and keeps its letter case, because the vendors compare case
/// exactly: LinkV signs in lowercase, Polyv in uppercase. Equality is constant-time.
///
/// ```
/// use liveapi_sign::Signature;
///
/// let sig: Signature = "1fbb078cfc348c445728b79bb06c0a3d".parse()?;
/// assert_eq!(sig.as_str(), "1fbb078cfc348c445728b79bb06c0a3d");
/// assert_eq!(sig.to_string().len(), 32);
/// assert!("not hex".parse::<Signature>().is_err());
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Signature {
    text: [u8; MAX_LEN],
    len: u8,
}

/// Letter case of the hexadecimal digits.
#[derive(Clone, Copy)]
pub(crate) enum HexCase {
    Lower,
    Upper,
}

impl Signature {
    /// Hex-encodes a digest of 16 or 32 bytes.
    pub(crate) fn from_digest(digest: &[u8], case: HexCase) -> Self {
        debug_assert!(digest.len() * 2 <= MAX_LEN);
        let digits: &[u8; 16] = match case {
            HexCase::Lower => b"0123456789abcdef",
            HexCase::Upper => b"0123456789ABCDEF",
        };
        let len = digest.len().min(MAX_LEN / 2) * 2;
        let mut text = [0u8; MAX_LEN];
        for (pair, byte) in text[..len].chunks_exact_mut(2).zip(digest) {
            pair[0] = digits[usize::from(byte >> 4)];
            pair[1] = digits[usize::from(byte & 0x0F)];
        }
        Self {
            text,
            len: len as u8,
        }
    }

    /// The signature text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        #[allow(clippy::expect_used)] // An invariant of the type, not an input check.
        std::str::from_utf8(self.as_bytes()).expect("a signature holds ASCII hex digits only")
    }

    fn as_bytes(&self) -> &[u8] {
        &self.text[..usize::from(self.len)]
    }

    /// Compares with received signature text in constant time (for equal lengths), exactly,
    /// letter case included.
    ///
    /// ```
    /// let sign = liveapi_sign::linkv::sign([("uid", "42")], "secret")?;
    /// assert!(sign.matches(sign.as_str()));
    /// assert!(!sign.matches(&sign.as_str().to_uppercase()));
    /// # Ok::<(), liveapi_sign::SignError>(())
    /// ```
    #[must_use]
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.as_bytes(), received.as_bytes())
    }
}

/// Compares two byte strings without an early exit on the first difference, so the time taken
/// does not tell an attacker how many leading characters of a forged signature were right.
/// Lengths are public (32 or 64) and compared first.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.as_bytes(), other.as_bytes())
    }
}

impl Eq for Signature {}

impl FromStr for Signature {
    type Err = SignError;

    /// Parses 32 or 64 hexadecimal digits, in either case, keeping the case as given.
    fn from_str(s: &str) -> Result<Self, SignError> {
        let bytes = s.as_bytes();
        if !(bytes.len() == 32 || bytes.len() == MAX_LEN)
            || !bytes.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(SignError::MalformedSignature);
        }
        let mut text = [0u8; MAX_LEN];
        text[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            text,
            len: bytes.len() as u8,
        })
    }
}

impl AsRef<str> for Signature {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Signature").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_is_kept_and_compared_exactly() {
        let lower: Signature = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let upper: Signature = "0123456789ABCDEF0123456789ABCDEF".parse().unwrap();
        assert_ne!(lower, upper);
        assert!(lower.matches("0123456789abcdef0123456789abcdef"));
        assert!(!lower.matches("0123456789abcdef0123456789abcdeF"));
        assert!(!lower.matches("0123456789abcdef0123456789abcde"));
    }

    #[test]
    fn only_md5_and_sha256_lengths_parse() {
        for len in [0, 1, 31, 33, 63, 65, 128] {
            assert_eq!(
                "a".repeat(len).parse::<Signature>(),
                Err(SignError::MalformedSignature),
                "{len}"
            );
        }
        assert!("a".repeat(64).parse::<Signature>().is_ok());
        assert!("g".repeat(32).parse::<Signature>().is_err());
    }

    #[test]
    fn digest_is_hex_encoded_in_the_requested_case() {
        let digest = [0xABu8; 16];
        assert_eq!(
            Signature::from_digest(&digest, HexCase::Lower).as_str(),
            "ab".repeat(16)
        );
        assert_eq!(
            Signature::from_digest(&digest, HexCase::Upper).as_str(),
            "AB".repeat(16)
        );
    }
}
