//! The dashboard in a real headless browser (Debian's `chromium` over `chromedriver`): after
//! calls made with the SDK, one of them signed with a wrong secret, the page shows the user,
//! the balance, the journal entry and the refused signature's canonical string; a fault set
//! from the page changes what the next call gets; and no secret is in the page's HTML or in
//! any response it loaded. Screenshots at 1280×800 and at a narrow window are kept under
//! `target/tmp/dashboard/`.
//!
//! Without Chromium the test says so and is skipped; in CI (`LIVEAPI_CI`) it fails instead
//! (`liveapi_test_support::browser`).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use liveapi_emulator::{
    DEMO_LINKV_APP_SECRET, DEMO_POLYV_SECRET, Emulator, FaultKind, LinkvApp, PolyvApp,
    RunningEmulator,
};
use liveapi_model::ApiErrorKind;
use liveapi_model::linkv::GetUserTokens;
use liveapi_model::polyv::{CashSettings, Cashes, ChannelId, Scope, UpdateCash};
use liveapi_request::LinkvCredentials;
use liveapi_test_support::browser::Browser;
use liveapi_test_support::browser::fantoccini::{Client, Locator};
use serde_json::Value;

const LINKV_SECRET: &str = "configured-linkv-secret-5f0c9e";
const POLYV_SECRET: &str = "configured-polyv-secret-a81d27";
const WRONG_SECRET: &str = "wrong-secret-of-the-client";
/// How long the page may take to show something: it polls every second.
const PATIENCE: Duration = Duration::from_secs(20);

/// Where the screenshots are kept: under `target/`, beside the other test artifacts.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(session: &Client, name: &str) {
    let png = session.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    let path = artifacts().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// The visible text of the elements `css` selects, once it contains `needle`.
async fn wait_for_text(session: &Client, css: &str, needle: &str) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < PATIENCE {
        let mut text = String::new();
        for element in session.find_all(Locator::Css(css)).await.unwrap() {
            text.push_str(&element.text().await.unwrap_or_default());
            text.push('\n');
        }
        if text.contains(needle) {
            return text;
        }
        last = text;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{needle}` never appeared in `{css}`; last text:\n{last}");
}

/// Sizes the window so that the page itself (the viewport) is `width` × `height`.
async fn viewport(session: &Client, width: u32, height: u32) {
    for _ in 0..3 {
        let inner = session
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        if (w, h) == (u64::from(width), u64::from(height)) {
            return;
        }
        let (outer_w, outer_h) = session.get_window_size().await.unwrap();
        let grow =
            |outer: u64, inner: u64, want: u32| (outer + u64::from(want)).saturating_sub(inner);
        session
            .set_window_size(
                u32::try_from(grow(outer_w, w, width)).unwrap(),
                u32::try_from(grow(outer_h, h, height)).unwrap(),
            )
            .await
            .unwrap();
    }
}

async fn click(session: &Client, css: &str) {
    session
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(session: &Client, css: &str, text: &str) {
    let input = session.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Clicks a control's button, then Confirm in the page's dialog.
async fn confirm(session: &Client, button: &str) {
    click(session, button).await;
    let dialog = session
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("dialog#confirm[open]"))
        .await
        .unwrap();
    assert!(dialog.text().await.unwrap().contains("Confirm"));
    click(session, "#confirm-ok").await;
}

fn wrong_creds(emu: &RunningEmulator) -> LinkvCredentials {
    let app = emu.linkv_app();
    LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(WRONG_SECRET)
        .alias(&app.alias)
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_books_explains_sign_err_and_sets_faults() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let Some(driver) = browser.start_driver() else {
        return;
    };
    let emu = Emulator::builder()
        .linkv_app(LinkvApp::new(
            "LM6000100000000000000777",
            LINKV_SECRET,
            "shop",
        ))
        .polyv_app(PolyvApp::new(
            "configured_polyv_app",
            POLYV_SECRET,
            [2_000_001],
        ))
        .start()
        .await
        .unwrap();

    // Calls made with the SDK's request builders: a user, a credit and a spend, a Polyv
    // setting, and one call signed with a wrong secret.
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "dashboard-user").await;
    let credit = fresh_request_id();
    call(&emu, &credit_op(&emu, &uid, credit.clone(), 150), &creds)
        .await
        .unwrap();
    call(&emu, &spend_op(&emu, &uid, fresh_request_id(), 27), &creds)
        .await
        .unwrap();
    let cash = CashSettings::new(
        Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
        "0.5".parse().unwrap(),
    );
    let channel = Scope::Channel(ChannelId::new(1_000_002).unwrap());
    call(&emu, &UpdateCash::new(channel, cash), &polyv_creds(&emu))
        .await
        .unwrap();
    let refused = build(&emu, &GetUserTokens::new(uid.clone()), &wrong_creds(&emu));
    let sent: Vec<(String, String)> = form_urlencoded::parse(refused.body())
        .into_owned()
        .collect();
    let canonical = liveapi_sign::linkv::canonical_string(
        sent.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        DEMO_LINKV_APP_SECRET,
    )
    .unwrap()
    .to_string();
    let reply = send_request(emu.addr(), &refused).await.reply();
    assert_eq!(reply.message(), "sign err");

    let session = driver.session(1280, 800).await.unwrap();
    session.goto(&emu.url("/_emulator/")).await.unwrap();
    // Every response the page loads stays listed, for the scan for secrets at the end.
    session
        .execute("performance.setResourceTimingBufferSize(100000);", vec![])
        .await
        .unwrap();
    assert_eq!(session.title().await.unwrap(), "liveapi emulator");
    viewport(&session, 1280, 800).await;

    // Overview: both vendors' demo and configured apps, the clock, the store.
    let overview = wait_for_text(&session, "#overview", "LM6000100000000000000777").await;
    for needle in ["configured_polyv_app", "demo", "shop", "running", "--state"] {
        assert!(
            overview.contains(needle),
            "{needle} in the overview:\n{overview}"
        );
    }
    screenshot(&session, "overview-1280x800.png").await;

    // LinkV users, found by their id, with the balance.
    session
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("2")
        .await
        .unwrap();
    type_into(&session, "#users-q", "dashboard-user").await;
    let users = wait_for_text(&session, "#users-list", uid.as_str()).await;
    assert!(users.contains("dashboard-user"), "{users}");
    assert!(
        users.contains("123"),
        "the balance 150 - 27 = 123:\n{users}"
    );
    assert!(
        users.contains("123 until"),
        "the coins with their expiry:\n{users}"
    );
    screenshot(&session, "users-1280x800.png").await;

    // The journal, filtered by the credit's request id.
    click(&session, "#tab-journal").await;
    type_into(&session, "#journal-request", credit.as_str()).await;
    let journal = wait_for_text(&session, "#journal-list", "1 shown").await;
    assert!(journal.contains(credit.as_str()), "{journal}");
    assert!(journal.contains("150"), "{journal}");

    // Requests: the refused signature explains itself.
    click(&session, "#tab-requests").await;
    let explained = wait_for_text(&session, "#requests-list .request.refused", &canonical).await;
    assert!(
        explained.contains("first differing parameter"),
        "{explained}"
    );
    assert!(explained.contains("secret differs"), "{explained}");
    let sign = sent.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    assert!(explained.contains(&sign), "the received sign:\n{explained}");
    screenshot(&session, "requests-1280x800.png").await;

    // Polyv: the channel's own setting and the inherited one.
    click(&session, "#tab-polyv").await;
    let polyv = wait_for_text(&session, "#polyv-accounts", "channel 1000002").await;
    assert!(
        polyv.contains("own") && polyv.contains("defaults"),
        "{polyv}"
    );
    screenshot(&session, "polyv-1280x800.png").await;

    // Controls: a fault set from the page changes what the next call gets.
    click(&session, "#tab-controls").await;
    type_into(&session, "#fault-rate", "1").await;
    click(&session, "#fault-kind-http500").await;
    let ticked = session
        .execute(
            "return [...document.querySelectorAll('#fault-kinds input:checked')].map((i) => i.id);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, serde_json::json!(["fault-kind-http500"]));
    confirm(&session, "#faults-set").await;
    wait_for_text(&session, "#control-log", "PUT /_emulator/faults → 200").await;
    screenshot(&session, "controls-1280x800.png").await;
    let failed = call(&emu, &GetUserTokens::new(uid.clone()), &creds)
        .await
        .unwrap_err();
    assert_eq!(failed.kind(), ApiErrorKind::ServerError, "{failed}");
    assert_eq!(
        emu.fault_stats().injected.get(&FaultKind::Http500).copied(),
        Some(1)
    );
    click(&session, "#tab-overview").await;
    let overview = wait_for_text(&session, "#overview-cards", "rate 1").await;
    assert!(
        overview.contains("http500=1") && overview.contains("http500 1 of 1 eligible"),
        "{overview}"
    );
    click(&session, "#tab-controls").await;
    confirm(&session, "#faults-clear").await;
    wait_for_text(&session, "#control-log", "DELETE /_emulator/faults → 200").await;
    assert_eq!(balance(&emu, &uid).await, 123);

    // A narrow window, with the keyboard: section 4 is the requests.
    viewport(&session, 420, 800).await;
    session
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("1")
        .await
        .unwrap();
    wait_for_text(&session, "#overview", "configured_polyv_app").await;
    screenshot(&session, "overview-420x800.png").await;
    let tab = session.active_element().await.unwrap();
    assert_eq!(
        tab.attr("id").await.unwrap().as_deref(),
        Some("tab-overview")
    );
    tab.send_keys("\u{E014}\u{E014}\u{E014}").await.unwrap(); // → three times
    wait_for_text(&session, "#requests-list .request.refused", &canonical).await;
    screenshot(&session, "requests-420x800.png").await;

    // No secret in the page's HTML, nor in any response it loaded.
    let secrets = [
        DEMO_LINKV_APP_SECRET,
        DEMO_POLYV_SECRET,
        LINKV_SECRET,
        POLYV_SECRET,
        WRONG_SECRET,
    ];
    let html = session.source().await.unwrap();
    for secret in secrets {
        assert!(!html.contains(secret), "the page's HTML holds {secret}");
    }
    let loaded = session
        .execute(
            "return performance.getEntriesByType('resource').map((e) => e.name)\
             .concat([location.href]);",
            vec![],
        )
        .await
        .unwrap();
    let urls: Vec<String> = loaded
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let origin = emu.base_url();
    let mut data = 0;
    for url in &urls {
        assert!(url.starts_with(&origin), "the page loaded {url}");
        let path = &url[origin.len()..];
        let body = send(emu.addr(), "GET", path, &[("Accept", "text/html")], b"")
            .await
            .reply()
            .body;
        let body = String::from_utf8(body).unwrap();
        for secret in secrets {
            assert!(!body.contains(secret), "{path} holds {secret}");
        }
        data += usize::from(path.starts_with("/_emulator/dashboard/") && !path.contains('.'));
    }
    for view in ["overview", "users", "journal", "requests", "polyv"] {
        assert!(
            urls.iter()
                .any(|u| u.contains(&format!("/_emulator/dashboard/{view}"))),
            "the page read {view}: {urls:?}"
        );
    }
    assert!(data >= 5, "{urls:?}");
    session.close().await.unwrap();
}
