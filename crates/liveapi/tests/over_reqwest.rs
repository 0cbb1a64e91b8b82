//! The end-to-end suite over an application's own `reqwest::Client`.
#![cfg(feature = "reqwest")]

mod common;
mod suite;

/// The transport the suite's clients use.
const TRANSPORT: common::Transport = common::Transport::Reqwest;
