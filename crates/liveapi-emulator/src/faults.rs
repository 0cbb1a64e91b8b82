//! Fault injection: added latency, server errors, connection resets and truncated answers,
//! chosen deterministically from a seed.
//!
//! Each request to a vendor path that is in scope draws the next number of the fault
//! sequence: whether it fails is `draw < rate`, and which kind by the weights. The `n`th
//! eligible request therefore always gets the same fate for the same seed and configuration,
//! whatever the timing; with concurrent clients, *which* request is the `n`th is up to the
//! scheduler, but the sequence of fates is not.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use liveapi_model::Vendor;

use crate::rng;

/// One way a request can fail.
///
/// | kind | what the client sees | was the request applied? |
/// |---|---|---|
/// | `latency` | the normal answer, late | yes, before the delay |
/// | `http500` | HTTP 500 with the vendor's JSON error (`status`/`code` 500) | no |
/// | `http500_html` | HTTP 500 with an HTML page | no |
/// | `http502` | HTTP 502 with an HTML page, as from a gateway | no |
/// | `http503` | HTTP 503 with an HTML page and `Retry-After: 1` | no |
/// | `reset_before_apply` | the connection is reset (TCP RST), no answer | no |
/// | `reset_after_apply` | the connection is reset (TCP RST), no answer | **yes** |
/// | `truncate_after_apply` | the answer's headers promise the whole body, half of it comes, then the connection closes | **yes** |
/// | `http200_status500` | HTTP 200 with the vendor's JSON error saying 500 (`"status":"500"`, `"code":500`), as the real LinkV server reports a failure | no |
///
/// The `*_after_apply` kinds are the ones that make a naive retry apply a coin change twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// The answer is held back by a delay drawn from the configured latency range.
    Latency,
    /// HTTP 500 with the vendor's JSON error envelope.
    Http500,
    /// HTTP 500 with an HTML body.
    Http500Html,
    /// HTTP 502 with an HTML body.
    Http502,
    /// HTTP 503 with an HTML body.
    Http503,
    /// The connection is reset before the request is handled.
    ResetBeforeApply,
    /// The request is handled (and any change applied), then the connection is reset.
    ResetAfterApply,
    /// The request is handled, then only half of the answer's body is sent.
    TruncateAfterApply,
    /// HTTP 200 whose JSON body says 500: the real LinkV server's way of failing (its official
    /// SDKs retry exactly this: API-NOTES, "How the real server answers").
    Http200Status500,
}

impl FaultKind {
    /// Every kind, in the order of [`FaultWeights`]' fields.
    pub const ALL: [Self; 9] = [
        Self::Latency,
        Self::Http500,
        Self::Http500Html,
        Self::Http502,
        Self::Http503,
        Self::ResetBeforeApply,
        Self::ResetAfterApply,
        Self::TruncateAfterApply,
        Self::Http200Status500,
    ];

    /// The name used in JSON and on the command line: `reset_after_apply`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Http500 => "http500",
            Self::Http500Html => "http500_html",
            Self::Http502 => "http502",
            Self::Http503 => "http503",
            Self::ResetBeforeApply => "reset_before_apply",
            Self::ResetAfterApply => "reset_after_apply",
            Self::TruncateAfterApply => "truncate_after_apply",
            Self::Http200Status500 => "http200_status500",
        }
    }

    /// Whether the request is handled (and a change applied) despite the fault.
    #[must_use]
    pub const fn applies_request(self) -> bool {
        matches!(
            self,
            Self::Latency | Self::ResetAfterApply | Self::TruncateAfterApply
        )
    }

    const fn index(self) -> usize {
        match self {
            Self::Latency => 0,
            Self::Http500 => 1,
            Self::Http500Html => 2,
            Self::Http502 => 3,
            Self::Http503 => 4,
            Self::ResetBeforeApply => 5,
            Self::ResetAfterApply => 6,
            Self::TruncateAfterApply => 7,
            Self::Http200Status500 => 8,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = FaultsError;

    /// Parses the names of [`FaultKind::as_str`].
    ///
    /// ```
    /// use liveapi_emulator::FaultKind;
    /// assert_eq!("reset_after_apply".parse::<FaultKind>()?, FaultKind::ResetAfterApply);
    /// assert!("boom".parse::<FaultKind>().is_err());
    /// # Ok::<(), liveapi_emulator::FaultsError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, FaultsError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                FaultsError(format!(
                    "unknown fault kind `{s}` (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

/// How likely each kind of fault is, relative to the others. A kind of weight 0 never happens.
///
/// ```
/// use liveapi_emulator::{FaultKind, FaultWeights};
/// let w = FaultWeights::none().with(FaultKind::ResetAfterApply, 3).with(FaultKind::Http503, 1);
/// assert_eq!(w.get(FaultKind::ResetAfterApply), 3);
/// assert_eq!(w.total(), 4);
/// assert_eq!(FaultWeights::default().total(), 9);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultWeights {
    /// Weight of [`FaultKind::Latency`].
    pub latency: u32,
    /// Weight of [`FaultKind::Http500`].
    pub http500: u32,
    /// Weight of [`FaultKind::Http500Html`].
    pub http500_html: u32,
    /// Weight of [`FaultKind::Http502`].
    pub http502: u32,
    /// Weight of [`FaultKind::Http503`].
    pub http503: u32,
    /// Weight of [`FaultKind::ResetBeforeApply`].
    pub reset_before_apply: u32,
    /// Weight of [`FaultKind::ResetAfterApply`].
    pub reset_after_apply: u32,
    /// Weight of [`FaultKind::TruncateAfterApply`].
    pub truncate_after_apply: u32,
    /// Weight of [`FaultKind::Http200Status500`].
    pub http200_status500: u32,
}

impl Default for FaultWeights {
    /// Every kind equally likely.
    fn default() -> Self {
        Self {
            latency: 1,
            http500: 1,
            http500_html: 1,
            http502: 1,
            http503: 1,
            reset_before_apply: 1,
            reset_after_apply: 1,
            truncate_after_apply: 1,
            http200_status500: 1,
        }
    }
}

impl FaultWeights {
    /// Every weight 0; add kinds with [`FaultWeights::with`].
    #[must_use]
    pub const fn none() -> Self {
        Self {
            latency: 0,
            http500: 0,
            http500_html: 0,
            http502: 0,
            http503: 0,
            reset_before_apply: 0,
            reset_after_apply: 0,
            truncate_after_apply: 0,
            http200_status500: 0,
        }
    }

    /// Only `kind`.
    #[must_use]
    pub fn only(kind: FaultKind) -> Self {
        Self::none().with(kind, 1)
    }

    fn slot(&mut self, kind: FaultKind) -> &mut u32 {
        match kind {
            FaultKind::Latency => &mut self.latency,
            FaultKind::Http500 => &mut self.http500,
            FaultKind::Http500Html => &mut self.http500_html,
            FaultKind::Http502 => &mut self.http502,
            FaultKind::Http503 => &mut self.http503,
            FaultKind::ResetBeforeApply => &mut self.reset_before_apply,
            FaultKind::ResetAfterApply => &mut self.reset_after_apply,
            FaultKind::TruncateAfterApply => &mut self.truncate_after_apply,
            FaultKind::Http200Status500 => &mut self.http200_status500,
        }
    }

    /// Sets the weight of `kind`.
    #[must_use]
    pub fn with(mut self, kind: FaultKind, weight: u32) -> Self {
        *self.slot(kind) = weight;
        self
    }

    /// The weight of `kind`.
    #[must_use]
    pub fn get(&self, kind: FaultKind) -> u32 {
        match kind {
            FaultKind::Latency => self.latency,
            FaultKind::Http500 => self.http500,
            FaultKind::Http500Html => self.http500_html,
            FaultKind::Http502 => self.http502,
            FaultKind::Http503 => self.http503,
            FaultKind::ResetBeforeApply => self.reset_before_apply,
            FaultKind::ResetAfterApply => self.reset_after_apply,
            FaultKind::TruncateAfterApply => self.truncate_after_apply,
            FaultKind::Http200Status500 => self.http200_status500,
        }
    }

    /// The sum of all weights.
    #[must_use]
    pub fn total(&self) -> u64 {
        FaultKind::ALL.iter().map(|&k| u64::from(self.get(k))).sum()
    }

    /// The kind that a draw in `0..total()` picks.
    fn pick(&self, mut ticket: u64) -> Option<FaultKind> {
        for kind in FaultKind::ALL {
            let weight = u64::from(self.get(kind));
            if ticket < weight {
                return Some(kind);
            }
            ticket -= weight;
        }
        None
    }
}

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

    fn covers(&self, vendor: Vendor, path: &str) -> bool {
        (self.vendors.is_empty() || self.vendors.contains(&vendor))
            && (self.paths.is_empty() || self.paths.iter().any(|p| path.starts_with(p.as_str())))
    }
}

/// A fault configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultsError(String);

impl fmt::Display for FaultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault configuration: {}", self.0)
    }
}

impl std::error::Error for FaultsError {}

/// How many requests were eligible for faults and how many of each kind were injected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaultStats {
    /// Requests that drew from the fault sequence (vendor requests in scope while faults
    /// were active).
    pub eligible: u64,
    /// Faults injected, by kind; kinds that never happened are left out.
    pub injected: BTreeMap<FaultKind, u64>,
}

impl FaultStats {
    /// All faults injected, of every kind.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.injected.values().sum()
    }

    /// Faults of `kind` injected.
    #[must_use]
    pub fn count(&self, kind: FaultKind) -> u64 {
        self.injected.get(&kind).copied().unwrap_or(0)
    }
}

/// The fate the fault sequence gave one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) kind: FaultKind,
    /// The delay, for [`FaultKind::Latency`].
    pub(crate) delay: Duration,
}

const STREAM_HAPPENS: u64 = 1;
const STREAM_KIND: u64 = 2;
const STREAM_DELAY: u64 = 3;

/// The live fault configuration and the position in the fault sequence.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    config: RwLock<Arc<Faults>>,
    seed: AtomicU64,
    next: AtomicU64,
    eligible: AtomicU64,
    injected: [AtomicU64; 9],
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults, seed: u64) -> Self {
        Self {
            config: RwLock::new(Arc::new(faults)),
            seed: AtomicU64::new(seed),
            next: AtomicU64::new(0),
            eligible: AtomicU64::new(0),
            injected: Default::default(),
        }
    }

    pub(crate) fn config(&self) -> Arc<Faults> {
        Arc::clone(&self.config.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set(&self, faults: Faults) -> Result<(), FaultsError> {
        faults.validate()?;
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(faults);
        Ok(())
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed.load(Ordering::Relaxed)
    }

    /// Starts the sequence again from its beginning under `seed`.
    pub(crate) fn reseed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
        self.next.store(0, Ordering::Relaxed);
    }

    /// The next fate for a request to `vendor` at `path`, if it is eligible.
    pub(crate) fn decide(&self, vendor: Vendor, path: &str) -> Option<Fault> {
        let config = self.config();
        if !config.is_active() || !config.covers(vendor, path) {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.eligible.fetch_add(1, Ordering::Relaxed);
        let seed = self.seed();
        if rng::fraction(rng::draw(seed, STREAM_HAPPENS, n)) >= config.rate {
            return None;
        }
        let kind = config
            .weights
            .pick(rng::draw(seed, STREAM_KIND, n) % config.weights.total())?;
        let span = config.latency_max_ms - config.latency_min_ms;
        let extra = match span.checked_add(1) {
            Some(modulus) => rng::draw(seed, STREAM_DELAY, n) % modulus,
            None => rng::draw(seed, STREAM_DELAY, n),
        };
        self.injected[kind.index()].fetch_add(1, Ordering::Relaxed);
        Some(Fault {
            kind,
            delay: Duration::from_millis(config.latency_min_ms.saturating_add(extra)),
        })
    }

    pub(crate) fn stats(&self) -> FaultStats {
        FaultStats {
            eligible: self.eligible.load(Ordering::Relaxed),
            injected: FaultKind::ALL
                .into_iter()
                .filter_map(|k| {
                    let n = self.injected[k.index()].load(Ordering::Relaxed);
                    (n > 0).then_some((k, n))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let run = |seed| {
            let injector = FaultInjector::new(Faults::new(0.5), seed);
            (0..200)
                .map(|_| injector.decide(Vendor::Linkv, "/open/x").map(|f| f.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn rate_and_weights_are_honoured() {
        let injector = FaultInjector::new(
            Faults::new(0.25).with_weights(FaultWeights::only(FaultKind::Http503)),
            9,
        );
        let hits = (0..10_000)
            .filter_map(|_| injector.decide(Vendor::Polyv, "/live/v3/x"))
            .inspect(|f| assert_eq!(f.kind, FaultKind::Http503))
            .count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
        let stats = injector.stats();
        assert_eq!(stats.eligible, 10_000);
        assert_eq!(stats.count(FaultKind::Http503), hits as u64);
    }

    #[test]
    fn scope_limits_eligibility() {
        let injector = FaultInjector::new(
            Faults::new(1.0)
                .only_vendor(Vendor::Linkv)
                .only_path("/open/finanv0/"),
            0,
        );
        assert!(injector.decide(Vendor::Polyv, "/open/finanv0/x").is_none());
        assert!(
            injector
                .decide(Vendor::Linkv, "/open/v0/thGetToken")
                .is_none()
        );
        assert!(
            injector
                .decide(Vendor::Linkv, "/open/finanv0/changeGold")
                .is_some()
        );
        assert_eq!(injector.stats().eligible, 1);
    }

    #[test]
    fn delays_stay_in_range_even_at_the_extremes() {
        let faults = Faults::new(1.0)
            .only_kind(FaultKind::Latency)
            .with_latency(Duration::from_millis(10), Duration::from_millis(20));
        let injector = FaultInjector::new(faults, 3);
        for _ in 0..500 {
            let f = injector.decide(Vendor::Linkv, "/open/").unwrap();
            assert!((10..=20).contains(&f.delay.as_millis()));
        }
        let mut wide = Faults::new(1.0).only_kind(FaultKind::Latency);
        wide.latency_min_ms = 0;
        wide.latency_max_ms = u64::MAX;
        assert!(
            FaultInjector::new(wide, 1)
                .decide(Vendor::Linkv, "/")
                .is_some()
        );
    }

    #[test]
    fn invalid_configurations_are_refused() {
        assert!(Faults::new(1.5).validate().is_err());
        assert!(Faults::new(f64::NAN).validate().is_err());
        let backwards =
            Faults::new(0.1).with_latency(Duration::from_secs(2), Duration::from_secs(1));
        assert!(backwards.validate().is_err());
        let injector = FaultInjector::new(Faults::none(), 0);
        assert!(injector.set(Faults::new(-0.1)).is_err());
    }

    #[test]
    fn json_weights_default_to_zero_only_when_given() {
        let f: Faults = serde_json::from_str(r#"{"rate":0.5,"weights":{"http503":2}}"#).unwrap();
        assert_eq!(f.weights, FaultWeights::none().with(FaultKind::Http503, 2));
        let f: Faults = serde_json::from_str(r#"{"rate":0.5}"#).unwrap();
        assert_eq!(f.weights, FaultWeights::default());
        assert!(serde_json::from_str::<Faults>(r#"{"rate":0.5,"bogus":1}"#).is_err());
        assert!(serde_json::from_str::<Faults>(r#"{"weights":{"boom":1}}"#).is_err());
    }
}
