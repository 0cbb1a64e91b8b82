//! Wire models for the LinkV and Polyv live-streaming server APIs (being built).
