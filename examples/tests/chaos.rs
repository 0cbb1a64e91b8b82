//! The chaos test: hundreds of concurrent coin changes through ~30 % injected faults of every
//! kind; none applied twice, none lost, every unknown outcome settled by resending.
//! `cargo run --release --example chaos -- --calls 100000` runs the same at scale.

use liveapi_emulator::FaultKind;
use liveapi_examples::chaos::{Config, run};

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
}
