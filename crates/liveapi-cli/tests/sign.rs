//! `liveapi sign`, `verify`, `nonce` and `timestamp` as a user runs them: no server needed.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{liveapi, run, run_command, run_with_stdin};

/// `getUserTokens_basic` from liveapi-sign's `tests/data/linkv-sign.json`.
const LINKV_SECRET: &str = "0123456789abcdef0123456789abcdef";
const LINKV_ARGS: [&str; 3] = [
    "app_id=LM6000101140927991745433",
    "nonce_str=24dcadd615637909402f4877b0",
    "uid=1291371456374120449",
];
const LINKV_SIGN: &str = "1fbb078cfc348c445728b79bb06c0a3d";
/// The time inside the vector's nonce.
const LINKV_NONCE_TIME: u64 = 1_563_790_940;

/// `vendor_buildsign_example` from liveapi-sign's `tests/data/polyv-sign.json`, nulls and all.
const POLYV_SECRET: &str = "fsq2k5weced1h8vui657xtdva66whf0g";
const POLYV_JSON: &str = r#"{"channelIds":"2477096,2272655","startDay":"2022-05-20",
    "endDay":"2022-06-18","appId":"g4rqgmmjuo","timestamp":"1660270926732",
    "page":null,"size":null}"#;
const POLYV_SIGN: &str = "0D2BDA2FD04D93A2B8832B91FD973C4D";

/// `donate_update_cash_sha256` from the same file.
const POLYV_SHA256_JSON: &str = r#"{"appId":"frlr1zazn3","timestamp":"1621844038326",
    "channelId":"2149710","signatureMethod":"SHA256"}"#;
const POLYV_SHA256_SIGN: &str = "0174B29E75F75C96F68BBFDB8216A6D5313B10274B0F2FE1B62C5BEAED9F36AF";

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(tail).copied().collect()
}

#[test]
fn known_vectors_sign_the_same_from_arguments_and_from_standard_input() {
    let from_args = run(&args(
        &["sign", "linkv", "--secret", LINKV_SECRET],
        &LINKV_ARGS,
    ));
    assert_eq!(from_args.ok(), format!("{LINKV_SIGN}\n"));

    let json = r#"{"uid":"1291371456374120449","app_id":"LM6000101140927991745433",
        "nonce_str":"24dcadd615637909402f4877b0"}"#;
    let from_stdin = run_with_stdin(
        &["sign", "linkv", "--secret", LINKV_SECRET],
        json.as_bytes(),
    );
    assert_eq!(from_stdin.ok(), from_args.ok());

    let polyv = run_with_stdin(
        &["sign", "polyv", "--secret", POLYV_SECRET],
        POLYV_JSON.as_bytes(),
    );
    assert_eq!(polyv.ok(), format!("{POLYV_SIGN}\n"));
    let polyv_args = run(&[
        "sign",
        "polyv",
        "--secret",
        POLYV_SECRET,
        "channelIds=2477096,2272655",
        "startDay=2022-05-20",
        "endDay=2022-06-18",
        "appId=g4rqgmmjuo",
        "timestamp=1660270926732",
    ]);
    assert_eq!(polyv_args.ok(), polyv.ok());

    let sha256 = run_with_stdin(
        &["sign", "polyv", "--secret", POLYV_SECRET],
        POLYV_SHA256_JSON.as_bytes(),
    );
    assert_eq!(sha256.ok(), format!("{POLYV_SHA256_SIGN}\n"));
}

#[test]
fn null_means_absent_but_the_text_null_is_a_value() {
    let sign = |input: &str| {
        run_with_stdin(&["sign", "linkv", "--secret", "s"], input.as_bytes())
            .ok()
            .to_owned()
    };
    let with_null = sign(r#"{"a":"1","b":null}"#);
    assert_eq!(with_null, sign(r#"{"a":"1"}"#));
    assert_eq!(
        with_null,
        run(&["sign", "linkv", "--secret", "s", "a=1"]).ok()
    );
    assert_ne!(with_null, sign(r#"{"a":"1","b":"null"}"#));
    // An empty value is left out by the algorithm itself.
    assert_eq!(with_null, sign(r#"{"a":"1","b":""}"#));
}

#[test]
fn the_secret_comes_from_the_environment_unless_a_flag_overrides_it() {
    let from_env = run_command(
        liveapi()
            .args(["sign", "linkv"])
            .args(LINKV_ARGS)
            .env("LIVEAPI_LINKV_SECRET", LINKV_SECRET),
        None,
    );
    assert_eq!(from_env.ok(), format!("{LINKV_SIGN}\n"));

    let overridden = run_command(
        liveapi()
            .args(["sign", "linkv", "--secret", LINKV_SECRET])
            .args(LINKV_ARGS)
            .env("LIVEAPI_LINKV_SECRET", "another"),
        None,
    );
    assert_eq!(overridden.ok(), from_env.ok());

    let polyv = run_command(
        liveapi()
            .args(["sign", "polyv"])
            .env("LIVEAPI_POLYV_SECRET", POLYV_SECRET)
            // The LinkV variable does not count for Polyv.
            .env("LIVEAPI_LINKV_SECRET", "wrong"),
        Some(POLYV_JSON.as_bytes()),
    );
    assert_eq!(polyv.ok(), format!("{POLYV_SIGN}\n"));

    let missing = run(&args(&["sign", "linkv"], &LINKV_ARGS));
    assert!(missing.one_line_error(2).contains("LIVEAPI_LINKV_SECRET"));
}

#[test]
fn explain_shows_the_string_signed_with_the_secret_masked() {
    let run = run(&args(
        &["sign", "linkv", "--explain", "--secret", LINKV_SECRET],
        &LINKV_ARGS,
    ));
    assert_eq!(
        run.ok(),
        format!("{LINKV_SIGN}\n"),
        "stdout keeps the sign alone"
    );
    assert!(
        run.stderr.contains(
            "string to sign: app_id=LM6000101140927991745433&nonce_str=24dcadd615637909402f4877b0\
             &uid=1291371456374120449&key=***"
        ),
        "{run:#?}"
    );
    assert!(run.stderr.contains("MD5"), "{run:#?}");
    run.assert_hides(LINKV_SECRET);

    let polyv = run_with_stdin(
        &["sign", "polyv", "--explain", "--secret", POLYV_SECRET],
        POLYV_JSON.as_bytes(),
    );
    assert!(
        polyv.stderr.contains("string to sign: ***appIdg4rqgmmjuo"),
        "{polyv:#?}"
    );
    assert!(
        polyv.stderr.contains("left out (null): page, size"),
        "{polyv:#?}"
    );
    polyv.assert_hides(POLYV_SECRET);
}

#[test]
fn each_unusable_input_exits_2_with_one_line_on_stderr() {
    let stdin_cases: [(&str, &[u8], &str); 9] = [
        ("invalid JSON", b"{\"a\":", "EOF"),
        ("not JSON", b"a=1", "expected value"),
        ("an array", b"[\"a\"]", "expected a JSON object"),
        (
            "a number value",
            br#"{"a":1}"#,
            r#"parameter "a" is a number"#,
        ),
        ("an object value", br#"{"a":{}}"#, "is an object"),
        ("a duplicate key", br#"{"a":"1","a":"2"}"#, "more than once"),
        (
            "a duplicate, null first",
            br#"{"a":null,"a":"2"}"#,
            "more than once",
        ),
        ("nothing", b"", "EOF"),
        (
            "a newline in a key",
            b"{\"a\\nb\":1}",
            r#"parameter "a\nb""#,
        ),
    ];
    for vendor in ["linkv", "polyv"] {
        for (case, input, expected) in stdin_cases {
            let run = run_with_stdin(&["sign", vendor, "--secret", "s"], input);
            let line = run.one_line_error(2);
            assert!(line.contains(expected), "{vendor} {case}: {line}");
            assert!(line.starts_with("liveapi sign: "), "{line}");
        }
        let arg_cases: [&[&str]; 3] = [&["a=1", "a=2"], &["novalue"], &["=1"]];
        for params in arg_cases {
            let run = run(&args(&["sign", vendor, "--secret", "s"], params));
            run.one_line_error(2);
        }
    }
    let unsupported = run_with_stdin(
        &["sign", "polyv", "--secret", "s"],
        br#"{"signatureMethod":"SHA1"}"#,
    );
    assert!(unsupported.one_line_error(2).contains("SHA1"));
}

#[test]
fn arbitrary_bytes_on_standard_input_never_crash_the_binary() {
    // A few fixed hostile inputs and some pseudo-random ones; the parser itself is
    // property-tested in the crate's unit tests.
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![0xFF, 0xFE, 0x00],
        b"{\"a\":\"\xC3\x28\"}".to_vec(),
        b"{\"a\":\"\\ud800\"}".to_vec(),
        "[".repeat(100_000).into_bytes(),
        format!("{{\"a\":{}", "[".repeat(100_000)).into_bytes(),
        format!("{{\"a\":\"{}\"}}", "x".repeat(200_000)).into_bytes(),
        vec![b'{'; 2 << 20],
    ];
    const ALPHABET: &[u8] = b"{}[]\":,a1 \\nul";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for len in [1, 7, 64, 500] {
        let bytes = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ALPHABET[(state % ALPHABET.len() as u64) as usize]
            })
            .collect();
        inputs.push(bytes);
    }
    for input in inputs {
        let run = run_with_stdin(&["sign", "linkv", "--secret", "s"], &input);
        assert!(
            run.code == 0 || run.code == 2,
            "exit {} for {:?}: {}",
            run.code,
            String::from_utf8_lossy(&input[..input.len().min(40)]),
            run.stderr
        );
        if run.code == 2 {
            run.one_line_error(2);
        }
    }
}

#[test]
fn verify_says_valid_invalid_or_stale_and_exits_accordingly() {
    let now = LINKV_NONCE_TIME.to_string();
    let signed: Vec<&str> = LINKV_ARGS
        .iter()
        .copied()
        .chain([concat!("sign=", "1fbb078cfc348c445728b79bb06c0a3d")])
        .collect();
    let verify = |extra: &[&str], params: &[&str]| {
        let head = args(&["verify", "linkv", "--secret", LINKV_SECRET], extra);
        run(&args(&head, params))
    };

    assert_eq!(verify(&["--now", &now], &signed).ok(), "valid\n");
    // Milliseconds work too.
    assert_eq!(
        verify(&["--now", &format!("{now}500")], &signed).ok(),
        "valid\n"
    );

    let tampered: Vec<&str> = signed
        .iter()
        .map(|p| {
            if p.starts_with("uid=") {
                "uid=1291371456374120440"
            } else {
                p
            }
        })
        .collect();
    let mismatch = verify(&["--now", &now], &tampered);
    assert_eq!(mismatch.code, 1, "{mismatch:#?}");
    assert!(
        mismatch
            .stdout
            .starts_with("invalid: signature does not match")
    );

    let later = (LINKV_NONCE_TIME + 1_000).to_string();
    let stale = verify(&["--now", &later], &signed);
    assert_eq!(stale.code, 1, "{stale:#?}");
    assert_eq!(
        stale.stdout,
        "invalid: stale: the time in nonce_str is 1000s behind the clock, outside the window of 300s\n"
    );
    // A wider window accepts it.
    assert_eq!(
        verify(&["--now", &later, "--window", "1000"], &signed).ok(),
        "valid\n"
    );

    let missing = verify(&["--now", &now], &LINKV_ARGS);
    assert_eq!(missing.code, 1);
    assert_eq!(missing.stdout, "invalid: parameter `sign` is missing\n");

    // Signed correctly, but without the nonce the server needs.
    let sign = run(&["sign", "linkv", "--secret", LINKV_SECRET, "uid=1"]);
    let sign = format!("sign={}", sign.ok().trim_end());
    let no_nonce = verify(&[], &["uid=1", &sign]);
    assert_eq!(no_nonce.code, 1, "{no_nonce:#?}");
    assert_eq!(
        no_nonce.stdout,
        "invalid: parameter `nonce_str` is missing\n"
    );

    let unusable = run_with_stdin(
        &["verify", "linkv", "--secret", LINKV_SECRET],
        br#"{"sign":"x","sign":"y"}"#,
    );
    unusable.one_line_error(2);

    let explained = verify(&["--now", &now, "--explain"], &tampered);
    assert!(
        explained.stderr.contains("expected sign: "),
        "{explained:#?}"
    );
    explained.assert_hides(LINKV_SECRET);
}

#[test]
fn verify_polyv_checks_the_millisecond_timestamp() {
    let params = [
        "appId=frlr1zazn3",
        "timestamp=1621844038326",
        "channelId=2149710",
        "sign=6FE33012E0A8BD754012801D325C34BC",
    ];
    let verify = |now: &str| {
        run(&args(
            &["verify", "polyv", "--secret", POLYV_SECRET, "--now", now],
            &params,
        ))
    };
    assert_eq!(verify("1621844038326").ok(), "valid\n");
    let stale = verify("1621844219326");
    assert_eq!(stale.code, 1);
    assert_eq!(
        stale.stdout,
        "invalid: stale: the time in timestamp is 181s behind the clock, outside the window of 180s\n"
    );
    let ahead = verify("1621843038326");
    assert!(
        ahead.stdout.contains("1000s ahead of the clock"),
        "{ahead:#?}"
    );

    let bad_now = run(&args(
        &[
            "verify",
            "polyv",
            "--secret",
            POLYV_SECRET,
            "--now",
            "yesterday",
        ],
        &params,
    ));
    assert_eq!(bad_now.code, 2);
}

#[test]
fn nonce_and_timestamp_have_the_vendors_shapes_and_the_current_time() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let nonce = run(&["nonce"]).ok().trim_end().to_owned();
    assert_eq!(nonce.len(), 26, "{nonce}");
    let (head, rest) = nonce.split_at(8);
    let (time, tail) = rest.split_at(10);
    assert!(
        head.bytes()
            .chain(tail.bytes())
            .all(|b| b.is_ascii_alphanumeric())
    );
    let time: u64 = time.parse().unwrap();
    assert!(time.abs_diff(now) < 60, "{nonce} vs {now}");
    assert_ne!(run(&["nonce"]).ok().trim_end(), nonce, "nonces are random");

    let timestamp = run(&["timestamp"]).ok().trim_end().to_owned();
    assert_eq!(timestamp.len(), 13, "{timestamp}");
    let millis: u64 = timestamp.parse().unwrap();
    assert!((millis / 1_000).abs_diff(now) < 60, "{timestamp} vs {now}");
}

#[test]
fn every_command_has_help() {
    for command in [
        &["--help"][..],
        &["sign", "--help"],
        &["sign", "linkv", "--help"],
        &["sign", "polyv", "--help"],
        &["verify", "linkv", "--help"],
        &["verify", "polyv", "--help"],
        &["nonce", "--help"],
        &["timestamp", "--help"],
        &["linkv", "--help"],
        &["linkv", "token", "--help"],
        &["linkv", "order", "--help"],
        &["linkv", "change-gold", "--help"],
        &["linkv", "balance", "--help"],
        &["polyv", "donate", "--help"],
        &["polyv", "donate", "get", "--help"],
        &["polyv", "donate", "update-cash", "--help"],
        &["polyv", "donate", "update-good", "--help"],
        &["emulator", "--help"],
    ] {
        let run = run(command);
        assert!(run.ok().contains("Usage: liveapi"), "{command:?}: {run:#?}");
    }
    let top = run(&["--help"]);
    assert!(top.ok().contains("Exit status:"), "{top:#?}");
    let linkv = run(&["linkv", "--help"]);
    assert!(linkv.ok().contains("3  authentication"), "{linkv:#?}");
}

#[test]
fn output_that_cannot_be_written_exits_5() {
    // `/dev/full` accepts the open and fails every write, as a full disk does.
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full on this system: skipped");
        return;
    };
    for args in [
        &["nonce"][..],
        &["timestamp"],
        &["sign", "linkv", "--secret", "s", "uid=1"],
    ] {
        let output = liveapi()
            .args(args)
            .stdout(full.try_clone().unwrap())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(5), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot write to standard output"),
            "{stderr}"
        );
    }
}
