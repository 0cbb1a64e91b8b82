//! What a PostgreSQL store is told when the server refuses it, against private clusters the
//! tests start (`initdb` in a temporary directory, password authentication, TLS with a CA made
//! here): each cause is named and typed (a setting to fix, or an outage), the password never
//! shows, TLS is always verified, and the outbox works over verified TLS.
//!
//! Without the server binaries (`/usr/lib/postgresql/*/bin`) these tests print a notice and
//! pass without running, unless `LIVEAPI_CI=1`, where they fail.

mod common;

use std::time::Duration;

use common::*;
use liveapi_outbox::{Fault, Outbox, OutboxError, PostgresStore, SslMode};
use liveapi_test_support::pg_cluster::{ClusterOptions, PgCluster};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

const PASSWORD: &str = "S3cretPw-7";

/// A CA and a server certificate for `names`, signed by it: (CA PEM, server cert PEM, key PEM).
fn pki(names: &[&str]) -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "liveapi outbox test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// Every text an error shows: its message, `Debug`, and its sources'.
fn all_text(error: &OutboxError) -> String {
    let mut text = format!("{error} {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    text
}

#[track_caller]
fn assert_fault(result: Result<PostgresStore, OutboxError>, fault: Fault) -> OutboxError {
    let error = result.expect_err("refused");
    assert_eq!(error.fault(), Some(fault), "{error}");
    let text = all_text(&error);
    assert!(!text.contains(PASSWORD), "the password shows: {text}");
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_names_its_cause_and_never_the_password() {
    let Some(cluster) = PgCluster::start(&ClusterOptions {
        password: PASSWORD.to_owned(),
        tls: None,
        hba: vec![
            // A database whose connections are trusted: there, a missing role is named.
            "host trusting all 127.0.0.1/32 trust".to_owned(),
            "host all all 127.0.0.1/32 scram-sha-256".to_owned(),
        ],
    }) else {
        return;
    };
    cluster.psql("postgres", "CREATE DATABASE app").unwrap();
    cluster
        .psql("postgres", "CREATE DATABASE trusting")
        .unwrap();

    // The right password: it works.
    let url = cluster.url("postgres", PASSWORD, "app", "");
    let store = PostgresStore::connect(&url).await.unwrap();
    assert!(!format!("{store:?}").contains(PASSWORD));
    let outbox = Outbox::new(store);
    assert!(
        !outbox.location().contains(PASSWORD),
        "{}",
        outbox.location()
    );
    assert_eq!(outbox.counts().await.unwrap().total(), 0);

    let wrong = cluster.url("postgres", "not-the-password", "app", "");
    let e = assert_fault(
        PostgresStore::connect(&wrong).await,
        Fault::AuthenticationFailed,
    );
    assert!(e.is_config() && !e.is_retryable(), "{e}");
    assert!(
        e.to_string().contains("password authentication failed"),
        "{e}"
    );

    let missing_db = cluster.url("postgres", PASSWORD, "nowhere", "");
    let e = assert_fault(
        PostgresStore::connect(&missing_db).await,
        Fault::DatabaseMissing,
    );
    assert!(e.is_config(), "{e}");
    assert!(e.to_string().contains("\"nowhere\" does not exist"), "{e}");

    let missing_role = cluster.url("nobody", PASSWORD, "trusting", "");
    let e = assert_fault(
        PostgresStore::connect(&missing_role).await,
        Fault::RoleMissing,
    );
    assert!(e.is_config(), "{e}");

    // The same in a libpq key=value string.
    let kv = format!(
        "host=127.0.0.1 port={} user=postgres password=wrong{PASSWORD} dbname=app",
        cluster.port()
    );
    let e = assert_fault(
        PostgresStore::connect(&kv).await,
        Fault::AuthenticationFailed,
    );
    assert!(e.to_string().contains("password=***"), "{e}");

    // Nothing listens: refused, an outage rather than a setting.
    let port = cluster.port();
    drop(cluster);
    let refused = format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/app");
    let e = assert_fault(
        PostgresStore::connect(&refused).await,
        Fault::ConnectionRefused,
    );
    assert!(e.is_retryable() && !e.is_config(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_a_timeout_within_the_connect_timeout() {
    // Accepts connections and says nothing, as a hung server or a black-holing firewall.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/app");
    let started = std::time::Instant::now();
    let result = PostgresStore::builder(url)
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await;
    let e = assert_fault(result, Fault::Timeout);
    assert!(e.is_retryable(), "{e}");
    // Bounded: the connect timeout and the pool's creation bound, with a margin.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_verified_and_works_and_nothing_turns_it_off() {
    let (ca, cert, key) = pki(&["localhost", "127.0.0.1"]);
    let Some(cluster) = PgCluster::start(&ClusterOptions {
        password: PASSWORD.to_owned(),
        tls: Some((cert, key)),
        // TLS only: a plain connection finds no line.
        hba: vec!["hostssl all all 127.0.0.1/32 scram-sha-256".to_owned()],
    }) else {
        return;
    };
    cluster.psql("postgres", "CREATE DATABASE app").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let ca_path = ca_file.to_str().unwrap();

    // Verified TLS, by the URL and by the builder: the outbox works.
    for mode in ["verify-full", "verify-ca", "require", "prefer"] {
        let url = cluster.url(
            "postgres",
            PASSWORD,
            "app",
            &format!("sslmode={mode}&sslrootcert={ca_path}"),
        );
        let outbox = Outbox::new(
            PostgresStore::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{mode}: {e}")),
        );
        assert_eq!(outbox.counts().await.unwrap().pending, 0);
    }
    let store = PostgresStore::builder(cluster.url("postgres", PASSWORD, "app", ""))
        .ssl_mode(SslMode::VerifyFull)
        .ssl_root_cert(&ca_file)
        .schema("over_tls")
        .connect()
        .await
        .unwrap();
    let outbox = fast(Outbox::builder(store));
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    outbox
        .enqueue(&credit(&client, &uid, "tls-1", 3))
        .await
        .unwrap();
    assert_eq!(outbox.drain_once(&client).await.unwrap().applied, 1);
    assert_applied_once(&emulator, &["tls-1".to_owned()]);
    // The server sees the outbox's sessions encrypted.
    let encrypted = cluster
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'liveapi-outbox' AND s.ssl",
        )
        .unwrap();
    assert_ne!(encrypted, "0");

    // A TLS-only server asked for plain text: the cause is named.
    let plain = cluster.url("postgres", PASSWORD, "app", "sslmode=disable");
    let e = assert_fault(PostgresStore::connect(&plain).await, Fault::TlsRequired);
    assert!(e.is_config(), "{e}");

    // A CA this machine does not know (the Mozilla roots only): refused, in every mode that
    // uses TLS.
    for mode in ["require", "verify-ca", "verify-full", "prefer"] {
        let unknown = cluster.url("postgres", PASSWORD, "app", &format!("sslmode={mode}"));
        let e = assert_fault(PostgresStore::connect(&unknown).await, Fault::Tls);
        assert!(e.is_config(), "{mode}: {e}");
        assert!(
            all_text(&e).to_lowercase().contains("certificate"),
            "{mode}: {e}"
        );
    }

    // A certificate for another host name: refused.
    let (other_ca, other_cert, other_key) = pki(&["db.example.test"]);
    let Some(other) = PgCluster::start(&ClusterOptions {
        password: PASSWORD.to_owned(),
        tls: Some((other_cert, other_key)),
        hba: vec![],
    }) else {
        return;
    };
    let other_ca_file = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca_file, &other_ca).unwrap();
    let mismatch = other.url(
        "postgres",
        PASSWORD,
        "postgres",
        &format!("sslmode=require&sslrootcert={}", other_ca_file.display()),
    );
    let e = assert_fault(PostgresStore::connect(&mismatch).await, Fault::Tls);
    assert!(
        all_text(&e).contains("NotValidForName") || all_text(&e).contains("not valid for"),
        "{e}"
    );

    // TLS asked of a server without it: refused, never plain text.
    let Some(no_tls) = PgCluster::start(&ClusterOptions {
        password: PASSWORD.to_owned(),
        tls: None,
        hba: vec![],
    }) else {
        return;
    };
    let asked = no_tls.url(
        "postgres",
        PASSWORD,
        "postgres",
        &format!("sslmode=require&sslrootcert={ca_path}"),
    );
    let e = assert_fault(PostgresStore::connect(&asked).await, Fault::Tls);
    assert!(e.is_config(), "{e}");
    let created = no_tls
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'liveapi_outbox'",
        )
        .unwrap();
    assert_eq!(created, "0", "nothing was created");
    // `prefer` falls back to plain text there (the server offers no TLS).
    let preferred = no_tls.url("postgres", PASSWORD, "postgres", "sslmode=prefer");
    PostgresStore::connect(&preferred).await.unwrap();

    // A CA file that cannot be used.
    let missing = cluster.url(
        "postgres",
        PASSWORD,
        "app",
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    );
    let e = assert_fault(PostgresStore::connect(&missing).await, Fault::Tls);
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    // `allow` prefers plain text: not accepted, nor anything unknown.
    for mode in ["allow", "off", "no-verify"] {
        let url = cluster.url("postgres", PASSWORD, "app", &format!("sslmode={mode}"));
        assert!(matches!(
            PostgresStore::connect(&url).await,
            Err(OutboxError::BadLocation { .. })
        ));
    }
}
