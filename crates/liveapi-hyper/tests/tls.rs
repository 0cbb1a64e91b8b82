//! HTTPS: a CA made in the test is refused by default and trusted once added; a certificate
//! for another host is refused; a refused certificate is not retried.
#![cfg(feature = "rustls")]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use liveapi_request::LinkvCredentials;
use liveapi_request::TransportErrorKind;
use liveapi_request::model::linkv::{GetUserTokens, OpenId};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::{BALANCE_7, Behavior};

struct Pki {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

/// A CA and a server certificate it signed for `localhost` only.
fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "liveapi test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let config = rustls::ServerConfig::builder_with_provider(liveapi_hyper::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

fn creds(base_url: &str) -> LinkvCredentials {
    support::linkv_creds(base_url)
}

fn balance() -> GetUserTokens {
    GetUserTokens::new(OpenId::new("42").unwrap())
}

fn body() -> Bytes {
    Bytes::from_static(BALANCE_7.as_bytes())
}

#[tokio::test]
async fn an_unknown_ca_is_refused_and_not_retried() {
    let pki = pki();
    let server = support::start(Behavior::Respond(200, body()), Some(pki.acceptor)).await;
    let url = format!("https://localhost:{}", server.addr.port());
    let caller = support::caller().build().unwrap();

    let err = caller.execute(&balance(), &creds(&url)).await.unwrap_err();
    assert_eq!(
        support::transport_kind(&err),
        TransportErrorKind::Tls,
        "{err:?}"
    );
    assert_eq!(
        server.connections(),
        1,
        "a certificate failure is not retried"
    );
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn the_ca_is_trusted_once_added() {
    let pki = pki();
    let server = support::start(Behavior::Respond(200, body()), Some(pki.acceptor)).await;
    let url = format!("https://localhost:{}", server.addr.port());
    let caller = support::caller()
        .add_root_certificate_pem(pki.ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();

    let coins = caller.execute(&balance(), &creds(&url)).await.unwrap();
    assert_eq!(coins.coins.get(), 7);
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_even_from_a_trusted_ca() {
    let pki = pki();
    let server = support::start(Behavior::Respond(200, body()), Some(pki.acceptor)).await;
    // The certificate names `localhost`, not the address.
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    let caller = support::caller()
        .add_root_certificate_pem(pki.ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();

    let err = caller.execute(&balance(), &creds(&url)).await.unwrap_err();
    assert_eq!(
        support::transport_kind(&err),
        TransportErrorKind::Tls,
        "{err:?}"
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_document_without_certificates_is_a_config_error() {
    let err = liveapi_hyper::HyperTransport::builder()
        .add_root_certificate_pem(b"not a certificate")
        .unwrap_err();
    assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
}

#[cfg(feature = "webpki-roots")]
#[test]
fn without_any_roots_building_fails_clearly() {
    let err = liveapi_hyper::HyperTransport::builder()
        .webpki_roots(false)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, liveapi_hyper::TlsSetupError::NoRoots),
        "{err}"
    );
}
