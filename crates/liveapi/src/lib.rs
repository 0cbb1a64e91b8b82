//! The liveapi SDK: a high-level client for the LinkV and Polyv server APIs (being built).
