//! A coin change as a value: every parameter fixed before the first attempt, so that it can be
//! stored with the business operation and sent, or resent after a crash, verbatim.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    ChangeGold, ChangeReason, ChangeType, Coins, Expiration, OpenId, OrderId, OrderSuccess,
    Platform, RequestId, UsdCents,
};

/// The call a pending change makes: one of the two coin calls the vendor documents
/// (`docs/linkv.md#calls`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoinRequest {
    /// `orderSuccess`: a top-up order completed, or refunded.
    Order(OrderSuccess),
    /// `changeGold`: coins added or removed outside an order.
    ChangeGold(ChangeGold),
}

/// A coin change (`orderSuccess` or `changeGold`) with every parameter fixed: user, type,
/// coins, money, order id, platform, reason, request id, expiry, and when it was made.
///
/// Sending it twice sends identical business parameters (only the nonce and the signature are
/// new), so the server applies it at most once by its `request_id`. Store it (it is
/// serde-serialisable, in a stable, versioned form) with the business operation before the
/// first attempt; after a crash or a lost answer, send the stored value again.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_model::linkv::*;
///
/// let made = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let id = RequestId::from_unix_millis(1_700_000_000_000, [7; 10]);
/// let change = ChangeGold::add(OpenId::new("42")?, id, Coins::new(5)?, Expiration::at_unix_seconds(1_707_868_800))?;
/// let pending = PendingChange::new(CoinRequest::ChangeGold(change), made);
///
/// let stored = serde_json::to_string(&pending)?;
/// let back: PendingChange = serde_json::from_str(&stored)?;
/// assert_eq!(back, pending);
/// assert_eq!(back.params(), pending.params());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChange {
    request: CoinRequest,
    created_at_ms: u64,
}

impl PendingChange {
    /// The change `request`, made at `created_at` (the creation time of its request id when
    /// that id carries one).
    #[must_use]
    pub fn new(request: CoinRequest, created_at: SystemTime) -> Self {
        let millis = created_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            request,
            created_at_ms: millis,
        }
    }

    /// The call it makes.
    #[must_use]
    pub fn request(&self) -> &CoinRequest {
        &self.request
    }

    /// The call it makes, by value.
    #[must_use]
    pub fn into_request(self) -> CoinRequest {
        self.request
    }

    /// The endpoint's name: `orderSuccess` or `changeGold`.
    #[must_use]
    pub fn endpoint(&self) -> &'static str {
        match &self.request {
            CoinRequest::Order(_) => "orderSuccess",
            CoinRequest::ChangeGold(_) => "changeGold",
        }
    }

    /// The idempotency key.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        match &self.request {
            CoinRequest::Order(o) => o.request_id(),
            CoinRequest::ChangeGold(c) => c.request_id(),
        }
    }

    /// The user.
    #[must_use]
    pub fn uid(&self) -> &OpenId {
        match &self.request {
            CoinRequest::Order(o) => o.uid(),
            CoinRequest::ChangeGold(c) => c.uid(),
        }
    }

    /// Whether coins are added or removed.
    #[must_use]
    pub fn change_type(&self) -> ChangeType {
        match &self.request {
            CoinRequest::Order(o) => o.change_type(),
            CoinRequest::ChangeGold(c) => c.change_type(),
        }
    }

    /// How many coins.
    #[must_use]
    pub fn coins(&self) -> Coins {
        match &self.request {
            CoinRequest::Order(o) => o.value(),
            CoinRequest::ChangeGold(c) => c.value(),
        }
    }

    /// When credited coins expire.
    #[must_use]
    pub fn expiration(&self) -> Option<Expiration> {
        match &self.request {
            CoinRequest::Order(o) => o.expiration(),
            CoinRequest::ChangeGold(c) => c.expiration(),
        }
    }

    /// When the change was made.
    #[must_use]
    pub fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_at_ms)
    }

    /// How old the change is at `now` (zero if `now` is before it was made).
    #[must_use]
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.created_at()).unwrap_or_default()
    }

    /// The business parameters it sends, in wire names (the same on every sending).
    #[must_use]
    pub fn params(&self) -> super::Params {
        use super::LinkvRequest;
        match &self.request {
            CoinRequest::Order(o) => o.params(),
            CoinRequest::ChangeGold(c) => c.params(),
        }
    }
}

impl fmt::Display for PendingChange {
    /// `changeGold add 5 coins to 42, request_id …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, preposition) = match self.change_type() {
            ChangeType::Add => ("add", "to"),
            ChangeType::Remove => ("remove", "from"),
        };
        write!(
            f,
            "{} {verb} {} coins {preposition} {}, request_id {}",
            self.endpoint(),
            self.coins(),
            self.uid(),
            self.request_id()
        )
    }
}

/// The stored form. Version 1; every field by name, values as the wire writes them, so a
/// record stays readable by people and by later versions.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    version: u32,
    call: String,
    uid: String,
    request_id: String,
    change: String,
    coins: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    money_cents: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    created_at_ms: u64,
}

const VERSION: u32 = 1;

fn change_name(change: ChangeType) -> &'static str {
    match change {
        ChangeType::Add => "add",
        ChangeType::Remove => "remove",
    }
}

impl Serialize for PendingChange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = Record {
            version: VERSION,
            call: self.endpoint().to_owned(),
            uid: self.uid().to_string(),
            request_id: self.request_id().to_string(),
            change: change_name(self.change_type()).to_owned(),
            coins: self.coins().get(),
            expires_at: self.expiration().map(Expiration::unix_seconds),
            order_id: None,
            money_cents: None,
            platform: None,
            reason: None,
            created_at_ms: self.created_at_ms,
        };
        match &self.request {
            CoinRequest::Order(o) => {
                record.order_id = Some(o.order_id().to_string());
                record.money_cents = Some(o.money().get());
                record.platform = Some(o.platform().as_str().to_owned());
            }
            CoinRequest::ChangeGold(c) => {
                record.reason = c.reason().map(ToString::to_string);
            }
        }
        record.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PendingChange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let record = Record::deserialize(deserializer)?;
        if record.version != VERSION {
            return Err(D::Error::custom(format_args!(
                "pending change version {} is not supported (this version reads {VERSION})",
                record.version
            )));
        }
        read(record).map_err(D::Error::custom)
    }
}

/// A stored record back as a change, every value checked by its type.
fn read(record: Record) -> Result<PendingChange, String> {
    let invalid = |e: crate::ValidationError| e.to_string();
    let uid = OpenId::new(record.uid).map_err(invalid)?;
    let request_id = RequestId::new(record.request_id).map_err(invalid)?;
    let change_type = match record.change.as_str() {
        "add" => ChangeType::Add,
        "remove" => ChangeType::Remove,
        other => return Err(format!("change: `{other}` is not add or remove")),
    };
    let coins = Coins::new(record.coins).map_err(invalid)?;
    let expiration = record.expires_at.map(Expiration::at_unix_seconds);
    let unexpected = |field: &str| format!("{field} does not belong to a {} record", record.call);
    let request = match record.call.as_str() {
        "orderSuccess" => {
            if record.reason.is_some() {
                return Err(unexpected("reason"));
            }
            let missing = |field: &str| format!("{field} is missing from an orderSuccess record");
            let order_id = record.order_id.ok_or_else(|| missing("order_id"))?;
            let platform = record.platform.ok_or_else(|| missing("platform"))?;
            CoinRequest::Order(
                OrderSuccess::new(
                    uid,
                    request_id,
                    change_type,
                    OrderId::new(order_id).map_err(invalid)?,
                    coins,
                    UsdCents::new(record.money_cents.ok_or_else(|| missing("money_cents"))?),
                    platform.parse::<Platform>().map_err(invalid)?,
                    expiration.ok_or_else(|| missing("expires_at"))?,
                )
                .map_err(invalid)?,
            )
        }
        "changeGold" => {
            if record.order_id.is_some()
                || record.money_cents.is_some()
                || record.platform.is_some()
            {
                return Err(unexpected("an order's field"));
            }
            let expiration = expiration
                .ok_or_else(|| "expires_at is missing from a changeGold record".to_owned())?;
            let change = ChangeGold::new(uid, request_id, change_type, coins, expiration)
                .map_err(invalid)?;
            CoinRequest::ChangeGold(match record.reason {
                Some(reason) => change.with_reason(ChangeReason::new(reason).map_err(invalid)?),
                None => change,
            })
        }
        other => return Err(format!("call: `{other}` is not orderSuccess or changeGold")),
    };
    Ok(PendingChange {
        request,
        created_at_ms: record.created_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> PendingChange {
        let order = OrderSuccess::credit(
            OpenId::new("1291371456374120449").unwrap(),
            RequestId::from_unix_millis(1_700_000_000_000, [1; 10]),
            OrderId::new("ORD 1/2").unwrap(),
            Coins::new(100).unwrap(),
            UsdCents::new(199),
            Platform::Ios,
            Expiration::at_unix_seconds(1_707_868_800),
        )
        .unwrap();
        PendingChange::new(
            CoinRequest::Order(order),
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
        )
    }

    #[test]
    fn the_stored_form_is_stable_and_readable() {
        let text = serde_json::to_string(&order()).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"call":"orderSuccess","uid":"1291371456374120449","request_id":"018bcfe5680071018101010101010101","change":"add","coins":100,"expires_at":1707868800,"order_id":"ORD 1/2","money_cents":199,"platform":"ios","created_at_ms":1700000000000}"#
        );
        let back: PendingChange = serde_json::from_str(&text).unwrap();
        assert_eq!(back, order());
        assert_eq!(
            back.to_string(),
            "orderSuccess add 100 coins to 1291371456374120449, request_id 018bcfe5680071018101010101010101"
        );
    }

    #[test]
    fn a_record_that_is_not_a_change_is_refused_with_a_reason() {
        let good = serde_json::to_value(order()).unwrap();
        let cases = [
            (
                "version",
                serde_json::json!(2),
                "version 2 is not supported",
            ),
            (
                "call",
                serde_json::json!("thGetToken"),
                "not orderSuccess or changeGold",
            ),
            ("change", serde_json::json!("double"), "not add or remove"),
            ("coins", serde_json::json!(0), "value"),
            ("request_id", serde_json::json!(""), "request_id"),
            ("platform", serde_json::json!("wap"), "platform"),
            ("reason", serde_json::json!("x"), "does not belong"),
            ("extra", serde_json::json!(1), "unknown field"),
        ];
        for (field, value, expected) in cases {
            let mut record = good.clone();
            record[field] = value;
            let err = serde_json::from_value::<PendingChange>(record).unwrap_err();
            assert!(err.to_string().contains(expected), "{field}: {err}");
        }
        let mut record = good.clone();
        record.as_object_mut().unwrap().remove("order_id");
        assert!(serde_json::from_value::<PendingChange>(record).is_err());
    }

    #[test]
    fn age_counts_from_creation() {
        let pending = order();
        let later = pending.created_at() + Duration::from_secs(90);
        assert_eq!(pending.age(later), Duration::from_secs(90));
        assert_eq!(pending.age(UNIX_EPOCH), Duration::ZERO);
    }
}
