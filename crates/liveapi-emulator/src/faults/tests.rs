//! The fault sequence's tests: determinism, rates, scope, delays and configurations.

use std::time::Duration;

use super::*;

#[test]
fn the_same_seed_gives_the_same_sequence() {
    let run = |seed| {
        let injector = FaultInjector::new(Faults::new(0.5), seed);
        (0..200)
            .map(|_| injector.decide(Vendor::Linkv, "/open/x").map(|f| f.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn rate_and_weights_are_honoured() {
    let injector = FaultInjector::new(
        Faults::new(0.25).with_weights(FaultWeights::only(FaultKind::Http503)),
        9,
    );
    let hits = (0..10_000)
        .filter_map(|_| injector.decide(Vendor::Polyv, "/live/v3/x"))
        .inspect(|f| assert_eq!(f.kind, FaultKind::Http503))
        .count();
    assert!((2_200..2_800).contains(&hits), "{hits}");
    let stats = injector.stats();
    assert_eq!(stats.eligible, 10_000);
    assert_eq!(stats.count(FaultKind::Http503), hits as u64);
}

#[test]
fn scope_limits_eligibility() {
    let injector = FaultInjector::new(
        Faults::new(1.0)
            .only_vendor(Vendor::Linkv)
            .only_path("/open/finanv0/"),
        0,
    );
    assert!(injector.decide(Vendor::Polyv, "/open/finanv0/x").is_none());
    assert!(
        injector
            .decide(Vendor::Linkv, "/open/v0/thGetToken")
            .is_none()
    );
    assert!(
        injector
            .decide(Vendor::Linkv, "/open/finanv0/changeGold")
            .is_some()
    );
    assert_eq!(injector.stats().eligible, 1);
}

#[test]
fn delays_stay_in_range_even_at_the_extremes() {
    let faults = Faults::new(1.0)
        .only_kind(FaultKind::Latency)
        .with_latency(Duration::from_millis(10), Duration::from_millis(20));
    let injector = FaultInjector::new(faults, 3);
    for _ in 0..500 {
        let f = injector.decide(Vendor::Linkv, "/open/").unwrap();
        assert!((10..=20).contains(&f.delay.as_millis()));
    }
    let mut wide = Faults::new(1.0).only_kind(FaultKind::Latency);
    wide.latency_min_ms = 0;
    wide.latency_max_ms = u64::MAX;
    assert!(
        FaultInjector::new(wide, 1)
            .decide(Vendor::Linkv, "/")
            .is_some()
    );
}

#[test]
fn invalid_configurations_are_refused() {
    assert!(Faults::new(1.5).validate().is_err());
    assert!(Faults::new(f64::NAN).validate().is_err());
    let backwards = Faults::new(0.1).with_latency(Duration::from_secs(2), Duration::from_secs(1));
    assert!(backwards.validate().is_err());
    let injector = FaultInjector::new(Faults::none(), 0);
    assert!(injector.set(Faults::new(-0.1)).is_err());
}

#[test]
fn json_weights_default_to_zero_only_when_given() {
    let f: Faults = serde_json::from_str(r#"{"rate":0.5,"weights":{"http503":2}}"#).unwrap();
    assert_eq!(f.weights, FaultWeights::none().with(FaultKind::Http503, 2));
    let f: Faults = serde_json::from_str(r#"{"rate":0.5}"#).unwrap();
    assert_eq!(f.weights, FaultWeights::default());
    assert!(serde_json::from_str::<Faults>(r#"{"rate":0.5,"bogus":1}"#).is_err());
    assert!(serde_json::from_str::<Faults>(r#"{"weights":{"boom":1}}"#).is_err());
}
