//! Every state change of an entry is a `tracing` event (target `liveapi_outbox`). In a test
//! binary of its own: a subscriber set for one thread sees the events reliably only when no
//! other test registers the same call sites at the same time.

mod common;

use std::time::Duration;

use common::*;
use liveapi_emulator::{FaultKind, Faults};
use liveapi_outbox::{Outbox, SqliteStore};

#[test]
fn every_state_change_is_a_tracing_event() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // One thread: the dispatcher's tasks log through this thread's subscriber.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("events.outbox"))
            .await
            .unwrap();
        let outbox = Outbox::builder(store)
            .retry_backoff(Duration::from_secs(1), Duration::from_secs(1))
            .build();
        let emulator = emulator().await;
        let client = client(&emulator, 1);
        let uid = user(&client, "ada").await;
        outbox
            .enqueue(&credit(&client, &uid, "log-applied", 1))
            .await
            .unwrap();
        outbox
            .enqueue(&credit(&client, &uid, "log-applied", 1))
            .await
            .unwrap();
        outbox
            .enqueue(&debit(&client, &uid, "log-refused", 500))
            .await
            .unwrap();
        outbox.drain_once(&client).await.unwrap();
        emulator
            .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
            .unwrap();
        outbox
            .enqueue(&credit(&client, &uid, "log-retry", 1))
            .await
            .unwrap();
        outbox.drain_once(&client).await.unwrap();
    });
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for (id, event) in [
        ("log-applied", "coin change enqueued"),
        ("log-applied", "coin change already in the outbox"),
        ("log-applied", "coin change claimed"),
        ("log-applied", "coin change applied"),
        ("log-refused", "coin change refused"),
        ("log-retry", "coin change to be sent again"),
    ] {
        assert!(
            text.lines().any(|l| l.contains(event) && l.contains(id)),
            "no `{event}` for {id} in:\n{text}"
        );
    }
    assert!(
        text.contains("target") || text.contains("liveapi_outbox"),
        "{text}"
    );
}
