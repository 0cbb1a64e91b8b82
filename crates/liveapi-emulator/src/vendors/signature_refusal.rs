//! What the emulator expected of a signature it refused, so that a `sign err` (LinkV) or an
//! `invalid signature.` (Polyv) explains itself in the request log and on the dashboard.
//!
//! The canonical string and the expected sign come from `liveapi-sign`, the code that verified
//! the request, with the secret masked. The first differing parameter is found by signing the
//! received parameters again with one parameter changed the way clients commonly get it wrong
//! (`docs/linkv.md#signing`, `docs/polyv.md#signing`): sent but left out of the signature,
//! signed URL-encoded, or (Polyv) signed but sent in the JSON body. Every attempt is a full
//! signature with the app's secret, computed only after a refusal, so the answer to a good
//! request costs nothing more.
//!
//! No secret leaves this module: every text built from the request is masked where it
//! contains the app's secret (a client that sends its secret as a parameter, say), and the
//! canonical string is `liveapi-sign`'s masked form.

use liveapi_model::Vendor;
use liveapi_sign::{CanonicalString, SignError, Signature, linkv, polyv};
use serde::{Deserialize, Serialize};

use crate::http::reply::clip;

/// What stands in for the secret, as in `liveapi-sign`'s masked canonical strings.
const MASK: &str = "***";
/// At most this many bytes of a received value or sign are kept.
const MAX_VALUE: usize = 256;
/// At most this many bytes of a canonical string are kept: whole for any request the vendors
/// take, cut for a flood.
const MAX_CANONICAL: usize = 16 * 1024;

/// What the emulator expected of a request whose signature it refused, beside what it
/// received: the request log keeps one with each refused signature
/// ([`RequestRecord::signature`](crate::RequestRecord::signature)), and the dashboard shows it.
///
/// It never holds the app's secret: the canonical string is printed with `***` in its place,
/// and any received text that contains the secret is masked the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignatureRefusal {
    /// The canonical string of the received parameters by the vendor's documented rule, the
    /// secret masked: what the client's own canonical string should equal.
    pub canonical: String,
    /// The sign the emulator computed over it (with the secret).
    pub expected: String,
    /// The sign received, if any.
    pub received: Option<String>,
    /// The parameters received, in the order of the canonical string, and whether each is
    /// signed (the `sign` itself and empty values are not).
    pub params: Vec<ReceivedParam>,
    /// The first parameter, in the canonical string's order, whose change alone makes the
    /// received sign match; `None` when none does.
    pub first_difference: Option<ParamDifference>,
    /// What to check, in a sentence.
    pub hint: String,
}

/// One received parameter of a refused request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReceivedParam {
    /// Its name.
    pub name: String,
    /// Its value as received (decoded), cut at 256 bytes, masked if it holds the secret.
    pub value: String,
    /// Whether the vendor's rule signs it.
    pub signed: bool,
}

/// The parameter that explains a refused signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParamDifference {
    /// The parameter's name.
    pub param: String,
    /// How the client's signature treated it, e.g. `sent but not signed`.
    pub finding: String,
}

/// Masks the secret out of texts built from a request.
struct Masker<'a> {
    secret: &'a str,
    encoded: String,
}

impl<'a> Masker<'a> {
    fn new(secret: &'a str) -> Self {
        Self {
            secret,
            encoded: form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        }
    }

    /// `text` with the secret masked, then cut at [`MAX_VALUE`] bytes (in that order, so that
    /// a cut never leaves the start of a secret unmasked).
    fn mask(&self, text: &str) -> String {
        self.mask_within(text, MAX_VALUE)
    }

    /// As [`mask`](Self::mask), cut at `max` bytes.
    fn mask_within(&self, text: &str, max: usize) -> String {
        let mut masked = text.to_owned();
        if !self.secret.is_empty() {
            masked = masked.replace(self.secret, MASK);
            if self.encoded != self.secret {
                masked = masked.replace(&self.encoded, MASK);
            }
        }
        clip(&masked, max).to_owned()
    }
}

type Params = Vec<(String, String)>;

fn pairs(params: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Signs as the vendor does, with `liveapi-sign`.
fn sign(vendor: Vendor, params: &[(String, String)], secret: &str) -> Result<Signature, SignError> {
    match vendor {
        Vendor::Linkv => linkv::sign(pairs(params), secret),
        Vendor::Polyv => polyv::sign(pairs(params), secret),
    }
}

/// The vendor's canonical string, from `liveapi-sign`.
fn canonical(
    vendor: Vendor,
    params: &[(String, String)],
    secret: &str,
) -> Result<CanonicalString, SignError> {
    match vendor {
        Vendor::Linkv => linkv::canonical_string(pairs(params), secret),
        Vendor::Polyv => polyv::canonical_string(pairs(params), secret),
    }
}

/// Whether the vendor's rule signs a parameter: its piece of a canonical string is not empty.
fn signs(vendor: Vendor, name: &str, value: &str) -> bool {
    canonical(vendor, &[(name.to_owned(), value.to_owned())], "")
        .is_ok_and(|c| !c.params().is_empty())
}

/// Orders keys as the vendor's canonical string does: byte order for LinkV, UTF-16 code
/// units for Polyv (`docs/linkv.md#signing`, `docs/polyv.md#signing`).
fn canonical_order(vendor: Vendor, a: &str, b: &str) -> std::cmp::Ordering {
    match vendor {
        Vendor::Linkv => a.as_bytes().cmp(b.as_bytes()),
        Vendor::Polyv => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// The ways a client commonly encodes a value before signing it: form encoding (`+` for a
/// space) and percent encoding (`%20`).
fn encodings(value: &str) -> Vec<String> {
    let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let percent = form.replace('+', "%20");
    let mut all = Vec::new();
    for encoded in [form, percent] {
        if encoded != value && !all.contains(&encoded) {
            all.push(encoded);
        }
    }
    all
}

/// The scalar fields at the top of a JSON object body, as a client would sign them.
fn body_fields(body: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

/// Explains why `params` (with their `sign`) do not verify under `secret`: `None` if the
/// expected sign cannot be computed (duplicate keys, an unusable `signatureMethod`; those are
/// refused as parameter errors, not as signatures). `body` is the request's body, for Polyv
/// fields signed but sent there.
pub(crate) fn explain(
    vendor: Vendor,
    params: &[(String, String)],
    body: &[u8],
    secret: &str,
) -> Option<SignatureRefusal> {
    let masker = Masker::new(secret);
    let expected = sign(vendor, params, secret).ok()?;
    let canonical = canonical(vendor, params, secret).ok()?;
    let received = params
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty());

    let mut ordered: Vec<&(String, String)> = params.iter().collect();
    ordered.sort_by(|a, b| canonical_order(vendor, &a.0, &b.0));
    let listed = ordered
        .iter()
        .map(|(k, v)| ReceivedParam {
            name: masker.mask(k),
            value: masker.mask(v),
            signed: signs(vendor, k, v),
        })
        .collect();

    let first_difference = received.and_then(|received| {
        first_difference(vendor, &ordered, params, body, secret, received).map(
            |(param, finding)| ParamDifference {
                param: masker.mask(&param),
                finding: masker.mask(&finding),
            },
        )
    });
    let hint = hint(vendor, &expected, received, first_difference.is_some());
    Some(SignatureRefusal {
        canonical: masker.mask_within(&canonical.to_string(), MAX_CANONICAL),
        expected: expected.as_str().to_owned(),
        received: received.map(|r| masker.mask(r)),
        params: listed,
        first_difference,
        hint,
    })
}

/// The first parameter, in canonical order, whose change alone explains `received`.
fn first_difference(
    vendor: Vendor,
    ordered: &[&(String, String)],
    params: &[(String, String)],
    body: &[u8],
    secret: &str,
    received: &str,
) -> Option<(String, String)> {
    let matches =
        |tried: &Params| sign(vendor, tried, secret).is_ok_and(|sign| sign.matches(received));
    let mut found: Vec<(String, String)> = Vec::new();
    for (name, value) in ordered.iter().map(|p| (&p.0, &p.1)) {
        if name == "sign" || !signs(vendor, name, value) {
            continue;
        }
        let without: Params = params.iter().filter(|(k, _)| k != name).cloned().collect();
        if matches(&without) {
            found.push((name.clone(), "sent but not signed".to_owned()));
            break;
        }
        let encoded = encodings(value).into_iter().find(|encoded| {
            let tried: Params = params
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if k == name {
                            encoded.clone()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            matches(&tried)
        });
        if let Some(encoded) = encoded {
            found.push((
                name.clone(),
                format!("signed URL-encoded (`{encoded}`); values are signed as sent, decoded"),
            ));
            break;
        }
    }
    // Polyv signs the query alone: a field signed but sent in the JSON body.
    if vendor == Vendor::Polyv {
        for (name, value) in body_fields(body) {
            if params.iter().any(|(k, _)| *k == name) {
                continue;
            }
            let mut with = params.to_vec();
            with.push((name.clone(), value));
            if matches(&with) {
                found.push((
                    name,
                    "signed but sent in the JSON body; send it in the query string".to_owned(),
                ));
                break;
            }
        }
    }
    found
        .into_iter()
        .min_by(|a, b| canonical_order(vendor, &a.0, &b.0))
}

/// What to check, when the parameters do not say it.
fn hint(vendor: Vendor, expected: &Signature, received: Option<&str>, explained: bool) -> String {
    let Some(received) = received else {
        return "no sign was sent".to_owned();
    };
    if explained {
        return "the client signed its parameters otherwise than it sent them: see the first \
                difference"
            .to_owned();
    }
    let expected = expected.as_str();
    if received != expected && received.eq_ignore_ascii_case(expected) {
        return match vendor {
            Vendor::Linkv => "the sign is right but not in lowercase hex, as LinkV's is".to_owned(),
            Vendor::Polyv => "the sign is right but not in uppercase hex, as Polyv's is".to_owned(),
        };
    }
    let hex = received.bytes().all(|b| b.is_ascii_hexdigit());
    match vendor {
        Vendor::Linkv if received.len() != 32 || !hex => {
            return "a LinkV sign is an MD5: 32 lowercase hex digits".to_owned();
        }
        Vendor::Polyv if hex && received.len() == 64 && expected.len() == 32 => {
            return "the sign is 64 hex digits (SHA-256) but the request has no \
                    signatureMethod=SHA256"
                .to_owned();
        }
        Vendor::Polyv if hex && received.len() == 32 && expected.len() == 64 => {
            return "the request says signatureMethod=SHA256 but the sign is 32 hex digits (MD5)"
                .to_owned();
        }
        _ => {}
    }
    match vendor {
        Vendor::Linkv => "no single parameter explains it: the parameters were signed as \
                          received, so the secret differs (the decrypted live_app_secret of \
                          this app_id is the one that signs, not the console's app_secret), \
                          or a value changed after it was signed"
            .to_owned(),
        Vendor::Polyv => "no single parameter explains it: the query was signed as received, \
                          so the secret differs (this appId's appSecret), or a value changed \
                          after it was signed"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn owned(params: &[(&str, &str)]) -> Params {
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn signed_linkv(params: &[(&str, &str)], secret: &str) -> Params {
        let mut all = owned(params);
        let sign = linkv::sign(pairs(&all), secret).unwrap();
        all.push(("sign".into(), sign.as_str().to_owned()));
        all
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("app_id", "LM6000100000000000000042"),
            ("nonce_str", "24dcadd615637909402f4877b0"),
            ("reason", "gift box"),
            ("uid", "1291371456374120449"),
        ]
    }

    #[test]
    fn another_secret_shows_the_canonical_string_and_no_parameter() {
        let sent = signed_linkv(&base(), "another secret");
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        assert_eq!(
            refusal.canonical,
            "app_id=LM6000100000000000000042&nonce_str=24dcadd615637909402f4877b0\
             &reason=gift box&uid=1291371456374120449&key=***"
        );
        assert_eq!(
            refusal.expected,
            linkv::sign(pairs(&sent), SECRET).unwrap().as_str()
        );
        assert_eq!(refusal.received.as_deref(), Some(sent[4].1.as_str()));
        assert_eq!(refusal.first_difference, None);
        assert!(refusal.hint.contains("secret differs"), "{}", refusal.hint);
        let names: Vec<_> = refusal.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["app_id", "nonce_str", "reason", "sign", "uid"]);
        assert!(!refusal.params[3].signed && refusal.params[2].signed);
    }

    #[test]
    fn a_parameter_sent_but_not_signed_is_named() {
        // The client signed without `reason`, then sent it.
        let mut sent = signed_linkv(
            &base()
                .into_iter()
                .filter(|(k, _)| *k != "reason")
                .collect::<Vec<_>>(),
            SECRET,
        );
        sent.push(("reason".into(), "gift box".into()));
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        let difference = refusal.first_difference.unwrap();
        assert_eq!(difference.param, "reason");
        assert_eq!(difference.finding, "sent but not signed");
    }

    #[test]
    fn a_value_signed_url_encoded_is_named() {
        let mut signed = base();
        signed[2].1 = "gift%20box";
        let mut sent = signed_linkv(&signed, SECRET);
        sent[2].1 = "gift box".into();
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        let difference = refusal.first_difference.unwrap();
        assert_eq!(difference.param, "reason");
        assert!(difference.finding.contains("gift%20box"), "{difference:?}");
    }

    #[test]
    fn uppercase_hex_and_a_missing_sign_are_told() {
        let mut sent = signed_linkv(&base(), SECRET);
        sent[4].1 = sent[4].1.to_uppercase();
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        assert!(refusal.hint.contains("lowercase"), "{}", refusal.hint);
        sent.pop();
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        assert_eq!(refusal.received, None);
        assert_eq!(refusal.hint, "no sign was sent");
    }

    #[test]
    fn polyv_fields_signed_in_the_body_are_named() {
        let signed = owned(&[
            ("appId", "demo_polyv_app"),
            ("channelId", "1000001"),
            ("timestamp", "1660270926732"),
        ]);
        let sign = polyv::sign(pairs(&signed), SECRET).unwrap();
        let sent = owned(&[
            ("appId", "demo_polyv_app"),
            ("timestamp", "1660270926732"),
            ("sign", sign.as_str()),
        ]);
        let refusal = explain(
            Vendor::Polyv,
            &sent,
            br#"{"channelId":1000001,"cashMin":1}"#,
            SECRET,
        )
        .unwrap();
        assert_eq!(
            refusal.canonical,
            "***appIddemo_polyv_apptimestamp1660270926732***"
        );
        let difference = refusal.first_difference.unwrap();
        assert_eq!(difference.param, "channelId");
        assert!(difference.finding.contains("JSON body"));
    }

    #[test]
    fn a_long_canonical_string_is_kept_whole() {
        let reason = "r".repeat(400);
        let mut params = base();
        params[2].1 = &reason;
        let sent = signed_linkv(&params, "another secret");
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        assert!(
            refusal
                .canonical
                .ends_with("&uid=1291371456374120449&key=***")
        );
        assert_eq!(refusal.params[2].value.len(), MAX_VALUE);
    }

    #[test]
    fn a_long_value_is_masked_before_it_is_cut() {
        let long = format!("{}{SECRET}", "x".repeat(MAX_VALUE - 4));
        let masked = Masker::new(SECRET).mask(&long);
        assert!(masked.len() <= MAX_VALUE);
        assert!(!masked.contains(&SECRET[..4]), "{masked}");
    }

    #[test]
    fn the_secret_never_appears_even_when_sent() {
        // A client that sends its secret as a parameter, and signs with another one.
        let sent = signed_linkv(
            &[
                ("app_id", "a"),
                ("key", SECRET),
                ("nonce_str", "24dcadd615637909402f4877b0"),
            ],
            "other",
        );
        let refusal = explain(Vendor::Linkv, &sent, b"", SECRET).unwrap();
        let json = serde_json::to_string(&refusal).unwrap();
        assert!(!json.contains(SECRET), "{json}");
        assert!(json.contains("key=***"), "{json}");
    }
}
