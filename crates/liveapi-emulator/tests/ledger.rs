//! The LinkV ledger over real sockets: idempotency under concurrent duplicates, the bounded
//! idempotency store, and coins that expire on the emulator's clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use liveapi_emulator::{ChangeKind, ClockStart, DEMO_LINKV_APP_KEY, Emulator};
use liveapi_model::linkv::{ChangeGold, Coins, Expiration};

const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_apply_once() {
    let emu = Arc::new(start().await);
    let uid = register(&emu, "dupes").await;
    let order = order_op(&emu, &uid, request_id(1), "ORD-DUP", 70);
    let creds = linkv_creds(&emu);
    // Every task signs its own copy (its own nonce), as independent retries would.
    let requests: Vec<_> = (0..32).map(|_| build(&emu, &order, &creds)).collect();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let emu = Arc::clone(&emu);
            tokio::spawn(async move { send_request(emu.addr(), &request).await.reply() })
        })
        .collect();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["data"]["tokens"], "70");
    }
    assert_eq!(balance(&emu, &uid).await, 70);
    let journal = emu.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].order_id.as_deref(), Some("ORD-DUP"));
    assert_eq!(journal[0].change, ChangeKind::Add);
    assert_eq!(emu.applied_total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_spends_never_overdraw() {
    let emu = Arc::new(start().await);
    let uid = register(&emu, "spender").await;
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(1), 10),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..20u64)
        .map(|i| {
            let emu = Arc::clone(&emu);
            let uid = uid.clone();
            tokio::spawn(async move {
                let op = spend_op(&emu, &uid, request_id(100 + i), 1);
                call(&emu, &op, &linkv_creds(&emu)).await.is_ok()
            })
        })
        .collect();
    let mut spent = 0;
    for task in tasks {
        spent += u64::from(task.await.unwrap());
    }
    assert_eq!(spent, 10);
    assert_eq!(balance(&emu, &uid).await, 0);
}

#[tokio::test]
async fn request_ids_are_forgotten_after_the_window() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .idempotency_window(Duration::from_secs(3_600))
        .start()
        .await
        .unwrap();
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "window").await;
    let exp = Expiration::at_unix_seconds(T0 + 30 * DAY);
    let op = ChangeGold::add(uid.clone(), request_id(1), Coins::new(5).unwrap(), exp).unwrap();
    call(&emu, &op, &creds).await.unwrap();
    emu.clock().advance(Duration::from_secs(3_599));
    call(&emu, &op, &creds).await.unwrap();
    assert_eq!(balance(&emu, &uid).await, 5);
    emu.clock().advance(Duration::from_secs(1));
    call(&emu, &op, &creds).await.unwrap();
    assert_eq!(balance(&emu, &uid).await, 10);
    assert_eq!(emu.journal().len(), 2);
}

#[tokio::test]
async fn coins_expire_on_the_emulator_clock_and_spending_takes_the_soonest_first() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .start()
        .await
        .unwrap();
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "lots").await;
    let add = |rid, coins, exp| {
        ChangeGold::add(
            uid.clone(),
            request_id(rid),
            Coins::new(coins).unwrap(),
            Expiration::at_unix_seconds(exp),
        )
        .unwrap()
    };
    call(&emu, &add(1, 10, T0 + 10 * DAY), &creds)
        .await
        .unwrap();
    call(&emu, &add(2, 5, T0 + DAY), &creds).await.unwrap();
    call(&emu, &add(3, 7, T0 + 3 * DAY), &creds).await.unwrap();
    assert_eq!(balance(&emu, &uid).await, 22);

    // Spend 6: all 5 of the first lot to expire, then 1 of the next.
    call(&emu, &spend_op(&emu, &uid, request_id(4), 6), &creds)
        .await
        .unwrap();
    assert_eq!(balance(&emu, &uid).await, 16);
    emu.clock().advance(Duration::from_secs(DAY));
    assert_eq!(
        balance(&emu, &uid).await,
        16,
        "nothing was left in the lot that expired"
    );
    emu.clock().advance(Duration::from_secs(2 * DAY));
    assert_eq!(
        balance(&emu, &uid).await,
        10,
        "the 6 coins left of the 3-day lot expired"
    );
    // Expired coins cannot be spent.
    assert!(
        call(&emu, &spend_op(&emu, &uid, request_id(5), 11), &creds)
            .await
            .is_err()
    );
    emu.clock().set(at(T0 + 10 * DAY));
    assert_eq!(balance(&emu, &uid).await, 0);
    // Moving the clock back brings them back, as on a server whose clock was wrong.
    emu.clock().set(at(T0));
    assert_eq!(balance(&emu, &uid).await, 16);
    let dump = emu.state_json();
    let users = &dump["linkv"][DEMO_LINKV_APP_KEY]["users"];
    assert_eq!(users[0]["balance"], 16);
}
