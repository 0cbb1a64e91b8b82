//! The outbox crash test at CI size: worker processes enqueue and send coin changes through
//! an outbox, are killed with SIGKILL at random moments and restarted; the emulator, in this
//! process, must have applied every change exactly once. Once with SQLite, once with three
//! workers sharing a PostgreSQL outbox (`LIVEAPI_TEST_POSTGRES_URL`; skipped with a notice
//! without it, a failure when `LIVEAPI_CI=1`).
//!
//! Once more, small, with the workers' PostgreSQL reached over verified TLS: a private cluster
//! with `ssl = on` and a CA made here (skipped with a notice without the server binaries, a
//! failure when `LIVEAPI_CI=1`).
//!
//! `cargo run --release -p liveapi-harness --bin outbox_crash` runs it at scale.

use std::path::Path;
use std::time::Duration;

use liveapi_harness::outbox_crash::{Config, StoreLocation, run};
use liveapi_test_support::pg_cluster::{ClusterOptions, PgCluster};
use liveapi_test_support::postgres::TestSchema;

const WORKER: &str = env!("CARGO_BIN_EXE_outbox_crash_worker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_workers_killed_at_random_lose_nothing_and_apply_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreLocation::Sqlite(dir.path().join("crash.outbox"));
    let config = Config {
        changes: 300,
        kills: 10,
        ..Config::default()
    };
    let report = run(&config, &store, Path::new(WORKER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(report.kills >= 10, "{report}");
    assert_eq!(report.applied, 300);
    assert!(report.faults.total() > 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workers_sharing_one_outbox_killed_independently_lose_nothing() {
    let Some(schema) = TestSchema::new("crash") else {
        return;
    };
    let store = StoreLocation::Postgres {
        url: schema.url().to_owned(),
        schema: schema.name().to_owned(),
    };
    let config = Config {
        changes: 300,
        workers: 3,
        kills: 9,
        kill_after: (Duration::from_millis(30), Duration::from_millis(150)),
        ..Config::default()
    };
    let report = run(&config, &store, Path::new(WORKER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(report.kills >= 9, "{report}");
    assert_eq!(report.applied, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_over_verified_tls_killed_at_random_lose_nothing() {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "liveapi crash test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let Some(cluster) = PgCluster::start(&ClusterOptions {
        password: "crash-pw".to_owned(),
        tls: Some((cert.pem(), key.serialize_pem())),
        // TLS only: a worker that spoke plain text would be refused, and the run fail.
        hba: vec!["hostssl all all 127.0.0.1/32 scram-sha-256".to_owned()],
    }) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let url = cluster.url(
        "postgres",
        "crash-pw",
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={}", ca_file.display()),
    );
    let store = StoreLocation::Postgres {
        url,
        schema: "crash_tls".to_owned(),
    };
    let config = Config {
        changes: 80,
        workers: 2,
        kills: 3,
        kill_after: (Duration::from_millis(50), Duration::from_millis(150)),
        ..Config::default()
    };
    let report = run(&config, &store, Path::new(WORKER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("over TLS: {report}");
    assert!(report.kills >= 3, "{report}");
    assert_eq!(report.applied, 80);
    drop(cluster);
}
