//! `--outbox` on coin changes, and `liveapi outbox list|show|counts|drain|resolve|prune`: coin
//! changes committed to a durable outbox (a SQLite file, or PostgreSQL) before they are sent,
//! and an operator's tools for it.

use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use liveapi::Client;
use liveapi::model::linkv::{Coins, OpenId, PendingChange, RequestId};
use liveapi_outbox::{
    Counts, Decision, DrainReport, Enqueued, Entry, Location, Outbox, OutboxBuilder, OutboxError,
    Outcome, Query, Recorded, State, StateFilter,
};
use serde_json::{Value, json};

use crate::call;
use crate::credentials::LinkvFlags;
use crate::exit::{Failure, Status};
use crate::output::{self, Format};

/// The help of `--outbox`.
const OUTBOX_HELP: &str = "The outbox: a SQLite file (a path, created if missing, or \
    sqlite:PATH), or PostgreSQL: a postgres:// or postgresql:// URL, or a libpq key=value \
    string ('host=db user=app dbname=payments'). TLS to PostgreSQL as libpq reads it in the \
    URL: sslmode=disable (the default), prefer, require, verify-ca or verify-full, and \
    sslrootcert=PATH for a CA not among the Mozilla roots; whenever TLS is used the \
    certificate and the host name are verified, whatever the mode. Anything else (an unknown \
    scheme, a space around it) is refused before a file is created; a password is never \
    printed. The change is committed to the outbox before it is sent; if this command dies or \
    the outcome is unknown, `liveapi outbox drain --outbox …` sends it again with the same \
    request id, and a change the outbox has settled is never sent again.";

/// The longest a one-shot sender's lease outlives its deadline: long enough for its last
/// store call, short enough that a sender killed mid-send leaves its entry for a drain soon.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

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

    /// The location read, refused (exit 2) before anything is opened or created when it
    /// could be mistaken.
    fn parsed(&self) -> Result<Option<Location>, Failure> {
        let Some(text) = &self.outbox else {
            return Ok(None);
        };
        let location = Location::parse(text).map_err(|e| failure(&e))?;
        if self.outbox_schema.is_some() && !location.is_postgres() {
            return Err(Failure::usage(
                "--outbox-schema is for a PostgreSQL outbox (a postgres:// URL or a key=value string)",
            ));
        }
        Ok(Some(location))
    }

    /// The builder of the outbox, if one was given; to read only when `read_only`.
    async fn builder(&self, read_only: bool) -> Result<Option<OutboxBuilder>, Failure> {
        if self.parsed()?.is_none() {
            return Ok(None);
        }
        let text = self.outbox.as_deref().unwrap_or_default();
        let opened = match &self.outbox_schema {
            Some(schema) => {
                let builder = liveapi_outbox::PostgresStore::builder(text).schema(schema.as_str());
                let store = if read_only {
                    builder.connect_read_only().await
                } else {
                    builder.connect().await
                };
                store.map(Outbox::builder)
            }
            None if read_only => Outbox::builder_read_only(text).await,
            None => Outbox::builder_at(text).await,
        };
        opened.map(Some).map_err(|e| failure(&e))
    }

    /// Opens the outbox, if one was given, for a one-shot sender that must be done within
    /// `deadline` (the client's): each store call gets a tenth of it (at most the default),
    /// the send what is left after four of them (opening, enqueueing, claiming, recording),
    /// and the lease the deadline plus a few seconds, so that a sender killed mid-send leaves
    /// its entry to a drain soon after its deadline, not after the dispatcher's 2 minutes.
    pub(crate) async fn open_for_one_change(
        &self,
        deadline: Option<Duration>,
    ) -> Result<Option<Outbox>, Failure> {
        let deadline = deadline.unwrap_or(Duration::from_secs(30));
        let store_call = (deadline / 10).min(liveapi_outbox::DEFAULT_STORE_TIMEOUT);
        let opening = tokio::time::timeout(store_call * 2, self.builder(false));
        let Some(builder) = opening.await.map_err(|_| {
            Failure::local(format_args!(
                "the outbox did not open within {:?}: nothing was enqueued or sent",
                store_call * 2
            ))
        })??
        else {
            return Ok(None);
        };
        let send = deadline
            .saturating_sub(store_call * 4)
            .max(Duration::from_secs(1));
        Ok(Some(
            builder
                .owner("liveapi-cli")
                .store_timeout(store_call)
                .send_timeout(send)
                .lease(deadline + LEASE_MARGIN)
                .build(),
        ))
    }
}

/// The exit status and message of an outbox failure. Nothing of it comes from a password:
/// the outbox shows every location with its password replaced.
pub(crate) fn failure(error: &OutboxError) -> Failure {
    let status = match error {
        e if e.is_config() => Status::Usage,
        OutboxError::IdConflict { .. } => Status::Reconcile,
        OutboxError::NotFound { .. } => Status::Refused,
        OutboxError::WrongState { .. } => Status::Usage,
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
/// `linkv change-gold`. Whatever happens, this sender's lease is released before it returns,
/// so that a drain may take the entry at once.
pub(crate) async fn enqueue_and_send(
    client: &Client,
    outbox: &Outbox,
    change: &PendingChange,
) -> Result<Applied, Failure> {
    let result = send_once(client, outbox, change).await;
    if let Err(e) = outbox.release_leases().await {
        output::note(format_args!(
            "warning: the outbox's lease on {} could not be released ({e}); it ends by itself",
            change.request_id()
        ));
    }
    result
}

async fn send_once(
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
                "{id} needs reconciliation: {reason}; settled in the outbox, not sent again: check the balance and the vendor's records, then `liveapi outbox resolve {id}`"
            ),
        )),
        State::Resolved { resolution, .. } => Err(Failure::new(
            Status::Reconcile,
            format_args!(
                "{id} was resolved by a person as {} at {} ({}){}; not sent again",
                resolution.decision().name(),
                rfc3339(resolution.at()),
                resolution.note(),
                resolution
                    .reissued_as()
                    .map(|new| format!(", re-issued as {new}"))
                    .unwrap_or_default()
            ),
        )),
        State::Pending {
            lease: Some(lease), ..
        } => Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{id} is being sent by {} (until {}, {} ms); the outcome is not known yet{stays}",
                lease.owner(),
                rfc3339(lease.until()),
                unix_ms(lease.until())
            ),
        )),
        State::Pending {
            next_attempt_at, ..
        } => Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{id} is waiting for its next attempt at {} ({} ms; {}){stays}",
                rfc3339(*next_attempt_at),
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

/// `time` in RFC 3339, UTC, to the millisecond: `2026-03-01T12:00:00.250Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    crate::rfc3339::with_millis(time)
}

/// How long from now until `time` (by the system clock, as the outbox's default clock), for
/// people: `in 3 s`, `now`.
fn from_now(time: SystemTime) -> String {
    match time.duration_since(SystemTime::now()) {
        Ok(wait) if wait >= Duration::from_secs(1) => format!("in {} s", wait.as_secs()),
        _ => "now".to_owned(),
    }
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
    /// Reads only: works on a store that cannot be written.
    List(ListArgs),
    /// Show one entry by request id: the change, its state, attempts, outcome, resolution
    /// and re-issue links. Reads only.
    Show(ShowArgs),
    /// Count the entries in each state, the oldest pending one's age and when the next is
    /// due. Reads only. With --fail-if-reconcile or --max-pending-age, a check for cron or
    /// monitoring: exits 6 if an entry needs reconciliation, else 4 if the oldest pending
    /// entry is older than allowed.
    Counts(CountsArgs),
    /// Send every due entry once (with the LinkV credentials) and record the outcomes; with
    /// --wait, keep draining until nothing is pending or the time is up. Exits 4 whenever
    /// entries remain pending after it, saying how many and when the next is due.
    Drain(DrainArgs),
    /// Record a person's decision on an entry that needs reconciliation, after checking the
    /// user's balance and the vendor's records; with --not-applied --reissue, enqueue the
    /// same change under a new request id. Nothing is deleted; a resolution is final.
    Resolve(ResolveArgs),
    /// Delete settled entries (applied, refused, resolved) settled before a time; never a
    /// pending entry nor one that needs reconciliation. In small batches.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only entries in this state: any, pending, settled, applied, refused, reconcile,
    /// resolved.
    #[arg(long, default_value = "any", value_name = "STATE")]
    state: StateFilter,

    /// Only entries of this user.
    #[arg(long, value_name = "OPEN_ID")]
    uid: Option<OpenId>,

    /// Only entries after this one (the `seq` of the last one of the previous page).
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    after: u64,

    /// At most this many entries (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(Query::MAX_LIMIT)))]
    limit: u32,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The entry's request id.
    #[arg(value_name = "REQUEST_ID")]
    request_id: RequestId,
}

#[derive(Debug, clap::Args)]
struct CountsArgs {
    /// Exit 6 if an entry needs reconciliation (a person must resolve it).
    #[arg(long)]
    fail_if_reconcile: bool,

    /// Exit 4 if the oldest pending entry was enqueued more than this many seconds ago.
    #[arg(long, value_name = "SECS")]
    max_pending_age: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct DrainArgs {
    #[command(flatten)]
    credentials: LinkvFlags,

    /// Keep draining until nothing is pending or this many seconds have passed; a progress
    /// bar on a terminal, a line per round otherwise.
    #[arg(long, value_name = "SECS")]
    wait: Option<u64>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["applied", "not_applied"])))]
struct ResolveArgs {
    /// The entry's request id.
    #[arg(value_name = "REQUEST_ID")]
    request_id: RequestId,

    /// The server had applied the change: nothing more to do.
    #[arg(long)]
    applied: bool,

    /// The server had not applied the change.
    #[arg(long)]
    not_applied: bool,

    /// With --not-applied: enqueue the same change under a new request id (printed), linked
    /// to this entry; `liveapi outbox drain` sends it.
    #[arg(long, requires = "not_applied")]
    reissue: bool,

    /// Who decided, on what evidence (kept with the entry).
    #[arg(long, value_name = "TEXT")]
    note: String,
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// Delete entries settled longer ago than this: a number with s, m, h or d (`30d`,
    /// `12h`), or seconds.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    settled_before: Duration,
}

/// `30d`, `12h`, `90m`, `45s` or `45`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30d, 12h, 90m or 45s"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => return Err(format!("`{other}` is not a unit: s, m, h or d")),
    };
    n.checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
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
        Command::Counts(counts) => call::block_on(run_counts(flags, counts, format))?,
        Command::Drain(drain) => {
            let client = drain.credentials.client()?;
            call::block_on(run_drain(&client, flags, drain.wait, format))?
        }
        Command::Resolve(resolve) => call::block_on(run_resolve(flags, resolve, format))?,
        Command::Prune(prune) => call::block_on(run_prune(flags, prune, format))?,
    }
}

/// Opens the outbox the flags name (they name one: `run` checked); to read only when
/// `read_only`.
async fn open(flags: &OutboxFlags, read_only: bool) -> Result<Outbox, Failure> {
    flags
        .builder(read_only)
        .await?
        .map(OutboxBuilder::build)
        .ok_or_else(|| Failure::usage("give the outbox: --outbox PATH|URL"))
}

async fn run_list(flags: &OutboxFlags, args: ListArgs, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags, true).await?;
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
    let outbox = open(flags, true).await?;
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

/// The counts as `name`/value pairs, times in RFC 3339 and milliseconds.
fn counts_pairs(counts: &Counts, now: SystemTime) -> Vec<(&'static str, Value)> {
    vec![
        ("pending", json!(counts.pending)),
        ("in_flight", json!(counts.in_flight)),
        ("applied", json!(counts.applied)),
        ("refused", json!(counts.refused)),
        ("reconcile", json!(counts.needs_reconciliation)),
        ("resolved", json!(counts.resolved)),
        (
            "oldest_pending_enqueued_at",
            json!(counts.oldest_pending_enqueued_at.map(rfc3339)),
        ),
        (
            "oldest_pending_enqueued_at_ms",
            json!(counts.oldest_pending_enqueued_at.map(unix_ms)),
        ),
        (
            "oldest_pending_age_secs",
            json!(counts.oldest_pending_age(now).map(|age| age.as_secs())),
        ),
        ("next_due_at", json!(counts.next_due_at.map(rfc3339))),
        ("next_due_at_ms", json!(counts.next_due_at.map(unix_ms))),
    ]
}

/// Prints `pairs` as one JSON object, or as `name: value` lines in their order, without the
/// empty ones.
fn print_pairs(pairs: Vec<(&str, Value)>, format: Format) -> crate::exit::Outcome {
    match format {
        Format::Json => output::json(&Value::Object(
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )),
        Format::Plain => output::fields(pairs.into_iter().filter(|(_, v)| !v.is_null()).map(
            |(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            },
        )),
    }
}

async fn run_counts(flags: &OutboxFlags, args: CountsArgs, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags, true).await?;
    let counts = outbox.counts().await.map_err(|e| failure(&e))?;
    let now = outbox.now();
    print_pairs(counts_pairs(&counts, now), format)?;
    if args.fail_if_reconcile && counts.needs_reconciliation > 0 {
        return Err(Failure::new(
            Status::Reconcile,
            format_args!(
                "{} entries need reconciliation: check the balance and the vendor's records, then `liveapi outbox resolve` each (`liveapi outbox list --state reconcile`)",
                counts.needs_reconciliation
            ),
        ));
    }
    if let (Some(limit), Some(age)) = (args.max_pending_age, counts.oldest_pending_age(now))
        && age > Duration::from_secs(limit)
    {
        return Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "the oldest pending entry has waited {} s, more than {limit} s: is a dispatcher running, and can it reach the server? (`liveapi outbox list --state pending`)",
                age.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Adds what one drain did to the total of several.
fn add(total: &mut DrainReport, round: &DrainReport) {
    total.sent += round.sent;
    total.taken_over += round.taken_over;
    total.applied += round.applied;
    total.refused += round.refused;
    total.needs_reconciliation += round.needs_reconciliation;
    total.retry += round.retry;
    total.lease_lost += round.lease_lost;
    total.unrecorded += round.unrecorded;
}

/// How a `drain --wait` shows its progress: a bar on a terminal, a line per round otherwise.
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines,
}

impl Progress {
    fn new(wait: Option<Duration>) -> Option<Self> {
        let wait = wait?;
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(wait.as_secs().max(1));
            bar.set_style(
                indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(Self::Bar(bar))
        } else {
            Some(Self::Lines)
        }
    }

    fn round(&self, elapsed: Duration, total: &DrainReport, counts: Option<&Counts>) {
        let pending = counts.map_or_else(|| "?".to_owned(), |c| c.pending.to_string());
        let text = format!(
            "sent {}, applied {}, refused {}, reconcile {}, pending {pending}",
            total.sent, total.applied, total.refused, total.needs_reconciliation
        );
        match self {
            Self::Bar(bar) => {
                bar.set_position(elapsed.as_secs());
                bar.set_message(text);
            }
            Self::Lines => output::note(format_args!("drain: {}s: {text}", elapsed.as_secs())),
        }
    }

    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

async fn run_drain(
    client: &Client,
    flags: &OutboxFlags,
    wait: Option<u64>,
    format: Format,
) -> crate::exit::Outcome {
    let outbox = open(flags, false).await?;
    let wait = wait.map(Duration::from_secs);
    let started = Instant::now();
    let progress = Progress::new(wait);
    let mut total = DrainReport::default();
    let mut stopped = None;
    let mut counts: Option<Counts>;
    loop {
        match outbox.drain_once(client).await {
            Ok(round) => add(&mut total, &round),
            Err(OutboxError::DrainStopped { report, source }) => {
                add(&mut total, &report);
                stopped = Some(*source);
            }
            Err(e) => stopped = Some(e),
        }
        counts = outbox.counts().await.ok();
        if let Some(progress) = &progress {
            progress.round(started.elapsed(), &total, counts.as_ref());
        }
        let Some(wait) = wait else { break };
        let pending = counts.as_ref().is_none_or(|c| c.pending > 0);
        let left = wait.saturating_sub(started.elapsed());
        if stopped.is_some() || !pending || left.is_zero() {
            break;
        }
        // Until the next entry is due, within the time left; at least a short pause.
        let until_due = counts
            .as_ref()
            .and_then(|c| c.next_due_at)
            .and_then(|at| at.duration_since(outbox.now()).ok())
            .unwrap_or_default();
        let pause = until_due
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
            .min(left);
        tokio::time::sleep(pause).await;
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    let mut pairs = vec![
        ("sent", json!(total.sent)),
        ("applied", json!(total.applied)),
        ("refused", json!(total.refused)),
        ("reconcile", json!(total.needs_reconciliation)),
        ("retry", json!(total.retry)),
        ("taken_over", json!(total.taken_over)),
        ("lease_lost", json!(total.lease_lost)),
        ("unrecorded", json!(total.unrecorded)),
    ];
    if let Some(counts) = &counts {
        pairs.extend([
            ("pending", json!(counts.pending)),
            ("in_flight", json!(counts.in_flight)),
            ("next_due_at", json!(counts.next_due_at.map(rfc3339))),
            ("next_due_at_ms", json!(counts.next_due_at.map(unix_ms))),
        ]);
    }
    let status = drain_status(&total, counts.as_ref(), stopped.as_ref());
    if format == Format::Json {
        // One object on standard output: the report, with the failure (if any) inside it.
        if let Err(failure) = &status {
            pairs.push(("error", failure.to_json()["error"].clone()));
        }
        print_pairs(pairs, format)?;
        return status.map_err(Failure::in_result);
    }
    print_pairs(pairs, format)?;
    status
}

/// The exit status of a drain, by the documented precedence: 6 if an entry it sent needs
/// reconciliation, else the store's error if it stopped at one, else 4 if entries remain
/// pending (how many, and when the next is due), else 1 if one was refused, else 0.
fn drain_status(
    total: &DrainReport,
    counts: Option<&Counts>,
    stopped: Option<&OutboxError>,
) -> crate::exit::Outcome {
    let list = |state: &str| format!("`liveapi outbox list --state {state}`");
    if total.needs_reconciliation > 0 {
        return Err(Failure::new(
            Status::Reconcile,
            format_args!(
                "{} entries need reconciliation: check the balance and the vendor's records, then `liveapi outbox resolve` each ({})",
                total.needs_reconciliation,
                list("reconcile")
            ),
        ));
    }
    if let Some(e) = stopped {
        let mut failed = failure(e);
        failed.append(&format!(
            "; {} entries were sent before the error, each recorded or sent again after its lease",
            total.sent
        ));
        return Err(failed);
    }
    if let Some(counts) = counts.filter(|c| c.pending > 0) {
        let next = counts.next_due_at.map_or_else(String::new, |at| {
            format!("; the next is due at {} ({})", rfc3339(at), from_now(at))
        });
        let leased = if counts.in_flight > 0 {
            format!(
                "; {} of them are being sent by another sender, and come due when its lease ends",
                counts.in_flight
            )
        } else {
            String::new()
        };
        return Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{} entries remain pending, to be sent again with their request ids by a later drain{next}{leased} ({} shows why)",
                counts.pending,
                list("pending")
            ),
        ));
    }
    if total.retry + total.unrecorded > 0 && counts.is_none() {
        return Err(Failure::new(
            Status::Unavailable,
            format_args!(
                "{} entries stay pending, to be sent again with their request ids by a later drain ({} shows why)",
                total.retry + total.unrecorded,
                list("pending")
            ),
        ));
    }
    if total.refused > 0 {
        return Err(Failure::new(
            Status::Refused,
            format_args!(
                "{} entries were refused ({})",
                total.refused,
                list("refused")
            ),
        ));
    }
    Ok(())
}

async fn run_resolve(
    flags: &OutboxFlags,
    args: ResolveArgs,
    format: Format,
) -> crate::exit::Outcome {
    let outbox = open(flags, false).await?;
    let decision = if args.applied {
        Decision::Applied
    } else {
        Decision::NotApplied
    };
    let new_id = outbox
        .resolve(&args.request_id, decision, &args.note, args.reissue)
        .await
        .map_err(|e| failure(&e))?;
    print_pairs(
        vec![
            ("request_id", json!(args.request_id.as_str())),
            ("resolution", json!(decision.name())),
            ("reissued_as", json!(new_id.as_ref().map(RequestId::as_str))),
        ],
        format,
    )?;
    if let Some(new_id) = new_id {
        output::note(format_args!(
            "{new_id} enqueued in {}: `liveapi outbox drain` sends it",
            outbox.location()
        ));
    }
    Ok(())
}

async fn run_prune(flags: &OutboxFlags, args: PruneArgs, format: Format) -> crate::exit::Outcome {
    let outbox = open(flags, false).await?;
    let before = outbox
        .now()
        .checked_sub(args.settled_before)
        .unwrap_or(UNIX_EPOCH);
    let deleted = outbox.prune(before).await.map_err(|e| failure(&e))?;
    print_pairs(
        vec![
            ("deleted", json!(deleted)),
            ("settled_before", json!(rfc3339(before))),
            ("settled_before_ms", json!(unix_ms(before))),
        ],
        format,
    )
}

/// An entry on one line: `seq request_id state endpoint add|remove coins uid attempts=N
/// enqueued=RFC3339 detail`.
fn entry_line(entry: &Entry) -> String {
    let change = entry.change();
    let detail = match entry.state() {
        State::Applied {
            balance: Some(b), ..
        } => format!(" balance={b}"),
        State::Refused { refusal, .. } => format!(" {refusal}"),
        State::NeedsReconciliation { reason, .. } => format!(" {reason}"),
        State::Resolved { resolution, .. } => format!(
            " resolved {} at {}{}",
            resolution.decision().name(),
            rfc3339(resolution.at()),
            resolution
                .reissued_as()
                .map(|id| format!(" reissued_as={id}"))
                .unwrap_or_default()
        ),
        State::Pending {
            lease: Some(lease), ..
        } => format!(
            " sending by {} until {}",
            lease.owner(),
            rfc3339(lease.until())
        ),
        State::Pending {
            next_attempt_at, ..
        } => {
            let due = if unix_ms(*next_attempt_at) > 0 {
                format!(" next_attempt={}", rfc3339(*next_attempt_at))
            } else {
                String::new()
            };
            let error = entry
                .last_error()
                .map(|e| format!(" last error: {e}"))
                .unwrap_or_default();
            format!("{due}{error}")
        }
        _ => String::new(),
    };
    let reissue = entry
        .reissue_of()
        .map(|id| format!(" reissue_of={id}"))
        .unwrap_or_default();
    crate::exit::one_line(&format!(
        "{} {} {} {} {} {} {} attempts={} enqueued={}{reissue}{detail}",
        entry.seq(),
        entry.request_id(),
        entry.state().name(),
        change.endpoint(),
        change_name(change),
        change.coins(),
        entry.uid(),
        entry.attempts(),
        rfc3339(entry.enqueued_at()),
    ))
}

fn change_name(change: &PendingChange) -> &'static str {
    match change.change_type() {
        liveapi::model::linkv::ChangeType::Add => "add",
        liveapi::model::linkv::ChangeType::Remove => "remove",
    }
}

/// An entry as JSON: the change as stored, and the state's fields; every time in RFC 3339
/// (`…_at`) beside its milliseconds (`…_at_ms`); every key snake_case.
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
        "enqueued_at": rfc3339(entry.enqueued_at()),
        "enqueued_at_ms": unix_ms(entry.enqueued_at()),
        "settled_at": entry.state().settled_at().map(rfc3339),
        "settled_at_ms": entry.state().settled_at().map(unix_ms),
        "last_error": entry.last_error(),
        "reissue_of": entry.reissue_of(),
        "pending_change": serde_json::to_value(entry.change()).unwrap_or(Value::Null),
    });
    match entry.state() {
        State::Pending {
            next_attempt_at,
            lease,
        } => {
            value["next_attempt_at"] = json!(rfc3339(*next_attempt_at));
            value["next_attempt_at_ms"] = json!(unix_ms(*next_attempt_at));
            if let Some(lease) = lease {
                value["lease_owner"] = json!(lease.owner());
                value["lease_until"] = json!(rfc3339(lease.until()));
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
        State::Resolved {
            reason, resolution, ..
        } => {
            value["reconcile"] = json!(reason.kind().name());
            value["message"] = json!(reason.message());
            value["resolution"] = json!(resolution.decision().name());
            value["resolved_at"] = json!(rfc3339(resolution.at()));
            value["resolved_at_ms"] = json!(unix_ms(resolution.at()));
            value["resolution_note"] = json!(resolution.note());
            value["reissued_as"] = json!(resolution.reissued_as());
        }
        _ => {}
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_250, "2000-02-29T00:00:00.250Z"),
            (1_924_992_000_000, "2031-01-01T00:00:00.000Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        ] {
            assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(ms)), text);
        }
    }

    #[test]
    fn a_drain_exits_by_the_documented_precedence() {
        let status =
            |report: &DrainReport, counts: Option<&Counts>, error: Option<&OutboxError>| {
                drain_status(report, counts, error)
                    .err()
                    .map(|f| f.status())
            };
        let mut pending = Counts::default();
        pending.pending = 2;
        pending.in_flight = 1;
        let store = OutboxError::Closed;
        let mut report = DrainReport::default();
        assert_eq!(status(&report, Some(&Counts::default()), None), None);
        report.refused = 1;
        assert_eq!(
            status(&report, Some(&Counts::default()), None),
            Some(Status::Refused)
        );
        assert_eq!(
            status(&report, Some(&pending), None),
            Some(Status::Unavailable)
        );
        assert_eq!(
            status(&report, Some(&pending), Some(&store)),
            Some(Status::Local)
        );
        report.needs_reconciliation = 1;
        assert_eq!(
            status(&report, Some(&pending), Some(&store)),
            Some(Status::Reconcile)
        );
        let config = OutboxError::Config("x".to_owned());
        assert_eq!(
            status(&DrainReport::default(), None, Some(&config)),
            Some(Status::Usage)
        );
        let message = drain_status(&DrainReport::default(), Some(&pending), None)
            .unwrap_err()
            .message()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("2 entries remain pending"), "{message}");
        assert!(
            message.contains("1 of them are being sent by another sender"),
            "{message}"
        );
    }

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1d").is_err());
    }
}
