//! Signing and verifying against the floor: MD5 of the already-built canonical string.
//!
//! Each group holds the vendor's `sign`, its `verify`, and `md5_floor`, the digest alone over
//! the exact bytes `sign` hashes (built once, outside the timed loop). `sign` costs the floor
//! plus sorting the parameters, feeding the pieces and hex-encoding; the goal is to stay
//! within 1.5× of the floor. `md5_pieces` hashes the same bytes fed the way `sign` feeds them
//! (key, `=`, value, `&`, … one `update` each, already sorted), to show how much of the gap
//! is the streaming rather than the sorting.
//!
//! ```sh
//! cargo bench -p liveapi-sign --bench sign -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use liveapi_sign::{linkv, polyv};
use md5::{Digest, Md5};

const LINKV_SECRET: &str = "0123456789abcdef0123456789abcdef";
const POLYV_SECRET: &str = "fsq2k5weced1h8vui657xtdva66whf0g";

/// The time every parameter set is built for.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_600_000_000_123)
}

/// `orderSuccess` as the SDK sends it: a credit of 100 coins for a $1.99 iOS order, in the
/// order a caller would list the fields (unsorted).
fn order_success(nonce: &str) -> [(&'static str, &str); 11] {
    [
        ("app_id", "LM6000101140927991745433"),
        ("nonce_str", nonce),
        ("uid", "1291371456374120449"),
        ("request_id", "6000101140927991745433-Ab3dE5gH7"),
        ("type", "1"),
        ("value", "100"),
        ("order_id", "ORD-2020-0001"),
        ("expriation", "1607862400"),
        ("money", "199"),
        ("channel", "myalias"),
        ("platform", "ios"),
    ]
}

/// The query of `donate/update-cash` for one channel.
fn update_cash(timestamp: &str) -> [(&'static str, &str); 3] {
    [
        ("appId", "frlr1zazn3"),
        ("timestamp", timestamp),
        ("channelId", "2149710"),
    ]
}

/// MD5 of the canonical text, without hex: the least any signer must do.
fn md5(text: &[u8]) -> [u8; 16] {
    Md5::digest(text).into()
}

/// MD5 of the text fed in `pieces`, one `update` per piece, as the signers stream it.
fn md5_pieces(pieces: &[&str]) -> [u8; 16] {
    let mut md5 = Md5::new();
    for piece in pieces {
        md5.update(piece.as_bytes());
    }
    md5.finalize().into()
}

/// LinkV's canonical pieces, sorted: `k1`, `=`, `v1`, `&`, `k2`, …, `&key=`, secret.
fn linkv_pieces<'a>(params: &[(&'a str, &'a str)], secret: &'a str) -> Vec<&'a str> {
    let mut sorted = params.to_vec();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut pieces = Vec::new();
    for (i, (key, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            pieces.push("&");
        }
        pieces.extend([key, "=", value]);
    }
    pieces.extend(["&key=", secret]);
    pieces
}

/// Polyv's canonical pieces, sorted: secret, `k1`, `v1`, `k2`, …, secret.
fn polyv_pieces<'a>(params: &[(&'a str, &'a str)], secret: &'a str) -> Vec<&'a str> {
    let mut sorted = params.to_vec();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut pieces = vec![secret];
    for (key, value) in sorted {
        pieces.extend([key, value]);
    }
    pieces.push(secret);
    pieces
}

/// Lowercase hex, to check the floor hashes the same bytes as `sign` (outside the timing).
fn hex_of(digest: [u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn linkv_order_success(c: &mut Criterion) {
    let nonce = linkv::Nonce::generate(now(), |buf| buf.fill(7)).expect("a nonce for 2020");
    let params = order_success(nonce.as_str());
    let canonical = linkv::canonical_string(params, LINKV_SECRET).expect("unique keys");
    let text = canonical.expose_secret().as_bytes();
    let sign = linkv::sign(params, LINKV_SECRET).expect("unique keys");
    // The floor must hash what `sign` hashes, or the ratio means nothing.
    assert_eq!(hex_of(md5(text)), sign.as_str());
    let pieces = linkv_pieces(&params, LINKV_SECRET);
    assert_eq!(md5_pieces(&pieces), md5(text));
    let mut received = params.to_vec();
    received.push(("sign", sign.as_str()));
    let at = now() + Duration::from_secs(1);

    let mut group = c.benchmark_group("linkv/orderSuccess");
    group.bench_function("sign", |b| {
        b.iter(|| linkv::sign(black_box(params), black_box(LINKV_SECRET)))
    });
    group.bench_function("md5_floor", |b| b.iter(|| md5(black_box(text))));
    group.bench_function("md5_pieces", |b| b.iter(|| md5_pieces(black_box(&pieces))));
    group.bench_function("verify", |b| {
        b.iter(|| {
            linkv::verify(
                black_box(received.iter().copied()),
                black_box(LINKV_SECRET),
                at,
                linkv::DEFAULT_WINDOW,
            )
        })
    });
    group.finish();
}

fn polyv_update_cash(c: &mut Criterion) {
    let timestamp = polyv::timestamp(now()).expect("a timestamp for 2020");
    let params = update_cash(timestamp.as_str());
    let canonical = polyv::canonical_string(params, POLYV_SECRET).expect("unique keys");
    let text = canonical.expose_secret().as_bytes();
    let sign = polyv::sign(params, POLYV_SECRET).expect("unique keys");
    assert_eq!(hex_of(md5(text)).to_ascii_uppercase(), sign.as_str());
    let pieces = polyv_pieces(&params, POLYV_SECRET);
    assert_eq!(md5_pieces(&pieces), md5(text));
    let mut received = params.to_vec();
    received.push(("sign", sign.as_str()));
    let at = now() + Duration::from_secs(1);

    let mut group = c.benchmark_group("polyv/update-cash");
    group.bench_function("sign", |b| {
        b.iter(|| polyv::sign(black_box(params), black_box(POLYV_SECRET)))
    });
    group.bench_function("md5_floor", |b| b.iter(|| md5(black_box(text))));
    group.bench_function("md5_pieces", |b| b.iter(|| md5_pieces(black_box(&pieces))));
    group.bench_function("verify", |b| {
        b.iter(|| {
            polyv::verify(
                black_box(received.iter().copied()),
                black_box(POLYV_SECRET),
                at,
                polyv::DEFAULT_WINDOW,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, linkv_order_success, polyv_update_cash);
criterion_main!(benches);
