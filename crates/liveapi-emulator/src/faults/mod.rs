//! Fault injection: added latency, server errors, connection resets and truncated answers,
//! chosen deterministically from a seed.
//!
//! Each request to a vendor path that is in scope draws the next number of the fault
//! sequence: whether it fails is `draw < rate`, and which kind by the weights. The `n`th
//! eligible request therefore always gets the same fate for the same seed and configuration,
//! whatever the timing; with concurrent clients, *which* request is the `n`th is up to the
//! scheduler, but the sequence of fates is not.

mod config;
mod injector;
mod kind;
#[cfg(test)]
mod tests;

pub use liveapi_model::Vendor;

pub use config::{Faults, FaultsError};
pub(crate) use injector::FaultInjector;
pub use injector::FaultStats;
pub use kind::{FaultKind, FaultWeights};
