//! Why a value was refused, and the checks shared by the validated types.

use std::fmt;

/// A value that the vendor's documentation does not allow. Nothing is sent.
///
/// The message names the wire field and the rule, never the refused value itself (it may be
/// personal data).
///
/// ```
/// use liveapi_model::linkv::UserId;
/// let err = UserId::new("has space").unwrap_err();
/// assert_eq!(err.field(), "userId");
/// assert_eq!(err.to_string(), "userId: only A-Z a-z 0-9 + = - _ are allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    field: &'static str,
    rule: Rule,
}

impl ValidationError {
    pub(crate) const fn new(field: &'static str, rule: Rule) -> Self {
        Self { field, rule }
    }

    /// The wire name of the field, such as `userId` or `cashMin`.
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule that was broken.
    #[must_use]
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

/// A rule a field must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The value is empty; the APIs never take an empty value.
    Empty,
    /// The value is longer than allowed.
    TooLong {
        /// The limit.
        max: usize,
        /// The unit of the limit: `"bytes"` or `"characters"`.
        unit: &'static str,
    },
    /// The value has a character outside the allowed set.
    Charset {
        /// The allowed set, as documentation would say it.
        allowed: &'static str,
    },
    /// The value is not in the expected format.
    Format {
        /// The expected format.
        expected: &'static str,
    },
    /// A number is out of range.
    Range {
        /// The range, as documentation would say it.
        range: &'static str,
    },
    /// A list has the wrong number of items.
    Count {
        /// The allowed count, as documentation would say it.
        expected: &'static str,
        /// How many were given.
        actual: usize,
    },
    /// A required field is absent.
    Missing,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("must not be empty"),
            Self::TooLong { max, unit } => write!(f, "must be at most {max} {unit}"),
            Self::Charset { allowed } => write!(f, "only {allowed} are allowed"),
            Self::Format { expected } => write!(f, "must be {expected}"),
            Self::Range { range } => write!(f, "must be {range}"),
            Self::Count { expected, actual } => {
                write!(f, "must have {expected} items, got {actual}")
            }
            Self::Missing => f.write_str("is required"),
        }
    }
}

/// Checks shared by the string newtypes.
pub(crate) struct Check {
    pub(crate) field: &'static str,
}

impl Check {
    pub(crate) fn fail(&self, rule: Rule) -> ValidationError {
        ValidationError::new(self.field, rule)
    }

    pub(crate) fn non_empty(&self, s: &str) -> Result<(), ValidationError> {
        if s.is_empty() {
            return Err(self.fail(Rule::Empty));
        }
        Ok(())
    }

    pub(crate) fn max_bytes(&self, s: &str, max: usize) -> Result<(), ValidationError> {
        self.non_empty(s)?;
        if s.len() > max {
            return Err(self.fail(Rule::TooLong { max, unit: "bytes" }));
        }
        Ok(())
    }

    pub(crate) fn max_chars(&self, s: &str, max: usize) -> Result<(), ValidationError> {
        self.non_empty(s)?;
        if s.chars().count() > max {
            return Err(self.fail(Rule::TooLong {
                max,
                unit: "characters",
            }));
        }
        Ok(())
    }

    pub(crate) fn charset(
        &self,
        s: &str,
        allowed: &'static str,
        ok: impl Fn(char) -> bool,
    ) -> Result<(), ValidationError> {
        if !s.chars().all(ok) {
            return Err(self.fail(Rule::Charset { allowed }));
        }
        Ok(())
    }

    /// Text that may hold anything printable, spaces and non-ASCII included.
    pub(crate) fn printable(&self, s: &str) -> Result<(), ValidationError> {
        self.charset(s, "printable characters", |c| !c.is_control())
    }

    /// Printable ASCII, space included: `U+0020` to `U+007E`.
    pub(crate) fn printable_ascii(&self, s: &str) -> Result<(), ValidationError> {
        self.charset(s, "printable ASCII characters (space to ~)", |c| {
            matches!(c, ' '..='~')
        })
    }
}

/// The bound on a value the vendor documents no length for, when it is our input (`aid`,
/// `reason`): generous, so that no real value is refused, yet finite, so that a mistake (a
/// whole file passed as a reason) is caught before it is sent.
pub(crate) const UNDOCUMENTED_INPUT_BYTES: usize = 1024;

/// The bound on a value the server (or the vendor's client SDK) issues and we only carry back
/// (`openId`, `order_id`, a live token): values the server issues are not held to input rules,
/// so this only keeps a runaway answer out of memory and logs.
pub(crate) const ISSUED_BYTES: usize = 4096;

/// Declares a validated string newtype with the conversions every one of them shares.
macro_rules! string_newtype {
    (
        $(#[$meta:meta])*
        $name:ident, field = $field:literal,
        $(normalize = $normalize:expr,)?
        check = |$check:ident, $s:ident| $body:block
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The wire name of the field this value travels in.
            pub const FIELD: &'static str = $field;

            /// Validates and wraps the value.
            ///
            /// # Errors
            /// A [`ValidationError`](crate::ValidationError) naming the rule that was broken.
            pub fn new(value: impl Into<String>) -> Result<Self, $crate::ValidationError> {
                let value: String = value.into();
                $(let value: String = ($normalize)(value);)?
                {
                    let $check = $crate::validate::Check { field: $field };
                    let $s: &str = &value;
                    $body
                }
                Ok(Self(value))
            }

            /// The value as sent on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::ValidationError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

pub(crate) use string_newtype;

/// `TryFrom<&str>` for value types that parse with `FromStr`, so that every value type reads
/// from text the same two ways.
macro_rules! try_from_str {
    ($($name:ty),* $(,)?) => {$(
        impl TryFrom<&str> for $name {
            type Error = $crate::ValidationError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    )*};
}

pub(crate) use try_from_str;
