//! Where an outbox is: read from the one string users give (`Outbox::open`, the command
//! line's `--outbox`), refused when it could be mistaken, and shown with its password
//! replaced.
//!
//! A location is a PostgreSQL URL (`postgres://` or `postgresql://`), a libpq `key=value`
//! string (`host=… user=… dbname=…`), a `sqlite:` URL, or a SQLite path. Anything that looks
//! like one of the first three but is not quite (an unknown scheme, `postgres:/db`, a key that
//! libpq does not know), and any string with a space around it or nothing in it, is refused
//! before a file is created: a mistyped PostgreSQL location must not become a SQLite file named
//! after its password.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::OutboxError;

/// The keys of a libpq `key=value` connection string (PostgreSQL's documentation, "Parameter
/// Key Words"): a string whose first word is one of them is a PostgreSQL location.
const LIBPQ_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "channel_binding",
    "require_auth",
];

/// What the password is replaced by wherever a location is shown.
pub(crate) const MASK: &str = "***";

/// Where an outbox is: a SQLite file or a PostgreSQL database, read from one string.
///
/// Shown (`Display`, `Debug`, every message of this crate) with its password replaced by
/// `***`; the password is kept only to connect.
///
/// ```
/// use liveapi_outbox::Location;
///
/// let pg = Location::parse("postgres://app:S3cret@db.internal/payments?sslmode=verify-full")?;
/// assert!(pg.is_postgres());
/// assert_eq!(pg.to_string(), "postgres://app:***@db.internal/payments?sslmode=verify-full");
///
/// let kv = Location::parse("host=db.internal user=app password=S3cret dbname=payments")?;
/// assert!(kv.is_postgres());
/// assert!(!format!("{kv} {kv:?}").contains("S3cret"));
///
/// assert!(Location::parse("/var/lib/app/coins.outbox")?.sqlite_path().is_some());
/// assert!(Location::parse("sqlite:coins.outbox")?.sqlite_path().is_some());
///
/// for mistaken in ["", " coins.outbox", "postgres:/db", "mysql://db/x", "hots=db dbname=x"] {
///     assert!(Location::parse(mistaken).is_err(), "{mistaken}");
/// }
/// # Ok::<(), liveapi_outbox::OutboxError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Location {
    kind: Kind,
    shown: String,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Sqlite(PathBuf),
    /// The text as given (a URL or a key=value string), password included.
    Postgres {
        text: String,
        url: bool,
    },
}

impl Location {
    /// Reads `text`.
    ///
    /// # Errors
    /// [`OutboxError::BadLocation`] for a string that names no store, or could be mistaken:
    /// empty, a space or control character around or in a scheme, an unknown scheme, a
    /// `postgres:` without `//`, a PostgreSQL URL or `key=value` string that cannot be read
    /// (with the `postgres` feature), a `key=value` string whose first key libpq does not
    /// know.
    pub fn parse(text: &str) -> Result<Self, OutboxError> {
        let bad = |detail: String| OutboxError::BadLocation {
            location: redact(text),
            detail,
        };
        if text.is_empty() {
            return Err(bad("it is empty: give a SQLite path, a sqlite: URL, a postgres:// URL or a libpq key=value string".to_owned()));
        }
        if text.trim() != text {
            return Err(bad(
                "it starts or ends with a space: a location is taken as it is, so that a stray space never names another file".to_owned(),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("it holds a control character".to_owned()));
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Self::postgres(text, true);
        }
        if let Some(rest) = strip_prefix_ignore_case(text, "sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path.contains('?') || path == ":memory:" {
                return Err(bad(
                    "a sqlite: URL names a file: sqlite:PATH or sqlite:///ABSOLUTE/PATH, without options; an outbox in memory would not outlive the process".to_owned(),
                ));
            }
            return Ok(Self::sqlite(PathBuf::from(path)));
        }
        if let Some(scheme) = scheme_of(text) {
            let detail = if scheme.to_ascii_lowercase().starts_with("postgres") {
                format!(
                    "`{scheme}:` is not a PostgreSQL URL, which starts with postgres:// or postgresql://"
                )
            } else {
                format!(
                    "`{scheme}:` is not a scheme the outbox knows: give a SQLite path, a sqlite: URL, a postgres:// URL or a libpq key=value string"
                )
            };
            return Err(bad(detail));
        }
        let first = text.split_whitespace().next().unwrap_or_default();
        if let Some((key, _)) = first.split_once('=') {
            let key = key.trim();
            if LIBPQ_KEYS.contains(&key) {
                return Self::postgres(text, false);
            }
            return Err(bad(format!(
                "`{key}` is not a key of a libpq connection string (host, port, dbname, user, password, sslmode, …), and a SQLite path does not start with `key=`"
            )));
        }
        Ok(Self::sqlite(PathBuf::from(text)))
    }

    fn sqlite(path: PathBuf) -> Self {
        let shown = path.display().to_string();
        Self {
            kind: Kind::Sqlite(path),
            shown,
        }
    }

    fn postgres(text: &str, url: bool) -> Result<Self, OutboxError> {
        let location = Self {
            kind: Kind::Postgres {
                text: text.to_owned(),
                url,
            },
            shown: redact(text),
        };
        #[cfg(feature = "postgres")]
        crate::postgres::settings::Settings::read(&location)?;
        Ok(location)
    }

    /// Whether it names a PostgreSQL database.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// The SQLite file it names, if it names one.
    #[must_use]
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite(path) => Some(path),
            Kind::Postgres { .. } => None,
        }
    }

    /// The PostgreSQL text, password included, and whether it is a URL.
    pub(crate) fn postgres_text(&self) -> Option<(&str, bool)> {
        match &self.kind {
            Kind::Postgres { text, url } => Some((text, *url)),
            Kind::Sqlite(_) => None,
        }
    }

    /// The location with its password replaced: what every message shows.
    #[must_use]
    pub fn redacted(&self) -> &str {
        &self.shown
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_postgres() {
            "Postgres"
        } else {
            "Sqlite"
        };
        write!(f, "Location::{kind}({:?})", self.shown)
    }
}

impl std::str::FromStr for Location {
    type Err = OutboxError;

    fn from_str(text: &str) -> Result<Self, OutboxError> {
        Self::parse(text)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The scheme `text` starts with (`name:`), if it looks like one: a letter, then letters,
/// digits, `+`, `-` or `.`, at least two characters (so that a Windows drive, `C:`, is a
/// path).
fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (plain && scheme.len() >= 2).then_some(scheme)
}

/// `text` with every password in it replaced by [`MASK`]: the user-info password of a URL,
/// `password=` in a URL's query or a `key=value` string, and any other occurrence of those
/// passwords' text.
pub(crate) fn redact(text: &str) -> String {
    redact_in(text, text)
}

/// `message` with every password of the location `text` replaced by [`MASK`].
pub(crate) fn redact_in(message: &str, text: &str) -> String {
    let mut passwords: Vec<String> = Vec::new();
    let lower = text.to_ascii_lowercase();
    if let Some(scheme_end) = lower.find("://") {
        let rest = &text[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some((_, password)) = userinfo.split_once(':') {
                passwords.push(password.to_owned());
            }
        }
        if let Some(query) = rest.split_once('?').map(|(_, q)| q) {
            for pair in query.split('&') {
                if let Some((key, value)) = pair.split_once('=')
                    && key.eq_ignore_ascii_case("password")
                {
                    passwords.push(value.to_owned());
                }
            }
        }
    }
    // Whatever the form (a malformed URL too): `password=` values, and a `user:password@`.
    let mut rest = lower.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find("password=") {
        let start = offset + at + "password=".len();
        let value: String = text[start..]
            .chars()
            .take_while(|c| !matches!(c, '&' | ' ' | '\t' | '\'' | '#'))
            .collect();
        passwords.push(value);
        offset = start;
        rest = &lower[offset..];
    }
    if let Some(at) = text.rfind('@') {
        let before = &text[..at];
        let userinfo = before.rsplit(['/', ' ']).next().unwrap_or(before);
        if let Some((_, password)) = userinfo.split_once(':') {
            passwords.push(password.to_owned());
        }
    }
    let mut shown = message.to_owned();
    if !lower.contains("://") {
        let spans = key_value_spans(text);
        for (key, value, range) in &spans {
            if key == "password" {
                passwords.push(value.clone());
                passwords.push(text[range.clone()].to_owned());
            }
        }
        if message == text {
            // The value as written, quotes and all, replaced where it stands.
            for (key, _, range) in spans.iter().rev() {
                if key == "password" && !range.is_empty() {
                    let quoted = text[range.clone()].starts_with('\'');
                    let mask = if quoted { "'***'" } else { MASK };
                    shown.replace_range(range.clone(), mask);
                }
            }
        }
    }
    passwords.retain(|p| !p.is_empty());
    // Longest first, so that a password containing another is replaced whole.
    passwords.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for password in &passwords {
        for form in [password.clone(), percent_decode(password)] {
            if !form.is_empty() {
                shown = shown.replace(&form, MASK);
            }
        }
    }
    shown
}

/// The pairs of a libpq `key=value` string: values may be quoted with `'`, with `\` escaping
/// inside.
pub(crate) fn key_values(text: &str) -> Vec<(String, String)> {
    key_value_spans(text)
        .into_iter()
        .map(|(key, value, _)| (key, value))
        .collect()
}

/// The pairs of a libpq `key=value` string, each with the byte range of its value as written
/// (quotes included).
fn key_value_spans(text: &str) -> Vec<(String, String, std::ops::Range<usize>)> {
    let mut pairs = Vec::new();
    let mut chars = text.char_indices().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
    };
    loop {
        skip_spaces(&mut chars);
        let mut key = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        skip_spaces(&mut chars);
        if chars.peek().map(|(_, c)| *c) != Some('=') {
            pairs.push((key, String::new(), text.len()..text.len()));
            continue;
        }
        chars.next();
        skip_spaces(&mut chars);
        let start = chars.peek().map_or(text.len(), |(i, _)| *i);
        let mut value = String::new();
        if chars.peek().map(|(_, c)| *c) == Some('\'') {
            chars.next();
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next().map(|(_, c)| c));
                    continue;
                }
                value.push(c);
            }
        }
        let end = chars.peek().map_or(text.len(), |(i, _)| *i);
        pairs.push((key, value, start..end));
    }
    pairs
}

/// `%XX` sequences decoded (anything else kept as it is).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_replaced_wherever_they_are() {
        for (text, shown) in [
            ("postgres:/db?password=S3cret", "postgres:/db?password=***"),
            ("mysql://u:S3cret@db/x", "mysql://u:***@db/x"),
            ("hots=h password=S3cret", "hots=h password=***"),
            (
                "postgres://app:S3cret@db/x?sslmode=require",
                "postgres://app:***@db/x?sslmode=require",
            ),
            ("postgresql://app:p%40ss@db/x", "postgresql://app:***@db/x"),
            (
                "postgres://db/x?password=S3cret&user=a",
                "postgres://db/x?password=***&user=a",
            ),
            (
                "host=127.0.0.1 user=postgres password=S3cretPw dbname=test",
                "host=127.0.0.1 user=postgres password=*** dbname=test",
            ),
            (
                "host=h password='a b\\'c' dbname=x",
                "host=h password='***' dbname=x",
            ),
            ("/var/lib/coins.outbox", "/var/lib/coins.outbox"),
        ] {
            assert_eq!(redact(text), shown, "{text}");
        }
    }

    #[test]
    fn locations_that_could_be_mistaken_are_refused() {
        for text in [
            "",
            " coins.outbox",
            "coins.outbox ",
            "postgres:/db",
            "postgres:db",
            "postgresql:/db",
            "mysql://db/x",
            "http://example.com/x",
            "hots=db dbname=x",
            "sqlite:",
            "sqlite::memory:",
            "sqlite:x?mode=ro",
            "a\nb",
        ] {
            assert!(
                matches!(Location::parse(text), Err(OutboxError::BadLocation { .. })),
                "{text:?}"
            );
        }
        let kv =
            Location::parse("host=127.0.0.1 user=postgres password=S3cretPw dbname=test").unwrap();
        assert!(kv.is_postgres());
        let error = Location::parse("host=127.0.0.1 password=S3cretPw hots=x").map(|_| ());
        if let Err(e) = error {
            assert!(!format!("{e} {e:?}").contains("S3cretPw"), "{e}");
        }
        assert_eq!(
            Location::parse("sqlite:///tmp/a.outbox")
                .unwrap()
                .sqlite_path(),
            Some(Path::new("/tmp/a.outbox"))
        );
        assert_eq!(
            Location::parse("C:/data/a.outbox").unwrap().sqlite_path(),
            Some(Path::new("C:/data/a.outbox"))
        );
        assert!(Location::parse("POSTGRES://h/db").unwrap().is_postgres());
    }
}
