//! The inspection API under `/_emulator/`: state, request log, journal, faults, clock,
//! connections, the rate limit's bans, a reset of the books, and the dashboard's page and
//! views (`dashboard`).
//!
//! It is for tests and people, never subject to faults or rate limits, and has no
//! authentication: keep the emulator on a loopback address.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::body::{BodyFailure, CHUNK_OVER_LIMIT, read_body};
use crate::http::connections::Connections;
use crate::http::reply::Reply;
use crate::shared::Shared;
use crate::{Faults, dashboard};

/// How many request records `GET /_emulator/requests` returns without `?limit=`.
const DEFAULT_REQUESTS: usize = 100;

const INDEX: &[(&str, &str)] = &[
    ("GET /_emulator/health", "liveness"),
    (
        "GET /_emulator/state",
        "everything: apps' books, clock, faults",
    ),
    (
        "GET /_emulator/requests?limit=N",
        "the most recent requests",
    ),
    ("GET /_emulator/journal", "applied coin changes"),
    (
        "GET /_emulator/connections",
        "open connections, peak, accepted, refused over the cap, closed by each timeout",
    ),
    (
        "GET /_emulator/rate-limit",
        "Polyv's rate limit: requests per window and bans, per client IP",
    ),
    (
        "GET /_emulator/faults",
        "fault configuration, seed and counters",
    ),
    (
        "PUT /_emulator/faults?seed=N",
        "replace the fault configuration (JSON body); seed restarts the sequence",
    ),
    ("DELETE /_emulator/faults", "stop injecting faults"),
    ("GET /_emulator/clock", "the emulator's time"),
    (
        "PUT /_emulator/clock",
        r#"{"now_ms":…,"offset_ms":…,"frozen":true|false}"#,
    ),
    (
        "POST /_emulator/clock/advance",
        r#"{"seconds":…} or {"ms":…}"#,
    ),
    (
        "GET /_emulator/store",
        "the state store: paths, log size, records since the snapshot, syncs, warnings",
    ),
    (
        "POST /_emulator/save",
        "sync the log and write a snapshot of the state now",
    ),
    (
        "DELETE /_emulator/rate-limit/bans?ip=IP",
        "lift Polyv's rate-limit ban of IP (of every IP without ip) and restart its window",
    ),
    (
        "POST /_emulator/reset",
        "empty the books: LinkV users, coins, orders, idempotency records, journal; Polyv settings",
    ),
];

/// Every route: the inspection API's, then the dashboard's.
fn routes() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    INDEX.iter().chain(dashboard::ROUTES)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockUpdate {
    now_ms: Option<u64>,
    offset_ms: Option<i64>,
    frozen: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: u64,
    #[serde(default)]
    ms: u64,
}

fn ok(value: Value) -> Reply {
    Reply::plain(StatusCode::OK, &value)
}

fn bad(message: &str) -> Reply {
    Reply::plain_error(StatusCode::BAD_REQUEST, message)
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Reply> {
    let body = if body.trim_ascii().is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| bad(&format!("invalid JSON body: {e}")))
}

fn faults_view(shared: &Shared) -> Value {
    json!({
        "faults": *shared.faults.config(),
        "seed": shared.faults.seed(),
        "stats": shared.faults.stats(),
    })
}

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    conns: &Connections,
    request: Request<Incoming>,
) -> Reply {
    let (parts, body) = match read_body(request, shared.limits.body_limit, conns).await {
        Ok(read) => read,
        Err(BodyFailure::TooLarge) => {
            return Reply::plain_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
                .closing();
        }
        Err(BodyFailure::TimedOut) => {
            return Reply::plain_error(StatusCode::REQUEST_TIMEOUT, "request timeout").closing();
        }
        Err(BodyFailure::Malformed) => return bad("malformed request body").closing(),
        Err(BodyFailure::ChunkOverLimit) => return bad(CHUNK_OVER_LIMIT).closing(),
        Err(BodyFailure::Aborted) => return bad("request body could not be read"),
    };
    let path = parts.uri.path().trim_end_matches('/');
    let query = parts.uri.query();
    let dashboard = match parts.method {
        Method::GET => dashboard::get(shared, conns, path, query),
        _ => None,
    };
    let result = match (dashboard, &parts.method, path) {
        (Some(reply), _, _) => Ok(reply),
        (None, &Method::GET, "/_emulator") if dashboard::wants_page(&parts.headers) => {
            Ok(dashboard::page())
        }
        (None, &Method::GET, "/_emulator") => Ok(ok(json!(
            routes()
                .map(|(route, what)| json!({"route": route, "what": what}))
                .collect::<Vec<_>>()
        ))),
        (None, &Method::GET, "/_emulator/health") => Ok(ok(json!({"ok": true}))),
        (None, &Method::GET, "/_emulator/state") => Ok(ok(shared.dump())),
        (None, &Method::GET, "/_emulator/requests") => {
            let limit = query_param(query, "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(DEFAULT_REQUESTS);
            Ok(ok(json!(shared.log.recent(limit))))
        }
        (None, &Method::GET, "/_emulator/journal") => Ok(ok(json!(shared.journal()))),
        (None, &Method::GET, "/_emulator/connections") => Ok(ok(json!(conns.stats()))),
        (None, &Method::GET, "/_emulator/rate-limit") => Ok(ok(shared.limiter.status())),
        (None, &Method::DELETE, "/_emulator/rate-limit/bans") => lift_bans(shared, query),
        (None, &Method::POST, "/_emulator/reset") => {
            shared.reset();
            Ok(ok(json!({"reset": true})))
        }
        (None, &Method::GET, "/_emulator/faults") => Ok(ok(faults_view(shared))),
        (None, &Method::PUT | &Method::POST, "/_emulator/faults") => {
            set_faults(shared, query, &body)
        }
        (None, &Method::DELETE, "/_emulator/faults") => {
            let _ = shared.set_faults(Faults::none());
            Ok(ok(faults_view(shared)))
        }
        (None, &Method::GET, "/_emulator/clock") => Ok(ok(json!(shared.clock.status()))),
        (None, &Method::PUT | &Method::POST, "/_emulator/clock") => set_clock(shared, &body),
        (None, &Method::POST, "/_emulator/clock/advance") => parse::<Advance>(&body).map(|a| {
            shared.clock.advance(
                Duration::from_secs(a.seconds).saturating_add(Duration::from_millis(a.ms)),
            );
            ok(json!(shared.clock.status()))
        }),
        (None, &Method::GET, "/_emulator/store") => Ok(ok(json!(
            shared.store.as_ref().map(|store| store.describe())
        ))),
        (None, &Method::POST, "/_emulator/save") => {
            let saved = match &shared.store {
                Some(store) => store.compact().await.map(|()| true),
                None => Ok(false),
            };
            Ok(match saved {
                Ok(saved) => ok(json!({"saved": saved})),
                Err(e) => Reply::plain_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("cannot write the state file: {e}"),
                ),
            })
        }
        (None, _, route) if routes().any(|(r, _)| r.split([' ', '?']).nth(1) == Some(route)) => {
            Err(Reply::plain_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ))
        }
        _ => Err(Reply::plain_error(StatusCode::NOT_FOUND, "not found")),
    };
    let reply = result.unwrap_or_else(|reply| reply);
    if parts.method == Method::GET {
        // Reads answer at once, so that the store's status shows even when it has failed.
        return reply;
    }
    // A clock or fault change is answered once it is durable, as a vendor call is.
    match shared.settle().await {
        Ok(()) => reply,
        Err(e) => Reply::plain_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the state store cannot write: {e}"),
        ),
    }
}

fn set_faults(shared: &Shared, query: Option<&str>, body: &[u8]) -> Result<Reply, Reply> {
    let faults: Faults = parse(body)?;
    let seed = match query_param(query, "seed") {
        Some(seed) => Some(
            seed.parse::<u64>()
                .map_err(|_| bad("seed must be a whole number"))?,
        ),
        None => None,
    };
    shared.set_faults(faults).map_err(|e| bad(&e.to_string()))?;
    if let Some(seed) = seed {
        shared.reseed(seed);
    }
    Ok(ok(faults_view(shared)))
}

fn lift_bans(shared: &Shared, query: Option<&str>) -> Result<Reply, Reply> {
    let ip = match query_param(query, "ip") {
        Some(ip) => Some(
            ip.trim()
                .parse::<IpAddr>()
                .map_err(|_| bad("ip must be an IP address"))?,
        ),
        None => None,
    };
    let lifted = shared.limiter.lift(ip);
    Ok(ok(json!({"lifted": lifted})))
}

fn set_clock(shared: &Shared, body: &[u8]) -> Result<Reply, Reply> {
    let update: ClockUpdate = parse(body)?;
    let clock = &shared.clock;
    if let Some(offset) = update.offset_ms {
        clock.set_offset_ms(offset);
    }
    if update.frozen == Some(true) {
        clock.freeze();
    }
    if let Some(now_ms) = update.now_ms {
        clock.set(std::time::UNIX_EPOCH + Duration::from_millis(now_ms));
    }
    if update.frozen == Some(false) {
        clock.resume();
    }
    Ok(ok(json!(clock.status())))
}
