//! Requests shaped exactly as the vendor's official SDKs send them in production, sent by a
//! hand-written client over a plain socket and signed as those SDKs sign (with an MD5 of this
//! test's own). The real server accepts all of them, so the emulator must
//! (`docs/linkv.md#what-the-official-sdks-send`):
//!
//! - `request_id` = `live_app_key` without its first two characters, `-`, 9 random characters:
//!   32 characters with a real key (Go, Python), sometimes 31 (Node);
//! - `expriation` as a float's text (`1796343222.0`, Python), built by string concatenation
//!   (`1796084294259200`, Node), or left out of a removal (Go, Python);
//! - `getUserTokens` as a GET with the parameters in the query (Go, Python);
//! - empty values signed as `k=` (Go, Python); the number `0` left unsigned (Node).

mod common;

use std::time::SystemTime;

use common::*;
use liveapi_emulator::{ClockStart, DEMO_LINKV_APP_KEY, Emulator, RunningEmulator};
use md5::{Digest, Md5};

const T0: u64 = 1_700_000_000;

/// How an official SDK builds the string it signs.
#[derive(Clone, Copy, Debug)]
enum Sdk {
    /// Go and Python: every parameter, empty ones as `k=`.
    GoPython,
    /// Node: UTF-16 order (the byte order, for these ASCII keys), the number 0 left out.
    Node,
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `params` with `app_id`, a nonce for `now` and the signature the SDK would compute.
fn signed(
    sdk: Sdk,
    params: &[(&str, &str)],
    secret: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    let nonce = liveapi_sign::linkv::Nonce::generate(now, |buf| buf.fill(b'a')).unwrap();
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.push(("app_id".into(), DEMO_LINKV_APP_KEY.into()));
    all.push(("nonce_str".into(), nonce.to_string()));
    let mut sorted = all.clone();
    sorted.sort();
    let signed: Vec<String> = sorted
        .iter()
        .filter(|(_, v)| match sdk {
            Sdk::GoPython => true,
            Sdk::Node => !v.is_empty() && v != "0",
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let sign = md5_hex(&format!("{}&key={secret}", signed.join("&")));
    all.push(("sign".into(), sign));
    all
}

fn form(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// POSTs the form as the SDKs do and answers the parsed body, checking it is a success.
async fn post(emu: &RunningEmulator, path: &str, params: &[(String, String)]) -> serde_json::Value {
    let reply = send(
        emu.addr(),
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form(params).as_bytes(),
    )
    .await
    .reply();
    success(reply)
}

fn success(reply: Reply) -> serde_json::Value {
    let json = reply.json();
    assert_eq!(
        (reply.status, &json["status"]),
        (200, &serde_json::json!("200")),
        "{json}"
    );
    json
}

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .start()
        .await
        .unwrap()
}

/// The request id the Go and Python SDKs build: the key without `LM`, `-`, 9 random.
fn go_request_id(random: &str) -> String {
    assert_eq!(random.len(), 9);
    format!("{}-{random}", &DEMO_LINKV_APP_KEY[2..])
}

#[tokio::test]
async fn every_production_sdk_shape_is_accepted() {
    let emu = emulator().await;
    let secret = emu.linkv_app().app_secret.clone();
    let now = emu.clock().now();

    // Go registers a user, signing the empty `email` it sends as `email=`.
    let register = signed(
        Sdk::GoPython,
        &[
            ("userId", "go-user"),
            ("aid", "device 7/a"),
            ("name", "Go User"),
            ("portraitUri", "https://cdn.example.com/g.png"),
            ("email", ""),
            ("countryCode", "us"),
        ],
        &secret,
        now,
    );
    let answer = post(&emu, "/open/v0/thGetToken", &register).await;
    let uid = answer["data"]["openId"].as_str().unwrap().to_owned();

    // Node logs in with `sex: 0`, a number it leaves out of what it signs.
    let login = signed(
        Sdk::Node,
        &[("userId", "go-user"), ("sex", "0")],
        &secret,
        now,
    );
    post(&emu, "/open/v0/thGetToken", &login).await;

    // Python completes an order with a 32-character id and a float expiry.
    let python_id = go_request_id("Ab3dE5gH7");
    assert_eq!(python_id.len(), 32);
    let order = [
        ("uid", uid.as_str()),
        ("request_id", python_id.as_str()),
        ("type", "1"),
        ("value", "100"),
        ("order_id", "GPA.3301-4452-1234-56789"),
        ("expriation", "1796343222.0"),
        ("money", "199"),
        ("channel", "demo"),
        ("platform", "android"),
    ];
    let answer = post(
        &emu,
        "/open/finanv0/orderSuccess",
        &signed(Sdk::GoPython, &order, &secret, now),
    )
    .await;
    assert_eq!(answer["data"]["tokens"], "100");
    // Its retry carries the same float: answered from the idempotency store.
    let answer = post(
        &emu,
        "/open/finanv0/orderSuccess",
        &signed(Sdk::GoPython, &order, &secret, now),
    )
    .await;
    assert_eq!(answer["data"]["tokens"], "100");

    // Node credits with a 31-character id and a string-concatenated expiry.
    let node_id = format!("{}-Zz9yX8wV", &DEMO_LINKV_APP_KEY[2..]);
    assert_eq!(node_id.len(), 31);
    let credit = [
        ("uid", uid.as_str()),
        ("request_id", node_id.as_str()),
        ("type", "1"),
        ("value", "7"),
        ("expriation", "1796084294259200"),
    ];
    post(
        &emu,
        "/open/finanv0/changeGold",
        &signed(Sdk::Node, &credit, &secret, now),
    )
    .await;

    // Go removes coins without an expiry, with an empty reason signed as `reason=`.
    let removal_id = go_request_id("Qw3rTy7U9");
    let removal = [
        ("uid", uid.as_str()),
        ("request_id", removal_id.as_str()),
        ("type", "2"),
        ("value", "30"),
        ("reason", ""),
    ];
    post(
        &emu,
        "/open/finanv0/changeGold",
        &signed(Sdk::GoPython, &removal, &secret, now),
    )
    .await;

    // Python refunds part of an order the same way: a removal without an expiry.
    let refund_id = go_request_id("Rf4nD0000");
    let refund = [
        ("uid", uid.as_str()),
        ("request_id", refund_id.as_str()),
        ("type", "2"),
        ("value", "7"),
        ("order_id", "GPA.3301-4452-1234-00000"),
        ("money", "199"),
        ("channel", "demo"),
        ("platform", "android"),
    ];
    let answer = post(
        &emu,
        "/open/finanv0/orderSuccess",
        &signed(Sdk::GoPython, &refund, &secret, now),
    )
    .await;
    assert_eq!(answer["data"]["tokens"], "70");

    // Go and Python read the balance with a GET and the parameters in the query.
    let query = form(&signed(
        Sdk::GoPython,
        &[("uid", uid.as_str())],
        &secret,
        now,
    ));
    let reply = send(
        emu.addr(),
        "GET",
        &format!("/open/finanv0/getUserTokens?{query}"),
        &[],
        b"",
    )
    .await
    .reply();
    assert_eq!(success(reply)["data"]["tokens"], "70");

    // Four changes were applied, each once, under the SDKs' ids.
    let journal = emu.journal();
    let ids: Vec<&str> = journal.iter().map(|c| c.request_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            python_id.as_str(),
            node_id.as_str(),
            removal_id.as_str(),
            refund_id.as_str()
        ]
    );
    assert_eq!(journal[0].expiration, Some(1_796_343_222));
    assert_eq!(journal[1].expiration, Some(1_796_084_294_259_200));
    assert_eq!(journal[2].expiration, None);
}

/// The same float expiry written as an integer is the same request: a retry from another SDK
/// (or this one) with the id is answered, not refused as a different request.
#[tokio::test]
async fn a_float_expiry_and_its_integer_are_the_same_request() {
    let emu = emulator().await;
    let secret = emu.linkv_app().app_secret.clone();
    let now = emu.clock().now();
    let uid = register(&emu, "same").await;
    let id = go_request_id("Sm3Rq1d00");
    for expriation in ["1796343222.0", "1796343222", "1796343222.000"] {
        let params = [
            ("uid", uid.as_str()),
            ("request_id", id.as_str()),
            ("type", "1"),
            ("value", "5"),
            ("expriation", expriation),
        ];
        post(
            &emu,
            "/open/finanv0/changeGold",
            &signed(Sdk::GoPython, &params, &secret, now),
        )
        .await;
    }
    assert_eq!(emu.journal().len(), 1);
    assert_eq!(balance(&emu, &uid).await, 5);
}

/// What the server's integer cast does not take stays a parameter error, as does a credit
/// without an expiry.
#[tokio::test]
async fn other_expiries_are_still_param_errors() {
    let emu = emulator().await;
    let secret = emu.linkv_app().app_secret.clone();
    let now = emu.clock().now();
    let uid = register(&emu, "strict").await;
    for (n, expriation) in ["1796343222.5", "1.8e9", "-1", "soon", ""]
        .into_iter()
        .enumerate()
    {
        let id = go_request_id(&format!("Bad000{n:03}"));
        let params = [
            ("uid", uid.as_str()),
            ("request_id", id.as_str()),
            ("type", "1"),
            ("value", "5"),
            ("expriation", expriation),
        ];
        let reply = send(
            emu.addr(),
            "POST",
            "/open/finanv0/changeGold",
            &[],
            form(&signed(Sdk::GoPython, &params, &secret, now)).as_bytes(),
        )
        .await
        .reply();
        assert_eq!(reply.api_status(), 400, "{expriation}");
        assert!(
            reply.message().starts_with("param err: expriation"),
            "{expriation}: {}",
            reply.message()
        );
    }
    assert!(emu.journal().is_empty());
}

/// A removal's expiry means nothing, so a resend that adds or drops it (this SDK sends one, Go
/// and Python do not) is the same request, answered from the idempotency store.
#[tokio::test]
async fn a_removal_is_the_same_request_with_or_without_an_expiry() {
    let emu = emulator().await;
    let secret = emu.linkv_app().app_secret.clone();
    let now = emu.clock().now();
    let uid = register(&emu, "remover").await;
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(1), 10),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    let id = go_request_id("R3m0v3000");
    let removal = |expriation: Option<&'static str>| {
        let mut params = vec![
            ("uid", uid.as_str()),
            ("request_id", id.as_str()),
            ("type", "2"),
            ("value", "4"),
        ];
        params.extend(expriation.map(|e| ("expriation", e)));
        signed(Sdk::GoPython, &params, &secret, now)
    };
    post(&emu, "/open/finanv0/changeGold", &removal(None)).await;
    post(
        &emu,
        "/open/finanv0/changeGold",
        &removal(Some("1796343222")),
    )
    .await;
    assert_eq!(balance(&emu, &uid).await, 6);
    assert_eq!(emu.journal().len(), 2);
}
