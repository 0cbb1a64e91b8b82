//! What the command line prints of the `tracing` events of the SDK, the outbox and the
//! emulator: warnings by default (Redis unreachable and a limiter falling back, an emulator
//! log's torn tail), each call's end with `-v`, each attempt with `-vv`, and whatever
//! `RUST_LOG` adds.
//!
//! None of those events carries a secret, a signature or a token: they name requests by
//! vendor, operation and request id, and failures by the SDK's errors, which hold none.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Prints events from now on: at `verbosity` 0 warnings and errors, 1 also `info` of the
/// project's crates, 2 `debug`, 3 or more `trace`; `RUST_LOG`'s directives come after and win.
pub(crate) fn init(verbosity: u8) {
    let level = match verbosity {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    };
    // A directive's target matches by prefix: `liveapi` covers `liveapi_request`, the
    // outbox, the emulator. Other crates' events stay at warnings unless RUST_LOG asks.
    let mut directives = String::from("warn");
    if let Some(level) = level {
        directives.push_str(&format!(",liveapi={level}"));
    }
    let base = directives.clone();
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    let asked = !rust_log.trim().is_empty();
    if asked {
        directives.push(',');
        directives.push_str(&rust_log);
    }
    let filter = EnvFilter::builder().parse(&directives).unwrap_or_else(|e| {
        crate::output::note(format_args!("liveapi: RUST_LOG is ignored: {e}"));
        EnvFilter::new(base)
    });
    // Another subscriber set already (none is, in this binary): keep it.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .event_format(Plain {
            spans: level.is_some() || asked,
        })
        .try_init();
}

/// `liveapi: warning: MESSAGE field=value …`, one line per event; with `spans`, the calls and
/// attempts it happened in first (`liveapi.call{vendor=linkv operation=changeGold …}:`).
struct Plain {
    spans: bool,
}

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        write!(writer, "liveapi: {level}: ")?;
        if self.spans
            && let Some(scope) = ctx.event_scope()
        {
            for span in scope.from_root() {
                write!(writer, "{}", span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                write!(writer, ": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
