//! The public sign vectors, checked stage by stage: canonical string first, then signature,
//! so a failure says which stage broke. The JSON files are copies kept with the crate.

use std::time::{Duration, UNIX_EPOCH};

use liveapi_sign::{SignError, VerifyError, linkv, polyv};
use serde_json::Value;

struct Vector {
    name: String,
    params: Vec<(String, String)>,
    secret: String,
    expected_string: String,
    expected_sign: String,
    method: String,
}

fn load(json: &str, string_field: &str) -> Vec<Vector> {
    let doc: Value = serde_json::from_str(json).expect("vector file is JSON");
    doc["vectors"]
        .as_array()
        .expect("vectors array")
        .iter()
        .map(|v| {
            let params = v["params"]
                .as_object()
                .expect("params object")
                .iter()
                // `null` means the caller has no value: it is not passed at all.
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect();
            Vector {
                name: v["name"].as_str().expect("name").to_owned(),
                params,
                secret: v["secret"].as_str().expect("secret").to_owned(),
                expected_string: v[string_field]
                    .as_str()
                    .expect("expected string")
                    .to_owned(),
                expected_sign: v["expected_sign"].as_str().expect("sign").to_owned(),
                method: v["method"].as_str().unwrap_or("MD5").to_owned(),
            }
        })
        .collect()
}

fn pairs(v: &Vector) -> impl Iterator<Item = (&str, &str)> + Clone {
    v.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

#[test]
fn linkv_vectors() {
    let vectors = load(
        include_str!("data/linkv-sign.json"),
        "expected_string_to_sign",
    );
    assert_eq!(vectors.len(), 13);
    for v in &vectors {
        let canonical = linkv::canonical_string(pairs(v), &v.secret).unwrap();
        assert_eq!(
            canonical.expose_secret(),
            v.expected_string,
            "{}: string",
            v.name
        );
        assert!(
            !canonical.to_string().contains(&v.secret),
            "{}: printed canonical string shows the secret",
            v.name
        );
        let sign = linkv::sign(pairs(v), &v.secret).unwrap();
        assert_eq!(sign.as_str(), v.expected_sign, "{}: sign", v.name);
    }
}

#[test]
fn linkv_vectors_verify_with_their_sign() {
    let vectors = load(
        include_str!("data/linkv-sign.json"),
        "expected_string_to_sign",
    );
    for v in vectors
        .iter()
        .filter(|v| v.params.iter().any(|(k, _)| k == "nonce_str"))
    {
        let nonce: linkv::Nonce = v
            .params
            .iter()
            .find(|(k, _)| k == "nonce_str")
            .map(|(_, n)| n.parse().unwrap())
            .unwrap();
        let now = UNIX_EPOCH + nonce.timestamp() + Duration::from_secs(30);
        let with_sign = pairs(v)
            .filter(|(k, _)| *k != "sign")
            .chain([("sign", v.expected_sign.as_str())]);
        assert_eq!(
            linkv::verify(with_sign.clone(), &v.secret, now, linkv::DEFAULT_WINDOW),
            Ok(()),
            "{}",
            v.name
        );
        let late = now + linkv::DEFAULT_WINDOW;
        assert!(
            matches!(
                linkv::verify(with_sign, &v.secret, late, linkv::DEFAULT_WINDOW),
                Err(VerifyError::Stale { .. })
            ),
            "{}",
            v.name
        );
    }
}

#[test]
fn polyv_vectors() {
    let vectors = load(include_str!("data/polyv-sign.json"), "expected_concat");
    assert_eq!(vectors.len(), 14);
    for v in &vectors {
        let canonical = polyv::canonical_string(pairs(v), &v.secret).unwrap();
        assert_eq!(canonical.params(), v.expected_string, "{}: concat", v.name);
        assert_eq!(
            canonical.expose_secret(),
            format!("{}{}{}", v.secret, v.expected_string, v.secret),
            "{}: wrapped",
            v.name
        );
        let result = polyv::sign(pairs(v), &v.secret);
        if v.method == "SHA256" && cfg!(not(feature = "sha256")) {
            assert_eq!(result, Err(SignError::Sha256Disabled), "{}", v.name);
            continue;
        }
        assert_eq!(
            result.unwrap().as_str(),
            v.expected_sign,
            "{}: sign",
            v.name
        );
    }
}

#[test]
fn polyv_vectors_verify_with_their_sign() {
    let vectors = load(include_str!("data/polyv-sign.json"), "expected_concat");
    for v in &vectors {
        if v.method == "SHA256" && cfg!(not(feature = "sha256")) {
            continue;
        }
        let ts = pairs(v).find(|(k, _)| *k == "timestamp").unwrap().1;
        let now = UNIX_EPOCH + polyv::parse_timestamp(ts).unwrap();
        let with_sign = pairs(v)
            .filter(|(k, _)| !k.eq_ignore_ascii_case("sign"))
            .chain([("sign", v.expected_sign.as_str())]);
        assert_eq!(
            polyv::verify(with_sign, &v.secret, now, polyv::DEFAULT_WINDOW),
            Ok(()),
            "{}",
            v.name
        );
    }
}
