//! Identifiers: of users, of orders, of idempotent requests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::{Builder, Uuid, Variant, Version};

use crate::validate::{ISSUED_BYTES, Rule, UNDOCUMENTED_INPUT_BYTES, string_newtype};

fn is_user_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | '-' | '_')
}

string_newtype! {
    /// Your app's id for a user (`userId`): 1 to 64 bytes of `A-Z a-z 0-9 + = - _`.
    ///
    /// Both rules are the vendor's (`docs/linkv.md#validation-rules`); a longer id gets its
    /// documented `400` parameter-length error (`docs/linkv.md#errors`). LinkV treats two
    /// requests with the same `userId` as the same user.
    ///
    /// This is the id your app sends. The `userId` a `thGetToken` answer echoes is kept as
    /// the server wrote it ([`UserToken::user_id`](super::UserToken)), never checked against
    /// these rules.
    ///
    /// ```
    /// use liveapi_model::linkv::UserId;
    /// assert!(UserId::new("user-42_a+b=").is_ok());
    /// assert!(UserId::new("x".repeat(65)).is_err());
    /// assert!(UserId::new("").is_err());
    /// ```
    UserId, field = "userId", check = |c, s| {
        c.max_bytes(s, 64)?;
        c.charset(s, "A-Z a-z 0-9 + = - _", is_user_id_char)?;
    }
}

string_newtype! {
    /// LinkV's id for a user (`openId` in responses, `uid` in the coin calls): 1 to 4096 bytes
    /// of any text.
    ///
    /// The server issues it, and the vendor gives it no format (`uid` is the open id the API
    /// returned; its example is 21 digits: `docs/linkv.md#validation-rules`), so it is held
    /// to no input rule: whatever the server issued is accepted here and sent back as it came.
    /// The bound only keeps a runaway answer out of memory.
    ///
    /// ```
    /// use liveapi_model::linkv::OpenId;
    /// assert!(OpenId::new("1291371456374120449").is_ok());
    /// assert!(OpenId::new("oid:7f3a/b c+=").is_ok()); // not a format this crate knows: fine
    /// assert!(OpenId::new("").is_err());
    /// ```
    OpenId, field = "uid", check = |c, s| {
        c.max_bytes(s, ISSUED_BYTES)?;
    }
}

string_newtype! {
    /// The idempotency key of a coin change (`request_id`): 1 to 64 printable ASCII characters
    /// (space to `~`).
    ///
    /// The vendor asks for 32 random characters, a UUID recommended
    /// (`docs/linkv.md#validation-rules`), and [`from_unix_millis`](Self::from_unix_millis)
    /// makes exactly that. The official SDKs in production send other shapes, `live_app_key`
    /// without its first two characters, `-` and 9 random characters, 31 characters long from
    /// the Node SDK, and the real server takes them
    /// (`docs/linkv.md#what-the-official-sdks-send`). So any printable ASCII id is
    /// accepted, up to 64 characters: twice the documented length, above every production
    /// SDK's.
    ///
    /// Create it once per business operation, store it with the operation, and send the same
    /// value on every retry, including a retry after your own process restarts. The server
    /// applies a change with a given `request_id` at most once.
    ///
    /// ```
    /// use liveapi_model::linkv::RequestId;
    /// let id = RequestId::new("6000101140927991745433-Ab3dE5gH7")?; // 32, as the Go SDK sends
    /// assert_eq!(id.as_str().len(), 32);
    /// assert!(RequestId::new("6000101140927991745433-Ab3dE5gH").is_ok()); // 31, Node's
    /// assert!(RequestId::new("order 42/refund").is_ok());
    /// assert!(RequestId::new("x".repeat(65)).is_err());
    /// assert!(RequestId::new("é").is_err());
    /// assert!(RequestId::new("").is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    RequestId, field = "request_id", check = |c, s| {
        c.non_empty(s)?;
        c.printable_ascii(s)?;
        // ASCII only, so bytes are characters.
        if s.len() > 64 {
            return Err(c.fail(Rule::TooLong { max: 64, unit: "characters" }));
        }
    }
}

/// The earliest creation time a time-ordered id is believed to carry: 2020-01-01 UTC. Any
/// 32 hex digits can look like a version 7 UUID; one whose time lies outside 2020–2200 came
/// from something else.
const PLAUSIBLE_SINCE_MS: u64 = 1_577_836_800_000;
/// The end of the plausible span: 2200-01-01 UTC.
const PLAUSIBLE_UNTIL_MS: u64 = 7_258_118_400_000;

impl RequestId {
    /// A time-ordered (version 7) UUID in its 32-digit lowercase form: the 48-bit unix time in
    /// milliseconds, then 74 random bits (RFC 9562, section 5.7). It is what the vendor asks for
    /// (32 random characters, a UUID recommended: `docs/linkv.md#validation-rules`), and it carries
    /// the time it was made, so that [`created_at`](Self::created_at) can tell how old a request id
    /// is and a resend can derive the same defaults from it.
    ///
    /// The random bytes must come from a cryptographically secure source; this crate has none
    /// of its own (`liveapi-request` supplies it).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi_model::linkv::RequestId;
    ///
    /// // RFC 9562, appendix A.6.
    /// let random = [0x0C, 0xC3, 0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F];
    /// let id = RequestId::from_unix_millis(0x017F_22E2_79B0, random);
    /// assert_eq!(id.as_str(), "017f22e279b07cc398c4dc0c0c07398f");
    /// assert_eq!(id.created_at(), Some(UNIX_EPOCH + Duration::from_millis(0x017F_22E2_79B0)));
    /// ```
    #[must_use]
    pub fn from_unix_millis(millis: u64, random: [u8; 10]) -> Self {
        let id = Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
        Self(id.simple().to_string())
    }

    /// When the id was made, if it is a time-ordered id of the shape
    /// [`from_unix_millis`](Self::from_unix_millis) makes (32 lowercase hex digits, version 7,
    /// variant 10) carrying a time between 2020 and 2200. Ids of any other shape, such as the
    /// ones the official SDKs build, stay valid and carry no known time.
    ///
    /// ```
    /// use liveapi_model::linkv::RequestId;
    /// assert!(RequestId::new("6000100000000000000042-Ab3dE5gH7")?.created_at().is_none());
    /// // A version 4 UUID carries no time.
    /// assert!(RequestId::new("9b2f1c0e6d4a4b3c8e7f6a5b4c3d2e1f")?.created_at().is_none());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    #[must_use]
    pub fn created_at(&self) -> Option<SystemTime> {
        // `try_parse` also takes the hyphenated and upper-case forms; only the exact text
        // `from_unix_millis` writes counts as one of ours.
        if self.0.len() != 32 || self.0.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let id = Uuid::try_parse(&self.0).ok()?;
        if id.get_version() != Some(Version::SortRand) || id.get_variant() != Variant::RFC4122 {
            return None;
        }
        let (secs, nanos) = id.get_timestamp()?.to_unix();
        let millis = secs * 1000 + u64::from(nanos / 1_000_000);
        (PLAUSIBLE_SINCE_MS..PLAUSIBLE_UNTIL_MS)
            .contains(&millis)
            .then(|| UNIX_EPOCH + Duration::from_millis(millis))
    }
}

string_newtype! {
    /// The id of a top-up order (`order_id`): 1 to 4096 bytes of any text. An order can be
    /// completed once.
    ///
    /// The vendor's client SDK issues it (`docs/linkv.md#validation-rules`) and the vendor
    /// documents no format, so it is carried as it came; the bound only keeps a runaway
    /// value out.
    ///
    /// ```
    /// use liveapi_model::linkv::OrderId;
    /// assert!(OrderId::new("ORD-2020-0001").is_ok());
    /// assert!(OrderId::new("ORD 1/2").is_ok());
    /// assert!(OrderId::new("").is_err());
    /// ```
    OrderId, field = "order_id", check = |c, s| {
        c.max_bytes(s, ISSUED_BYTES)?;
    }
}

string_newtype! {
    /// A device id of the user (`aid`): 1 to 1024 bytes of any text.
    ///
    /// The vendor says only that it is a unique device id of the user, not the physical one,
    /// with no length (`docs/linkv.md#validation-rules`), so the bound is a generous one of
    /// this crate's. Required by the vendor's 2020 doc, dropped by its 2021 doc
    /// (`docs/linkv.md#calls`): optional here.
    ///
    /// ```
    /// use liveapi_model::linkv::DeviceId;
    /// assert!(DeviceId::new("dsafdsf23wadfaad").is_ok());
    /// assert!(DeviceId::new("iPhone 15 / A1B2").is_ok());
    /// assert!(DeviceId::new("x".repeat(1025)).is_err());
    /// ```
    DeviceId, field = "aid", check = |c, s| {
        c.max_bytes(s, UNDOCUMENTED_INPUT_BYTES)?;
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::RequestId;

    const MILLIS: u64 = 1_700_000_000_000;

    #[test]
    fn only_the_text_from_unix_millis_writes_carries_a_time() {
        let id = RequestId::from_unix_millis(MILLIS, [0xA5; 10]);
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(
            id.created_at(),
            Some(UNIX_EPOCH + Duration::from_millis(MILLIS))
        );

        // The same UUID in the other forms a UUID parser takes is somebody else's id.
        let upper = RequestId::new(id.as_str().to_ascii_uppercase()).unwrap();
        assert_eq!(upper.created_at(), None);
        let s = id.as_str();
        let hyphenated = format!(
            "{}-{}-{}-{}-{}",
            &s[..8],
            &s[8..12],
            &s[12..16],
            &s[16..20],
            &s[20..]
        );
        assert_eq!(RequestId::new(hyphenated).unwrap().created_at(), None);
        let braced = format!("{{{s}}}");
        assert_eq!(RequestId::new(braced).unwrap().created_at(), None);
    }

    #[test]
    fn a_version_7_id_of_another_variant_or_an_implausible_time_carries_none() {
        let id = RequestId::from_unix_millis(MILLIS, [0; 10]);
        // Variant bits 11 (Microsoft's reserved) instead of 10.
        let mut other_variant = id.as_str().to_owned();
        other_variant.replace_range(16..17, "c");
        assert_eq!(RequestId::new(other_variant).unwrap().created_at(), None);

        assert_eq!(RequestId::from_unix_millis(0, [0; 10]).created_at(), None);
        let after_2200 = RequestId::from_unix_millis(7_258_118_400_000, [0; 10]);
        assert_eq!(after_2200.created_at(), None);
    }

    #[test]
    fn the_time_wraps_to_48_bits_as_rfc_9562_lays_it_out() {
        let wrapped = RequestId::from_unix_millis((1 << 48) + MILLIS, [0; 10]);
        assert_eq!(wrapped, RequestId::from_unix_millis(MILLIS, [0; 10]));
    }
}
