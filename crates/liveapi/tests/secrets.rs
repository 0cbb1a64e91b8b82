//! No secret, and no signature, appears in any Debug or Display output or in any log line, at
//! the most verbose level, of a session that succeeds, fails and retries.

mod common;

/// The transport of the clients `common` builds.
const TRANSPORT: common::Transport = common::Transport::Hyper;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveapi::model::linkv::{Coins, OpenId};
use liveapi::model::polyv::Scope;
use liveapi::{Client, LinkvCredentials, PolyvCredentials};
use liveapi_emulator::{Emulator, FaultKind, Faults};
use tracing_subscriber::fmt::MakeWriter;

/// Log lines, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

#[tokio::test]
async fn secrets_stay_out_of_debug_errors_and_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = common::emulator(Emulator::builder().seed(9)).await;
    let linkv = emulator.linkv_app();
    let polyv = emulator.polyv_app();
    let secrets = [
        linkv.app_secret.as_str(),
        polyv.secret.as_str(),
        "wrong-secret-x",
    ];
    let client = common::client_builder(&emulator).build().unwrap();

    // Success, retries through faults, refusals and a wrong secret.
    let alice = common::user(&client, "alice").await;
    emulator
        .set_faults(
            Faults::new(0.5)
                .only_kind(FaultKind::Http502)
                .with_latency(Duration::ZERO, Duration::ZERO),
        )
        .unwrap();
    client
        .add_coins(&alice, Coins::new(5).unwrap())
        .await
        .unwrap();
    client.donate_settings(Scope::Account).await.unwrap();
    emulator.set_faults(Faults::none()).unwrap();
    let refused = client
        .remove_coins(&alice, Coins::new(500).unwrap())
        .await
        .unwrap_err();
    let wrong = Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&linkv.app_key)
                .secret("wrong-secret-x")
                .alias(&linkv.alias)
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .polyv(
            PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret("wrong-secret-x")
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let auth = wrong.balance(&OpenId::new("1").unwrap()).await.unwrap_err();
    let polyv_auth = wrong.donate_settings(Scope::Account).await.unwrap_err();

    for (what, text) in [
        ("client", format!("{client:?} {wrong:?}")),
        (
            "credentials",
            format!(
                "{:?} {:?}",
                client.linkv_credentials(),
                client.polyv_credentials()
            ),
        ),
        ("refusal", format!("{refused} {refused:?}")),
        (
            "auth error",
            format!("{auth} {auth:?} {polyv_auth} {polyv_auth:?}"),
        ),
        ("emulator apps", format!("{linkv:?} {polyv:?}")),
    ] {
        assert_clean(what, &text, &secrets);
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("liveapi.call"),
        "the calls were traced:\n{logs}"
    );
    assert!(
        logs.contains("changeGold") && logs.contains("retrying"),
        "{logs}"
    );
    assert_clean("logs", &logs, &secrets);
    // Nor any signature: neither the parameter nor a 32-hex-digit value other than the
    // request ids, which are logged on purpose (they are not secret and tie logs to changes).
    assert!(!logs.contains("sign="), "{logs}");
    let request_ids: Vec<&str> = logs
        .split("request_id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let hex32 = logs
        .split(|c: char| !c.is_ascii_hexdigit())
        .any(|word| word.len() == 32 && !request_ids.contains(&word));
    assert!(!hex32, "a signature-like value was logged:\n{logs}");
}
