//! A response body kept for debugging, cut to a bounded size.

use std::fmt;

/// How much of an unexpected body is kept.
const KEEP: usize = 512;

/// The start of a response body that could not be understood, kept so that an error says what
/// the server actually sent (an HTML error page, a truncated JSON document…).
///
/// At most 512 bytes are kept, cut at a character boundary; [`RawBody::len`] is the full size.
///
/// ```
/// use liveapi_model::RawBody;
/// let body = RawBody::new(b"<html>502 Bad Gateway</html>");
/// assert_eq!(body.text(), "<html>502 Bad Gateway</html>");
/// assert!(!body.is_truncated());
/// let long = RawBody::new(&vec![b'x'; 10_000]);
/// assert_eq!(long.text().len(), 512);
/// assert_eq!(long.len(), 10_000);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody {
    text: String,
    len: usize,
    withheld: bool,
}

impl RawBody {
    /// Keeps the start of `body`, invalid UTF-8 replaced by U+FFFD.
    #[must_use]
    pub fn new(body: &[u8]) -> Self {
        let mut text = String::from_utf8_lossy(&body[..body.len().min(KEEP)]).into_owned();
        if text.len() > KEEP {
            // Replacement characters can make the text longer than the bytes it came from.
            let mut end = KEEP;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        Self {
            text,
            len: body.len(),
            withheld: false,
        }
    }

    /// Keeps nothing of a body of `len` bytes but its size: for answers that may carry a
    /// secret, such as a live token.
    ///
    /// ```
    /// use liveapi_model::RawBody;
    /// let body = RawBody::withheld(120);
    /// assert_eq!(body.text(), "");
    /// assert_eq!(body.to_string(), "<120 bytes withheld: the answer may carry a secret>");
    /// ```
    #[must_use]
    pub fn withheld(len: usize) -> Self {
        Self {
            text: String::new(),
            len,
            withheld: true,
        }
    }

    /// Whether the body was withheld rather than kept.
    #[must_use]
    pub fn is_withheld(&self) -> bool {
        self.withheld
    }

    /// The kept start of the body.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The size of the whole body in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body was empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether only part of the body was kept.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.withheld || self.len > KEEP
    }
}

impl fmt::Display for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("<empty body>");
        }
        if self.withheld {
            return write!(
                f,
                "<{} bytes withheld: the answer may carry a secret>",
                self.len
            );
        }
        write!(f, "{:?}", self.text)?;
        if self.is_truncated() {
            write!(f, "… ({} bytes in all)", self.len)?;
        }
        Ok(())
    }
}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
