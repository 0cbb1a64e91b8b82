//! Identifiers: of users, of orders, of idempotent requests.

use crate::validate::{Rule, string_newtype};

fn is_user_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | '-' | '_')
}

string_newtype! {
    /// Your app's id for a user (`userId`): 1 to 64 bytes of `A-Z a-z 0-9 + = - _`.
    ///
    /// LinkV treats two requests with the same `userId` as the same user.
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
    /// LinkV's id for a user (`openId` in responses, `uid` in the coin calls).
    ///
    /// ```
    /// use liveapi_model::linkv::OpenId;
    /// assert!(OpenId::new("1291371456374120449").is_ok());
    /// assert!(OpenId::new("has space").is_err());
    /// ```
    OpenId, field = "uid", check = |c, s| {
        c.max_bytes(s, 64)?;
        c.charset(s, "A-Z a-z 0-9 - _", |ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_'))?;
    }
}

string_newtype! {
    /// The idempotency key of a coin change (`request_id`): exactly 32 characters of
    /// `A-Z a-z 0-9 - _`.
    ///
    /// Create it once per business operation, store it with the operation, and send the same
    /// value on every retry, including a retry after your own process restarts. The server
    /// applies a change with a given `request_id` at most once.
    ///
    /// ```
    /// use liveapi_model::linkv::RequestId;
    /// let id = RequestId::new("6000101140927991745433-Ab3dE5gH7")?;
    /// assert_eq!(id.as_str().len(), 32);
    /// assert!(RequestId::new("too-short").is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    RequestId, field = "request_id", check = |c, s| {
        c.non_empty(s)?;
        if s.len() != 32 {
            return Err(c.fail(Rule::Format { expected: "exactly 32 characters" }));
        }
        c.charset(s, "A-Z a-z 0-9 - _", |ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_'))?;
    }
}

impl RequestId {
    /// A random (version 4) UUID in its 32-digit form, from 16 random bytes.
    ///
    /// The bytes must come from a cryptographically secure source; this crate has none of its
    /// own (`liveapi-request` supplies it).
    ///
    /// ```
    /// use liveapi_model::linkv::RequestId;
    /// let id = RequestId::from_random_bytes([0; 16]);
    /// assert_eq!(id.as_str(), "00000000000040008000000000000000");
    /// ```
    #[must_use]
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        // RFC 9562: version 4 in the high nibble of byte 6, variant 10 in byte 8.
        bytes[6] = (bytes[6] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(32);
        for b in bytes {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
        Self(text)
    }
}

string_newtype! {
    /// The id of a top-up order (`order_id`), as the 互动娱乐 SDK reported it: 1 to 128
    /// printable characters without spaces. An order can be completed once.
    ///
    /// ```
    /// use liveapi_model::linkv::OrderId;
    /// assert!(OrderId::new("ORD-2020-0001").is_ok());
    /// assert!(OrderId::new("ORD 1").is_err());
    /// ```
    OrderId, field = "order_id", check = |c, s| {
        c.max_bytes(s, 128)?;
        c.visible(s)?;
    }
}

string_newtype! {
    /// A device id of the user (`aid`): 1 to 128 printable characters without spaces.
    ///
    /// ```
    /// use liveapi_model::linkv::DeviceId;
    /// assert!(DeviceId::new("dsafdsf23wadfaad").is_ok());
    /// ```
    DeviceId, field = "aid", check = |c, s| {
        c.max_bytes(s, 128)?;
        c.visible(s)?;
    }
}
