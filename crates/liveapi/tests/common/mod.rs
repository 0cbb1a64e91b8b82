//! An emulator on loopback and a client configured for its demo apps; a scripted loopback
//! server for the wire tests.

#[allow(dead_code)] // Only the wire tests answer from a script.
pub(crate) mod loopback;

use std::time::Duration;

use liveapi::model::linkv::{OpenId, PortraitUri, UserId, UserName};
use liveapi::{Client, ClientBuilder, LinkvCredentials, PolyvCredentials, RetryPolicy};
use liveapi_emulator::{Emulator, EmulatorBuilder, RunningEmulator};

pub(crate) async fn emulator(builder: EmulatorBuilder) -> RunningEmulator {
    builder.start().await.expect("the emulator starts")
}

/// What carries a test client's requests.
#[allow(dead_code)] // Each test binary uses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The default: hyper.
    Hyper,
    /// An application's own `reqwest::Client`.
    Reqwest,
    /// A `tower` service stack over hyper, with a layer of the caller's own.
    Tower,
}

impl Transport {
    /// `builder` sending through this transport.
    pub(crate) fn apply(self, builder: ClientBuilder) -> ClientBuilder {
        match self {
            Self::Hyper => builder,
            #[cfg(feature = "reqwest")]
            Self::Reqwest => {
                builder.transport(liveapi::transport::ReqwestTransport::new(reqwest_client()))
            }
            #[cfg(feature = "tower")]
            Self::Tower => {
                use liveapi::transport::AsyncHttpSend;
                let inner = liveapi::transport::HyperTransport::builder()
                    .build()
                    .unwrap();
                let service = tower::ServiceBuilder::new()
                    .map_request(|request: http::Request<bytes::Bytes>| request)
                    .service_fn(move |request| {
                        let inner = inner.clone();
                        async move { inner.send(request).await }
                    });
                builder.transport(liveapi::transport::TowerTransport::new(service))
            }
            #[allow(unreachable_patterns)]
            other => panic!("this build has no {other:?} transport"),
        }
    }
}

/// A `reqwest` client with ring as its crypto provider, as an application would build one.
#[cfg(feature = "reqwest")]
pub(crate) fn reqwest_client() -> reqwest::Client {
    let provider = liveapi::tls::crypto_provider();
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

/// A builder for a client of `emulator`'s demo apps, with quick retries, over the test
/// binary's transport.
pub(crate) fn client_builder(emulator: &RunningEmulator) -> ClientBuilder {
    crate::TRANSPORT.apply(demo_client_builder(emulator))
}

/// A builder for a client of `emulator`'s demo apps, with quick retries, over hyper.
pub(crate) fn demo_client_builder(emulator: &RunningEmulator) -> ClientBuilder {
    let linkv = emulator.linkv_app();
    let polyv = emulator.polyv_app();
    Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&linkv.app_key)
                .secret(linkv.app_secret.as_str())
                .alias(&linkv.alias)
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .polyv(
            PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret(polyv.secret.as_str())
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(10)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(20)),
        )
        .attempt_timeout(Duration::from_secs(5))
}

#[allow(dead_code)] // Not every test file starts a default emulator.
pub(crate) async fn setup() -> (RunningEmulator, Client) {
    let emulator = emulator(Emulator::builder().seed(1)).await;
    let client = client_builder(&emulator).build().unwrap();
    (emulator, client)
}

/// Registers `name` and answers their open id.
#[allow(dead_code)] // Not every test file registers users.
pub(crate) async fn user(client: &Client, name: &str) -> OpenId {
    client
        .register_user(
            UserId::new(name).unwrap(),
            UserName::new(name).unwrap(),
            PortraitUri::new(format!("https://cdn.example.com/{name}.png")).unwrap(),
        )
        .await
        .unwrap()
        .open_id
}
