//! What the dashboard's page reads: one JSON view per part of the page, each built from the
//! emulator's own state by the code the JSON routes and the handlers use, and bounded, so that
//! a page polling every second costs the emulator little whatever its books hold.
//!
//! No view holds a secret: apps are listed by their keys and ids, and a refused signature's
//! explanation is masked where it is made (`vendors::signature_refusal`).

use std::cmp::Reverse;

use serde_json::{Value, json};

use crate::books::ledger::UserPage;
use crate::http::connections::Connections;
use crate::http::reply::clip;
use crate::shared::{Shared, lock};
use crate::{DEMO_LINKV_APP_KEY, DEMO_POLYV_APP_ID};

/// How many rows a list view gives without `?limit=`, and at most.
const DEFAULT_ROWS: usize = 100;
const MAX_ROWS: usize = 1_000;
/// How much of an answer's body the requests view shows.
const MAX_ANSWER: usize = 2_048;

/// A view's query parameters.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// A parameter's value, trimmed; empty when absent.
    fn text(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.trim())
    }

    fn limit(&self) -> usize {
        self.text("limit")
            .parse()
            .map_or(DEFAULT_ROWS, |l: usize| l.min(MAX_ROWS))
    }
}

/// The apps, sorted by key (the maps behind them have no order).
fn linkv_keys(shared: &Shared) -> Vec<&String> {
    let mut keys: Vec<&String> = shared.linkv.keys().collect();
    keys.sort();
    keys
}

/// Everything at a glance: the apps, the clock, the faults, connections, the state store,
/// and counts of users, changes, requests and bans.
pub(crate) fn overview(shared: &Shared, conns: &Connections) -> Value {
    let linkv: Vec<Value> = linkv_keys(shared)
        .into_iter()
        .filter_map(|key| shared.linkv.get(key))
        .map(|entry| {
            let ledger = lock(&entry.ledger);
            json!({
                "app_key": entry.app.app_key,
                "alias": entry.app.alias,
                "demo": entry.app.app_key == DEMO_LINKV_APP_KEY,
                "users": ledger.user_count(),
                "applied_total": ledger.applied_total(),
            })
        })
        .collect();
    let mut polyv: Vec<Value> = shared
        .polyv
        .values()
        .map(|entry| {
            json!({
                "app_id": entry.app.app_id,
                "channels": entry.app.channels,
                "demo": entry.app.app_id == DEMO_POLYV_APP_ID,
            })
        })
        .collect();
    polyv.sort_by(|a, b| a["app_id"].as_str().cmp(&b["app_id"].as_str()));
    let rate_limit = shared.limiter.status();
    let banned = rate_limit["clients"].as_array().map_or(0, |clients| {
        clients.iter().filter(|c| c["banned"] == true).count()
    });
    json!({
        "apps": {"linkv": linkv, "polyv": polyv},
        "clock": shared.clock.status(),
        "faults": {
            "faults": *shared.faults.config(),
            "active": shared.faults.config().is_active(),
            "seed": shared.faults.seed(),
            "stats": shared.faults.stats(),
        },
        "connections": conns.stats(),
        "store": shared.store.as_ref().map(|store| store.describe()),
        "requests": shared.log.last_seq(),
        "rate_limit": {"limit": rate_limit["limit"], "banned": banned},
    })
}

/// LinkV users of every app whose ids contain `?q=` (or with a change of that request or
/// order id), the first `?limit=` of each app by user id.
pub(crate) fn users(shared: &Shared, query: &Query) -> Value {
    let now_secs = shared.clock.now_ms() / 1_000;
    let (q, limit) = (query.text("q"), query.limit());
    let apps: Vec<Value> = linkv_keys(shared)
        .into_iter()
        .filter_map(|key| shared.linkv.get(key))
        .map(|entry| {
            let page: UserPage = lock(&entry.ledger).users_page(q, limit, now_secs);
            json!({
                "app_key": entry.app.app_key,
                "alias": entry.app.alias,
                "total": page.total,
                "matching": page.matching,
                "users": page.users,
            })
        })
        .collect();
    json!({"now_ms": shared.clock.now_ms(), "apps": apps})
}

/// The applied coin changes of every app, newest first, whose user (open id or user id) and
/// request id contain `?user=` and `?request_id=`: the first `?limit=`.
pub(crate) fn journal(shared: &Shared, query: &Query) -> Value {
    let (user, request_id, limit) = (query.text("user"), query.text("request_id"), query.limit());
    let mut rows: Vec<(u64, Value)> = Vec::new();
    let mut total = 0u64;
    for entry in shared.linkv.values() {
        let ledger = lock(&entry.ledger);
        total += ledger.applied_total();
        let newest = ledger
            .journal()
            .rev()
            .filter(|c| request_id.is_empty() || c.request_id.contains(request_id))
            .filter_map(|c| {
                let user_id = ledger.user_id_of(&c.uid).unwrap_or_default();
                (user.is_empty() || c.uid.contains(user) || user_id.contains(user))
                    .then_some((c, user_id))
            })
            .take(limit)
            .map(|(c, user_id)| {
                let mut row = serde_json::to_value(c).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut row {
                    map.insert("user_id".to_owned(), Value::String(user_id.to_owned()));
                    map.insert("alias".to_owned(), Value::String(entry.app.alias.clone()));
                }
                (c.seq, row)
            });
        rows.extend(newest);
    }
    rows.sort_unstable_by_key(|(seq, _)| Reverse(*seq));
    rows.truncate(limit);
    json!({
        "applied_total": total,
        "changes": rows.into_iter().map(|(_, row)| row).collect::<Vec<_>>(),
    })
}

/// The most recent requests, newest first, with the start of their answers and, for a
/// refused signature, what was expected; only refused signatures with `?refused=1`.
pub(crate) fn requests(shared: &Shared, query: &Query) -> Value {
    let refused_only = matches!(query.text("refused"), "1" | "true");
    let rows: Vec<Value> = shared
        .log
        .newest_answered(query.limit(), |r| !refused_only || r.signature.is_some())
        .into_iter()
        .map(|(record, answer)| {
            let mut row = serde_json::to_value(&record).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut row {
                let text = String::from_utf8_lossy(&answer);
                map.insert(
                    "answer".to_owned(),
                    Value::String(clip(&text, MAX_ANSWER).to_owned()),
                );
            }
            row
        })
        .collect();
    json!({"last_seq": shared.log.last_seq(), "requests": rows})
}

/// Each Polyv account's donate settings: the account's own, and each channel's with where
/// each part comes from (the channel, the account, the defaults); and the rate limit.
pub(crate) fn polyv(shared: &Shared) -> Value {
    let mut ids: Vec<&String> = shared.polyv.keys().collect();
    ids.sort();
    let accounts: Vec<Value> = ids
        .into_iter()
        .filter_map(|id| shared.polyv.get(id))
        .map(|entry| {
            let donate = lock(&entry.donate);
            let scope = |channel: Option<u64>| {
                let (cash, goods) = donate.origins(channel);
                json!({
                    "channel": channel,
                    "cash_from": cash,
                    "goods_from": goods,
                    "settings": donate.view(channel),
                })
            };
            json!({
                "app_id": entry.app.app_id,
                "demo": entry.app.app_id == DEMO_POLYV_APP_ID,
                "account": scope(None),
                "channels": donate.channels().map(|c| scope(Some(c))).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"accounts": accounts, "rate_limit": shared.limiter.status()})
}
