//! Starting, configuring, persisting and stopping emulators; limits on what a request may be.

mod common;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use liveapi_emulator::{DEMO_LINKV_APP_KEY, Emulator, Faults, LinkvApp, PolyvApp, StartError};
use liveapi_model::polyv::{CashSettings, Cashes, Cents, ChannelId, Scope, UpdateCash};
use liveapi_request::LinkvCredentials;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "liveapi-emulator-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn join(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_state_file_survives_a_restart() {
    let dir = TempDir::new("restart");
    let path = dir.join("state.json");
    let emu = Emulator::builder().state_file(&path).start().await.unwrap();
    let uid = register(&emu, "durable").await;
    let order = order_op(&emu, &uid, request_id(1), "ORD-D", 40);
    call(&emu, &order, &linkv_creds(&emu)).await.unwrap();
    let cash = CashSettings::new(
        Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
        "0.07".parse().unwrap(),
    );
    let channel = Scope::Channel(ChannelId::new(1_000_002).unwrap());
    call(&emu, &UpdateCash::new(channel, cash), &polyv_creds(&emu))
        .await
        .unwrap();
    emu.shutdown().await.unwrap();
    assert!(path.exists());
    assert!(!dir.join("state.json.tmp").exists());

    let emu = Emulator::builder().state_file(&path).start().await.unwrap();
    assert_eq!(balance(&emu, &uid).await, 40);
    assert_eq!(
        emu.open_id(DEMO_LINKV_APP_KEY, "durable").as_deref(),
        Some(uid.as_str())
    );
    // The idempotency store and completed orders came back too.
    assert_eq!(
        call(&emu, &order, &linkv_creds(&emu)).await.unwrap().get(),
        40
    );
    let again = order_op(&emu, &uid, request_id(2), "ORD-D", 40);
    assert!(call(&emu, &again, &linkv_creds(&emu)).await.is_err());
    assert_eq!(emu.journal().len(), 1);
    let settings = emu
        .donate_settings("demo_polyv_app", Some(1_000_002))
        .unwrap();
    assert_eq!(settings.cash_min, Some(Cents::new(7)));

    // New journal entries continue the sequence.
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(3), 1),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    let seqs: Vec<u64> = emu.journal().iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2]);
    emu.save_state().await.unwrap();
    drop(emu);
}

#[tokio::test]
async fn books_of_apps_left_out_are_kept() {
    let dir = TempDir::new("orphans");
    let path = dir.join("state.json");
    let extra = LinkvApp::new("extra_key", "extra_secret", "extra");
    let emu = Emulator::builder()
        .linkv_app(extra.clone())
        .state_file(&path)
        .start()
        .await
        .unwrap();
    let creds = LinkvCredentials::builder()
        .app_id("extra_key")
        .secret("extra_secret")
        .alias("extra")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let user = call(&emu, &register_op("kept"), &creds).await.unwrap();
    emu.shutdown().await.unwrap();

    // Started without the extra app, then with it again.
    let emu = Emulator::builder().state_file(&path).start().await.unwrap();
    assert!(emu.balance("extra_key", user.open_id.as_str()).is_none());
    emu.shutdown().await.unwrap();
    let emu = Emulator::builder()
        .linkv_app(extra)
        .state_file(&path)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.balance("extra_key", user.open_id.as_str()), Some(0));
}

#[tokio::test]
async fn an_unreadable_state_file_stops_the_start() {
    let dir = TempDir::new("corrupt");
    let path = dir.join("state.json");
    std::fs::write(&path, b"{ not a state file").unwrap();
    let err = Emulator::builder()
        .state_file(&path)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::StateFile { .. }), "{err}");
    std::fs::write(
        &path,
        br#"{"version":1,"linkv":{"LM6000100000000000000042":{"users":7}}}"#,
    )
    .unwrap();
    let err = Emulator::builder()
        .state_file(&path)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::StateFile { .. }), "{err}");
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let cases = [
        Emulator::builder().without_demo_apps(),
        Emulator::builder()
            .linkv_app(LinkvApp::new("a", "s", "x"))
            .linkv_app(LinkvApp::new("a", "t", "y")),
        Emulator::builder().polyv_app(PolyvApp::new("p", "s", [0])),
        Emulator::builder().linkv_app(LinkvApp::new("", "s", "x")),
        Emulator::builder().faults(Faults::new(7.0)),
    ];
    for builder in cases {
        let err = builder.start().await.unwrap_err();
        assert!(matches!(err, StartError::Config(_)), "{err}");
    }
    let taken = start().await;
    let err = Emulator::builder()
        .listen(taken.addr())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Bind { .. }), "{err}");
}

#[tokio::test]
async fn custom_apps_replace_or_join_the_demo_apps() {
    let emu = Emulator::builder()
        .without_demo_apps()
        .linkv_app(LinkvApp::new("mine", "my_secret", "mine_alias"))
        .polyv_app(PolyvApp::new("my_polyv", "polyv_secret", [7]))
        .start()
        .await
        .unwrap();
    assert_eq!(emu.linkv_app().app_key, "mine");
    assert_eq!(emu.polyv_app().channels, [7]);
    register(&emu, "someone").await;
    let demo = LinkvCredentials::builder()
        .app_id(DEMO_LINKV_APP_KEY)
        .secret("demo_app_secret")
        .alias("demo")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    assert!(call(&emu, &register_op("x"), &demo).await.is_err());
    assert!(emu.donate_settings("my_polyv", Some(7)).is_some());
    assert!(emu.donate_settings("my_polyv", Some(8)).is_none());
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let builder = Emulator::builder()
        .linkv_app(LinkvApp::new("k", "linkv-very-secret", "a"))
        .polyv_app(PolyvApp::new("p", "polyv-very-secret", [1]));
    let emu = builder.clone().start().await.unwrap();
    for text in [
        format!("{builder:?}"),
        format!("{emu:?}"),
        format!("{:?}", emu.linkv_apps()),
        format!("{:?}", emu.polyv_apps()),
    ] {
        for secret in [
            "linkv-very-secret",
            "polyv-very-secret",
            "demo_app_secret",
            "demo_polyv_secret",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_vendor_envelope() {
    let emu = Emulator::builder().body_limit(1_024).start().await.unwrap();
    let big = vec![b'a'; 4_096];
    let reply = send(emu.addr(), "POST", "/open/finanv0/getUserTokens", &[], &big)
        .await
        .reply();
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["status"], "413");
    assert_eq!(reply.message(), "request entity too large");
    let reply = send(
        emu.addr(),
        "POST",
        "/live/v3/channel/donate/update-cash",
        &[],
        &big,
    )
    .await
    .reply();
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["code"], 413);

    // Chunked, with no length announced: chunks within the limit that add up to more.
    let head = "POST /open/v0/thGetToken HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut body = Vec::new();
    for chunk in big.chunks(1_000) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(send_raw(emu.addr(), head, &body).await.reply().status, 413);
    // One chunk larger than the limit is refused on its size line, as a malformed body
    // (tests/connections.rs).
    let head = format!("{head}{:x}\r\n", big.len());
    let mut body = big.clone();
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(send_raw(emu.addr(), &head, &body).await.reply().status, 400);

    // A client waiting for 100 Continue is refused before it sends anything.
    let head = "POST /open/v0/thGetToken HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n";
    assert_eq!(send_raw(emu.addr(), head, b"").await.reply().status, 413);

    // Exactly at the limit is fine (and then just a bad request, in an HTTP 200 answer as
    // the real server gives it).
    let reply = send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[],
        &big[..1_024],
    )
    .await
    .reply();
    assert_eq!(
        (reply.status, reply.json()["status"].as_str()),
        (200, Some("400"))
    );
}

#[tokio::test]
async fn shutdown_is_graceful_and_final() {
    let emu = start().await;
    let addr = emu.addr();
    // An idle keep-alive connection does not hold shutdown up.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let uid = register(&emu, "last").await;
    emu.shutdown().await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
    drop(uid);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let emu = start().await;
    let addr = emu.addr();
    drop(emu);
    // The accept loop stops on its next turn; connecting eventually fails. The listener is
    // dropped by the server task, so wait for that task by trying until refused.
    let mut refused = false;
    for _ in 0..1_000 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused);
}

#[test]
fn handles_and_futures_can_move_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<liveapi_emulator::RunningEmulator>();
    send_sync::<liveapi_emulator::EmulatorBuilder>();
    send_sync::<liveapi_emulator::EmulatorClock>();
    send_sync::<StartError>();
    let start = Emulator::builder().start();
    send(&start);
}
