//! What the outbox records through the `metrics` facade (`docs/metrics.md#outbox`), read back
//! with a small recorder of this thread's own.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::*;
use liveapi_emulator::{FaultKind, Faults};
use liveapi_outbox::{Outbox, SqliteStore};

/// Every counter and gauge by name and labels, and what was described.
#[derive(Default)]
struct Recording {
    counters: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<BTreeMap<String, Arc<Level>>>,
    described: Mutex<Vec<String>>,
}

#[derive(Default)]
struct Level(Mutex<f64>);

impl metrics::GaugeFn for Level {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap() -= value;
    }
    fn set(&self, value: f64) {
        *self.0.lock().unwrap() = value;
    }
}

fn series(key: &metrics::Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl metrics::Recorder for Recording {
    fn describe_counter(
        &self,
        key: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described.lock().unwrap().push(key.as_str().to_owned());
    }
    fn describe_gauge(
        &self,
        key: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described.lock().unwrap().push(key.as_str().to_owned());
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let counter = self
            .counters
            .lock()
            .unwrap()
            .entry(series(key))
            .or_default()
            .clone();
        metrics::Counter::from_arc(counter)
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        let gauge = self
            .gauges
            .lock()
            .unwrap()
            .entry(series(key))
            .or_default()
            .clone();
        metrics::Gauge::from_arc(gauge)
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

impl Recording {
    fn counter(&self, series: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(series)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    fn gauge(&self, series: &str) -> Option<f64> {
        self.gauges
            .lock()
            .unwrap()
            .get(series)
            .map(|g| *g.0.lock().unwrap())
    }
}

#[test]
fn settlements_are_counted_and_the_gauges_follow_the_store() {
    let recording = Recording::default();
    metrics::with_local_recorder(&recording, || {
        liveapi_outbox::describe_metrics();
        // One thread: the dispatcher's tasks record through this thread's recorder.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let start = SystemTime::now();
            let clock = Arc::new(liveapi::ManualClock::new(start));
            let outbox = Outbox::builder(
                SqliteStore::open(dir.path().join("m.outbox"))
                    .await
                    .unwrap(),
            )
            .clock(clock.clone())
            .build();
            let emulator = emulator().await;
            let client = client(&emulator, 1);
            let uid = user(&client, "ada").await;
            for k in 0..3 {
                outbox
                    .enqueue(&credit(&client, &uid, &format!("m-{k}"), 1))
                    .await
                    .unwrap();
            }
            outbox
                .enqueue(&debit(&client, &uid, "m-refused", 1_000))
                .await
                .unwrap();
            let report = outbox.drain_once(&client).await.unwrap();
            assert_eq!((report.applied, report.refused), (3, 1), "{report:?}");
            // Lost answers: to be retried.
            outbox
                .enqueue(&credit(&client, &uid, "m-lost", 1))
                .await
                .unwrap();
            emulator
                .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
                .unwrap();
            clock.advance(Duration::from_secs(90));
            assert_eq!(outbox.drain_once(&client).await.unwrap().retry, 1);
        });
    });
    let settlements = "liveapi_outbox_settlements_total";
    assert_eq!(
        recording.counter(&format!("{settlements}{{outcome=applied}}")),
        3
    );
    assert_eq!(
        recording.counter(&format!("{settlements}{{outcome=refused}}")),
        1
    );
    assert_eq!(
        recording.counter(&format!("{settlements}{{outcome=retry}}")),
        1
    );
    assert_eq!(
        recording.counter(&format!("{settlements}{{outcome=reconcile}}")),
        0
    );
    let entries =
        |state: &str| recording.gauge(&format!("liveapi_outbox_entries{{state={state}}}"));
    assert_eq!(entries("applied"), Some(3.0));
    assert_eq!(entries("refused"), Some(1.0));
    assert_eq!(entries("pending"), Some(1.0));
    assert_eq!(entries("reconcile"), Some(0.0));
    // The pending entry was enqueued 90 s before the drain, by the outbox's clock.
    assert_eq!(
        recording.gauge("liveapi_outbox_oldest_pending_age_seconds{}"),
        Some(90.0)
    );
    let described = recording.described.lock().unwrap().clone();
    for name in [
        "liveapi_outbox_entries",
        "liveapi_outbox_oldest_pending_age_seconds",
        "liveapi_outbox_settlements_total",
    ] {
        assert!(described.iter().any(|d| d == name), "{described:?}");
    }
}
