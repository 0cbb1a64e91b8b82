//! The end-to-end suite: every call of the client against an emulator on loopback, run once
//! per transport by the `over_*` test binaries.

mod answer_styles;
mod faults;
mod linkv;
mod polyv;
mod resend;
