//! Sans-IO request builders for the LinkV and Polyv live-streaming server APIs (being built).
