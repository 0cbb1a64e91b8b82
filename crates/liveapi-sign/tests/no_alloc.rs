//! Signing up to 32 parameters never touches the heap.
//!
//! `allocation-counter`, as a dev-dependency, is the global allocator of this test binary and
//! counts allocations per thread, so other tests running at the same time do not interfere.

use liveapi_sign::{INLINE_PARAMS, linkv, polyv};

fn keys() -> Vec<String> {
    (0..=INLINE_PARAMS)
        .map(|i| format!("param_{i:02}"))
        .collect()
}

#[test]
fn the_counter_is_live() {
    // Guards against a test that cannot fail: the counter must see a real allocation.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn signing_32_params_does_not_allocate() {
    let keys = keys();
    let params: Vec<(&str, &str)> = keys[..INLINE_PARAMS]
        .iter()
        .map(|k| (k.as_str(), "value with 中文 and spaces"))
        .rev()
        .collect();
    let secret = "0123456789abcdef0123456789abcdef";
    let info = allocation_counter::measure(|| {
        let l = linkv::sign(params.iter().copied(), secret).unwrap();
        let p = polyv::sign(params.iter().copied(), secret).unwrap();
        std::hint::black_box((l, p));
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn nonce_and_timestamp_do_not_allocate() {
    use std::time::{Duration, UNIX_EPOCH};
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let info = allocation_counter::measure(|| {
        let nonce = linkv::Nonce::generate(now, |b| b.fill(3)).unwrap();
        let ts = polyv::timestamp(now).unwrap();
        std::hint::black_box((nonce, ts));
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn verifying_32_params_does_not_allocate() {
    use std::time::{Duration, UNIX_EPOCH};
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let window = Duration::from_secs(300);
    let secret = "0123456789abcdef0123456789abcdef";
    let nonce = linkv::Nonce::generate(now, |b| b.fill(3)).unwrap();
    let ts = polyv::timestamp(now).unwrap();
    let keys = keys();
    let mut linkv_params: Vec<(&str, &str)> = keys[..INLINE_PARAMS - 2]
        .iter()
        .map(|k| (k.as_str(), "v"))
        .collect();
    linkv_params.push(("nonce_str", nonce.as_str()));
    let mut polyv_params = linkv_params.clone();
    polyv_params[INLINE_PARAMS - 3] = ("timestamp", ts.as_str());
    let linkv_sign = linkv::sign(linkv_params.iter().copied(), secret).unwrap();
    let polyv_sign = polyv::sign(polyv_params.iter().copied(), secret).unwrap();
    linkv_params.push(("sign", linkv_sign.as_str()));
    polyv_params.push(("sign", polyv_sign.as_str()));
    let mut outcome = None;
    let info = allocation_counter::measure(|| {
        let l = linkv::verify(linkv_params.iter().copied(), secret, now, window);
        let p = polyv::verify(polyv_params.iter().copied(), secret, now, window);
        let m = linkv_sign.matches(linkv_sign.as_str());
        outcome = Some(std::hint::black_box((l, p, m)));
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // What was measured is the accepting path, not an early rejection.
    assert_eq!(outcome, Some((Ok(()), Ok(()), true)));
}

#[test]
fn more_than_32_params_still_sign_correctly() {
    let keys = keys();
    let params: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
    let mut reversed = params.clone();
    reversed.reverse();
    assert_eq!(
        linkv::sign(params.iter().copied(), "s").unwrap(),
        linkv::sign(reversed.iter().copied(), "s").unwrap()
    );
}
