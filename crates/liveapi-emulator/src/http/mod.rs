//! The HTTP side of the emulator, whichever vendor a request is for: accepting connections
//! and closing those that stall, answering those it will not serve (over the cap, HTTP/2),
//! reading request bodies within the limits, dressing answers in the vendors' envelopes, and
//! remembering recent requests for the inspection API.

pub(crate) mod body;
mod conn_io;
pub(crate) mod connections;
mod dispatch;
pub(crate) mod framing;
mod preface;
mod refusal;
pub(crate) mod reply;
pub(crate) mod request_log;
pub(crate) mod server;
