//! The end-to-end suite over the default transport, hyper.

mod common;
mod suite;

/// The transport the suite's clients use.
const TRANSPORT: common::Transport = common::Transport::Hyper;
