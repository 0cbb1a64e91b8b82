//! Signing and verifying with `liveapi-sign` alone, for a back-end that builds its own HTTP
//! requests or a server that checks incoming ones.
//!
//! The crate does no IO and has no clock or random generator of its own: the time and the
//! random bytes come from here (the system clock and the OS CSPRNG through `getrandom`).
//!
//! ```sh
//! cargo run --example sign_only
//! ```

use std::time::{Duration, SystemTime};

use liveapi_sign::{VerifyError, linkv, polyv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemTime::now();

    // LinkV: a balance query. The nonce carries the time; the server allows five minutes.
    let mut randomness_failed = None;
    let nonce = linkv::Nonce::generate(now, |buf| {
        if let Err(e) = getrandom::fill(buf) {
            randomness_failed = Some(e);
        }
    })?;
    if let Some(e) = randomness_failed {
        return Err(format!("no randomness for the nonce: {e}").into());
    }
    let secret = "demo_app_secret";
    let mut params = vec![
        ("app_id", "LM6000100000000000000042"),
        ("nonce_str", nonce.as_str()),
        ("uid", "1291371456374120449"),
    ];
    let sign = linkv::sign(params.iter().copied(), secret)?;
    println!(
        "LinkV signs   {}",
        linkv::canonical_string(params.iter().copied(), secret)?
    );
    println!("LinkV sign  = {sign}");
    params.push(("sign", sign.as_str()));

    // What the server does with the form it receives.
    linkv::verify(params.iter().copied(), secret, now, linkv::DEFAULT_WINDOW)?;
    println!("LinkV: the server accepts it");
    let later = now + Duration::from_secs(301);
    match linkv::verify(params.iter().copied(), secret, later, linkv::DEFAULT_WINDOW) {
        Err(VerifyError::Stale { .. }) => {
            println!("LinkV: five minutes later it is refused as stale")
        }
        other => return Err(format!("a stale nonce should be refused, got {other:?}").into()),
    }

    // Polyv: the signed query of donate/get for one channel. The JSON body of an update is
    // never signed, and channelId belongs in this query, not in the body.
    let timestamp = polyv::timestamp(now)?;
    let secret = "demo_polyv_secret";
    let mut query = vec![
        ("appId", "demo_polyv_app"),
        ("timestamp", timestamp.as_str()),
        ("channelId", "1000001"),
    ];
    let sign = polyv::sign(query.iter().copied(), secret)?;
    println!(
        "Polyv signs   {}",
        polyv::canonical_string(query.iter().copied(), secret)?
    );
    println!("Polyv sign  = {sign}");
    query.push(("sign", sign.as_str()));
    polyv::verify(query.iter().copied(), secret, now, polyv::DEFAULT_WINDOW)?;
    println!("Polyv: the server accepts it");

    // One changed character anywhere and the signature no longer matches.
    query[2] = ("channelId", "1000002");
    match polyv::verify(query.iter().copied(), secret, now, polyv::DEFAULT_WINDOW) {
        Err(VerifyError::Mismatch) => println!("Polyv: another channel id, and it is refused"),
        other => return Err(format!("a changed query should be refused, got {other:?}").into()),
    }
    Ok(())
}
