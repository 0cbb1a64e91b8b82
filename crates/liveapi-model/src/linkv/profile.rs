//! What a user is registered with: name, portrait, e-mail, country, birthday, sex.

use std::fmt;
use std::str::FromStr;

use crate::ValidationError;
use crate::validate::{Check, Rule, string_newtype};

string_newtype! {
    /// The name shown when the user goes live (`name`): 1 to 128 bytes of any text, spaces
    /// and line breaks included. Required when a user registers.
    ///
    /// The limit and the requirement are the vendor's (`docs/linkv.md#validation-rules`),
    /// which say nothing of the characters. Empty is refused because an empty value is not
    /// sent at all (it would not be signed: `docs/linkv.md#signing`), so it could not set a
    /// name.
    ///
    /// ```
    /// use liveapi_model::linkv::UserName;
    /// assert!(UserName::new("Ann 😀").is_ok());
    /// assert!(UserName::new("Ann\tSmith").is_ok());
    /// assert!(UserName::new("é".repeat(65)).is_err()); // 130 bytes
    /// ```
    UserName, field = "name", check = |c, s| {
        c.max_bytes(s, 128)?;
    }
}

string_newtype! {
    /// The URI of the user's portrait (`portraitUri`): 1 to 1024 bytes of any text.
    /// Required when a user registers.
    ///
    /// The limit and the requirement are the vendor's (`docs/linkv.md#validation-rules`),
    /// which give no format; a URI with spaces in it is sent as given.
    ///
    /// ```
    /// use liveapi_model::linkv::PortraitUri;
    /// assert!(PortraitUri::new("https://cdn.example.com/a.png").is_ok());
    /// assert!(PortraitUri::new("https://cdn.example.com/a b.png").is_ok());
    /// assert!(PortraitUri::new("u".repeat(1025)).is_err());
    /// ```
    PortraitUri, field = "portraitUri", check = |c, s| {
        c.max_bytes(s, 1024)?;
    }
}

string_newtype! {
    /// The user's e-mail address (`email`): 1 to 254 bytes without control characters.
    ///
    /// The vendor says only that it is the user's e-mail (`docs/linkv.md#validation-rules`), so no
    /// shape is checked: what your users typed is sent. The 254 bytes are the longest address SMTP
    /// can carry (RFC 5321, 4.5.3.1.3: a path of 256 octets with its angle brackets); control
    /// characters cannot be part of an address (RFC 5322, 3.2.3).
    ///
    /// ```
    /// use liveapi_model::linkv::Email;
    /// assert!(Email::new("a.b+c@example.com").is_ok());
    /// assert!(Email::new("no-at-sign").is_ok());
    /// assert!(Email::new("a\nb@example.com").is_err());
    /// assert!(Email::new(format!("{}@example.com", "a".repeat(243))).is_err());
    /// ```
    Email, field = "email", check = |c, s| {
        c.max_bytes(s, 254)?;
        c.printable(s)?;
    }
}

string_newtype! {
    /// The user's country (`countryCode`): two letters, written in capitals on the wire, like
    /// `US`.
    ///
    /// The vendor's example is `US` (`docs/linkv.md#validation-rules`), an ISO 3166-1 alpha-2 code;
    /// any case is accepted and put in capitals (`us` becomes `US`). Whether the code is assigned
    /// is not checked.
    ///
    /// ```
    /// use liveapi_model::linkv::CountryCode;
    /// assert_eq!(CountryCode::new("us")?.as_str(), "US");
    /// assert!(CountryCode::new("USA").is_err());
    /// assert!(CountryCode::new("U1").is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    CountryCode, field = "countryCode",
    normalize = |s: String| s.to_ascii_uppercase(),
    check = |c, s| {
        c.non_empty(s)?;
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(c.fail(Rule::Format { expected: "two letters (ISO 3166-1 alpha-2)" }));
        }
    }
}

string_newtype! {
    /// The user's birthday (`birthday`): a real calendar date written `YYYY-MM-DD`.
    ///
    /// The format is the vendor's (`2010-01-01` in its example; `docs/linkv.md#calls`); a date
    /// that does not exist is refused because no server can store it as a date.
    ///
    /// ```
    /// use liveapi_model::linkv::Birthday;
    /// assert!(Birthday::new("2010-01-01").is_ok());
    /// assert!(Birthday::new("2000-02-29").is_ok());
    /// assert!(Birthday::new("2001-02-29").is_err());
    /// assert!(Birthday::new("2010-1-1").is_err());
    /// ```
    Birthday, field = "birthday", check = |c, s| {
        c.non_empty(s)?;
        if !is_calendar_date(s) {
            return Err(c.fail(Rule::Format { expected: "a calendar date written YYYY-MM-DD" }));
        }
    }
}

impl Birthday {
    /// The birthday from its parts.
    ///
    /// ```
    /// use liveapi_model::linkv::Birthday;
    /// assert_eq!(Birthday::from_ymd(2010, 1, 1)?.as_str(), "2010-01-01");
    /// assert!(Birthday::from_ymd(2010, 13, 1).is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ValidationError`] if the date does not exist.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, ValidationError> {
        Self::new(format!("{year:04}-{month:02}-{day:02}"))
    }
}

fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// The user's sex (`sex`): `-1` unknown, `1` male, `0` female, the vendor's three values
/// (`docs/linkv.md#validation-rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `-1`.
    Unknown,
    /// `1`.
    Male,
    /// `0`.
    Female,
}

impl Sex {
    /// The value as sent on the wire.
    ///
    /// ```
    /// assert_eq!(liveapi_model::linkv::Sex::Female.as_str(), "0");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "-1",
            Self::Male => "1",
            Self::Female => "0",
        }
    }
}

impl FromStr for Sex {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "-1" => Ok(Self::Unknown),
            "1" => Ok(Self::Male),
            "0" => Ok(Self::Female),
            _ => Err(Check { field: "sex" }.fail(Rule::Format {
                expected: "-1 (unknown), 1 (male) or 0 (female)",
            })),
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::validate::try_from_str!(Sex);
