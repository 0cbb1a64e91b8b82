//! What a user is registered with: name, portrait, e-mail, country, birthday, sex.

use std::fmt;
use std::str::FromStr;

use crate::ValidationError;
use crate::validate::{Check, Rule, string_newtype};

string_newtype! {
    /// The name shown when the user goes live (`name`): 1 to 128 bytes of printable text.
    /// Required when a user registers.
    ///
    /// ```
    /// use liveapi_model::linkv::UserName;
    /// assert!(UserName::new("Ann 😀").is_ok());
    /// assert!(UserName::new("é".repeat(65)).is_err()); // 130 bytes
    /// ```
    UserName, field = "name", check = |c, s| {
        c.max_bytes(s, 128)?;
        c.printable(s)?;
    }
}

string_newtype! {
    /// The URI of the user's portrait (`portraitUri`): 1 to 1024 bytes without spaces.
    /// Required when a user registers.
    ///
    /// ```
    /// use liveapi_model::linkv::PortraitUri;
    /// assert!(PortraitUri::new("https://cdn.example.com/a.png").is_ok());
    /// assert!(PortraitUri::new("https://cdn.example.com/a b.png").is_err());
    /// ```
    PortraitUri, field = "portraitUri", check = |c, s| {
        c.max_bytes(s, 1024)?;
        c.visible(s)?;
    }
}

string_newtype! {
    /// The user's e-mail address (`email`): `local@domain`, at most 254 bytes, no spaces.
    ///
    /// ```
    /// use liveapi_model::linkv::Email;
    /// assert!(Email::new("a.b+c@example.com").is_ok());
    /// assert!(Email::new("no-at-sign").is_err());
    /// ```
    Email, field = "email", check = |c, s| {
        c.max_bytes(s, 254)?;
        c.visible(s)?;
        match s.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {}
            _ => return Err(c.fail(Rule::Format { expected: "an address of the form local@domain" })),
        }
    }
}

string_newtype! {
    /// The user's country (`countryCode`): an ISO 3166-1 alpha-2 code in capitals, like `US`.
    ///
    /// ```
    /// use liveapi_model::linkv::CountryCode;
    /// assert!(CountryCode::new("US").is_ok());
    /// assert!(CountryCode::new("us").is_err());
    /// assert!(CountryCode::new("USA").is_err());
    /// ```
    CountryCode, field = "countryCode", check = |c, s| {
        c.non_empty(s)?;
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(c.fail(Rule::Format { expected: "two capital letters (ISO 3166-1 alpha-2)" }));
        }
    }
}

string_newtype! {
    /// The user's birthday (`birthday`): a real calendar date written `YYYY-MM-DD`.
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

/// The user's sex (`sex`): `-1` unknown, `1` male, `0` female.
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
