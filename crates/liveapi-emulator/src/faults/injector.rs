//! Drawing each eligible request's fate from the fault sequence, and counting what was
//! injected.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FaultKind, Faults, FaultsError, Vendor};
use crate::rng;

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
