//! A local, stateful emulator of the LinkV and Polyv servers (being built).
