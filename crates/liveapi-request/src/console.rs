//! Decrypting the console's `app_secret` natively, instead of with the vendor's
//! `libdecrypt.so`.
//!
//! The LinkV console issues an `app_id` and an `app_secret` that is a hexadecimal ciphertext:
//! `h = SHA-384(app_id)`, key `h[0..32]`, IV `h[32..48]`, AES-256-CBC with PKCS#7 padding. The
//! plaintext is JSON whose `sensor` object holds the live API credentials: `app_key` (sent as
//! `app_id`), `app_secret` (signs), `alias` (sent as `channel`) and `url` (the base URL).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use serde::Deserialize;
use sha2::{Digest, Sha384};
use zeroize::{Zeroize, Zeroizing};

use crate::{CredentialsError, LinkvCredentials};

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

#[derive(Deserialize)]
struct Payload {
    sensor: Option<Sensor>,
}

#[derive(Deserialize)]
struct Sensor {
    app_key: Option<String>,
    app_secret: Option<String>,
    alias: Option<String>,
    url: Option<String>,
}

/// A `sensor` section given up on (another field missing) still held the secret.
impl Drop for Sensor {
    fn drop(&mut self) {
        self.app_secret.zeroize();
    }
}

fn console(why: &'static str) -> CredentialsError {
    CredentialsError::Console { why }
}

/// The key and IV derived from the console `app_id`.
pub(crate) fn key_and_iv(app_id: &str) -> ([u8; 32], [u8; 16]) {
    let digest = Sha384::digest(app_id.as_bytes());
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&digest[..32]);
    iv.copy_from_slice(&digest[32..48]);
    (key, iv)
}

impl LinkvCredentials {
    /// Decrypts the console's `app_id` + `app_secret` into live API credentials.
    ///
    /// ```
    /// # #[cfg(feature = "console-credentials")] {
    /// use liveapi_request::{CredentialsError, LinkvCredentials};
    /// let err = LinkvCredentials::from_console("app", "not hex").unwrap_err();
    /// assert!(matches!(err, CredentialsError::Console { .. }));
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`CredentialsError::Console`] if the ciphertext is not hex, does not decrypt with this
    /// `app_id`, or does not hold the live credentials; any other [`CredentialsError`] if the
    /// credentials it holds are malformed. No error contains the plaintext.
    pub fn from_console(app_id: &str, app_secret_hex: &str) -> Result<Self, CredentialsError> {
        // Decrypted in place: once decrypted, the buffer holds the secret, so it is wiped on drop.
        let mut buf = Zeroizing::new(
            hex::decode(app_secret_hex.trim())
                .map_err(|_| console("app_secret is not hexadecimal"))?,
        );
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(console("app_secret is not a whole number of AES blocks"));
        }
        let (key, iv) = key_and_iv(app_id);
        let plaintext = Aes256CbcDec::new(&key.into(), &iv.into())
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map_err(|_| console("bad padding: wrong app_id or corrupted app_secret"))?;
        let payload: Payload = serde_json::from_slice(plaintext)
            .map_err(|_| console("the decrypted text is not the expected JSON"))?;
        let mut sensor = payload
            .sensor
            .ok_or(console("the decrypted JSON has no `sensor` section"))?;
        let missing = || console("the `sensor` section lacks app_key, app_secret, alias or url");
        Self::builder()
            .app_id(sensor.app_key.take().ok_or_else(missing)?)
            .secret(sensor.app_secret.take().ok_or_else(missing)?)
            .alias(sensor.alias.take().ok_or_else(missing)?)
            .base_url(sensor.url.take().ok_or_else(missing)?)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockModeEncrypt;

    use super::*;

    type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

    /// Encrypts like the console does, with a key derived the same way.
    fn encrypt(app_id: &str, plaintext: &str) -> String {
        let (key, iv) = key_and_iv(app_id);
        let mut buf = vec![0u8; plaintext.len() + 16];
        let ct = Aes256CbcEnc::new(&key.into(), &iv.into())
            .encrypt_padded_b2b::<Pkcs7>(plaintext.as_bytes(), &mut buf)
            .unwrap();
        hex::encode_upper(ct)
    }

    const PAYLOAD: &str = r#"{"im":{"app_id":"x"},"rtc":{},"shop":{},
        "sensor":{"app_id":"6000101","app_key":"LM6000101140927991745433",
                  "app_secret":"0123456789abcdef0123456789abcdef","alias":"myalias",
                  "url":"https://live.example.com"}}"#;

    #[test]
    fn decrypts_what_the_console_encrypts() {
        let ciphertext = encrypt("console-app-id", PAYLOAD);
        for hex in [ciphertext.clone(), ciphertext.to_lowercase()] {
            let creds = LinkvCredentials::from_console("console-app-id", &hex).unwrap();
            assert_eq!(creds.app_id(), "LM6000101140927991745433");
            assert_eq!(creds.secret().expose(), "0123456789abcdef0123456789abcdef");
            assert_eq!(creds.alias(), Some("myalias"));
            assert_eq!(creds.base_url().to_string(), "https://live.example.com");
        }
    }

    #[test]
    fn the_key_is_derived_with_sha384() {
        // SHA-384("abc") from FIPS 180-2: key = bytes 0..32, IV = bytes 32..48.
        let (key, iv) = key_and_iv("abc");
        assert_eq!(hex::encode(&key[..8]), "cb00753f45a35e8b");
        assert_eq!(hex::encode(iv), "8086072ba1e7cc2358baeca134c825a7");
    }

    #[test]
    fn wrong_app_id_or_corrupt_text_is_a_clear_error_without_plaintext() {
        let ciphertext = encrypt("console-app-id", PAYLOAD);
        let cases = [
            LinkvCredentials::from_console("another-app-id", &ciphertext),
            LinkvCredentials::from_console("console-app-id", &ciphertext[..ciphertext.len() - 2]),
            LinkvCredentials::from_console("console-app-id", "zz"),
            LinkvCredentials::from_console("console-app-id", ""),
            LinkvCredentials::from_console(
                "console-app-id",
                &encrypt("console-app-id", "not json"),
            ),
            LinkvCredentials::from_console(
                "console-app-id",
                &encrypt("console-app-id", r#"{"im":{}}"#),
            ),
            LinkvCredentials::from_console(
                "console-app-id",
                &encrypt("console-app-id", r#"{"sensor":{"app_key":"k"}}"#),
            ),
        ];
        for result in cases {
            let err = result.unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, CredentialsError::Console { .. }), "{text}");
            assert!(!text.contains("0123456789abcdef"), "{text}");
        }
    }
}
