//! The fault configuration: how often requests fail, how, which ones, and how long delays
//! are; and why a configuration cannot be used.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FaultKind, FaultWeights, Vendor};

/// The fault configuration: how often requests fail, how, which ones, and how long delays are.
///
/// The default injects nothing. A chaos test might use:
///
/// ```
/// use std::time::Duration;
/// use liveapi_emulator::{FaultKind, Faults, FaultWeights, Vendor};
///
/// let faults = Faults::new(0.3)                       // 30 % of eligible requests fail,
///     .with_weights(FaultWeights::default())          // every kind equally likely,
///     .with_latency(Duration::from_millis(5), Duration::from_millis(50))
///     .only_vendor(Vendor::Linkv)                     // only LinkV requests,
///     .only_path("/open/finanv0/");                   // only the coin calls.
/// assert!(faults.validate().is_ok());
/// assert_eq!(faults.weights.get(FaultKind::Http503), 1);
/// ```
///
/// As JSON (the inspection API's `PUT /_emulator/faults`), every field is optional:
/// `{"rate":0.3,"weights":{"reset_after_apply":2},"latency_min_ms":5,"latency_max_ms":50,
/// "vendors":["linkv"],"paths":["/open/finanv0/"]}`. Weights not given are 0 when a `weights`
/// object is present, and all 1 when it is absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Faults {
    /// The probability, from 0 to 1, that an eligible request gets a fault.
    pub rate: f64,
    /// How likely each kind is, relative to the others.
    #[serde(deserialize_with = "weights_or_none")]
    pub weights: FaultWeights,
    /// The shortest added delay of a [`FaultKind::Latency`] fault, in milliseconds.
    pub latency_min_ms: u64,
    /// The longest added delay, in milliseconds. Make it longer than a client's timeout to
    /// test what the client does when an applied change is never confirmed.
    pub latency_max_ms: u64,
    /// Only requests to these vendors get faults; empty means both.
    pub vendors: Vec<Vendor>,
    /// Only requests whose path starts with one of these get faults; empty means every path.
    pub paths: Vec<String>,
}

/// A `weights` object that is present counts kinds it leaves out as 0, so that
/// `{"weights":{"http503":1}}` means "only 503s".
fn weights_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FaultWeights, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        latency: Option<u32>,
        http500: Option<u32>,
        http500_html: Option<u32>,
        http502: Option<u32>,
        http503: Option<u32>,
        reset_before_apply: Option<u32>,
        reset_after_apply: Option<u32>,
        truncate_after_apply: Option<u32>,
        http200_status500: Option<u32>,
    }
    let p = Partial::deserialize(d)?;
    Ok(FaultWeights {
        latency: p.latency.unwrap_or(0),
        http500: p.http500.unwrap_or(0),
        http500_html: p.http500_html.unwrap_or(0),
        http502: p.http502.unwrap_or(0),
        http503: p.http503.unwrap_or(0),
        reset_before_apply: p.reset_before_apply.unwrap_or(0),
        reset_after_apply: p.reset_after_apply.unwrap_or(0),
        truncate_after_apply: p.truncate_after_apply.unwrap_or(0),
        http200_status500: p.http200_status500.unwrap_or(0),
    })
}

impl Default for Faults {
    fn default() -> Self {
        Self::none()
    }
}

impl Faults {
    /// No faults at all.
    #[must_use]
    pub fn none() -> Self {
        Self {
            rate: 0.0,
            weights: FaultWeights::default(),
            latency_min_ms: 100,
            latency_max_ms: 1_000,
            vendors: Vec::new(),
            paths: Vec::new(),
        }
    }

    /// Faults in a fraction `rate` (0 to 1) of the requests, every kind equally likely, delays
    /// of 100 ms to 1 s.
    #[must_use]
    pub fn new(rate: f64) -> Self {
        Self {
            rate,
            ..Self::none()
        }
    }

    /// Sets the weights of the kinds.
    #[must_use]
    pub fn with_weights(mut self, weights: FaultWeights) -> Self {
        self.weights = weights;
        self
    }

    /// Only faults of `kind`.
    #[must_use]
    pub fn only_kind(self, kind: FaultKind) -> Self {
        self.with_weights(FaultWeights::only(kind))
    }

    /// Sets the range of added delays.
    #[must_use]
    pub fn with_latency(mut self, min: Duration, max: Duration) -> Self {
        self.latency_min_ms = u64::try_from(min.as_millis()).unwrap_or(u64::MAX);
        self.latency_max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Limits faults to `vendor` (call again to allow another).
    #[must_use]
    pub fn only_vendor(mut self, vendor: Vendor) -> Self {
        if !self.vendors.contains(&vendor) {
            self.vendors.push(vendor);
        }
        self
    }

    /// Limits faults to paths starting with `prefix` (call again to allow another).
    #[must_use]
    pub fn only_path(mut self, prefix: impl Into<String>) -> Self {
        self.paths.push(prefix.into());
        self
    }

    /// Whether any request can get a fault.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.rate > 0.0 && self.weights.total() > 0
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// A [`FaultsError`] for a rate outside 0..=1 (or NaN), or a minimum delay above the maximum.
    pub fn validate(&self) -> Result<(), FaultsError> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(FaultsError(format!(
                "rate must be between 0 and 1, got {}",
                self.rate
            )));
        }
        if self.latency_min_ms > self.latency_max_ms {
            return Err(FaultsError(format!(
                "latency_min_ms ({}) is above latency_max_ms ({})",
                self.latency_min_ms, self.latency_max_ms
            )));
        }
        Ok(())
    }

    pub(super) fn covers(&self, vendor: Vendor, path: &str) -> bool {
        (self.vendors.is_empty() || self.vendors.contains(&vendor))
            && (self.paths.is_empty() || self.paths.iter().any(|p| path.starts_with(p.as_str())))
    }
}

/// A fault configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultsError(pub(super) String);

impl fmt::Display for FaultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault configuration: {}", self.0)
    }
}

impl std::error::Error for FaultsError {}
