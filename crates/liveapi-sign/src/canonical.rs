//! The string a signature is computed over, kept printable without its secret.

use std::fmt;

/// Where the canonical pieces go: a hash (signing, no allocation) or a `String` (debugging).
pub(crate) trait Sink {
    fn put(&mut self, piece: &str);
}

impl Sink for String {
    fn put(&mut self, piece: &str) {
        self.push_str(piece);
    }
}

/// Feeds a hash. The hash buffers a block itself, so each piece goes straight in: gathering
/// pieces into a larger buffer first measured slower (a `memcpy` call per short piece).
pub(crate) struct HashSink<D>(D);

impl<D: md5::Digest> HashSink<D> {
    pub(crate) fn new() -> Self {
        Self(D::new())
    }

    /// The digest of everything put.
    pub(crate) fn finish(self) -> md5::digest::Output<D> {
        self.0.finalize()
    }
}

impl<D: md5::Digest> Sink for HashSink<D> {
    fn put(&mut self, piece: &str) {
        self.0.update(piece.as_bytes());
    }
}

/// What stands in for the secret when a canonical string is printed. Its length does not
/// depend on the secret's.
const MASK: &str = "***";

/// Where the secret sits in the canonical string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SecretPlacement {
    /// LinkV: `params&key=<secret>`.
    Suffix,
    /// Polyv: `<secret>params<secret>`.
    Wrapped,
}

/// The exact text a signature is computed over.
///
/// It contains the signing secret, so `Display` and `Debug` print `***` in its place; that
/// masked form is what to compare, character by character, against the string the vendor's
/// documentation or a working SDK produces when a server answers `sign err`.
/// [`CanonicalString::expose_secret`] gives the real text.
///
/// ```
/// let s = liveapi_sign::linkv::canonical_string([("uid", "42"), ("app_id", "A")], "s3cret")?;
/// assert_eq!(s.to_string(), "app_id=A&uid=42&key=***");
/// assert_eq!(s.expose_secret(), "app_id=A&uid=42&key=s3cret");
/// assert!(!format!("{s:?}").contains("s3cret"));
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalString {
    text: String,
    secret_len: usize,
    placement: SecretPlacement,
}

impl CanonicalString {
    pub(crate) fn linkv(text: String, secret_len: usize) -> Self {
        Self {
            text,
            secret_len,
            placement: SecretPlacement::Suffix,
        }
    }

    pub(crate) fn polyv(text: String, secret_len: usize) -> Self {
        Self {
            text,
            secret_len,
            placement: SecretPlacement::Wrapped,
        }
    }

    /// The whole string the digest is computed over, secret included. Do not log it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The part built from the parameters alone: LinkV's `k1=v1&k2=v2` (without `&key=…`),
    /// Polyv's `k1v1k2v2` (without the secret on either side).
    ///
    /// ```
    /// let s = liveapi_sign::polyv::canonical_string([("timestamp", "1"), ("appId", "a")], "S")?;
    /// assert_eq!(s.params(), "appIdatimestamp1");
    /// # Ok::<(), liveapi_sign::SignError>(())
    /// ```
    #[must_use]
    pub fn params(&self) -> &str {
        match self.placement {
            SecretPlacement::Suffix => {
                let end = self.text.len() - self.secret_len - crate::linkv::KEY_SUFFIX.len();
                &self.text[..end]
            }
            SecretPlacement::Wrapped => {
                &self.text[self.secret_len..self.text.len() - self.secret_len]
            }
        }
    }
}

impl fmt::Display for CanonicalString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.placement {
            SecretPlacement::Suffix => {
                write!(f, "{}{}{MASK}", self.params(), crate::linkv::KEY_SUFFIX)
            }
            SecretPlacement::Wrapped => write!(f, "{MASK}{}{MASK}", self.params()),
        }
    }
}

impl fmt::Debug for CanonicalString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CanonicalString")
            .field(&format_args!("{self}"))
            .finish()
    }
}
