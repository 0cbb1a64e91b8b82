//! `liveapi timestamp`: Polyv's `timestamp` for now, 13 digits of unix milliseconds.

use std::time::SystemTime;

use liveapi::sign::polyv;

use crate::exit::{Failure, Outcome};
use crate::output;

/// Arguments of `liveapi timestamp` (none).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> Outcome {
    let timestamp = polyv::timestamp(SystemTime::now()).map_err(Failure::local)?;
    output::line(timestamp)
}
