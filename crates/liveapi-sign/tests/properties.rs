//! Algebraic properties of both signing schemes, and that no input makes them panic.
//!
//! 256 cases per property by default; set `PROPTEST_CASES` for a longer run.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liveapi_sign::{Signature, linkv, polyv};
use proptest::prelude::*;
use proptest::sample::Index;

/// Keys as the APIs use them. `sign`, `sign_type` and `signatureMethod` have special meaning
/// and are excluded here (they have their own tests); `[0-9]` keeps them apart from
/// `nonce_str` and `timestamp`, which verification adds itself.
fn key() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z_]{0,10}[0-9]"
}

/// Non-empty values from all of Unicode but `&` and `=`, which would make LinkV's canonical
/// string ambiguous by design (see the `changeGold_reason_amp_eq` vector).
fn value() -> impl Strategy<Value = String> {
    "[^&=]{1,16}"
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(key(), value(), 0..12)
}

fn secret() -> impl Strategy<Value = String> {
    "[ -~]{1,40}"
}

fn pairs(map: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

type Signer = fn(&[(&str, &str)], &str) -> Signature;

const SIGNERS: [(&str, Signer); 2] = [
    ("linkv", |p, s| linkv::sign(p.iter().copied(), s).unwrap()),
    ("polyv", |p, s| polyv::sign(p.iter().copied(), s).unwrap()),
];

/// A time at which nonces and timestamps have the vendors' digit counts.
fn now() -> impl Strategy<Value = SystemTime> {
    (1_000_000_000u64..9_999_999_000).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Replaces the character at `at` (counted in chars) with `with`, if that changes the text.
fn replace_char(text: &str, at: Index, with: char) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let i = at.index(chars.len());
    (chars[i] != with).then(|| {
        let mut out: String = chars[..i].iter().collect();
        out.push(with);
        out.extend(&chars[i + 1..]);
        out
    })
}

/// Signed LinkV request parameters, `sign` included.
fn linkv_request(
    map: &BTreeMap<String, String>,
    secret: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    let nonce = linkv::Nonce::generate(now, |b| b.fill(9)).unwrap();
    let mut params: Vec<(String, String)> = map.clone().into_iter().collect();
    params.push(("nonce_str".into(), nonce.to_string()));
    let sign = linkv::sign(params.iter().map(|(k, v)| (k, v)), secret).unwrap();
    params.push(("sign".into(), sign.to_string()));
    params
}

/// Signed Polyv query parameters, `sign` included.
fn polyv_request(
    map: &BTreeMap<String, String>,
    secret: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = map.clone().into_iter().collect();
    params.push((
        "timestamp".into(),
        polyv::timestamp(now).unwrap().to_string(),
    ));
    let sign = polyv::sign(params.iter().map(|(k, v)| (k, v)), secret).unwrap();
    params.push(("sign".into(), sign.to_string()));
    params
}

fn mutate(
    params: &[(String, String)],
    which: Index,
    in_key: bool,
    at: Index,
    with: char,
) -> Option<Vec<(String, String)>> {
    let mut out = params.to_vec();
    let (k, v) = &mut out[which.index(params.len())];
    let target = if in_key { k } else { v };
    // Key characters stay within what a key can hold on the wire.
    if in_key && !with.is_ascii_alphanumeric() {
        return None;
    }
    *target = replace_char(target, at, with)?;
    Some(out)
}

proptest! {
    #[test]
    fn sign_is_independent_of_input_order(map in params(), secret in secret(), seed in any::<u64>()) {
        let mut shuffled = pairs(&map);
        // A deterministic shuffle driven by the generated seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for (name, sign) in SIGNERS {
            prop_assert_eq!(sign(&pairs(&map), &secret), sign(&shuffled, &secret), "{}", name);
        }
    }

    #[test]
    fn an_empty_value_is_the_same_as_no_value(map in params(), extra in key(), secret in secret()) {
        prop_assume!(!map.contains_key(&extra));
        let mut with_empty = pairs(&map);
        with_empty.push((&extra, ""));
        for (name, sign) in SIGNERS {
            prop_assert_eq!(sign(&pairs(&map), &secret), sign(&with_empty, &secret), "{}", name);
        }
    }

    #[test]
    fn changing_a_value_or_the_secret_changes_the_sign(
        map in params(),
        secret in secret(),
        which in any::<Index>(),
        new_value in value(),
        other_secret in secret(),
    ) {
        for (name, sign) in SIGNERS {
            let original = sign(&pairs(&map), &secret);
            if secret != other_secret {
                prop_assert_ne!(original, sign(&pairs(&map), &other_secret), "{}", name);
            }
            if map.is_empty() { continue; }
            let mut changed = pairs(&map);
            let slot = which.index(changed.len());
            prop_assume!(changed[slot].1 != new_value);
            changed[slot].1 = &new_value;
            prop_assert_ne!(original, sign(&changed, &secret), "{}", name);
        }
    }

    #[test]
    fn linkv_verifies_its_own_sign_and_nothing_else(
        map in params(),
        secret in secret(),
        now in now(),
        which in any::<Index>(),
        in_key in any::<bool>(),
        at in any::<Index>(),
        with in any::<char>(),
    ) {
        let request = linkv_request(&map, &secret, now);
        prop_assert_eq!(linkv::verify(request.clone(), &secret, now, linkv::DEFAULT_WINDOW), Ok(()));
        if let Some(changed) = mutate(&request, which, in_key, at, with) {
            prop_assert!(linkv::verify(changed, &secret, now, linkv::DEFAULT_WINDOW).is_err());
        }
    }

    #[test]
    fn polyv_verifies_its_own_sign_and_nothing_else(
        map in params(),
        secret in secret(),
        now in now(),
        which in any::<Index>(),
        in_key in any::<bool>(),
        at in any::<Index>(),
        with in any::<char>(),
    ) {
        let request = polyv_request(&map, &secret, now);
        prop_assert_eq!(polyv::verify(request.clone(), &secret, now, polyv::DEFAULT_WINDOW), Ok(()));
        if let Some(changed) = mutate(&request, which, in_key, at, with) {
            prop_assert!(polyv::verify(changed, &secret, now, polyv::DEFAULT_WINDOW).is_err());
        }
    }

    #[test]
    fn nonce_round_trips_its_timestamp(secs in 1_000_000_000u64..=9_999_999_999, byte in 0u8..248) {
        let now = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(999);
        let nonce = linkv::Nonce::generate(now, |b| b.fill(byte)).unwrap();
        prop_assert_eq!(nonce.timestamp(), Duration::from_secs(secs));
        let parsed: linkv::Nonce = nonce.as_str().parse().unwrap();
        prop_assert_eq!(parsed, nonce);
        prop_assert!(nonce.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn polyv_timestamp_round_trips(millis in 1_000_000_000_000u64..=9_999_999_999_999) {
        let ts = polyv::timestamp(UNIX_EPOCH + Duration::from_millis(millis)).unwrap();
        prop_assert_eq!(polyv::parse_timestamp(ts.as_str()), Ok(Duration::from_millis(millis)));
    }

    #[test]
    fn no_input_panics(
        raw in prop::collection::vec((".{0,12}", ".{0,24}"), 0..40),
        secret in ".{0,24}",
        text in ".{0,40}",
        secs in any::<u64>(),
        window in any::<u64>(),
    ) {
        let now = UNIX_EPOCH.checked_add(Duration::from_secs(secs)).unwrap_or(UNIX_EPOCH);
        let window = Duration::from_secs(window);
        let p = || raw.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let _ = linkv::sign(p(), &secret);
        let _ = linkv::canonical_string(p(), &secret).map(|c| c.to_string());
        let _ = linkv::verify(p(), &secret, now, window);
        let _ = polyv::sign(p(), &secret);
        let _ = polyv::canonical_string(p(), &secret).map(|c| (c.to_string(), c.params().len()));
        let _ = polyv::verify(p(), &secret, now, window);
        let _ = text.parse::<Signature>();
        let _ = text.parse::<linkv::Nonce>();
        let _ = polyv::parse_timestamp(&text);
        let _ = linkv::check_nonce(&text, now, window);
        let _ = polyv::check_timestamp(&text, now, window);
        let _ = linkv::Nonce::generate(now, |b| b.fill(secs as u8));
        let _ = polyv::timestamp(now);
    }
}
