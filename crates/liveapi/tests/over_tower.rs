//! The end-to-end suite over a `tower` service with a layer of the caller's own.
#![cfg(feature = "tower")]

mod common;
mod suite;

/// The transport the suite's clients use.
const TRANSPORT: common::Transport = common::Transport::Tower;
