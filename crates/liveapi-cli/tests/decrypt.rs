//! `liveapi decrypt-credentials` on a ciphertext made the way the LinkV console makes one.
#![cfg(feature = "console-credentials")]

mod common;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeEncrypt, KeyIvInit};
use common::{run, run_with_stdin};
use sha2::{Digest, Sha384};

const APP_ID: &str = "console-app-id";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const PAYLOAD: &str = r#"{"im":{"app_id":"x"},"rtc":{},"shop":{},
    "sensor":{"app_id":"6000101","app_key":"LM6000101140927991745433",
              "app_secret":"0123456789abcdef0123456789abcdef","alias":"myalias",
              "url":"https://live.example.com"}}"#;

/// key = SHA-384(app_id)[0..32], IV = [32..48], AES-256-CBC with PKCS#7, hex.
fn encrypt(app_id: &str, plaintext: &str) -> String {
    let digest = Sha384::digest(app_id.as_bytes());
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&digest[..32]);
    iv.copy_from_slice(&digest[32..48]);
    let mut buf = vec![0u8; plaintext.len() + 16];
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_b2b::<Pkcs7>(plaintext.as_bytes(), &mut buf)
        .unwrap();
    hex::encode_upper(ciphertext)
}

#[test]
fn decrypts_the_live_credentials_and_shows_the_secret_only_on_request() {
    let hex = encrypt(APP_ID, PAYLOAD);

    let hidden = run(&[
        "decrypt-credentials",
        "--app-id",
        APP_ID,
        "--app-secret",
        &hex,
    ]);
    let text = hidden.ok();
    assert!(
        text.contains("live_app_key: LM6000101140927991745433\n"),
        "{text}"
    );
    assert!(text.contains("alias: myalias\n"), "{text}");
    assert!(
        text.contains("base_url: https://live.example.com\n"),
        "{text}"
    );
    hidden.assert_hides(SECRET);

    let shown = run(&[
        "decrypt-credentials",
        "--app-id",
        APP_ID,
        "--app-secret",
        &hex.to_lowercase(),
        "--show-secret",
    ]);
    assert!(
        shown.ok().contains(&format!("live_app_secret: {SECRET}\n")),
        "{shown:#?}"
    );

    let json = run_with_stdin(
        &["decrypt-credentials", "--app-id", APP_ID, "--json"],
        format!("{hex}\n").as_bytes(),
    )
    .json();
    assert_eq!(json["live_app_key"], "LM6000101140927991745433");
    assert_eq!(json["alias"], "myalias");
    assert_eq!(json["base_url"], "https://live.example.com");
    assert!(json.get("live_app_secret").is_none(), "{json}");

    let json = run(&[
        "decrypt-credentials",
        "--app-id",
        APP_ID,
        "--app-secret",
        &hex,
        "--show-secret",
        "--json",
    ])
    .json();
    assert_eq!(json["live_app_secret"], SECRET);
}

#[test]
fn a_wrong_app_id_or_a_corrupt_secret_exits_2_without_plaintext() {
    let hex = encrypt(APP_ID, PAYLOAD);
    for (app_id, ciphertext) in [
        ("another-app-id", hex.as_str()),
        (APP_ID, &hex[..hex.len() - 2]),
        (APP_ID, "not hex"),
    ] {
        let run = run(&[
            "decrypt-credentials",
            "--app-id",
            app_id,
            "--app-secret",
            ciphertext,
            "--show-secret",
        ]);
        assert!(run.one_line_error(2).contains("cannot decrypt"), "{run:#?}");
        run.assert_hides(SECRET);
        run.assert_hides("myalias");
    }
}
