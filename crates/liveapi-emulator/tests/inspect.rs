//! The inspection API under `/_emulator/`.

mod common;

use common::*;
use liveapi_emulator::{ClockStart, DEMO_LINKV_APP_KEY, Emulator, FaultKind};
use serde_json::json;

async fn get(emu: &liveapi_emulator::RunningEmulator, path: &str) -> Reply {
    send(emu.addr(), "GET", path, &[], b"").await.reply()
}

async fn put(
    emu: &liveapi_emulator::RunningEmulator,
    method: &str,
    path: &str,
    body: &str,
) -> Reply {
    send(
        emu.addr(),
        method,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
    .reply()
}

#[tokio::test]
async fn index_health_and_unknown_routes() {
    let emu = start().await;
    let index = get(&emu, "/_emulator").await;
    assert_eq!(index.status, 200);
    assert!(index.json().as_array().unwrap().len() >= 10);
    assert_eq!(
        get(&emu, "/_emulator/health").await.json(),
        json!({"ok": true})
    );
    assert_eq!(get(&emu, "/_emulator/nothing").await.status, 404);
    assert_eq!(
        put(&emu, "DELETE", "/_emulator/state", "").await.status,
        405
    );
    assert_eq!(
        put(&emu, "POST", "/_emulator/save", "").await.json(),
        json!({"saved": false})
    );
}

#[tokio::test]
async fn connections_and_the_store_can_be_read() {
    let emu = start().await;
    let connections = get(&emu, "/_emulator/connections").await;
    assert_eq!(connections.status, 200);
    let stats = connections.json();
    assert_eq!(
        stats["max"].as_u64(),
        Some(emu.connection_stats().max as u64),
        "{stats}"
    );
    assert!(stats["accepted"].as_u64().unwrap() >= 1, "{stats}");
    // Without a state file there is no store to describe.
    let store = get(&emu, "/_emulator/store").await;
    assert_eq!((store.status, store.json()), (200, json!(null)));

    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .state_file(dir.path().join("state.json"))
        .start()
        .await
        .unwrap();
    // A clock change is answered once its record is durable.
    let changed = put(&emu, "POST", "/_emulator/clock/advance", r#"{"seconds":5}"#).await;
    assert_eq!(changed.status, 200);
    let store = get(&emu, "/_emulator/store").await.json();
    assert!(store["last_seq"].as_u64().unwrap() >= 1, "{store}");
    assert_eq!(store["durable_seq"], store["last_seq"], "{store}");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn state_requests_and_journal() {
    let emu = Emulator::builder()
        .request_log_capacity(3)
        .start()
        .await
        .unwrap();
    let uid = register(&emu, "inspected").await;
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(9), 12),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    for _ in 0..3 {
        balance(&emu, &uid).await;
    }
    let state = get(&emu, "/_emulator/state").await.json();
    let app = &state["linkv"][DEMO_LINKV_APP_KEY];
    assert_eq!(app["alias"], "demo");
    assert_eq!(app["users"][0]["openId"], uid.as_str());
    assert_eq!(app["users"][0]["userId"], "inspected");
    assert_eq!(app["users"][0]["balance"], 12);
    assert_eq!(app["idempotency"][0]["request_id"], request_id(9).as_str());
    assert_eq!(
        state["polyv"]["demo_polyv_app"]["channels"],
        json!([1_000_001, 1_000_002])
    );
    assert!(state["clock"]["now_ms"].as_u64().unwrap() > 0);
    assert!(!state.to_string().contains("demo_app_secret"));
    assert!(!state.to_string().contains("demo_polyv_secret"));

    // The log is a ring of the three most recent requests; inspection calls are not logged.
    let requests = get(&emu, "/_emulator/requests").await.json();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r["path"] == "/open/finanv0/getUserTokens")
    );
    assert_eq!(requests[2]["seq"], 5);
    assert_eq!(requests[2]["status"], 200);
    assert_eq!(requests[2]["vendor"], "linkv");
    assert_eq!(
        get(&emu, "/_emulator/requests?limit=1")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let journal = get(&emu, "/_emulator/journal").await.json();
    assert_eq!(journal[0]["request_id"], request_id(9).as_str());
    assert_eq!(journal[0]["value"], 12);
    assert_eq!(journal[0]["change"], "add");
    assert_eq!(journal[0]["endpoint"], "changeGold");
}

#[tokio::test]
async fn faults_can_be_read_set_reseeded_and_cleared() {
    let emu = start().await;
    let initial = get(&emu, "/_emulator/faults").await.json();
    assert_eq!(initial["faults"]["rate"], 0.0);
    assert_eq!(initial["seed"], 0);

    let body = r#"{"rate":1.0,"weights":{"http503":1},"paths":["/open/finanv0/getUserTokens"]}"#;
    let reply = put(&emu, "PUT", "/_emulator/faults?seed=99", body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    assert_eq!(reply.json()["seed"], 99);
    let faults = emu.faults();
    assert_eq!(faults.weights.get(FaultKind::Http503), 1);
    assert_eq!(faults.weights.total(), 1);

    let uid = register(&emu, "faulted").await;
    let reply = send_request(
        emu.addr(),
        &build(
            &emu,
            &liveapi_model::linkv::GetUserTokens::new(uid),
            &linkv_creds(&emu),
        ),
    )
    .await
    .reply();
    assert_eq!(reply.status, 503);
    let stats = get(&emu, "/_emulator/faults").await.json()["stats"].clone();
    assert_eq!(stats, json!({"eligible": 1, "injected": {"http503": 1}}));

    for bad in [r#"{"rate":2}"#, r#"{"rate":"x"}"#, r#"{"nope":1}"#, "{"] {
        assert_eq!(
            put(&emu, "PUT", "/_emulator/faults", bad).await.status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        put(&emu, "PUT", "/_emulator/faults?seed=x", "{}")
            .await
            .status,
        400
    );
    let cleared = put(&emu, "DELETE", "/_emulator/faults", "").await.json();
    assert_eq!(cleared["faults"]["rate"], 0.0);
    assert!(!emu.faults().is_active());
}

#[tokio::test]
async fn the_clock_can_be_read_frozen_set_advanced_and_offset() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(1_700_000_000)))
        .start()
        .await
        .unwrap();
    let clock = get(&emu, "/_emulator/clock").await.json();
    assert_eq!(clock["now_ms"], 1_700_000_000_000u64);
    assert_eq!(clock["frozen"], true);

    let moved = put(
        &emu,
        "POST",
        "/_emulator/clock/advance",
        r#"{"seconds":60,"ms":5}"#,
    )
    .await;
    assert_eq!(moved.json()["now_ms"], 1_700_000_060_005u64);
    let set = put(
        &emu,
        "PUT",
        "/_emulator/clock",
        r#"{"now_ms":1800000000000}"#,
    )
    .await;
    assert_eq!(set.json()["now_ms"], 1_800_000_000_000u64);
    assert_eq!(emu.clock().now(), at(1_800_000_000));

    let running = put(&emu, "PUT", "/_emulator/clock", r#"{"offset_ms":-3600000}"#)
        .await
        .json();
    assert_eq!(running["frozen"], false);
    assert_eq!(running["offset_ms"], -3_600_000);
    let frozen = put(
        &emu,
        "PUT",
        "/_emulator/clock",
        r#"{"frozen":true,"now_ms":1750000000000}"#,
    )
    .await
    .json();
    assert_eq!(
        (frozen["frozen"].clone(), frozen["now_ms"].clone()),
        (json!(true), json!(1_750_000_000_000u64))
    );
    let resumed = put(&emu, "PUT", "/_emulator/clock", r#"{"frozen":false}"#)
        .await
        .json();
    assert_eq!(resumed["frozen"], false);

    for bad in [r#"{"now_ms":-1}"#, r#"{"when":1}"#, "nope"] {
        assert_eq!(
            put(&emu, "PUT", "/_emulator/clock", bad).await.status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        put(&emu, "POST", "/_emulator/clock/advance", r#"{"days":1}"#)
            .await
            .status,
        400
    );
}
