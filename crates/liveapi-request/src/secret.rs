//! A signing secret that does not print itself and is wiped from memory when dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A signing secret (`live_app_secret`, Polyv `appSecret`).
///
/// `Debug` prints `Secret([redacted])` and there is no `Display`, so a secret cannot reach a
/// log, a panic message or an error by accident; [`Secret::expose`] is the one way to read it.
/// Its bytes are overwritten with zeros when it is dropped ([`ZeroizeOnDrop`]), so a freed
/// secret does not linger in the heap for a core dump or a later allocation to reveal.
///
/// ```
/// use liveapi_request::Secret;
/// let secret = Secret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "Secret([redacted])");
/// assert_eq!(secret.expose(), "s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Box<str>>);

impl Secret {
    /// Wraps a secret. The `String` it is given is wiped once its text is copied.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        let mut given = secret.into();
        // Copied rather than `into_boxed_str`, which may shrink the buffer by reallocating and
        // hand the old one back to the allocator unwiped.
        let kept = Box::from(given.as_str());
        given.zeroize();
        Self(Zeroizing::new(kept))
    }

    /// The secret itself, for signing. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<&String> for Secret {
    /// ```
    /// use liveapi_request::Secret;
    /// let configured = String::from("s3cr3t");
    /// let secret: Secret = (&configured).into();
    /// assert_eq!(secret.expose(), "s3cr3t");
    /// ```
    fn from(s: &String) -> Self {
        Self::new(s.as_str())
    }
}

/// Its one field is a [`Zeroizing`], which wipes the secret in its own `Drop`.
impl ZeroizeOnDrop for Secret {}

#[cfg(test)]
mod tests {
    use zeroize::ZeroizeOnDrop;

    use super::Secret;

    fn wiped_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn the_secret_is_wiped_on_drop() {
        wiped_on_drop::<Secret>();
        // The marker above is a promise; this is what keeps it: the field's own type wipes.
        fn field_type<T: ZeroizeOnDrop>(_: &T) {}
        field_type(&Secret::new("s3cr3t").0);
    }

    #[test]
    fn wiping_overwrites_the_bytes_in_place() {
        use zeroize::Zeroize;
        // What the field's `Drop` runs, observed before the memory is freed.
        let mut secret = Secret::new("s3cr3t");
        secret.0.zeroize();
        assert_eq!(secret.expose(), "\0".repeat(6));
    }

    #[test]
    fn every_way_in_keeps_the_text() {
        let owned = String::from("s3cr3t");
        for secret in [
            Secret::new("s3cr3t"),
            Secret::from("s3cr3t"),
            Secret::from(&owned),
            Secret::from(owned.clone()),
        ] {
            assert_eq!(secret.expose(), "s3cr3t");
            assert!(!secret.is_empty());
            assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        }
    }
}
