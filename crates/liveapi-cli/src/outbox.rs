//! `--outbox` on coin changes, and `liveapi outbox list|show|counts|drain`: coin changes
//! committed to a durable outbox (a SQLite file, or PostgreSQL) before they are sent.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use liveapi::Client;
use liveapi::model::linkv::{Coins, OpenId, PendingChange, RequestId};
use liveapi_outbox::{
    Enqueued, Entry, Outbox, OutboxError, Outcome, Query, Recorded, State, StateFilter,
};
use serde_json::{Value, json};

use crate::call;
use crate::credentials::LinkvFlags;
use crate::exit::{Failure, Status};
use crate::output::{self, Format};

/// The help of `--outbox`.
const OUTBOX_HELP: &str = "The outbox: a SQLite file (created if missing), or a \
    postgres:// URL. The change is committed to it before it is sent; if this command dies or \
    the outcome is unknown, `liveapi outbox drain --outbox …` sends it again with the same \
    request id, and a change the outbox has settled is never sent again.";

/// Where the outbox is: `--outbox` and `--outbox-schema`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Outbox")]
pub(crate) struct OutboxFlags {
    #[arg(long, global = true, value_name = "PATH|URL", long_help = OUTBOX_HELP)]
    outbox: Option<String>,

    /// The PostgreSQL schema of the outbox's tables [default: liveapi_outbox].
    #[arg(long, global = true, value_name = "NAME", requires = "outbox")]
    outbox_schema: Option<String>,
}

impl OutboxFlags {
    /// The outbox's location, if one was given.
    pub(crate) fn location(&self) -> Option<&str> {
        self.outbox.as_deref()
    }

    /// Opens the outbox, if one was given.
    pub(crate) async fn open(&self) -> Result<Option<Outbox>, Failure> {
        let Some(location) = &self.outbox else {
            return Ok(None);
        };
        let opened = match &self.outbox_schema {
            Some(schema) if liveapi_outbox::is_postgres_url(location) => {
                liveapi_outbox::PostgresStore::builder(location.as_str())
                    .schema(schema.as_str())
                    .connect()
                    .await
                    .map(Outbox::new)
            }
            Some(_) => {
                return Err(Failure::usage(
                    "--outbox-schema is for a PostgreSQL outbox (a postgres:// URL)",
                ));
            }
            None => Outbox::open(location).await,
        };
        opened.map(Some).map_err(|e| failure(&e))
    }
}

/// The exit status and message of an outbox failure. Nothing of it comes from a password:
/// the outbox names PostgreSQL by host, port, database and schema only.
pub(crate) fn failure(error: &OutboxError) -> Failure {
    let status = match error {
        OutboxError::Config(_) => Status::Usage,
        OutboxError::IdConflict { .. } => Status::Reconcile,
        _ => Status::Local,
    };
    Failure::new(status, error)
}

/// What became of a change sent through the outbox, when it was applied.
pub(crate) struct Applied {
    /// The balance after, when the call answered one (now, or when the outbox settled it).
    pub(crate) balance: Option<Coins>,
}

/// Enqueues `change` in the outbox at `location`, then sends it (unless the outbox settled it
/// before, or another dispatcher holds it): the `--outbox` path of `linkv order` and
/// `linkv change-gold`.
pub(crate) async fn enqueue_and_send(
    client: &Client,
    outbox: &Outbox,
    change: &PendingChange,
) -> Result<Applied, Failure> {
    let location = outbox.location();
    let id = change.request_id();
    match outbox.enqueue(change).await.map_err(|e| failure(&e))? {
        Enqueued::Added => {
            output::note(format_args!("enqueued {id} in {}", outbox.location()));
        }
        Enqueued::AlreadyQueued => {
            output::note(format_args!(
                "{id} was already in {}: not enqueued again",
                outbox.location()
            ));
        }
    }
    let stays = || {
        format!(
            "; it stays in the outbox ({location}), and `liveapi outbox drain` sends it again with the same request id"
        )
    };
    let Some(sent) = outbox.dispatch(client, id).await.map_err(|e| failure(&e))? else {
        // Not sent now: settled before, held by another dispatcher, or waiting for a retry.
        let entry = outbox
            .get(id)
            .await
            .map_err(|e| failure(&e))?
            .ok_or_else(|| Failure::local(format_args!("{id} vanished from the outbox")))?;
        return settled_before(&entry, &stays());
    };
    if let Recorded::Failed(e) = &sent.recorded {
        output::note(format_args!(
            "warning: the outcome of {id} could not be recorded in the outbox ({e}); \
             `liveapi outbox drain` will send it again, harmlessly, with the same request id"
        ));
    }
    match (sent.outcome, sent.error) {
        (Outcome::Applied { balance }, _) => Ok(Applied { balance }),
        (Outcome::Retry { .. }, Some(error)) => {
            let mut failed = call::failure(&error);
            failed.append(&stays());
            Err(failed)
        }
        (_, Some(error)) => {
            let mut failed = call::failure(&error);
            failed.append("; settled in the outbox");
            Err(failed)
        }
        (outcome, None) => Err(Failure::local(format_args!(
            "{id}: {outcome:?} without an error"
        ))),
    }
}

/// The answer for a change the outbox did not send now.
fn settled_before(entry: &Entry, stays: &str) -> Result<Applied, Failure> {
    let id = entry.request_id();
    match entry.state() {
        State::Applied { balance, .. } => {
            output::note(format_args!(
                "{id} was applied before (the outbox settled it): not sent again"
            ));
            Ok(Applied { balance: *balance })
        }
        State::Refused { refusal, .. } => Err(Failure::new(
            Status::Refused,
            format_args!(
                "{id} was refused before: {refusal}; settled in the outbox, not sent again"
            ),
        )),
        State::NeedsReconciliation { reason, .. } => Err(Failure::new(
            Status::Reconcile,
            format_args!(
                "{id} needs reconciliation: {reason}; settled in the outbox, not sent again: check the balance and the vendor's records"
            ),
        )),
        State::Pending {
            lease: Some(lease), ..
        } => Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{id} is being sent by {} (until {} ms); the outcome is not known yet{stays}",
                lease.owner(),
                unix_ms(lease.until())
            ),
        )),
        State::Pending {
            next_attempt_at, ..
        } => Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{id} is waiting for its next attempt at {} ms ({}){stays}",
                unix_ms(*next_attempt_at),
                entry.last_error().unwrap_or("no error recorded")
            ),
        )),
        _ => Err(Failure::local(format_args!(
            "{id}: a state this version does not know"
        ))),
    }
}

/// Milliseconds since the Unix epoch.
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Arguments of `liveapi outbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    outbox: OutboxFlags,

    /// Print the result as one JSON object on one line instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List entries in the order they were enqueued, by state and user, a page at a time.
    List(ListArgs),
    /// Show one entry by request id: the change, its state, attempts and outcome.
    Show(ShowArgs),
    /// Count the entries in each state.
    Counts,
    /// Send every due entry once (with the LinkV credentials) and record the outcomes;
    /// entries whose outcome stays unknown wait for a later drain.
    Drain(DrainArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only entries in this state: any, pending, settled, applied, refused, reconcile.
    #[arg(long, default_value = "any", value_name = "STATE")]
    state: StateFilter,

    /// Only entries of this user.
    #[arg(long, value_name = "OPEN_ID")]
    uid: Option<OpenId>,

    /// Only entries after this one (the `seq` of the last one of the previous page).
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    after: u64,

    /// At most this many entries (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The entry's request id.
    #[arg(value_name = "REQUEST_ID")]
    request_id: RequestId,
}

#[derive(Debug, clap::Args)]
struct DrainArgs {
    #[command(flatten)]
    credentials: LinkvFlags,
}

pub(crate) fn run(args: Args) -> crate::exit::Outcome {
    let format = Format::from_flag(args.json);
    if args.outbox.location().is_none() {
        return Err(Failure::usage("give the outbox: --outbox PATH|URL"));
    }
    let flags = &args.outbox;
    match args.command {
        Command::List(list) => call::block_on(run_list(flags, list, format))?,
        Command::Show(show) => call::block_on(run_show(flags, show, format))?,
        Command::Counts => call::block_on(run_counts(flags, format))?,
        Command::Drain(drain) => {
            let client = drain.credentials.client()?;
            call::block_on(run_drain(&client, flags, format))?
        }
    }
}

/// Opens the outbox the flags name (they name one: `run` checked).
async fn open(flags: &OutboxFlags) -> Result<Outbox, Failure> {
    flags
        .open()
        .await?
        .ok_or_else(|| Failure::usage("give the outbox: --outbox PATH|URL"))
}

async fn run_list(flags: &OutboxFlags, args: ListArgs, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags).await?;
    let mut query = Query::new()
        .state(args.state)
        .after(args.after)
        .limit(args.limit);
    if let Some(uid) = args.uid {
        query = query.open_id(uid);
    }
    let entries = outbox.list(&query).await.map_err(|e| failure(&e))?;
    match format {
        Format::Json => output::json(&json!({
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        })),
        Format::Plain if entries.is_empty() => Ok(()),
        Format::Plain => output::line(
            entries
                .iter()
                .map(entry_line)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

async fn run_show(flags: &OutboxFlags, args: ShowArgs, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags).await?;
    let entry = outbox
        .get(&args.request_id)
        .await
        .map_err(|e| failure(&e))?
        .ok_or_else(|| {
            Failure::new(
                Status::Refused,
                format_args!("no entry with request_id {} in the outbox", args.request_id),
            )
        })?;
    let value = entry_json(&entry);
    match format {
        Format::Json => output::json(&value),
        Format::Plain => {
            let fields = value
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.as_str(), text)
                });
            output::fields(fields)
        }
    }
}

async fn run_counts(flags: &OutboxFlags, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags).await?;
    let counts = outbox.counts().await.map_err(|e| failure(&e))?;
    let pairs = [
        ("pending", counts.pending),
        ("in_flight", counts.in_flight),
        ("applied", counts.applied),
        ("refused", counts.refused),
        ("reconcile", counts.needs_reconciliation),
    ];
    match format {
        Format::Json => output::json(&Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect(),
        )),
        Format::Plain => output::fields(pairs.iter().map(|(k, v)| (*k, v.to_string()))),
    }
}

async fn run_drain(client: &Client, flags: &OutboxFlags, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags).await?;
    let report = outbox.drain_once(client).await.map_err(|e| failure(&e))?;
    let pairs = [
        ("sent", report.sent),
        ("applied", report.applied),
        ("refused", report.refused),
        ("reconcile", report.needs_reconciliation),
        ("retry", report.retry),
        ("taken_over", report.taken_over),
        ("lease_lost", report.lease_lost),
        ("unrecorded", report.unrecorded),
    ];
    match format {
        Format::Json => output::json(&Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect(),
        ))?,
        Format::Plain => output::fields(pairs.iter().map(|(k, v)| (*k, v.to_string())))?,
    }
    let list = |state: &str| format!("`liveapi outbox list --state {state}`");
    if report.needs_reconciliation > 0 {
        return Err(Failure::new(
            Status::Reconcile,
            format_args!(
                "{} entries need reconciliation: check the balance and the vendor's records ({})",
                report.needs_reconciliation,
                list("reconcile")
            ),
        ));
    }
    if report.retry + report.unrecorded > 0 {
        return Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{} entries stay pending, to be sent again with their request ids by a later drain ({} shows why)",
                report.retry + report.unrecorded,
                list("pending")
            ),
        ));
    }
    if report.refused > 0 {
        return Err(Failure::new(
            Status::Refused,
            format_args!(
                "{} entries were refused ({})",
                report.refused,
                list("refused")
            ),
        ));
    }
    Ok(())
}

/// An entry on one line: `seq request_id state endpoint add|remove coins uid attempts=N
/// detail`.
fn entry_line(entry: &Entry) -> String {
    let change = entry.change();
    let detail = match entry.state() {
        State::Applied {
            balance: Some(b), ..
        } => format!(" balance={b}"),
        State::Refused { refusal, .. } => format!(" {refusal}"),
        State::NeedsReconciliation { reason, .. } => format!(" {reason}"),
        State::Pending {
            lease: Some(lease), ..
        } => format!(" sending by {}", lease.owner()),
        State::Pending { .. } => entry
            .last_error()
            .map(|e| format!(" last error: {e}"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    crate::exit::one_line(&format!(
        "{} {} {} {} {} {} {} attempts={}{detail}",
        entry.seq(),
        entry.request_id(),
        entry.state().name(),
        change.endpoint(),
        change_name(change),
        change.coins(),
        entry.uid(),
        entry.attempts(),
    ))
}

fn change_name(change: &PendingChange) -> &'static str {
    match change.change_type() {
        liveapi::model::linkv::ChangeType::Add => "add",
        liveapi::model::linkv::ChangeType::Remove => "remove",
    }
}

/// An entry as JSON: the change as stored, and the state's fields.
fn entry_json(entry: &Entry) -> Value {
    let mut value = json!({
        "seq": entry.seq(),
        "request_id": entry.request_id().as_str(),
        "state": entry.state().name(),
        "uid": entry.uid().as_str(),
        "endpoint": entry.change().endpoint(),
        "change": change_name(entry.change()),
        "coins": entry.change().coins().get(),
        "attempts": entry.attempts(),
        "enqueued_at_ms": unix_ms(entry.enqueued_at()),
        "settled_at_ms": entry.state().settled_at().map(unix_ms),
        "last_error": entry.last_error(),
        "pending_change": serde_json::to_value(entry.change()).unwrap_or(Value::Null),
    });
    match entry.state() {
        State::Pending {
            next_attempt_at,
            lease,
        } => {
            value["next_attempt_at_ms"] = json!(unix_ms(*next_attempt_at));
            if let Some(lease) = lease {
                value["lease_owner"] = json!(lease.owner());
                value["lease_until_ms"] = json!(unix_ms(lease.until()));
            }
        }
        State::Applied { balance, .. } => {
            value["balance"] = json!(balance.map(Coins::get));
        }
        State::Refused { refusal, .. } => {
            value["refusal"] = json!(refusal.kind().name());
            if let liveapi_outbox::RefusalKind::Rejected { status } = refusal.kind() {
                value["status"] = json!(status);
            }
            value["message"] = json!(refusal.message());
        }
        State::NeedsReconciliation { reason, .. } => {
            value["reconcile"] = json!(reason.kind().name());
            value["message"] = json!(reason.message());
        }
        _ => {}
    }
    value
}
