//! `liveapi verify linkv|polyv`: whether received parameters carry a valid, fresh signature,
//! and if not, why.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use liveapi::sign::{SignError, VerifyError};

use crate::exit::{Failure, Outcome, Status};
use crate::input;
use crate::output;
use crate::sign;
use crate::vendor::Vendor;

const VERIFY_HELP: &str = "\
Parameters are KEY=VALUE arguments or, without any, a JSON object on standard input whose
values are strings; null means the parameter is absent. Include `sign` as received.

Prints `valid`, or `invalid: REASON` (signature mismatch, stale time with how stale,
malformed or missing sign/nonce_str/timestamp).

Exit status: 0 valid; 1 invalid; 2 unusable input or no secret.";

/// Arguments of `liveapi verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    vendor: VendorArgs,
}

#[derive(Debug, Subcommand)]
enum VendorArgs {
    /// LinkV: checks `sign`, then the time inside `nonce_str` (5 minutes by default).
    #[command(after_long_help = VERIFY_HELP)]
    Linkv(VerifyArgs),
    /// Polyv: checks `sign`, then `timestamp` (3 minutes by default).
    #[command(after_long_help = VERIFY_HELP)]
    Polyv(VerifyArgs),
}

/// What `verify` takes for either vendor.
#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The signing secret: LinkV's live_app_secret or Polyv's appSecret [default: the
    /// LIVEAPI_LINKV_SECRET or LIVEAPI_POLYV_SECRET environment variable].
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,

    /// Also print, on standard error, the string the expected signature is computed over
    /// (the secret shown as ***) and that signature.
    #[arg(long)]
    explain: bool,

    /// Check freshness against this time instead of the system clock: unix seconds, or
    /// unix milliseconds when it has 12 digits or more.
    #[arg(long, value_name = "UNIX_TIME", value_parser = parse_now)]
    now: Option<SystemTime>,

    /// How far the request's time may be from the clock, in seconds [default: 300 for
    /// LinkV, 180 for Polyv].
    #[arg(long, value_name = "SECS")]
    window: Option<u64>,

    /// The received parameters, `sign` included; without any, a JSON object is read from
    /// standard input.
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
}

/// Reads `--now`: seconds, or milliseconds from 12 digits on (the year 5138 in seconds).
fn parse_now(text: &str) -> Result<SystemTime, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected unix seconds or milliseconds, in digits".to_owned());
    }
    let value: u64 = text
        .parse()
        .map_err(|_| "the time is too large".to_owned())?;
    let since_epoch = if text.len() >= 12 {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    };
    UNIX_EPOCH
        .checked_add(since_epoch)
        .ok_or_else(|| "the time is too large".to_owned())
}

pub(crate) fn run(args: Args) -> Outcome {
    match args.vendor {
        VendorArgs::Linkv(args) => verify(Vendor::Linkv, args),
        VendorArgs::Polyv(args) => verify(Vendor::Polyv, args),
    }
}

fn verify(vendor: Vendor, args: VerifyArgs) -> Outcome {
    let secret = vendor.secret(args.secret)?;
    let params = input::read(&args.params).map_err(Failure::usage)?;
    let now = args.now.unwrap_or_else(SystemTime::now);
    let window = args
        .window
        .map_or(vendor.default_window(), Duration::from_secs);
    if args.explain {
        sign::explain(vendor, &params, &secret)?;
        // An unusable signatureMethod has no expected sign; verification says why below.
        if let Ok(expected) = vendor.sign(&params, &secret) {
            output::note(format_args!("expected sign: {expected}"));
        }
    }
    match vendor.verify(&params, &secret, now, window) {
        Ok(()) => output::line("valid"),
        Err(VerifyError::Invalid(SignError::DuplicateKey { key })) => Err(Failure::usage(
            format_args!("parameter {key:?} is given more than once"),
        )),
        Err(e) => {
            output::line(format_args!("invalid: {}", reason(vendor, &e)))?;
            Err(Failure::quiet(Status::Refused))
        }
    }
}

/// Why verification failed, in the words of the vendor's parameters.
fn reason(vendor: Vendor, error: &VerifyError) -> String {
    match error {
        VerifyError::Mismatch => {
            "signature does not match (run with --explain to see the string signed)".to_owned()
        }
        VerifyError::Stale {
            skew,
            ahead,
            window,
        } => format!(
            "stale: the time in {} is {} {} the clock, outside the window of {}",
            vendor.time_param(),
            seconds(*skew),
            if *ahead { "ahead of" } else { "behind" },
            seconds(*window),
        ),
        other => other.to_string(),
    }
}

/// `300s`; `1.5s` below ten seconds; with a rough size added from an hour on, since a
/// skew of days or years usually means seconds were read as milliseconds or the reverse.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 10 && d.subsec_millis() != 0 {
        let text = format!("{secs}.{:03}", d.subsec_millis());
        return format!("{}s", text.trim_end_matches('0'));
    }
    let hours = secs as f64 / 3600.0;
    match secs {
        0..3_600 => format!("{secs}s"),
        3_600..172_800 => format!("{secs}s (about {hours:.1} hours)"),
        _ => format!("{secs}s (about {:.1} days)", hours / 24.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_seconds_or_milliseconds() {
        let at = |d| Ok(UNIX_EPOCH + d);
        assert_eq!(
            parse_now("1563790940"),
            at(Duration::from_secs(1_563_790_940))
        );
        assert_eq!(
            parse_now("1660270926732"),
            at(Duration::from_millis(1_660_270_926_732))
        );
        for bad in ["", "-1", "1.5", "now", "99999999999999999999999"] {
            assert!(parse_now(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(300)), "300s");
        assert_eq!(seconds(Duration::from_millis(180_500)), "180s");
        assert_eq!(seconds(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(seconds(Duration::from_millis(1_001)), "1.001s");
        assert_eq!(
            seconds(Duration::from_secs(7_200)),
            "7200s (about 2.0 hours)"
        );
        assert_eq!(
            seconds(Duration::from_secs(86_400 * 400)),
            "34560000s (about 400.0 days)"
        );
    }
}
