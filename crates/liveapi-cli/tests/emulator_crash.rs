//! `liveapi emulator --state` survives SIGKILL: the crash test of the emulator's state store
//! at a small size (the `emulator_crash` harness of `liveapi-harness` runs it at scale). The
//! driver is `liveapi_test_support::emulator_crash`, shared with that harness.

use std::time::Duration;

use liveapi_test_support::emulator_crash;

#[test]
fn acknowledged_credits_survive_sigkill_and_resends_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = emulator_crash::Config {
        binary: env!("CARGO_BIN_EXE_liveapi").into(),
        state: dir.path().join("state.json"),
        writers: 4,
        kills: 5,
        gap: (Duration::from_millis(30), Duration::from_millis(150)),
        seed: 15,
    };
    let report = emulator_crash::run(&config).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{report:?}");
    assert_eq!(report.kills, 5);
    assert_eq!(report.lost_coins, 0);
    assert!(report.acknowledged > 0, "{report:?}");
    assert_eq!(report.final_balance, report.acknowledged_coins);
}
