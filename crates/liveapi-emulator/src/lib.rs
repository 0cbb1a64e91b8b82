//! A local, stateful emulator of the LinkV and Polyv live-streaming servers, so that SDK
//! examples, tests and your own CI run against real sockets without real money.
//!
//! One HTTP/1.1 server answers both vendors: LinkV under `/open/…`, Polyv under `/live/…`. It
//! verifies signatures with `liveapi-sign` and validates parameters with `liveapi-model`,
//! exactly as the SDK builds them, and answers in each vendor's envelope with the vendor's
//! codes and messages. It keeps books (users, coins that expire, orders, donate settings),
//! makes coin changes idempotent by `request_id`, and can inject faults, deterministically from
//! a seed. Starting one takes milliseconds, so every test can have its own.
//!
//! ```
//! use liveapi_emulator::Emulator;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let emulator = Emulator::builder().seed(42).start().await?;
//!     println!("LinkV and Polyv at {}", emulator.base_url());
//!     let app = emulator.linkv_app();
//!     assert_eq!((app.app_key.as_str(), app.alias.as_str()), ("LM6000100000000000000042", "demo"));
//!     assert_eq!(emulator.polyv_app().channels, [1_000_001, 1_000_002]);
//!     emulator.shutdown().await?;
//!     Ok(())
//! }
//! ```
//!
//! # Demo apps
//!
//! Seeded unless [`EmulatorBuilder::without_demo_apps`] is called:
//!
//! | vendor | credentials |
//! |---|---|
//! | LinkV | `live_app_key` `LM6000100000000000000042`, `live_app_secret` `demo_app_secret`, alias `demo` |
//! | Polyv | `appId` `demo_polyv_app`, secret `demo_polyv_secret`, channels `1000001`, `1000002` |
//!
//! # LinkV
//!
//! `POST /open/v0/thGetToken`, `/open/finanv0/orderSuccess`, `/open/finanv0/changeGold` and
//! `/open/finanv0/getUserTokens`.
//!
//! It accepts what the real server accepts, which is what the vendor's official Go, Python and
//! Node SDKs send in production (API-NOTES, "What the production SDKs send"), while the SDK of
//! this workspace sends the documented form:
//!
//! - parameters in a form body, in the query string, or both, by POST or GET (the Go and
//!   Python SDKs send `getUserTokens` as a GET with a query string);
//! - signatures over the documented canonical string, or over the forms those SDKs compute:
//!   empty values signed as `k=` (Go, Python), a value `0` left unsigned (Node);
//! - any `request_id` of 1 to 64 printable ASCII characters (the SDKs build
//!   `live_app_key[2..]-` and 9 random characters: 32 with a real key, 31 sometimes from Node);
//! - `expriation` as an integer or a decimal with a fraction of zeros (`1796343222.0`, from
//!   Python), as the server's integer cast takes it, and none at all on a removal (`type=2`);
//! - `openId`, `order_id` and `aid` of any text (the server or the vendor's client SDK issues
//!   them; only a generous length bound applies).
//!
//! Answers are `{"status":"200","msg":"","data":{…}}` with `status` as a string and `tokens` as
//! a string of digits. As the real server does (API-NOTES, "How the real server answers"),
//! errors come by default as **HTTP 200** with the error in the body,
//! `{"status":"403","msg":"sign err","data":[]}`, and every LinkV answer says
//! `Content-Type: text/html; charset=UTF-8`. [`EmulatorBuilder::linkv_error_http_status`]
//! (`--linkv-error-http-status`) answers errors with the matching HTTP status instead, and
//! [`EmulatorBuilder::linkv_json_content_type`] (`--linkv-json-content-type`) says
//! `application/json`, so that both paths of a client stay tested.
//!
//! - `thGetToken` registers a `userId` (`name` and `portraitUri` required the first time) or
//!   logs it in, and answers a fresh token and a stable 19-digit `openId`, derived from the app
//!   and the `userId` (the same in every emulator).
//! - Credits are kept in lots that expire at their `expriation` (a lot counts while the
//!   emulator's time is before it). Removals take from the soonest-expiring lots; a removal
//!   beyond the balance is refused and changes nothing. Expired coins do not count.
//! - `request_id` makes `orderSuccess` and `changeGold` idempotent, whatever its length: a
//!   repeat with the same call and business parameters (`nonce_str`, `sign`, `app_id` and
//!   `channel` do not count, and `1796343222.0` is the same expiry as `1796343222`) answers the
//!   first result and changes nothing; a repeat with different parameters is an error. Only
//!   successes are remembered: a refused change may be sent again.
//! - The idempotency store is bounded: a `request_id` is forgotten after the idempotency
//!   window (24 hours of emulator time by default, [`EmulatorBuilder::idempotency_window`]) or
//!   when an app remembers more than [`DEFAULT_IDEMPOTENCY_CAPACITY`] of them
//!   ([`EmulatorBuilder::idempotency_capacity`]). A repeat after that is applied again.
//! - An `order_id` can be completed once; `channel` must be the app's alias. `type=2` refunds
//!   an order's coins.
//!
//! Errors, with the body's `status` and `msg`. The seed documents three statuses (400 参数错误,
//! 参数长度错误; 403 签名错误; 500 系统错误) and one message, `sign err`; where a message is not
//! the documents', the *source* column says so. A client should classify by `status`; the
//! messages are for people.
//!
//! | case | `status` | `msg` | source |
//! |---|---|---|---|
//! | wrong signature, missing or malformed `sign` | 403 | `sign err` | seed, word for word |
//! | no `app_id` / no `nonce_str` / malformed nonce | 400 | `param err: app_id is required` / `param err: nonce_str is required` / `param err: nonce_str must be …` | seed's 参数错误 in the words of `sign err`; the detail after `param err: ` is the emulator's |
//! | duplicate parameter | 400 | `param err: KEY is given more than once` | as above |
//! | invalid or missing parameter | 400 | `param err: FIELD: RULE` (the model's `ValidationError`) | as above; the rules cite the seed or API-NOTES |
//! | first `thGetToken` without `name`/`portraitUri` | 400 | `param err: name and portraitUri are required to register a new userId` | seed ("注册必传"); words as above |
//! | `channel` missing / not the alias | 400 | `param err: channel is required` / `param err: channel does not match the app alias` | seed; words as above |
//! | credit whose `expriation` is not in the future | 400 | `param err: expriation must be in the future` | the emulator's own rule and words |
//! | unknown `app_id` | 403 | `app_id not found` | the emulator's own: undocumented |
//! | nonce more than 5 minutes from the emulator's clock | 400 | `nonce_str expired` | the emulator's own words (API-NOTES documents the refusal) |
//! | unknown `uid` | 400 | `uid not found` | the emulator's own: the documents name no ledger refusal |
//! | removal beyond the balance | 400 | `insufficient balance` | the emulator's own |
//! | `request_id` repeated with other parameters | 400 | `request_id already used with different parameters` | the emulator's own |
//! | `order_id` completed before | 400 | `order_id already completed` | the emulator's own |
//! | balance would pass `i64::MAX` | 400 | `balance would exceed 9223372036854775807 coins` | the emulator's own |
//! | injected server failure ([`FaultKind::Http500`], [`FaultKind::Http200Status500`]) | 500 | `system err` | seed's 系统错误 in the words of `sign err` |
//! | unknown path under `/open/` / other method | 404 / 405 (HTTP status in every style) | `no such endpoint` / `method not allowed` | the emulator's own |
//!
//! # Polyv
//!
//! `POST /live/v3/channel/donate/update-cash`, `POST …/update-good` and `GET …/donate/get`
//! (POST accepted too), with `appId`, `timestamp`, `sign` and an optional `channelId` in the
//! signed query string and settings in an unsigned JSON body (a `channelId` in the body is
//! ignored, as by the real server). `signatureMethod=SHA256` is supported. Answers are
//! `{"code":200,"status":"success","message":"","data":…}`; errors use the same HTTP status as
//! `code`, `status` `"error"` and `data: ""`.
//!
//! Settings apply to a channel, or account-wide without `channelId`. `donate/get` for a
//! channel answers what it effectively uses, part by part: the channel's own cash (or gift)
//! settings if set, else the account-wide ones, else the defaults (cash tips on, amounts
//! 0.88, 6.66, 8.88, 18.88, 66.66, 88.88, minimum 0.01; gift tips on, four gifts).
//! `globalSettingEnabled` is `N` once the channel has settings of its own, `Y` before, and
//! absent for the account. The answer decodes with `liveapi_model::polyv::DonateSettings`;
//! amounts are JSON numbers like `0.88`.
//!
//! Every `update-cash` field is optional, as the seed's "required" column is blank: an update
//! changes what it gives (`{"enabled":"N"}` switches tips off, `{"cashMin":0.5}` changes the
//! minimum) and leaves the rest as it is, **the switch included**. A scope's first update
//! starts from what it used until then. Both switches start on, the seed's "不传默认开启" (on
//! when not sent) read as the state of a switch never set. `update-good` needs its `goods`;
//! its `enabled` is optional in the same way.
//!
//! | case | `code` | `message` | source |
//! |---|---|---|---|
//! | no `appId` | 400 | `appId is required.` | seed |
//! | unknown `appId` | 400 | `application not found.` | seed |
//! | `timestamp` missing, not 13 digits, or more than 3 minutes off | 400 | `invalid timestamp.` | seed |
//! | wrong or missing signature | 403 | `invalid signature.` | seed |
//! | duplicate query parameter, unknown `signatureMethod` | 400 | `param validate error` | seed's message for a bad parameter |
//! | `channelId` not digits (e.g. `null`) | 400 | `param validate error` | as above |
//! | `channelId` not one of the account's | 403 | `illegal channel id: N` | seed |
//! | empty body, `{}` or no field to change, JSON that is not an object, wrong count, name too long | 400 | `param validate error` | seed ("json为空或者json解析错误", 参数错误) |
//! | body that is not JSON | 400 | `json format error` | API-NOTES |
//! | amount out of 0.01–9999.99 (0–9999.99 for prices), finer than 0.01, or not a number | 400 | `number range error` | seed |
//! | `enabled`/`goodEnabled` not `Y`/`N` | 400 | `param is not boolean (Y / N)` | API-NOTES |
//! | over the rate limit | 429 | `qps exceeds number of calls` | API-NOTES; the code is HTTP's |
//! | injected server failure | 500 | `system error` | the emulator's own words for the seed's code 500 |
//! | unknown path under `/live/` / wrong method | 404 / 405 | `not found` / `method not allowed` | the emulator's own |
//!
//! The rate limit ([`IpRateLimit`]) is Polyv's by default: 1500 requests per 10 seconds per client
//! IP on the Polyv paths, then five minutes of refusals. A window starts with an IP's first
//! request and counts every request for its length; the request that passes the limit starts
//! the block, and requests during the block count in no window. It runs on the monotonic
//! clock, not the emulator's. `GET /_emulator/rate-limit` shows each IP's windows and bans.
//!
//! # Limits
//!
//! A request body over the limit (1 MiB by default, [`EmulatorBuilder::body_limit`]) gets HTTP
//! 413 in the vendor's envelope (`request entity too large`). Malformed input gets the
//! vendor's 4xx; a 5xx comes only from an injected fault. Paths outside `/open/`, `/live/` and
//! `/_emulator/` get 404 `{"error":"not found"}`.
//!
//! # Connections
//!
//! A client cannot hold a connection for ever, nor can enough of them stop the emulator
//! answering others:
//!
//! - a request head must be complete within the header read timeout (10 s by default,
//!   [`EmulatorBuilder::header_read_timeout`]), counted from the connection's start for its
//!   first request and from the first byte for later ones; else the connection is closed;
//! - a request body may pause between bytes for at most the body read timeout (10 s,
//!   [`EmulatorBuilder::body_read_timeout`]): a slow but steady upload goes through, a stalled
//!   one gets HTTP 408 (`request timeout` in the vendor's envelope) and a close. An answer
//!   that the client does not read for as long is given up, and the connection closed;
//! - a connection idle between requests is closed after the keep-alive timeout (60 s,
//!   [`EmulatorBuilder::keep_alive_timeout`]);
//! - at most [`DEFAULT_MAX_CONNECTIONS`] connections are open at once, fewer where the process
//!   may open fewer files ([`EmulatorBuilder::max_connections`]). One over the cap gets
//!   `503 Service Unavailable` with `Connection: close` and `{"error":"too many connections"}`
//!   in a single write, its request unread (or, while many are being refused at once, a
//!   plain close). A failed accept (out of descriptors) is retried after 20 ms.
//!
//! A malformed request body (a bad chunk size line, a chunk longer than it said) gets HTTP 400
//! in the vendor's envelope (`malformed request body`) and a close; hyper answers a
//! malformed head (bad bytes in a header, an unreadable `Content-Length`, a transfer coding
//! other than chunked) with a bare 400 of its own.
//!
//! Every answer carries a `Date` from the emulator's clock, not the host's: the SDK corrects
//! its clock skew by it, so a test that moves the emulator's clock moves the `Date` too. The
//! bare 400s hyper writes for malformed heads carry none, nor do answers while the clock is
//! set past the year 9999, which the format cannot write.
//!
//! # Faults
//!
//! [`Faults`] sets an overall rate, a weight per [`FaultKind`] and a latency range, optionally
//! limited to vendors and path prefixes: added latency, HTTP 500 (JSON or HTML), 502 and 503
//! (HTML), HTTP 200 whose JSON says 500 (the real LinkV server's way of failing), a reset
//! before the request is handled, a reset after it was applied, and a body cut in half after
//! it was applied. The HTTP failures keep their HTTP form whatever the LinkV answer style. Which requests fail is a pure function of the seed and the
//! request's position in the sequence of eligible requests. Faults can be set at start
//! ([`EmulatorBuilder::faults`]) and at run time ([`RunningEmulator::set_faults`] or the
//! inspection API); [`RunningEmulator::fault_stats`] counts what was injected and
//! [`RunningEmulator::journal`] lists every change applied, with its `request_id`: one entry
//! per `request_id`, its first application, with the number of repeats answered from the
//! idempotency store in [`AppliedChange::repeats`].
//!
//! # Clock
//!
//! [`EmulatorClock`] is the system time by default; it can start ahead, behind or frozen
//! ([`ClockStart`]) and be advanced, set, frozen and resumed at run time. It decides nonce and
//! timestamp freshness, coin expiry and the idempotency window.
//!
//! # Inspection API
//!
//! Under `/_emulator/`, never subject to faults or the rate limit, and unauthenticated (keep
//! the emulator on loopback):
//!
//! | route | what |
//! |---|---|
//! | `GET /_emulator` | this list |
//! | `GET /_emulator/health` | `{"ok":true}` |
//! | `GET /_emulator/state` | the whole state: each app's users, lots, balances, orders, idempotency records and journal; Polyv settings; clock; faults and their counters |
//! | `GET /_emulator/requests?limit=N` | the most recent requests (a bounded ring, 1000 by default): method, path, vendor, client, status, message, fault |
//! | `GET /_emulator/journal` | every applied coin change, in order: each `request_id`'s first application, with `repeats` |
//! | `GET /_emulator/connections` | a [`ConnectionStats`]: `open`, `peak`, `max`, `accepted`, `refused`, `accept_errors`, `header_timeouts`, `body_timeouts`, `keep_alive_timeouts`, `write_timeouts`, `malformed_bodies`, and the three timeouts in ms |
//! | `GET /_emulator/rate-limit` | `{"limit":{"requests":…,"per_ms":…,"block_ms":…},"clients":[…]}`: per client IP, whether it is `banned` (and `banned_for_ms`), its `bans`, `refused_while_banned`, `max_requests_in_a_window` and its `windows` (`started_ms`, `requests`, `over_limit`; the last 64 finished ones, then the current one) |
//! | `GET /_emulator/faults` | `{"faults":…,"seed":…,"stats":{"eligible":…,"injected":{…}}}` |
//! | `PUT /_emulator/faults?seed=N` | replace the configuration with the JSON body (a [`Faults`]); `seed` restarts the sequence |
//! | `DELETE /_emulator/faults` | stop injecting faults |
//! | `GET /_emulator/clock` | `{"now_ms":…,"frozen":…,"offset_ms":…}` |
//! | `PUT /_emulator/clock` | `{"offset_ms":…}`, `{"now_ms":…}`, `{"frozen":true}` / `false`, combinable |
//! | `POST /_emulator/clock/advance` | `{"seconds":…}` or `{"ms":…}` |
//! | `GET /_emulator/store` | the state store: `path`, `log_path`, `log_bytes`, `records_since_snapshot`, `syncs`, `snapshots`, `last_sync_ms`, `last_snapshot_ms`, `torn_tail_dropped`, `last_error` (`null` without a state file) |
//! | `POST /_emulator/save` | sync the log and write a snapshot now |
//!
//! # State file
//!
//! With [`EmulatorBuilder::state_file`] (`liveapi emulator --state FILE`), the state is
//! durable: a crash, even SIGKILL, loses nothing that was acknowledged, so a client that sends
//! a change again after a restart gets the first answer instead of a second application.
//! Durable are the books (users, lots, orders, idempotency records, journals with their
//! repeat counts), the Polyv donate settings, and the clock and faults once they were changed
//! at run time (until then the start configuration applies). The request log, fault counters
//! and rate-limit windows are not kept.
//!
//! Two files, both next to each other:
//!
//! - `FILE`, the **snapshot**: the whole state as JSON (version 2), with the sequence number
//!   of the last log record it holds. A version 1 file (the one-file format of earlier
//!   releases) is read as a snapshot that holds no log record, and rewritten at the next
//!   snapshot.
//! - `FILE.log`, the **write-ahead log**: a header (`LAEMULOG`, format version), then one
//!   record per change, each framed as a little-endian `u32` length, the CRC-32 of the
//!   payload and the payload (`{"seq":N,"record":{…}}` in JSON).
//!
//! When is a change durable? Each request applies its change in memory under its app's lock,
//! queues the record and releases the lock; a writer thread writes what was queued while its
//! previous write ran and makes it durable with one `fdatasync` (group commit: concurrent
//! requests share a sync); the answer goes out once the log is durable up to the last record
//! queued when the request released its lock. A request that reads a change not yet durable
//! (a repeat of a `request_id` whose first application is still being synced, a balance)
//! waits for it too. Changes made through [`RunningEmulator`] (the clock, the faults) are
//! queued at once and synced by the next group commit ([`RunningEmulator::sync_state`]
//! waits for it). If the log cannot be written, the emulator stops acknowledging: every
//! request that changed or read the books answers a server error
//! (`{"status":"500","msg":"state store failed"}` for LinkV), and the inspection API shows
//! the error.
//!
//! When the log passes 64 MiB ([`EmulatorBuilder::state_compact_after`],
//! `--state-compact-mib`), it is compacted: a new snapshot (written to a temporary file,
//! synced, renamed over `FILE`, directory synced), then an empty log in its place (the same
//! way). A crash between the two leaves the new snapshot and the old log, whose records the
//! snapshot already covers and replay skips. [`RunningEmulator::shutdown`] (SIGINT or
//! SIGTERM for the command) lets answers in flight finish, syncs the log and writes a last
//! snapshot if anything changed since the previous one; [`RunningEmulator::save_state`]
//! (`POST /_emulator/save`) writes one at once. The writer thread writes the snapshot, so
//! answers that wait for a sync wait for it too: with a large state (a million remembered
//! `request_id`s is over a hundred megabytes of JSON) that is a pause of seconds.
//!
//! At start, the snapshot is read and the log replayed. A crash can leave the log's last
//! record torn (cut short, zeros, or a checksum that does not match): it was never synced, so
//! no answer depended on it; it is dropped with a warning (a `tracing` event, and
//! `torn_tail_dropped` in `GET /_emulator/store`) and the log is cut back to the last good
//! record. Any other damage (a bad checksum or an undecodable record with more data after it,
//! an impossible length, another format or version) refuses to start with
//! [`StartError::StateFile`], naming the file and the byte offset: nothing is loaded in part.
//! Books of apps that are not configured are kept and written back.
//!
//! `GET /_emulator/store` ([`RunningEmulator::state_status`]) shows the paths, the log's size,
//! the records since the last snapshot, syncs and snapshots made, the times of the last sync
//! and snapshot (emulator time), a dropped torn record and the last error. On a two-core
//! machine with an SSD, group commit gives several thousand acknowledged changes per second
//! from 32 concurrent clients (see `BENCHMARKS.md`).
//!
//! # Memory
//!
//! Everything is bounded except users and completed orders: per app, at most
//! [`DEFAULT_IDEMPOTENCY_CAPACITY`] remembered `request_id`s (a few hundred bytes each) and
//! [`DEFAULT_JOURNAL_CAPACITY`] journal entries; [`DEFAULT_REQUEST_LOG_CAPACITY`] logged
//! requests in all. Each limit has a builder method.
//!
//! # Performance
//!
//! Each request takes one app's lock for its bookkeeping only, never across an `.await`; the
//! clock, the fault configuration, the rate limiter and the request log each have their own
//! lock, held for a few instructions. On a two-core machine it answers several tens of
//! thousands of requests per second over loopback.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod apps;
mod books;
mod builder;
mod clock;
mod faults;
mod http;
mod inspect;
mod persistence;
mod rng;
mod running;
mod shared;
mod start;
mod vendors;

pub use apps::{
    DEMO_LINKV_ALIAS, DEMO_LINKV_APP_KEY, DEMO_LINKV_APP_SECRET, DEMO_POLYV_APP_ID,
    DEMO_POLYV_CHANNELS, DEMO_POLYV_SECRET, LinkvApp, PolyvApp,
};
pub use books::ledger::{AppliedChange, ChangeKind};
pub use builder::{
    DEFAULT_BODY_LIMIT, DEFAULT_IDEMPOTENCY_CAPACITY, DEFAULT_IDEMPOTENCY_WINDOW,
    DEFAULT_JOURNAL_CAPACITY, DEFAULT_LISTEN, DEFAULT_REQUEST_LOG_CAPACITY, Emulator,
    EmulatorBuilder,
};
pub use clock::{ClockStart, ClockStatus, EmulatorClock};
pub use faults::{FaultKind, FaultStats, FaultWeights, Faults, FaultsError, Vendor};
pub use http::connections::{
    ConnectionStats, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};
pub use http::request_log::RequestRecord;
pub use running::RunningEmulator;
pub use start::StartError;
pub use vendors::rate_limit::IpRateLimit;
