//! The emulator's crash test: writers credit coins through a `liveapi emulator --state FILE`
//! process over HTTP while it is killed with SIGKILL at random moments and restarted on the
//! same state.
//!
//! After every restart the user's balance must be at least the sum of the acknowledged
//! credits and at most that plus the credits in flight when it was killed; every
//! acknowledged `request_id` sent again must leave the balance where it was (its idempotency
//! record survived). At the end, every credit ever sent is sent until acknowledged, and the
//! balance must be exactly their sum, with no `request_id` twice in the journal.
//!
//! The same code runs as the `emulator_crash` harness of `liveapi-harness` (at scale) and as
//! a test of the `liveapi` binary (small).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use liveapi::model::linkv::{
    ChangeGold, Coins, Expiration, GetUserTokens, OpenId, PortraitUri, RequestId, ThGetToken,
    UserId, UserName,
};
use liveapi::request::{LinkvCredentials, Operation, OsEntropy};
use serde_json::Value;

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `liveapi` binary.
    pub binary: PathBuf,
    /// The state file (its directory must exist; the caller removes it).
    pub state: PathBuf,
    /// Concurrent writers.
    pub writers: usize,
    /// How many times the emulator is killed.
    pub kills: usize,
    /// The shortest and longest time between a restart and the next kill.
    pub gap: (Duration, Duration),
    /// The seed of the kill times.
    pub seed: u64,
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// SIGKILLs sent (each followed by a restart that worked).
    pub kills: usize,
    /// Credits acknowledged, and their coins.
    pub acknowledged: usize,
    /// The coins of the acknowledged credits.
    pub acknowledged_coins: u64,
    /// The most credits in flight at one kill.
    pub most_in_flight: usize,
    /// Acknowledged credits sent again after restarts (each left the balance alone).
    pub resent: usize,
    /// Acknowledged coins missing after a restart, summed over restarts: must be 0.
    pub lost_coins: u64,
    /// The balance at the end.
    pub final_balance: u64,
    /// Restarts that dropped a torn last log record (a kill in the middle of a write).
    pub torn_tails: usize,
    /// How long the run took.
    pub elapsed: Duration,
}

/// A running `liveapi emulator` process.
struct Process {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &Config) -> Result<Process, String> {
    let mut child = Command::new(&config.binary)
        .arg("emulator")
        .args(["--listen", "127.0.0.1:0", "--no-rate-limit", "--state"])
        .arg(&config.state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", config.binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let first = BufReader::new(stdout).lines().next();
    let addr = first.and_then(Result::ok).and_then(|line| {
        line.strip_prefix("liveapi emulator listening on http://")
            .and_then(|a| a.parse().ok())
    });
    match addr {
        Some(addr) => Ok(Process { child, addr }),
        None => {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            let _ = child.wait();
            Err(format!("the emulator did not start: {stderr}"))
        }
    }
}

fn credentials() -> Result<LinkvCredentials, String> {
    LinkvCredentials::builder()
        .app_id(liveapi_emulator::DEMO_LINKV_APP_KEY)
        .secret(liveapi_emulator::DEMO_LINKV_APP_SECRET)
        .alias(liveapi_emulator::DEMO_LINKV_ALIAS)
        // Only the path of the URL is used: requests go to the emulator's current address.
        .base_url("http://127.0.0.1:1")
        .build()
        .map_err(|e| e.to_string())
}

/// Sends `op` once and returns the answer's JSON body; an IO error when the emulator is gone.
fn call<O: Operation<Credentials = LinkvCredentials>>(
    addr: SocketAddr,
    op: &O,
    creds: &LinkvCredentials,
) -> std::io::Result<Value> {
    let request = op
        .build(creds, SystemTime::now(), &OsEntropy)
        .map_err(std::io::Error::other)?;
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method(),
        request.body().len()
    );
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete answer"))?;
    serde_json::from_slice(&response[split + 4..]).map_err(std::io::Error::other)
}

fn ok(answer: &Value) -> bool {
    answer["status"] == "200"
}

fn balance(addr: SocketAddr, uid: &OpenId, creds: &LinkvCredentials) -> Result<u64, String> {
    let answer = call(addr, &GetUserTokens::new(uid.clone()), creds)
        .map_err(|e| format!("getUserTokens: {e}"))?;
    answer["data"]["tokens"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("getUserTokens answered {answer}"))
}

#[derive(Default)]
struct Ledger {
    acknowledged: BTreeMap<String, u64>,
    /// Sent, not yet acknowledged: in flight, or waiting to be sent again.
    unacknowledged: BTreeMap<String, u64>,
}

fn credit(
    uid: &OpenId,
    rid: &str,
    coins: u64,
    expiration: Expiration,
) -> Result<ChangeGold, String> {
    let rid = RequestId::new(rid).map_err(|e| e.to_string())?;
    let coins = Coins::new(coins).map_err(|e| e.to_string())?;
    ChangeGold::add(uid.clone(), rid, coins, expiration).map_err(|e| e.to_string())
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A small deterministic generator for the kill times.
fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

/// Runs the crash test.
///
/// # Errors
/// The first invariant that does not hold, or an emulator that does not restart.
pub fn run(config: &Config) -> Result<Report, String> {
    let started = Instant::now();
    let creds = credentials()?;
    let mut process = start(config)?;
    let user = ThGetToken::register(
        UserId::new("crash-test").map_err(|e| e.to_string())?,
        UserName::new("Crash").map_err(|e| e.to_string())?,
        PortraitUri::new("https://example.com/c.png").map_err(|e| e.to_string())?,
    );
    let answer = call(process.addr, &user, &creds).map_err(|e| format!("thGetToken: {e}"))?;
    let uid = answer["data"]["openId"]
        .as_str()
        .and_then(|id| OpenId::new(id).ok())
        .ok_or_else(|| format!("thGetToken answered {answer}"))?;
    let expiration = Expiration::after_days(SystemTime::now(), 30);
    let base = balance(process.addr, &uid, &creds)?;

    let gate = RwLock::new(process.addr);
    let ledger = Mutex::new(Ledger::default());
    let stop = AtomicBool::new(false);
    let failure = Mutex::new(None::<String>);
    let mut report = Report::default();
    let mut seed = config.seed;

    std::thread::scope(|scope| -> Result<(), String> {
        for w in 0..config.writers {
            let (gate, ledger, stop, failure, uid, creds) =
                (&gate, &ledger, &stop, &failure, &uid, &creds);
            scope.spawn(move || {
                let mut n = 0u64;
                let mut pending: Option<(String, u64)> = None;
                while !stop.load(Ordering::Acquire) {
                    let guard = gate.read().unwrap_or_else(PoisonError::into_inner);
                    let addr = *guard;
                    let (rid, coins) = pending.take().unwrap_or_else(|| {
                        n += 1;
                        (format!("crash-{w}-{n}"), 1 + n % 7)
                    });
                    lock(ledger).unacknowledged.insert(rid.clone(), coins);
                    let op = match credit(uid, &rid, coins, expiration) {
                        Ok(op) => op,
                        Err(e) => {
                            *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                            return;
                        }
                    };
                    match call(addr, &op, creds) {
                        Ok(answer) if ok(&answer) => {
                            let mut l = lock(ledger);
                            l.unacknowledged.remove(&rid);
                            l.acknowledged.insert(rid, coins);
                        }
                        Ok(answer) => {
                            *failure.lock().unwrap_or_else(PoisonError::into_inner) =
                                Some(format!("credit {rid} refused: {answer}"));
                            return;
                        }
                        Err(_) => {
                            // Killed while in flight, or not back yet: send it again later.
                            pending = Some((rid, coins));
                            drop(guard);
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                }
            });
        }

        let result = (|| -> Result<(), String> {
            for _ in 0..config.kills {
                let (low, high) = config.gap;
                let span = u64::try_from((high.saturating_sub(low)).as_millis()).unwrap_or(0);
                std::thread::sleep(low + Duration::from_millis(next(&mut seed) % (span + 1)));
                if let Some(e) = failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    return Err(e);
                }
                // SIGKILL, with requests in flight.
                let _ = process.child.kill();
                let _ = process.child.wait();
                report.kills += 1;
                // Hold the writers: each finishes (fails) what it was sending.
                let mut addr = gate.write().unwrap_or_else(PoisonError::into_inner);
                process = start(config).map_err(|e| format!("restart {}: {e}", report.kills))?;
                *addr = process.addr;
                let store = get(process.addr, "/_emulator/store")?;
                if !store["torn_tail_dropped"].is_null() {
                    report.torn_tails += 1;
                }
                let (acked, in_flight): (Vec<(String, u64)>, u64) = {
                    let l = lock(&ledger);
                    report.most_in_flight = report.most_in_flight.max(l.unacknowledged.len());
                    (
                        l.acknowledged
                            .iter()
                            .map(|(k, v)| (k.clone(), *v))
                            .collect(),
                        l.unacknowledged.values().sum(),
                    )
                };
                let acked_coins: u64 = acked.iter().map(|(_, c)| c).sum();
                let now = balance(process.addr, &uid, &creds)?.saturating_sub(base);
                if now < acked_coins {
                    report.lost_coins += acked_coins - now;
                    return Err(format!(
                        "after kill {}: balance {now} < acknowledged {acked_coins}",
                        report.kills
                    ));
                }
                if now > acked_coins + in_flight {
                    return Err(format!(
                        "after kill {}: balance {now} > acknowledged {acked_coins} + in flight {in_flight}",
                        report.kills
                    ));
                }
                resend_all(
                    process.addr,
                    &uid,
                    expiration,
                    &creds,
                    &acked,
                    config.writers,
                )?;
                report.resent += acked.len();
                let after = balance(process.addr, &uid, &creds)?.saturating_sub(base);
                if after != now {
                    return Err(format!(
                        "after kill {}: resending {} acknowledged credits moved the balance from {now} to {after}",
                        report.kills,
                        acked.len()
                    ));
                }
            }
            Ok(())
        })();
        stop.store(true, Ordering::Release);
        result
    })?;
    if let Some(e) = failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(e);
    }

    // Everything sent is sent until acknowledged: the balance is then exactly the sum.
    let ledger = ledger.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut all = ledger.acknowledged;
    let rest: Vec<(String, u64)> = ledger.unacknowledged.into_iter().collect();
    resend_all(
        process.addr,
        &uid,
        expiration,
        &creds,
        &rest,
        config.writers,
    )?;
    all.extend(rest);
    let total: u64 = all.values().sum();
    let end = balance(process.addr, &uid, &creds)?.saturating_sub(base);
    if end != total {
        return Err(format!(
            "at the end: balance {end}, credits acknowledged {total}"
        ));
    }
    let journal = get(process.addr, "/_emulator/journal")?;
    let mut seen = BTreeMap::new();
    for entry in journal.as_array().into_iter().flatten() {
        let rid = entry["request_id"].as_str().unwrap_or_default().to_owned();
        *seen.entry(rid).or_insert(0u32) += 1;
    }
    if let Some((rid, n)) = seen.iter().find(|(_, n)| **n > 1) {
        return Err(format!("request_id {rid} is in the journal {n} times"));
    }
    report.acknowledged = all.len();
    report.acknowledged_coins = total;
    report.final_balance = end;

    // A graceful stop (SIGTERM) and one more start: nothing moves.
    stop_gracefully(&mut process)?;
    let process = start(config)?;
    let again = balance(process.addr, &uid, &creds)?.saturating_sub(base);
    if again != total {
        return Err(format!(
            "after a graceful stop: balance {again}, expected {total}"
        ));
    }
    drop(process);
    report.elapsed = started.elapsed();
    Ok(report)
}

fn resend_all(
    addr: SocketAddr,
    uid: &OpenId,
    expiration: Expiration,
    creds: &LinkvCredentials,
    credits: &[(String, u64)],
    threads: usize,
) -> Result<(), String> {
    let chunk = credits.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = credits
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<(), String> {
                    for (rid, coins) in part {
                        let op = credit(uid, rid, *coins, expiration)?;
                        let answer =
                            call(addr, &op, creds).map_err(|e| format!("resending {rid}: {e}"))?;
                        if !ok(&answer) {
                            return Err(format!("resending {rid}: {answer}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err("a resender panicked".into()))
        })
    })
}

fn get(addr: SocketAddr, path: &str) -> Result<Value, String> {
    let fail = |e: std::io::Error| format!("GET {path}: {e}");
    let mut stream = TcpStream::connect(addr).map_err(fail)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(fail)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no complete answer"))?;
    serde_json::from_slice(&response[split + 4..]).map_err(|e| format!("GET {path}: {e}"))
}

fn stop_gracefully(process: &mut Process) -> Result<(), String> {
    let pid = process.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map_err(|e| format!("kill -TERM: {e}"))?;
    if !sent.success() {
        return Err("kill -TERM failed".into());
    }
    let status = process.child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the emulator stopped with {status} after SIGTERM"))
    }
}
