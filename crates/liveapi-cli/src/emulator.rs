//! `liveapi emulator`: runs the emulator until Ctrl-C (or SIGTERM), printing where it listens,
//! the demo credentials and the address of its dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use liveapi_emulator::{
    Emulator, FaultKind, FaultWeights, Faults, IpRateLimit, RunningEmulator, StartError,
};

use crate::env;
use crate::exit::{Failure, Outcome};
use crate::output;

/// The exit statuses of `liveapi emulator`, as its `--help` documents them.
pub(crate) const EXIT_CODES: &str = "\
Exit status: 0 stopped by Ctrl-C or SIGTERM, with its state saved; 2 a configuration that
cannot work (the message says which setting); 5 the address cannot be listened on, the
state file cannot be read, or the state could not be saved when stopping.";

/// Arguments of `liveapi emulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Keep the state durably: a snapshot at FILE and a write-ahead log at FILE.log. Every
    /// change is synced to the log before it is answered, so a crash loses nothing that was
    /// acknowledged; both are read at start.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Compact the state log into a new snapshot once it passes this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, requires = "state")]
    state_compact_mib: u64,

    /// The fraction of LinkV and Polyv requests that get a fault, from 0 to 1.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    fault_rate: f64,

    /// Which faults, and how likely relative to each other: `KIND[=WEIGHT],…` with kinds
    /// latency, http500, http500_html, http502, http503, reset_before_apply,
    /// reset_after_apply, truncate_after_apply, http200_status500. All equally likely by
    /// default.
    #[arg(long, value_name = "KINDS", value_parser = parse_weights)]
    fault_kinds: Option<FaultWeights>,

    /// The delay a latency fault adds, in milliseconds: `MS` or `MIN..MAX`.
    #[arg(long, value_name = "MS", value_parser = parse_latency)]
    fault_latency_ms: Option<(u64, u64)>,

    /// Inject faults only into requests whose path starts with this (repeatable).
    #[arg(long = "fault-path", value_name = "PREFIX")]
    fault_paths: Vec<String>,

    /// The seed of the fault sequence and of tokens: the same seed, the same run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,

    /// Turn off Polyv's rate limit (1500 requests per 10 s per IP), e.g. for load tests.
    #[arg(long)]
    no_rate_limit: bool,

    /// Answer LinkV errors with the HTTP status matching their `status` (400, 403, 500)
    /// instead of HTTP 200 with the error in the body, as the real server does.
    #[arg(long)]
    linkv_error_http_status: bool,

    /// Say `Content-Type: application/json` on LinkV answers instead of the real server's
    /// `text/html; charset=UTF-8`.
    #[arg(long)]
    linkv_json_content_type: bool,

    /// Close a connection whose request head is not complete this many seconds after the
    /// connection opened (or after the head's first byte, for later requests).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "10")]
    header_read_timeout: Duration,

    /// Answer 408 and close when a request body sends nothing for this many seconds (a slow
    /// but steady upload is fine); also the longest wait for a client to read its answer.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "10")]
    body_read_timeout: Duration,

    /// Close a connection idle between requests for this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "60")]
    keep_alive_timeout: Duration,

    /// At most this many open connections; more get `503` at once. By default 1024, or less
    /// when the open-file limit (`ulimit -n`) is lower.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
}

/// A positive number of seconds, fractions allowed (`0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!("`{text}` must be a positive number of seconds")),
    }
}

fn parse_weights(text: &str) -> Result<FaultWeights, String> {
    let mut weights = FaultWeights::none();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (kind, weight) = match item.split_once('=') {
            Some((kind, weight)) => (
                kind,
                weight
                    .parse::<u32>()
                    .map_err(|_| format!("weight of `{kind}` must be a whole number"))?,
            ),
            None => (item, 1),
        };
        let kind: FaultKind = kind.parse().map_err(|e| format!("{e}"))?;
        weights = weights.with(kind, weight);
    }
    // No kind to draw would turn faults off whatever --fault-rate says, without a word.
    if weights.total() == 0 {
        return Err("name at least one fault kind with a weight above 0".to_owned());
    }
    Ok(weights)
}

fn parse_latency(text: &str) -> Result<(u64, u64), String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{s}` is not a number of milliseconds"))
    };
    match text.split_once("..") {
        Some((min, max)) => Ok((number(min)?, number(max)?)),
        None => number(text).map(|ms| (ms, ms)),
    }
}

impl Args {
    fn faults(&self) -> Faults {
        let mut faults = Faults::new(self.fault_rate);
        if let Some(weights) = &self.fault_kinds {
            faults = faults.with_weights(weights.clone());
        }
        if let Some((min, max)) = self.fault_latency_ms {
            faults = faults.with_latency(Duration::from_millis(min), Duration::from_millis(max));
        }
        for prefix in &self.fault_paths {
            faults = faults.only_path(prefix.clone());
        }
        faults
    }
}

fn announce(emulator: &RunningEmulator, args: &Args) {
    // A reader that goes away (a script that read the address and closed the pipe) must not
    // stop the emulator, as `println!` would by panicking: the books still need saving.
    let _ = write_banner(&mut std::io::stdout().lock(), emulator, args);
}

fn write_banner(
    out: &mut impl std::io::Write,
    emulator: &RunningEmulator,
    args: &Args,
) -> std::io::Result<()> {
    let base = emulator.base_url();
    // The first line is what scripts wait for.
    writeln!(out, "liveapi emulator listening on {base}")?;
    for app in emulator.linkv_apps() {
        writeln!(
            out,
            "  LinkV  base_url={base}  live_app_key={}  live_app_secret={}  alias={}",
            app.app_key, app.app_secret, app.alias
        )?;
    }
    for app in emulator.polyv_apps() {
        let channels: Vec<String> = app.channels.iter().map(u64::to_string).collect();
        writeln!(
            out,
            "  Polyv  base_url={base}  appId={}  appSecret={}  channels={}",
            app.app_id,
            app.secret,
            channels.join(",")
        )?;
    }
    writeln!(
        out,
        "  LinkV errors: {}, content type {}",
        if args.linkv_error_http_status {
            "with their HTTP status"
        } else {
            "in HTTP 200 answers, as the real server's"
        },
        if args.linkv_json_content_type {
            "application/json"
        } else {
            "text/html, as the real server's"
        }
    )?;
    let connections = emulator.connection_stats();
    writeln!(
        out,
        "  connections: at most {}; timeouts: header {:?}, body {:?}, keep-alive {:?}",
        connections.max, args.header_read_timeout, args.body_read_timeout, args.keep_alive_timeout
    )?;
    writeln!(out, "  dashboard: {base}/_emulator/ (open it in a browser)")?;
    writeln!(out, "  inspect: {base}/_emulator (JSON)")?;
    if let Some(state) = &args.state {
        writeln!(
            out,
            "  state file: {} (log: {}.log)",
            state.display(),
            state.display()
        )?;
    }
    if emulator.faults().is_active() {
        writeln!(
            out,
            "  faults: rate {} (seed {})",
            emulator.faults().rate,
            args.seed
        )?;
    }
    let exports = exports(emulator);
    if !exports.is_empty() {
        writeln!(
            out,
            "For `liveapi linkv` and `liveapi polyv` against it, paste into a shell:"
        )?;
        for (name, value) in exports {
            writeln!(out, "export {name}={}", shell_word(&value))?;
        }
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()
}

/// The variables that point the command line (and any program using
/// `Client::from_env`) at the emulator's first LinkV app and first Polyv account.
fn exports(emulator: &RunningEmulator) -> Vec<(&'static str, String)> {
    let base = emulator.base_url();
    let mut vars = Vec::new();
    if let Some(app) = emulator.linkv_apps().first() {
        vars.extend([
            (env::LINKV_APP_ID, app.app_key.clone()),
            (env::LINKV_SECRET, app.app_secret.clone()),
            (env::LINKV_ALIAS, app.alias.clone()),
            (env::LINKV_BASE_URL, base.clone()),
        ]);
    }
    if let Some(app) = emulator.polyv_apps().first() {
        vars.extend([
            (env::POLYV_APP_ID, app.app_id.clone()),
            (env::POLYV_SECRET, app.secret.clone()),
            (env::POLYV_BASE_URL, base),
        ]);
    }
    vars
}

/// `value` as one word of a POSIX shell: as it is when nothing in it is special, else in
/// single quotes (a quote inside written `'\''`).
fn shell_word(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,/:@%+=".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// Listens for Ctrl-C (and SIGTERM where there is one) from now on; the future resolves when
/// one arrives. Registered before the banner is printed, so a signal sent as soon as a script
/// has read it stops the emulator gracefully instead of killing it.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        let _ = ctrl_c.await;
    })
}

/// What a failure to start means for the exit status: a configuration that cannot work is
/// the command line's fault (2, like any unusable argument), the rest is this machine's (5).
fn start_failure(error: &StartError) -> Failure {
    match error {
        StartError::Config(_) => Failure::config(error),
        _ => Failure::local(error),
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::local(format_args!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let mut builder = Emulator::builder()
            .listen(args.listen)
            .seed(args.seed)
            .faults(args.faults())
            .linkv_error_http_status(args.linkv_error_http_status)
            .linkv_json_content_type(args.linkv_json_content_type)
            .header_read_timeout(args.header_read_timeout)
            .body_read_timeout(args.body_read_timeout)
            .keep_alive_timeout(args.keep_alive_timeout);
        if let Some(max) = args.max_connections {
            builder = builder.max_connections(max as usize);
        }
        if let Some(state) = &args.state {
            builder = builder
                .state_file(state)
                .state_compact_after(args.state_compact_mib.saturating_mul(1 << 20));
        }
        if args.no_rate_limit {
            builder = builder.rate_limit(None);
        } else {
            builder = builder.rate_limit(Some(IpRateLimit::default()));
        }
        let emulator = builder.start().await.map_err(|e| start_failure(&e))?;
        let stop = match stop_signal() {
            Ok(stop) => stop,
            Err(e) => {
                let _ = emulator.shutdown().await;
                return Err(Failure::local(format_args!(
                    "cannot listen for Ctrl-C: {e}"
                )));
            }
        };
        announce(&emulator, &args);
        stop.await;
        output::note("liveapi emulator: stopping");
        emulator
            .shutdown()
            .await
            .map_err(|e| Failure::local(format_args!("could not sync the state file: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_latency_parse() {
        let w = parse_weights("reset_after_apply=3, http503").unwrap();
        assert_eq!(
            w,
            FaultWeights::none()
                .with(FaultKind::ResetAfterApply, 3)
                .with(FaultKind::Http503, 1)
        );
        assert!(parse_weights("boom").is_err());
        assert!(parse_weights("http503=x").is_err());
        assert!(parse_weights("").is_err());
        assert!(parse_weights("http503=0").is_err());
        assert_eq!(parse_latency("250").unwrap(), (250, 250));
        assert_eq!(parse_latency("10..2000").unwrap(), (10, 2000));
        assert!(parse_latency("fast").is_err());
    }

    #[test]
    fn values_are_pasted_as_one_shell_word() {
        assert_eq!(shell_word("LM600010"), "LM600010");
        assert_eq!(shell_word("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn seconds_parse_and_must_be_positive() {
        assert_eq!(parse_seconds("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_seconds("0.25").unwrap(), Duration::from_millis(250));
        for bad in ["0", "-1", "soon", "NaN", "inf", "1e300"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
