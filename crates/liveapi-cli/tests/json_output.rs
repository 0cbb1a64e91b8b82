//! `--json` results: one key style (snake_case) everywhere, and each time in RFC 3339 beside
//! the number a script computes with.

mod common;

use common::Server;
use serde_json::Value;

/// Every key of `value`, at any depth, with where it is.
fn keys(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                found.push(format!("{at}.{key}"));
                keys(inner, &format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                keys(inner, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

fn snake_case(key: &str) -> bool {
    let last = key.rsplit(['.', ']']).next().unwrap_or(key);
    !last.is_empty()
        && last
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[test]
fn every_json_result_is_keyed_in_snake_case() {
    let server = Server::start();
    let open_id = server.user("kim");
    let mut results: Vec<(&str, Value)> = Vec::new();
    results.push((
        "linkv token",
        server
            .linkv_run(&["token", "--user-id", "kim", "--aid", "d-1", "--json"])
            .json(),
    ));
    let order = [
        "order",
        "--uid",
        &open_id,
        "--order-id",
        "K-1",
        "--coins",
        "9",
        "--money",
        "99",
        "--platform",
        "ios",
        "--json",
    ];
    results.push(("linkv order", server.linkv_run(&order).json()));
    results.push((
        "linkv change-gold",
        server
            .linkv_run(&["change-gold", "--uid", &open_id, "--remove", "2", "--json"])
            .json(),
    ));
    results.push((
        "linkv balance",
        server
            .linkv_run(&["balance", "--uid", &open_id, "--json"])
            .json(),
    ));
    server
        .polyv_run(
            &[
                "donate",
                "update-good",
                "--channel",
                "1000001",
                "--good",
                "鲜花,//cdn.example.com/f.png,0",
            ],
            None,
        )
        .ok();
    for args in [
        &["donate", "get", "--json"][..],
        &["donate", "get", "--channel", "1000001", "--json"],
        &["donate", "update-cash", "--min", "1", "--json"],
    ] {
        results.push(("polyv", server.polyv_run(args, None).json()));
    }
    let mut found = Vec::new();
    for (command, value) in &results {
        keys(value, command, &mut found);
    }
    assert!(found.iter().any(|k| k.ends_with("good_name")), "{found:?}");
    let wrong: Vec<&String> = found.iter().filter(|k| !snake_case(k)).collect();
    assert!(wrong.is_empty(), "not snake_case: {wrong:?}");
}

#[test]
fn an_expiry_is_printed_in_rfc_3339_beside_its_unix_seconds() {
    let server = Server::start();
    let open_id = server.user("lea");
    let added = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "3",
        "--request-id",
        "lea-1",
        "--expires-at",
        "4102444800",
        "--json",
    ]);
    let announced = added.stderr.clone();
    let value = added.json();
    assert_eq!(value["expires_at"], 4_102_444_800u64);
    assert_eq!(value["expires_at_rfc3339"], "2100-01-01T00:00:00Z");
    assert!(
        announced.contains("expires_at 4102444800, 2100-01-01T00:00:00Z"),
        "{announced}"
    );
}
