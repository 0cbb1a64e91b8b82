//! The dashboard's page, files and views over HTTP, and the routes it added (a reset of the
//! books, lifting bans); the page in a real browser is `dashboard_browser.rs`.

mod common;

use std::time::Duration;

use common::*;
use liveapi_emulator::{
    DEMO_LINKV_APP_SECRET, DEMO_POLYV_SECRET, Emulator, IpRateLimit, LinkvApp, PolyvApp,
    RunningEmulator,
};
use liveapi_model::linkv::GetUserTokens;
use liveapi_model::polyv::{CashSettings, Cashes, ChannelId, GetDonate, Scope, UpdateCash};
use liveapi_request::LinkvCredentials;
use serde_json::{Value, json};

const LINKV_SECRET: &str = "configured-linkv-secret-5f0c9e";
const POLYV_SECRET: &str = "configured-polyv-secret-a81d27";

async fn get(emu: &RunningEmulator, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(emu.addr(), "GET", path, headers, b"").await.reply()
}

async fn view(emu: &RunningEmulator, path: &str) -> Value {
    let reply = get(emu, path, &[]).await;
    assert_eq!(
        reply.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

async fn call_route(emu: &RunningEmulator, method: &str, path: &str) -> Reply {
    send(emu.addr(), method, path, &[], b"").await.reply()
}

fn configured_linkv() -> LinkvApp {
    LinkvApp::new("LM6000100000000000000777", LINKV_SECRET, "shop")
}

fn configured_polyv() -> PolyvApp {
    PolyvApp::new("configured_polyv_app", POLYV_SECRET, [2_000_001])
}

fn wrong_creds(emu: &RunningEmulator) -> LinkvCredentials {
    let app = emu.linkv_app();
    LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret("not-the-secret")
        .alias(&app.alias)
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

fn channel(id: u64) -> Scope {
    Scope::Channel(ChannelId::new(id).unwrap())
}

#[tokio::test]
async fn browsers_get_the_page_and_everyone_else_the_list_of_routes() {
    let emu = start().await;
    let browser = [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    for path in ["/_emulator/", "/_emulator", "/_emulator/dashboard"] {
        let page = get(&emu, path, &browser).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = String::from_utf8(page.body.clone()).unwrap();
        assert!(html.contains("<title>liveapi emulator</title>"), "{path}");
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    }
    // The page whatever the Accept at its own path; the JSON list of routes elsewhere, as before.
    let plain = get(&emu, "/_emulator/dashboard", &[]).await;
    assert!(String::from_utf8_lossy(&plain.body).contains("<!doctype html>"));
    for path in ["/_emulator", "/_emulator/"] {
        let list = view(&emu, path).await;
        let routes: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["route"].as_str().unwrap())
            .collect();
        for route in [
            "GET /_emulator/health",
            "POST /_emulator/reset",
            "DELETE /_emulator/rate-limit/bans?ip=IP",
            "GET /_emulator/dashboard",
            "GET /_emulator/dashboard/overview",
        ] {
            assert!(routes.contains(&route), "{route} in {routes:?}");
        }
    }
    // The files it loads are built in, with their types; none names another origin.
    for (path, content_type) in [
        (
            "/_emulator/dashboard/app.js",
            "text/javascript; charset=utf-8",
        ),
        ("/_emulator/dashboard/style.css", "text/css; charset=utf-8"),
        ("/_emulator/dashboard", "text/html; charset=utf-8"),
    ] {
        let file = get(&emu, path, &[]).await;
        assert_eq!(file.status, 200, "{path}");
        assert_eq!(file.header("content-type"), Some(content_type), "{path}");
        let text = String::from_utf8(file.body).unwrap();
        for external in ["http://", "https://", "url(", "@import", "src=\"//"] {
            assert!(!text.contains(external), "{path} names {external}");
        }
    }
    assert_eq!(
        call_route(&emu, "POST", "/_emulator/dashboard/users")
            .await
            .status,
        405
    );
    assert_eq!(
        get(&emu, "/_emulator/dashboard/nothing", &[]).await.status,
        404
    );
}

#[tokio::test]
async fn the_views_show_users_coins_the_journal_requests_and_donate_settings() {
    let emu = Emulator::builder()
        .linkv_app(configured_linkv())
        .polyv_app(configured_polyv())
        .start()
        .await
        .unwrap();
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "viewer-1").await;
    let other = register(&emu, "viewer-2").await;
    let credit = fresh_request_id();
    call(&emu, &credit_op(&emu, &uid, credit.clone(), 120), &creds)
        .await
        .unwrap();
    // A repeat counts on the first application's entry.
    call(&emu, &credit_op(&emu, &uid, credit.clone(), 120), &creds)
        .await
        .unwrap();
    call(&emu, &spend_op(&emu, &uid, fresh_request_id(), 20), &creds)
        .await
        .unwrap();
    call(
        &emu,
        &order_op(&emu, &other, fresh_request_id(), "order-77", 5),
        &creds,
    )
    .await
    .unwrap();

    let overview = view(&emu, "/_emulator/dashboard/overview").await;
    let linkv = overview["apps"]["linkv"].as_array().unwrap();
    assert_eq!(linkv.len(), 2);
    let demo = linkv.iter().find(|a| a["demo"] == true).unwrap();
    assert_eq!(
        (demo["users"].as_u64(), demo["applied_total"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(
        linkv
            .iter()
            .any(|a| a["alias"] == "shop" && a["demo"] == false)
    );
    assert_eq!(overview["apps"]["polyv"].as_array().unwrap().len(), 2);
    assert_eq!(overview["store"], Value::Null);
    assert_eq!(overview["faults"]["active"], false);
    assert!(overview["requests"].as_u64().unwrap() >= 6);
    assert_eq!(overview["clock"]["frozen"], false);

    // Users: by any id, with the balance and the coins by expiry.
    let users = view(&emu, "/_emulator/dashboard/users?q=viewer-1").await;
    let demo_users = &users["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alias"] == "demo")
        .unwrap()["users"];
    assert_eq!(demo_users.as_array().unwrap().len(), 1);
    let user = &demo_users[0];
    assert_eq!(user["user_id"], "viewer-1");
    assert_eq!(user["open_id"], uid.as_str());
    assert_eq!(user["balance"], 100);
    assert_eq!(user["coins"][0]["coins"], 100);
    assert_eq!(user["coins"][0]["expired"], false);
    for q in [uid.as_str(), "order-77", credit.as_str()] {
        let found = view(&emu, &format!("/_emulator/dashboard/users?q={q}")).await;
        let matching: u64 = found["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["matching"].as_u64().unwrap())
            .sum();
        assert_eq!(matching, 1, "{q}");
    }
    let page = view(&emu, "/_emulator/dashboard/users?limit=1").await;
    let demo_page = page["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alias"] == "demo")
        .unwrap()
        .clone();
    assert_eq!(
        (
            demo_page["total"].as_u64(),
            demo_page["users"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    assert_eq!(
        demo_page["users"][0]["user_id"], "viewer-1",
        "the first by user id"
    );

    // The journal, newest first, filtered by user and request id.
    let journal = view(&emu, "/_emulator/dashboard/journal").await;
    let changes = journal["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(journal["applied_total"], 3);
    let seqs: Vec<u64> = changes.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    assert_eq!(changes[0]["order_id"], "order-77");
    let mine = view(&emu, "/_emulator/dashboard/journal?user=viewer-1").await;
    assert_eq!(mine["changes"].as_array().unwrap().len(), 2);
    let by_id = view(
        &emu,
        &format!(
            "/_emulator/dashboard/journal?request_id={}",
            credit.as_str()
        ),
    )
    .await;
    let entry = &by_id["changes"][0];
    assert_eq!(by_id["changes"].as_array().unwrap().len(), 1);
    assert_eq!(
        (entry["value"].as_u64(), entry["balance_after"].as_u64()),
        (Some(120), Some(120))
    );
    assert_eq!(
        (entry["repeats"].as_u64(), entry["change"].as_str()),
        (Some(1), Some("add"))
    );
    assert_eq!(entry["user_id"], "viewer-1");

    // Requests, newest first, with their answers.
    let requests = view(&emu, "/_emulator/dashboard/requests?limit=2").await;
    let rows = requests["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["seq"].as_u64() > rows[1]["seq"].as_u64());
    assert_eq!(rows[0]["path"], "/open/finanv0/orderSuccess");
    let answer: Value = serde_json::from_str(rows[0]["answer"].as_str().unwrap()).unwrap();
    assert_eq!(answer["data"]["tokens"], "5");

    // Polyv: own, inherited and default parts per channel.
    let polyv = polyv_creds(&emu);
    let cash = CashSettings::new(
        Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
        "0.5".parse().unwrap(),
    );
    call(&emu, &UpdateCash::new(Scope::Account, cash.clone()), &polyv)
        .await
        .unwrap();
    call(&emu, &UpdateCash::new(channel(1_000_002), cash), &polyv)
        .await
        .unwrap();
    let settings = view(&emu, "/_emulator/dashboard/polyv").await;
    let account = settings["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["demo"] == true)
        .unwrap()
        .clone();
    assert_eq!(account["account"]["cash_from"], "account");
    let channels = account["channels"].as_array().unwrap();
    assert_eq!(
        (
            channels[0]["channel"].as_u64(),
            channels[0]["cash_from"].as_str()
        ),
        (Some(1_000_001), Some("account"))
    );
    assert_eq!(channels[1]["cash_from"], "channel");
    assert_eq!(channels[1]["goods_from"], "default");
    assert_eq!(channels[0]["settings"]["globalSettingEnabled"], "Y");
    assert_eq!(channels[1]["settings"]["globalSettingEnabled"], "N");
    assert_eq!(settings["rate_limit"]["limit"]["requests"], 1_500);
}

#[tokio::test]
async fn a_refused_signature_keeps_what_was_expected() {
    let emu = start().await;
    let uid = register(&emu, "signer").await;
    let request = build(&emu, &GetUserTokens::new(uid.clone()), &wrong_creds(&emu));
    let sent: Vec<(String, String)> = form_urlencoded::parse(request.body())
        .into_owned()
        .collect();
    let reply = send_request(emu.addr(), &request).await.reply();
    assert_eq!(reply.message(), "sign err");

    let expected_canonical = liveapi_sign::linkv::canonical_string(
        sent.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        DEMO_LINKV_APP_SECRET,
    )
    .unwrap()
    .to_string();
    let record = emu.requests().pop().unwrap();
    let refusal = record.signature.expect("the refusal is explained");
    assert_eq!(refusal.canonical, expected_canonical);
    assert!(refusal.canonical.ends_with("&key=***"));
    let sign = sent.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    assert_eq!(refusal.received.as_deref(), Some(sign.as_str()));
    assert_eq!(
        refusal.expected,
        liveapi_sign::linkv::sign(
            sent.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            DEMO_LINKV_APP_SECRET
        )
        .unwrap()
        .as_str()
    );
    assert_eq!(refusal.first_difference, None);
    assert!(refusal.hint.contains("secret differs"), "{}", refusal.hint);

    // A parameter sent but not signed is named.
    let app = emu.linkv_app();
    let form = signed_linkv_form(
        &[("uid", uid.as_str())],
        &app.app_key,
        &app.app_secret,
        emu.clock().now(),
    );
    let reply = send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("{form}&note=hello").as_bytes(),
    )
    .await
    .reply();
    assert_eq!(reply.message(), "sign err");
    let refusal = emu.requests().pop().unwrap().signature.unwrap();
    let difference = refusal.first_difference.unwrap();
    assert_eq!(
        (difference.param.as_str(), difference.finding.as_str()),
        ("note", "sent but not signed")
    );

    // A Polyv refusal too; a good request has none, in the JSON route as in the handle.
    let polyv = liveapi_request::PolyvCredentials::builder()
        .app_id(&emu.polyv_app().app_id)
        .secret("wrong")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let reply = send_request(
        emu.addr(),
        &build(&emu, &GetDonate::new(Scope::Account), &polyv),
    )
    .await
    .reply();
    assert_eq!(reply.message(), "invalid signature.");
    let refusal = emu.requests().pop().unwrap().signature.unwrap();
    assert!(refusal.canonical.starts_with("***appId") && refusal.canonical.ends_with("***"));
    let log = view(&emu, "/_emulator/requests").await;
    let explained = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("signature").is_some())
        .count();
    assert_eq!(explained, 3);
    assert!(
        log[0].get("signature").is_none(),
        "no field for other requests"
    );
    let refused = view(&emu, "/_emulator/dashboard/requests?refused=1").await;
    assert_eq!(refused["requests"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn no_page_file_or_view_holds_a_secret() {
    let emu = Emulator::builder()
        .linkv_app(configured_linkv())
        .polyv_app(configured_polyv())
        .start()
        .await
        .unwrap();
    let uid = register(&emu, "secretive").await;
    call(
        &emu,
        &credit_op(&emu, &uid, fresh_request_id(), 10),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    // A client that sends its secret as a parameter, signed with another one.
    let app = emu.linkv_app();
    let form = signed_linkv_form(
        &[("uid", uid.as_str()), ("key", DEMO_LINKV_APP_SECRET)],
        &app.app_key,
        "another",
        emu.clock().now(),
    );
    send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
    .await
    .reply();
    let secrets = [
        DEMO_LINKV_APP_SECRET,
        DEMO_POLYV_SECRET,
        LINKV_SECRET,
        POLYV_SECRET,
    ];
    for path in [
        "/_emulator/dashboard",
        "/_emulator/dashboard/app.js",
        "/_emulator/dashboard/style.css",
        "/_emulator/dashboard/overview",
        "/_emulator/dashboard/users",
        "/_emulator/dashboard/users?q=secretive",
        "/_emulator/dashboard/journal",
        "/_emulator/dashboard/requests",
        "/_emulator/dashboard/requests?refused=1",
        "/_emulator/dashboard/polyv",
    ] {
        let body = String::from_utf8(get(&emu, path, &[]).await.body).unwrap();
        for secret in secrets {
            assert!(!body.contains(secret), "{path} holds a secret");
        }
    }
    let refused = view(&emu, "/_emulator/dashboard/requests?refused=1").await;
    assert!(
        refused["requests"][0]["signature"]["canonical"]
            .as_str()
            .unwrap()
            .contains("key=***")
    );
}

#[tokio::test]
async fn a_reset_empties_the_books_and_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = Emulator::builder().state_file(&path).start().await.unwrap();
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "to-forget").await;
    call(&emu, &credit_op(&emu, &uid, fresh_request_id(), 50), &creds)
        .await
        .unwrap();
    call(
        &emu,
        &UpdateCash::new(
            channel(1_000_001),
            CashSettings::new(
                Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
                "1".parse().unwrap(),
            ),
        ),
        &polyv_creds(&emu),
    )
    .await
    .unwrap();
    // The overview shows the store on, and when it last synced.
    let store = view(&emu, "/_emulator/dashboard/overview").await["store"].clone();
    assert_eq!(store["path"], path.display().to_string());
    assert!(store["last_sync_ms"].as_u64().is_some(), "{store}");
    let reply = call_route(&emu, "POST", "/_emulator/reset").await;
    assert_eq!((reply.status, reply.json()), (200, json!({"reset": true})));
    assert!(emu.balances(emu.linkv_app().app_key.as_str()).is_empty());
    assert!(emu.journal().is_empty());
    assert_eq!(emu.applied_total(), 0);
    let polyv = view(&emu, "/_emulator/dashboard/polyv").await;
    assert_eq!(polyv["accounts"][0]["channels"][0]["cash_from"], "default");
    assert_eq!(
        call_route(&emu, "GET", "/_emulator/reset").await.status,
        405
    );

    // After the reset the books fill again, and a restart from the state file keeps the reset
    // and what followed it.
    let again = register(&emu, "after-reset").await;
    call(
        &emu,
        &credit_op(&emu, &again, fresh_request_id(), 7),
        &creds,
    )
    .await
    .unwrap();
    emu.sync_state().await.unwrap();
    drop(emu);
    let emu = Emulator::builder().state_file(&path).start().await.unwrap();
    let key = emu.linkv_app().app_key.clone();
    assert_eq!(emu.balances(&key).len(), 1);
    assert_eq!(emu.balance(&key, again.as_str()), Some(7));
    assert_eq!(emu.open_id(&key, "to-forget"), None);
    assert_eq!(emu.journal().len(), 1);
    let settings = emu
        .donate_settings(&emu.polyv_app().app_id, Some(1_000_001))
        .unwrap();
    assert_eq!(
        settings.global_setting_enabled,
        Some(liveapi_model::polyv::Enabled::Yes)
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn bans_are_lifted_by_ip_or_all_at_once() {
    let emu = Emulator::builder()
        .rate_limit(Some(
            IpRateLimit::new(1, Duration::from_secs(3_600)).with_block(Duration::from_secs(3_600)),
        ))
        .start()
        .await
        .unwrap();
    let creds = polyv_creds(&emu);
    let op = GetDonate::new(Scope::Account);
    call(&emu, &op, &creds).await.unwrap();
    assert!(call(&emu, &op, &creds).await.is_err());
    assert!(call(&emu, &op, &creds).await.is_err(), "banned");
    let overview = view(&emu, "/_emulator/dashboard/overview").await;
    assert_eq!(overview["rate_limit"]["banned"], 1);

    assert_eq!(
        call_route(&emu, "DELETE", "/_emulator/rate-limit/bans?ip=nonsense")
            .await
            .status,
        400
    );
    let lifted = call_route(&emu, "DELETE", "/_emulator/rate-limit/bans?ip=127.0.0.1").await;
    assert_eq!((lifted.status, lifted.json()), (200, json!({"lifted": 1})));
    call(&emu, &op, &creds).await.unwrap();
    assert!(call(&emu, &op, &creds).await.is_err(), "banned again");
    assert_eq!(emu.lift_bans(None), 1);
    call(&emu, &op, &creds).await.unwrap();
    let lifted = call_route(&emu, "DELETE", "/_emulator/rate-limit/bans").await;
    assert_eq!(lifted.json(), json!({"lifted": 0}));
}
