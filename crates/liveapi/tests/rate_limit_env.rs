//! The Polyv rate limit from the environment, without Redis: the budget and this process's
//! share of it.

use std::collections::HashMap;

use liveapi::{Client, ConfigError, ErrorKind};

fn client(vars: &[(&str, &str)]) -> Result<Client, liveapi::Error> {
    let mut all: HashMap<&str, &str> = HashMap::from([
        ("LIVEAPI_POLYV_APP_ID", "app"),
        ("LIVEAPI_POLYV_SECRET", "secret"),
    ]);
    all.extend(vars.iter().copied());
    Client::builder()
        .from_env_with(|name| all.get(name).map(|v| (*v).to_owned()))?
        .build()
}

fn limiter(client: &Client) -> String {
    format!("{:?}", client.engine().polyv_rate_limiter().unwrap())
}

#[test]
fn the_budget_and_the_share_set_the_in_process_limit() {
    let default = client(&[]).unwrap();
    assert!(
        limiter(&default).contains("limit: 1200"),
        "{}",
        limiter(&default)
    );
    let three = client(&[("LIVEAPI_POLYV_RATE_LIMIT_PROCESSES", "3")]).unwrap();
    assert!(
        limiter(&three).contains("limit: 400"),
        "{}",
        limiter(&three)
    );
    let own = client(&[
        ("LIVEAPI_POLYV_RATE_LIMIT", "100/1s"),
        ("LIVEAPI_POLYV_RATE_LIMIT_PROCESSES", "4"),
    ])
    .unwrap();
    let own = limiter(&own);
    assert!(
        own.contains("limit: 25") && own.contains("window: 1s"),
        "{own}"
    );
}

#[test]
fn an_egress_label_without_redis_is_an_error() {
    let err = client(&[("LIVEAPI_POLYV_RATE_LIMIT_EGRESS", "nat-a")]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Config(ConfigError::Variable { variable, .. })
                if *variable == "LIVEAPI_POLYV_RATE_LIMIT_EGRESS"
        ),
        "{err}"
    );
}
