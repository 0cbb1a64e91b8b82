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
        }
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
        self.len > KEEP
    }
}

impl fmt::Display for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("<empty body>");
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
