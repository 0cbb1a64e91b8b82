//! The chaos test: hundreds of concurrent coin changes through ~30 % injected faults of every
//! kind, a tenth of them dropped mid-call as by a crash and resent from storage after midnight
//! or a day later; none applied twice, none lost, every unknown outcome settled by resending
//! or by reconciliation.
//! `cargo run --release -p liveapi-harness --bin chaos -- --calls 100000` runs the same at scale.

use liveapi_emulator::FaultKind;
use liveapi_harness::chaos::{Config, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_change_is_applied_twice_or_lost() {
    let report = run(&Config::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert_eq!(report.calls, Config::default().calls);
    // The run exercised what it claims to: every fault kind, refusals, and unknown outcomes
    // that resending settled.
    for kind in FaultKind::ALL {
        assert!(
            report.faults.count(kind) > 0,
            "no {kind} fault was injected"
        );
    }
    assert!(report.succeeded > 0 && report.refused > 0, "{report}");
    assert!(report.unknown > 0, "no call ran out of retries:\n{report}");
    // Crashes happened, some resends were rebuilt from the id alone after midnight, and some
    // came a day late, were refused locally and reconciled.
    assert!(report.crashed > 0 && report.rebuilt_from_id > 0, "{report}");
    assert!(report.past_window > 0, "{report}");
    assert_eq!(
        report.past_window,
        report.reconciled_applied + report.reconciled_remade,
        "{report}"
    );
}
