//! Hostile input never gets a 5xx or kills a connection: random forms, queries, JSON bodies
//! and request heads, unsigned and correctly signed.

mod common;

use std::time::SystemTime;

use common::*;
use liveapi_emulator::{Emulator, RunningEmulator};
use proptest::prelude::*;
use tokio::runtime::Runtime;

const PATHS: &[&str] = &[
    "/open/v0/thGetToken",
    "/open/finanv0/orderSuccess",
    "/open/finanv0/changeGold",
    "/open/finanv0/getUserTokens",
    "/live/v3/channel/donate/update-cash",
    "/live/v3/channel/donate/update-good",
    "/live/v3/channel/donate/get",
    "/open/",
    "/live/v3/",
    "/_emulator/faults",
    "/_emulator/clock",
    "/_emulator/clock/advance",
];

const KEYS: &[&str] = &[
    "app_id",
    "nonce_str",
    "sign",
    "uid",
    "userId",
    "name",
    "portraitUri",
    "request_id",
    "type",
    "value",
    "order_id",
    "expriation",
    "money",
    "channel",
    "platform",
    "reason",
    "sex",
    "birthday",
    "email",
    "countryCode",
    "aid",
    "appId",
    "timestamp",
    "channelId",
    "signatureMethod",
    "sign_type",
];

fn setup() -> (Runtime, RunningEmulator) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(
            Emulator::builder()
                .rate_limit(None)
                .body_limit(16 * 1024)
                .start(),
        )
        .unwrap();
    (rt, emu)
}

/// 48 cases in the suite; `PROPTEST_CASES=N` runs more (a longer fuzzing session).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Values that tend to break parsers: digits, huge numbers, signs, unicode, percent signs.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,25}",
        "-?[0-9]{1,3}(\\.[0-9]{0,4})?",
        ".{0,40}",
        "[A-Za-z0-9+=_-]{0,70}",
        Just("null".to_owned()),
        Just("%ZZ%".to_owned()),
        Just("1\u{0}2".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("9223372036854775808".to_owned()),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), ".{0,8}"],
            value(),
        ),
        0..12,
    )
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|n| serde_json::json!(n)),
        value().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(
                        &[
                            "cashes",
                            "cashMin",
                            "enabled",
                            "goods",
                            "goodName",
                            "goodImg",
                            "goodPrice",
                            "goodEnabled",
                            "channelId",
                            "rate",
                            "weights",
                            "now_ms",
                            "offset_ms",
                            "frozen",
                            "seconds",
                            "ms",
                        ][..]
                    )
                    .prop_map(str::to_owned),
                    ".{0,6}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        pairs().prop_map(|p| encode(&p).into_bytes()),
        json().prop_map(|j| j.to_string().into_bytes()),
        // Valid-looking JSON cut short.
        json().prop_map(|j| {
            let text = j.to_string();
            text.as_bytes()[..text.len() / 2].to_vec()
        }),
    ]
}

fn assert_client_error(outcome: Outcome, what: &str) -> Result<(), TestCaseError> {
    match outcome {
        Outcome::Reply(reply) => {
            prop_assert!(
                reply.status < 500,
                "{what}: HTTP {} {:?}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
            Ok(())
        }
        other => Err(TestCaseError::fail(format!("{what}: {other:?}"))),
    }
}

#[test]
fn random_requests_get_client_errors() {
    let (rt, emu) = setup();
    proptest!(config(), |(
        method in prop::sample::select(&["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"][..]),
        path in prop_oneof![prop::sample::select(PATHS).prop_map(str::to_owned), "/(open|live|_emulator)/[a-zA-Z0-9/%._-]{0,30}"],
        query in pairs(),
        body in body(),
        content_type in prop::sample::select(&["application/x-www-form-urlencoded", "application/json", "text/plain", "garbage"][..]),
    )| {
        // The inspection API may legitimately change faults; these tests are about vendors.
        let path = if path.starts_with("/_emulator") && method != "GET" { "/open/v0/thGetToken".to_owned() } else { path };
        let target = format!("{path}?{}", encode(&query));
        let outcome = rt.block_on(send(emu.addr(), method, &target, &[("Content-Type", content_type)], &body));
        assert_client_error(outcome, &format!("{method} {target}"))?;
    });
    rt.block_on(emu.shutdown()).unwrap();
}

#[test]
fn signed_linkv_requests_with_hostile_parameters_get_client_errors() {
    let (rt, emu) = setup();
    let app = emu.linkv_app().clone();
    proptest!(config(), |(
        path in prop::sample::select(&PATHS[..4]),
        params in pairs(),
    )| {
        // Duplicates and the reserved names are another test's business: keep them unique.
        let mut seen = std::collections::HashSet::new();
        let params: Vec<(String, String)> = params
            .into_iter()
            .filter(|(k, v)| !v.is_empty() && !["app_id", "nonce_str", "sign"].contains(&k.as_str()) && seen.insert(k.clone()))
            .collect();
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let form = signed_linkv_form(&borrowed, &app.app_key, &app.app_secret, SystemTime::now());
        let outcome = rt.block_on(send(emu.addr(), "POST", path, &[], form.as_bytes()));
        assert_client_error(outcome, &form)?;
    });
}

#[test]
fn signed_polyv_requests_with_hostile_bodies_get_client_errors() {
    let (rt, emu) = setup();
    let app = emu.polyv_app().clone();
    proptest!(config(), |(
        path in prop::sample::select(&PATHS[4..7]),
        channel in prop_oneof![Just(None), Just(Some("1000001".to_owned())), value().prop_map(Some)],
        body in body(),
    )| {
        let extra: Vec<(&str, &str)> = channel.iter().map(|c| ("channelId", c.as_str())).collect();
        let query = signed_polyv_query(&extra, &app.app_id, &app.secret, SystemTime::now());
        let method = if path.ends_with("/get") { "GET" } else { "POST" };
        let outcome = rt.block_on(send(emu.addr(), method, &format!("{path}?{query}"), &[], &body));
        assert_client_error(outcome, &format!("{path}?{query} {}", String::from_utf8_lossy(&body)))?;
    });
}

#[test]
fn garbage_request_heads_never_get_a_server_error() {
    let (rt, emu) = setup();
    proptest!(config(), |(head in prop::collection::vec(any::<u8>(), 1..200))| {
        let mut head = head;
        head.extend_from_slice(b"\r\n\r\n");
        let text = String::from_utf8_lossy(&head).into_owned();
        // Anything the HTTP parser refuses gets a 400 or a closed connection; never a 5xx.
        if let Outcome::Reply(reply) = rt.block_on(send_raw(emu.addr(), &text, b"")) {
            prop_assert!(reply.status < 500, "{:?}: {}", text, reply.status);
        }
    });
    // The server still works afterwards.
    let health = rt
        .block_on(send(emu.addr(), "GET", "/_emulator/health", &[], b""))
        .reply();
    assert_eq!(health.status, 200);
}
