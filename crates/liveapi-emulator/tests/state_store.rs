//! The state store: what survives a crash (a process that stops without `shutdown`), a torn
//! last log record, damage, compaction and restarts.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use liveapi_emulator::{DEMO_LINKV_APP_KEY, Emulator, Faults, RunningEmulator, StartError};
use liveapi_model::polyv::{CashSettings, Cashes, Cents, ChannelId, Scope, UpdateCash};

const HEADER_LEN: usize = 12;

async fn start_at(path: &Path) -> RunningEmulator {
    Emulator::builder().state_file(path).start().await.unwrap()
}

/// Stops an emulator as a crash would: no final snapshot. Every answered change is synced
/// already; this waits for the writer to have written what the handle itself queued.
async fn crash(emu: RunningEmulator) {
    emu.sync_state().await.unwrap();
    // The writer thread has nothing left to write; it ends on its own.
    drop(emu);
}

/// The byte offsets of the log's records.
fn record_offsets(log: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = HEADER_LEN;
    while at < log.len() {
        offsets.push(at);
        let len = u32::from_le_bytes(log[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    offsets
}

fn log_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap().to_os_string();
    name.push(".log");
    path.with_file_name(name)
}

#[tokio::test]
async fn a_torn_last_record_is_dropped_wherever_it_was_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    let uid = register(&emu, "torn").await;
    let creds = linkv_creds(&emu);
    call(&emu, &credit_op(&emu, &uid, request_id(1), 10), &creds)
        .await
        .unwrap();
    call(&emu, &credit_op(&emu, &uid, request_id(2), 5), &creds)
        .await
        .unwrap();
    crash(emu).await;
    assert!(!path.exists(), "no snapshot yet: everything is in the log");

    let log = std::fs::read(log_of(&path)).unwrap();
    let offsets = record_offsets(&log);
    assert_eq!(offsets.len(), 3, "registration and two credits");
    let last = offsets[2];
    for cut in last..log.len() {
        let copy = tempfile::tempdir().unwrap();
        let copy_path = copy.path().join("state.json");
        std::fs::write(log_of(&copy_path), &log[..cut]).unwrap();
        let emu = start_at(&copy_path).await;
        assert_eq!(balance(&emu, &uid).await, 10, "cut at {cut}");
        let status = emu.state_status().unwrap();
        let warning = status["torn_tail_dropped"].as_str();
        if cut == last {
            assert_eq!(warning, None);
        } else {
            let warning = warning.unwrap_or_else(|| panic!("cut at {cut}: {status}"));
            assert!(
                warning.contains(&format!("byte offset {last}")),
                "{warning}"
            );
        }
        // The log was cut back to the last good record, and goes on from there.
        assert_eq!(
            std::fs::metadata(log_of(&copy_path)).unwrap().len(),
            last as u64
        );
        let creds = linkv_creds(&emu);
        call(&emu, &credit_op(&emu, &uid, request_id(3), 1), &creds)
            .await
            .unwrap();
        emu.shutdown().await.unwrap();
        let emu = start_at(&copy_path).await;
        assert_eq!(balance(&emu, &uid).await, 11, "cut at {cut}");
        assert_eq!(
            emu.state_status().unwrap()["torn_tail_dropped"],
            serde_json::Value::Null
        );
        emu.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn damage_before_the_last_record_refuses_to_start_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    let uid = register(&emu, "damaged").await;
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(1), 10),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    crash(emu).await;

    let mut log = std::fs::read(log_of(&path)).unwrap();
    let second = record_offsets(&log)[1];
    // A flipped bit in the first record, with a good record after it.
    log[HEADER_LEN + 20] ^= 0x04;
    std::fs::write(log_of(&path), &log).unwrap();
    let err = Emulator::builder()
        .state_file(&path)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::StateFile { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("state.json.log"), "{message}");
    assert!(
        message.contains(&format!("byte offset {HEADER_LEN}")),
        "{message}"
    );
    // Nothing was cut or rewritten.
    assert_eq!(std::fs::read(log_of(&path)).unwrap(), log);

    // An undecodable record (its checksum good) is damage too, even the last one.
    log.truncate(second);
    let payload = b"{\"seq\":2,\"record\":{\"kind\":\"unknown\"}}";
    log.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    log.extend_from_slice(&crc32(payload).to_le_bytes());
    log.extend_from_slice(payload);
    log[HEADER_LEN + 20] ^= 0x04;
    std::fs::write(log_of(&path), &log).unwrap();
    let err = Emulator::builder()
        .state_file(&path)
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!("byte offset {second}")),
        "{err}"
    );
}

/// CRC-32 as the log writes it, computed bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What a restart must bring back: the books, the journal, the settings.
fn durable_view(emu: &RunningEmulator) -> serde_json::Value {
    let state = emu.state_json();
    serde_json::json!({
        "linkv": state["linkv"],
        "polyv": state["polyv"],
        "faults": state["faults"],
        "seed": state["seed"],
        "offset_ms": state["clock"]["offset_ms"],
        "journal": serde_json::to_value(emu.journal()).unwrap(),
    })
}

#[tokio::test]
async fn snapshots_and_the_log_replay_to_the_state_that_was_live() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    // A tiny log limit: several compactions happen on the way.
    let emu = Emulator::builder()
        .state_file(&path)
        .state_compact_after(3_000)
        .start()
        .await
        .unwrap();
    emu.clock().set_offset_ms(-3_600_000);
    let creds = linkv_creds(&emu);
    let mut users = Vec::new();
    for u in 0..4 {
        users.push(register(&emu, &format!("user-{u}")).await);
    }
    for i in 0..40u64 {
        let uid = &users[(i % 4) as usize];
        let op = if i % 5 == 4 {
            spend_op(&emu, uid, request_id(i), 1)
        } else {
            credit_op(&emu, uid, request_id(i), 3 + i)
        };
        call(&emu, &op, &creds).await.unwrap();
        if i % 7 == 0 {
            // A repeat: answered from the idempotency store, counted on the journal entry.
            call(&emu, &op, &creds).await.unwrap();
        }
    }
    call(
        &emu,
        &order_op(&emu, &users[0], request_id(100), "ORD-1", 9),
        &creds,
    )
    .await
    .unwrap();
    let cash = CashSettings::new(
        Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
        "0.07".parse().unwrap(),
    );
    let channel = Scope::Channel(ChannelId::new(1_000_002).unwrap());
    call(&emu, &UpdateCash::new(channel, cash), &polyv_creds(&emu))
        .await
        .unwrap();
    emu.set_faults(Faults::new(0.25).only_path("/nowhere/"))
        .unwrap();
    emu.reseed(77);
    let status = emu.state_status().unwrap();
    assert!(status["snapshots"].as_u64().unwrap() >= 2, "{status}");
    let live = durable_view(&emu);
    crash(emu).await;

    let emu = start_at(&path).await;
    assert_eq!(durable_view(&emu), live);
    assert_eq!(
        emu.donate_settings("demo_polyv_app", Some(1_000_002))
            .unwrap()
            .cash_min,
        Some(Cents::new(7))
    );
    // A clean stop writes a last snapshot and an empty log; the state is the same again.
    emu.shutdown().await.unwrap();
    assert_eq!(
        std::fs::metadata(log_of(&path)).unwrap().len(),
        HEADER_LEN as u64
    );
    let emu = start_at(&path).await;
    assert_eq!(durable_view(&emu), live);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_clock_offset_and_the_faults_survive_a_crash_and_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    emu.clock().set_offset_ms(86_400_000);
    let faults = Faults::new(0.5).only_path("/live/");
    emu.set_faults(faults.clone()).unwrap();
    emu.reseed(42);
    crash(emu).await;

    let emu = start_at(&path).await;
    let offset = emu.clock().status().offset_ms;
    assert!((86_399_000..=86_401_000).contains(&offset), "{offset}");
    assert_eq!(emu.faults(), faults);
    assert_eq!(emu.state_json()["seed"], 42);
    emu.clock().freeze();
    let frozen_at = emu.clock().now_ms();
    emu.shutdown().await.unwrap();

    let emu = start_at(&path).await;
    assert!(emu.clock().status().frozen);
    assert_eq!(emu.clock().now_ms(), frozen_at);
    assert_eq!(emu.faults(), faults);
    emu.shutdown().await.unwrap();

    // Never changed at run time: the start configuration rules.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    emu.shutdown().await.unwrap();
    let emu = Emulator::builder()
        .state_file(&path)
        .faults(faults.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(emu.faults(), faults);
    assert!(emu.clock().status().offset_ms.abs() < 1_000);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_resend_after_a_restart_is_answered_not_applied_and_the_journal_shows_one_application() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    let uid = register(&emu, "resend").await;
    let op = credit_op(&emu, &uid, request_id(5), 25);
    call(&emu, &op, &linkv_creds(&emu)).await.unwrap();
    crash(emu).await;

    for restart in 1..=2u64 {
        let emu = start_at(&path).await;
        call(&emu, &op, &linkv_creds(&emu)).await.unwrap();
        assert_eq!(balance(&emu, &uid).await, 25);
        let journal = emu.journal();
        assert_eq!(journal.len(), 1, "{journal:?}");
        assert_eq!(journal[0].request_id, request_id(5).as_str());
        assert_eq!(journal[0].repeats, restart);
        assert_eq!(emu.applied_total(), 1);
        crash(emu).await;
    }
}

#[tokio::test]
async fn a_state_file_of_the_first_format_is_read_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let v1 = serde_json::json!({
        "version": 1,
        "linkv": {
            DEMO_LINKV_APP_KEY: {
                "users": [{
                    "openId": "1234567890123456789",
                    "userId": "old-user",
                    "name": "Ann",
                    "lots": [{"expires_at": 4_000_000_000u64, "coins": 17}],
                }],
                "idempotency": [{
                    "request_id": "old-request",
                    "fingerprint": "x",
                    "balance_after": 17,
                    "at_ms": 1,
                }],
                "applied_total": 1,
            }
        },
        "polyv": {}
    });
    std::fs::write(&path, serde_json::to_vec(&v1).unwrap()).unwrap();
    let emu = start_at(&path).await;
    assert_eq!(
        emu.balance(DEMO_LINKV_APP_KEY, "1234567890123456789"),
        Some(17)
    );
    emu.save_state().await.unwrap();
    emu.shutdown().await.unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["version"], 2);
    let emu = start_at(&path).await;
    assert_eq!(
        emu.balance(DEMO_LINKV_APP_KEY, "1234567890123456789"),
        Some(17)
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_crash_between_the_snapshot_and_the_new_log_replays_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    let uid = register(&emu, "between").await;
    let creds = linkv_creds(&emu);
    for i in 0..5 {
        call(&emu, &credit_op(&emu, &uid, request_id(i), 2), &creds)
            .await
            .unwrap();
    }
    crash(emu).await;
    let old_log = std::fs::read(log_of(&path)).unwrap();

    // A clean stop writes the snapshot and empties the log; putting the old log back is the
    // state a crash between the two steps leaves.
    let emu = start_at(&path).await;
    emu.shutdown().await.unwrap();
    std::fs::write(log_of(&path), &old_log).unwrap();
    let emu = start_at(&path).await;
    assert_eq!(balance(&emu, &uid).await, 10);
    assert_eq!(emu.journal().len(), 5);
    assert_eq!(emu.applied_total(), 5);
    // New records continue after the old ones.
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(9), 1),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    crash(emu).await;
    let emu = start_at(&path).await;
    assert_eq!(balance(&emu, &uid).await, 11);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_clean_stop_leaves_a_snapshot_even_when_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start_at(&path).await;
    assert!(!path.exists());
    emu.shutdown().await.unwrap();
    // A first run that changed nothing still leaves its snapshot, so the next start reads a
    // state file instead of starting from nothing by accident.
    let snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(snapshot["version"], 2);
}
