use super::*;
use liveapi_model::linkv::{PortraitUri, UserId, UserName};

const RETENTION: Retention = Retention {
    idempotency_window_ms: 86_400_000,
    idempotency_capacity: 1_000,
    journal_capacity: 1_000,
};
const NOW_MS: u64 = 1_700_000_000_000;
const NOW: u64 = NOW_MS / 1_000;

fn register(ledger: &mut Ledger, user: &str) -> String {
    let req = ThGetToken::register(
        UserId::new(user).unwrap(),
        UserName::new("Ann").unwrap(),
        PortraitUri::new("https://x/a.png").unwrap(),
    );
    ledger.get_token(&req).unwrap().open_id
}

#[test]
fn open_ids_are_19_digits_spread_by_user_and_a_taken_one_is_skipped() {
    let mut ledger = Ledger::new("app", 1, RETENTION);
    let ids: std::collections::HashSet<String> = (0..10)
        .map(|n| ledger.derive_open_id(&format!("user{n}")))
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(
        ids.iter()
            .all(|id| id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit()))
    );
    let first = ledger.derive_open_id("ann");
    assert_eq!(register(&mut ledger, "ann"), first);
    // The id is taken now: the next candidate is used, still of the same shape.
    let next = ledger.derive_open_id("ann");
    assert_ne!(next, first);
    assert_eq!(next.len(), 19);
}

fn change<'a>(rid: &'a str, uid: &'a str, kind: ChangeKind, value: u64, exp: u64) -> Change<'a> {
    Change {
        endpoint: "changeGold",
        request_id: rid,
        uid,
        delta: match kind {
            ChangeKind::Add => Delta::Add { expires_at: exp },
            ChangeKind::Remove => Delta::Remove {
                expiration: Some(exp),
            },
        },
        value,
        order_id: None,
        fingerprint: format!("{rid}{uid}{kind:?}{value}{exp}"),
    }
}

#[test]
fn removals_take_the_soonest_expiring_coins() {
    let seq = AtomicU64::new(0);
    let mut l = Ledger::new("app", 0, RETENTION);
    let uid = register(&mut l, "u1");
    l.change(
        &change("a", &uid, ChangeKind::Add, 10, NOW + 100),
        NOW_MS,
        &seq,
    )
    .unwrap();
    l.change(
        &change("b", &uid, ChangeKind::Add, 5, NOW + 50),
        NOW_MS,
        &seq,
    )
    .unwrap();
    let out = l
        .change(&change("c", &uid, ChangeKind::Remove, 7, NOW), NOW_MS, &seq)
        .unwrap();
    assert_eq!(out.balance_after, 8);
    // The 5 expiring at +50 went first, then 2 of the 10.
    assert_eq!(l.balance(&uid, NOW + 50).unwrap(), 8);
    assert_eq!(l.balance(&uid, NOW + 100).unwrap(), 0);
    assert_eq!(
        l.change(&change("d", &uid, ChangeKind::Remove, 9, NOW), NOW_MS, &seq),
        Err(LedgerError::InsufficientBalance)
    );
    assert_eq!(l.balance(&uid, NOW).unwrap(), 8);
    assert_eq!(l.journal().count(), 3);
}

#[test]
fn removals_never_take_expired_coins() {
    let seq = AtomicU64::new(0);
    let mut l = Ledger::new("app", 0, RETENTION);
    let uid = register(&mut l, "u1");
    l.change(
        &change("a", &uid, ChangeKind::Add, 5, NOW + 50),
        NOW_MS,
        &seq,
    )
    .unwrap();
    l.change(
        &change("b", &uid, ChangeKind::Add, 10, NOW + 100),
        NOW_MS,
        &seq,
    )
    .unwrap();
    // At +60 the 5 have expired: the removal takes 7 of the 10, none of the dead lot.
    let later_ms = (NOW + 60) * 1_000;
    let out = l
        .change(
            &change("c", &uid, ChangeKind::Remove, 7, NOW),
            later_ms,
            &seq,
        )
        .unwrap();
    assert_eq!(out.balance_after, 3);
    assert_eq!(l.balance(&uid, NOW + 60).unwrap(), 3);
    assert_eq!(l.balance(&uid, NOW + 99).unwrap(), 3);
}

#[test]
fn the_journal_keeps_exactly_its_capacity_of_latest_changes() {
    let seq = AtomicU64::new(0);
    let retention = Retention {
        journal_capacity: 2,
        ..RETENTION
    };
    let mut l = Ledger::new("app", 0, retention);
    let uid = register(&mut l, "u1");
    for rid in ["a", "b", "c"] {
        l.change(
            &change(rid, &uid, ChangeKind::Add, 1, NOW + 100),
            NOW_MS,
            &seq,
        )
        .unwrap();
    }
    let kept: Vec<&str> = l.journal().map(|c| c.request_id.as_str()).collect();
    assert_eq!(kept, ["b", "c"]);
    assert_eq!(l.applied_total(), 3);
}

#[test]
fn eviction_forgets_old_request_ids_only() {
    let seq = AtomicU64::new(0);
    let retention = Retention {
        idempotency_window_ms: 1_000,
        ..RETENTION
    };
    let mut l = Ledger::new("app", 0, retention);
    let uid = register(&mut l, "u1");
    let c = change("a", &uid, ChangeKind::Add, 1, NOW + 100);
    assert!(!l.change(&c, NOW_MS, &seq).unwrap().replayed);
    assert!(l.change(&c, NOW_MS + 999, &seq).unwrap().replayed);
    assert!(!l.change(&c, NOW_MS + 1_000, &seq).unwrap().replayed);
    assert_eq!(l.balance(&uid, NOW).unwrap(), 2);
}

#[test]
fn snapshots_round_trip() {
    let seq = AtomicU64::new(0);
    let mut l = Ledger::new("app", 0, RETENTION);
    let uid = register(&mut l, "u1");
    l.change(
        &change("a", &uid, ChangeKind::Add, 10, NOW + 100),
        NOW_MS,
        &seq,
    )
    .unwrap();
    let snap = l.snapshot(NOW);
    let json = serde_json::to_string(&snap).unwrap();
    let back: LedgerSnapshot = serde_json::from_str(&json).unwrap();
    let restored = Ledger::restore("app", 0, RETENTION, back);
    assert_eq!(restored.balance(&uid, NOW).unwrap(), 10);
    assert_eq!(restored.open_id("u1"), Some(uid));
    assert_eq!(restored.applied_total(), 1);
    assert_eq!(restored.last_seq(), 1);
}

#[test]
fn replay_applies_each_logged_event_once_after_the_snapshot() {
    let seq = AtomicU64::new(0);
    let mut live = Ledger::new("app", 0, RETENTION);
    let uid = register(&mut live, "u1");
    let mut events = Vec::new();
    for (i, rid) in ["a", "b", "c"].into_iter().enumerate() {
        let c = change(rid, &uid, ChangeKind::Add, 10 + i as u64, NOW + 100);
        events.push(live.change(&c, NOW_MS, &seq).unwrap().event);
    }
    let repeat = change("a", &uid, ChangeKind::Add, 10, NOW + 100);
    events.push(live.change(&repeat, NOW_MS, &seq).unwrap().event);
    let spend = change("d", &uid, ChangeKind::Remove, 15, NOW);
    events.push(live.change(&spend, NOW_MS, &seq).unwrap().event);

    // A snapshot that holds the registration and the first credit (log records 1 and 2).
    let mut base = Ledger::new("app", 0, RETENTION);
    let grant = base.get_token(&ThGetToken::register(
        UserId::new("u1").unwrap(),
        UserName::new("Ann").unwrap(),
        PortraitUri::new("https://x/a.png").unwrap(),
    ));
    base.set_log_seq(1);
    base.apply(2, events[0].clone());
    assert_eq!(grant.unwrap().open_id, uid);
    let mut replayed = Ledger::restore("app", 0, RETENTION, base.snapshot(NOW));
    // The log still holds record 2 (a crash before it was emptied): skipped.
    for (log_seq, event) in (2..).zip(events.iter().cloned()) {
        replayed.apply(log_seq, event);
    }
    assert_eq!(replayed.balance(&uid, NOW).unwrap(), 10 + 11 + 12 - 15);
    assert_eq!(replayed.snapshot(NOW).journal, live.snapshot(NOW).journal);
    assert_eq!(replayed.journal().next().unwrap().repeats, 1);
    assert_eq!(replayed.applied_total(), 4);
    assert_eq!(replayed.log_seq(), 6);
}

#[test]
fn open_ids_are_stable_digits() {
    let mut a = Ledger::new("app", 1, RETENTION);
    let mut b = Ledger::new("app", 2, RETENTION);
    let id = register(&mut a, "same-user");
    assert_eq!(id, register(&mut b, "same-user"));
    assert_eq!(id.len(), 19);
    assert!(id.bytes().all(|c| c.is_ascii_digit()));
}
