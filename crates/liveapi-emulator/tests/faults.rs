//! Fault injection over real sockets: every kind does what it says, at the configured rate,
//! deterministically from a seed, and retries with the same request_id never apply twice.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use liveapi_emulator::{
    ClockStart, Emulator, FaultKind, FaultWeights, Faults, RunningEmulator, Vendor,
};
use liveapi_model::ApiErrorKind;
use liveapi_model::linkv::{Coins, GetUserTokens, OpenId};
use liveapi_model::polyv::{GetDonate, Scope};
use liveapi_request::Operation;
use liveapi_request::meaning;

/// What a client saw, reduced to something comparable: the body's `status` decides, as LinkV
/// answers errors with HTTP 200.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Ok,
    Status(u16),
    /// An HTTP 200 whose body says 500.
    BodyStatus(String),
    NoResponse,
    Truncated,
}

fn seen(outcome: &Outcome) -> Seen {
    match outcome {
        Outcome::Reply(r) if r.status == 200 => {
            match serde_json::from_slice::<serde_json::Value>(&r.body) {
                Ok(body) if body["status"] != "200" => Seen::BodyStatus(body["status"].to_string()),
                _ => Seen::Ok,
            }
        }
        Outcome::Reply(r) => Seen::Status(r.status),
        Outcome::NoResponse => Seen::NoResponse,
        Outcome::Truncated { .. } => Seen::Truncated,
    }
}

/// An emulator whose clock stands still, so that operations built twice (a retry) carry the
/// same `expriation`, and faults of one kind on `changeGold`.
async fn only(kind: FaultKind) -> (RunningEmulator, OpenId) {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(1_700_000_000)))
        .start()
        .await
        .unwrap();
    let uid = register(&emu, "victim").await;
    emu.set_faults(
        Faults::new(1.0)
            .only_kind(kind)
            .only_path("/open/finanv0/changeGold"),
    )
    .unwrap();
    (emu, uid)
}

/// Sends a 10-coin credit with `rid` once.
async fn credit_once(emu: &RunningEmulator, uid: &OpenId, rid: u64) -> Outcome {
    let op = credit_op(emu, uid, request_id(rid), 10);
    send_request(emu.addr(), &build(emu, &op, &linkv_creds(emu))).await
}

#[tokio::test]
async fn faults_follow_the_rate_and_replay_exactly_for_a_seed() {
    async fn run(
        seed: u64,
    ) -> (
        Vec<Seen>,
        liveapi_emulator::FaultStats,
        Vec<Option<FaultKind>>,
    ) {
        let emu = start().await;
        let uid = register(&emu, "reader").await;
        emu.set_faults(
            Faults::new(0.3).with_latency(Duration::from_millis(1), Duration::from_millis(3)),
        )
        .unwrap();
        emu.reseed(seed);
        let op = GetUserTokens::new(uid);
        let creds = linkv_creds(&emu);
        let mut seen_all = Vec::new();
        for _ in 0..200 {
            let outcome = send_request(emu.addr(), &build(&emu, &op, &creds)).await;
            seen_all.push(seen(&outcome));
        }
        let log = emu
            .requests()
            .iter()
            .rev()
            .take(200)
            .rev()
            .map(|r| r.fault)
            .collect();
        (seen_all, emu.fault_stats(), log)
    }
    let (first, stats, log) = run(7).await;
    assert_eq!(stats.eligible, 200);
    // Seeded, so this is a fixed number; the bounds only say it is near 30 %.
    assert!((40..=80).contains(&stats.total()), "{stats:?}");
    // Every kind happened.
    for kind in FaultKind::ALL {
        assert!(stats.count(kind) > 0, "{kind} never happened: {stats:?}");
    }
    // What clients saw agrees with what was injected.
    let failed = first.iter().filter(|s| **s != Seen::Ok).count() as u64;
    assert_eq!(failed, stats.total() - stats.count(FaultKind::Latency));
    assert_eq!(
        log.iter().filter(|f| f.is_some()).count() as u64,
        stats.total()
    );

    let (again, stats_again, log_again) = run(7).await;
    assert_eq!(again, first);
    assert_eq!(stats_again, stats);
    assert_eq!(log_again, log);
    let (other, _, _) = run(8).await;
    assert_ne!(other, first);
}

#[tokio::test]
async fn reset_before_apply_applies_nothing() {
    let (emu, uid) = only(FaultKind::ResetBeforeApply).await;
    assert!(matches!(
        credit_once(&emu, &uid, 1).await,
        Outcome::NoResponse
    ));
    assert!(emu.journal().is_empty());
    emu.set_faults(Faults::none()).unwrap();
    assert_eq!(balance(&emu, &uid).await, 0);
    assert!(matches!(
        credit_once(&emu, &uid, 1).await,
        Outcome::Reply(_)
    ));
    assert_eq!(balance(&emu, &uid).await, 10);
}

#[tokio::test]
async fn reset_after_apply_applies_and_a_retry_does_not_apply_again() {
    let (emu, uid) = only(FaultKind::ResetAfterApply).await;
    assert!(matches!(
        credit_once(&emu, &uid, 1).await,
        Outcome::NoResponse
    ));
    let journal = emu.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].request_id, request_id(1).as_str());
    emu.set_faults(Faults::none()).unwrap();
    // The retry, re-signed with the same request_id, is answered from the idempotency store.
    let reply = credit_once(&emu, &uid, 1).await.reply();
    assert_eq!(reply.status, 200);
    assert_eq!(balance(&emu, &uid).await, 10);
    assert_eq!(emu.journal().len(), 1);
    let record = emu
        .requests()
        .into_iter()
        .find(|r| r.fault.is_some())
        .unwrap();
    assert_eq!(record.fault, Some(FaultKind::ResetAfterApply));
    assert_eq!(record.status, None);
}

#[tokio::test]
async fn truncated_answers_are_cut_after_applying() {
    let emu = start().await;
    let uid = register(&emu, "victim").await;
    emu.set_faults(Faults::new(1.0).only_kind(FaultKind::TruncateAfterApply))
        .unwrap();
    let op = order_op(&emu, &uid, request_id(1), "ORD-T", 25);
    match send_request(emu.addr(), &build(&emu, &op, &linkv_creds(&emu))).await {
        Outcome::Truncated {
            status,
            declared,
            received,
        } => {
            assert_eq!(status, 200);
            assert_eq!(received.len(), declared / 2);
            let err = liveapi_model::linkv::decode::<Coins>(200, &received).unwrap_err();
            assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer);
        }
        other => panic!("{other:?}"),
    }
    emu.set_faults(Faults::none()).unwrap();
    assert_eq!(balance(&emu, &uid).await, 25);
}

#[tokio::test]
async fn server_errors_apply_nothing_and_look_like_the_real_thing() {
    for (kind, status, html) in [
        (FaultKind::Http500, 500, false),
        (FaultKind::Http500Html, 500, true),
        (FaultKind::Http502, 502, true),
        (FaultKind::Http503, 503, true),
        // The real LinkV server's own way of failing.
        (FaultKind::Http200Status500, 200, false),
    ] {
        let (emu, uid) = only(kind).await;
        let reply = credit_once(&emu, &uid, 1).await.reply();
        assert_eq!(reply.status, status, "{kind}");
        // A gateway's page is HTML; LinkV's JSON says `text/html` too, as the real server's.
        let content_type = reply.header("content-type").unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{kind}: {content_type}"
        );
        let err = liveapi_model::linkv::decode::<()>(reply.status, &reply.body).unwrap_err();
        if html {
            assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer, "{kind}");
            assert!(String::from_utf8_lossy(&reply.body).contains(&status.to_string()));
        } else {
            assert_eq!(
                reply.json(),
                serde_json::json!({"status": "500", "msg": "system err", "data": []})
            );
            assert_eq!(
                (err.kind(), err.code()),
                (ApiErrorKind::ServerError, Some(500))
            );
        }
        assert!(meaning::of_answer(&err, None).is_retryable());
        assert_eq!(reply.header("retry-after").is_some(), status == 503);
        assert!(emu.journal().is_empty(), "{kind}");
    }
}

#[tokio::test]
async fn polyv_gets_its_own_500_envelope() {
    let emu = start().await;
    emu.set_faults(
        Faults::new(1.0)
            .only_kind(FaultKind::Http500)
            .only_vendor(Vendor::Polyv),
    )
    .unwrap();
    let op = GetDonate::new(Scope::Account);
    let err = call(&emu, &op, &polyv_creds(&emu)).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (ApiErrorKind::ServerError, Some(500), "system error")
    );
    // LinkV is out of scope.
    register(&emu, "spared").await;
    assert_eq!(emu.fault_stats().eligible, 1);
}

#[tokio::test]
async fn a_delay_longer_than_the_client_timeout_still_applies_once() {
    let (emu, uid) = only(FaultKind::Latency).await;
    emu.set_faults(
        Faults::new(1.0)
            .only_kind(FaultKind::Latency)
            .only_path("/open/finanv0/changeGold")
            .with_latency(Duration::from_secs(600), Duration::from_secs(600)),
    )
    .unwrap();
    let timed_out =
        tokio::time::timeout(Duration::from_millis(200), credit_once(&emu, &uid, 1)).await;
    assert!(timed_out.is_err(), "a ten-minute delay answered");
    emu.set_faults(Faults::none()).unwrap();
    // The client gives up and retries with the same request_id: applied once, whichever of
    // the two requests the emulator handled first.
    assert_eq!(credit_once(&emu, &uid, 1).await.reply().status, 200);
    assert_eq!(balance(&emu, &uid).await, 10);
    assert_eq!(emu.journal().len(), 1);
    // Shutdown does not wait out the delay.
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_through_every_fault_apply_each_change_once() {
    let emu = Emulator::builder()
        .seed(2024)
        .faults(
            Faults::new(0.3)
                .with_weights(FaultWeights::default())
                .with_latency(Duration::from_millis(1), Duration::from_millis(10))
                .only_path("/open/finanv0/"),
        )
        .start()
        .await
        .unwrap();
    let uid = register(&emu, "chaos").await;
    let emu = std::sync::Arc::new(emu);
    let mut tasks = Vec::new();
    for task in 0..8u64 {
        let emu = std::sync::Arc::clone(&emu);
        let uid = uid.clone();
        tasks.push(tokio::spawn(async move {
            let creds = linkv_creds(&emu);
            for n in 0..10u64 {
                let op = credit_op(&emu, &uid, request_id(task * 100 + n), 1 + n);
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    assert!(attempts < 200, "no success after 200 attempts");
                    let request = op
                        .build(&creds, emu.clock().now(), &liveapi_request::OsEntropy)
                        .unwrap();
                    if let Outcome::Reply(reply) = send_request(emu.addr(), &request).await
                        && op.parse(&reply.to_http()).is_ok()
                    {
                        break;
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let journal = emu.journal();
    assert_eq!(journal.len(), 80);
    let ids: HashSet<_> = journal.iter().map(|c| c.request_id.clone()).collect();
    assert_eq!(ids.len(), 80, "a request_id was applied twice");
    let expected: u64 = 8 * (1..=10).sum::<u64>();
    assert_eq!(
        emu.balance(&emu.linkv_app().app_key, uid.as_str()),
        Some(expected)
    );
    let stats = emu.fault_stats();
    assert!(stats.total() > 0);
}

#[tokio::test]
async fn injected_failures_keep_their_http_form_in_every_answer_style() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(1_700_000_000)))
        .linkv_error_http_status(true)
        .linkv_json_content_type(true)
        .start()
        .await
        .unwrap();
    let uid = register(&emu, "victim").await;
    for (kind, status) in [
        (FaultKind::Http500, 500),
        (FaultKind::Http200Status500, 200),
    ] {
        emu.set_faults(
            Faults::new(1.0)
                .only_kind(kind)
                .only_path("/open/finanv0/changeGold"),
        )
        .unwrap();
        let reply = credit_once(&emu, &uid, 1).await.reply();
        assert_eq!(reply.status, status, "{kind}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(
            reply.json(),
            serde_json::json!({"status": "500", "msg": "system err", "data": []})
        );
    }
    // Polyv's version: HTTP 200, code 500.
    emu.set_faults(
        Faults::new(1.0)
            .only_kind(FaultKind::Http200Status500)
            .only_vendor(Vendor::Polyv),
    )
    .unwrap();
    let err = call(&emu, &GetDonate::new(Scope::Account), &polyv_creds(&emu))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ApiErrorKind::ServerError, Some(500))
    );
    assert!(meaning::of_answer(&err, None).is_retryable());
    assert!(emu.journal().is_empty());
}
