//! Helpers shared by the integration tests: a raw HTTP/1.1 client that reports resets and
//! truncated bodies as such, and signed requests built by `liveapi-request`.
// Each test crate uses its own subset, and `pub` here only means "shared between test files".
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use liveapi_emulator::{Emulator, EmulatorBuilder, RunningEmulator};
use liveapi_model::linkv::{
    ChangeGold, Coins, Expiration, GetUserTokens, OpenId, OrderId, OrderSuccess, Platform,
    PortraitUri, RequestId, ThGetToken, UsdCents, UserId, UserName,
};
use liveapi_request::{
    Entropy, LinkvCredentials, Operation, OsEntropy, PolyvCredentials, SeededEntropy,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back over the socket.
#[derive(Debug)]
pub enum Outcome {
    /// A complete response.
    Reply(Reply),
    /// The connection was reset or closed before any response.
    NoResponse,
    /// Headers arrived, but fewer body bytes than `Content-Length` promised.
    Truncated {
        status: u16,
        declared: usize,
        received: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn to_http(&self) -> http::Response<Bytes> {
        let mut response = http::Response::new(Bytes::from(self.body.clone()));
        *response.status_mut() = http::StatusCode::from_u16(self.status).unwrap();
        response
    }

    /// The status the body says: LinkV's `status` or Polyv's `code`, read as a number.
    pub fn api_status(&self) -> u16 {
        let json = self.json();
        let status = json
            .get("status")
            .filter(|s| s.is_string())
            .or_else(|| json.get("code"));
        match status {
            Some(serde_json::Value::String(s)) => s.parse().unwrap(),
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap() as u16,
            other => panic!("no status in {json}: {other:?}"),
        }
    }

    /// LinkV's `msg` or Polyv's `message`.
    pub fn message(&self) -> String {
        let json = self.json();
        json.get("msg")
            .or_else(|| json.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

impl Outcome {
    pub fn reply(self) -> Reply {
        match self {
            Self::Reply(reply) => reply,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

/// Reads a response from what came over a socket.
pub fn parse_response(raw: &[u8]) -> Outcome {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Outcome::NoResponse;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = raw[head_end + 4..].to_vec();
    let declared = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse::<usize>().unwrap());
    match declared {
        Some(declared) if body.len() < declared => Outcome::Truncated {
            status,
            declared,
            received: body,
        },
        Some(declared) => Outcome::Reply(Reply {
            status,
            headers,
            body: body[..declared].to_vec(),
        }),
        None => Outcome::Reply(Reply {
            status,
            headers,
            body,
        }),
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads all that comes back.
pub async fn send_raw(addr: SocketAddr, head: &str, body: &[u8]) -> Outcome {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(body);
    // A server that resets early may make the write fail: that is an outcome, not a test bug.
    if stream.write_all(&bytes).await.is_err() {
        return Outcome::NoResponse;
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

/// Sends `method path` with `headers` and `body`.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Outcome {
    let mut head =
        format!("{method} {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    send_raw(addr, &head, body).await
}

/// Sends a request built by `liveapi-request`.
pub async fn send_request(addr: SocketAddr, request: &http::Request<Bytes>) -> Outcome {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(
        addr,
        request.method().as_str(),
        &path,
        &headers,
        request.body(),
    )
    .await
}

pub async fn start() -> RunningEmulator {
    Emulator::start().await.unwrap()
}

pub async fn start_with(builder: EmulatorBuilder) -> RunningEmulator {
    builder.start().await.unwrap()
}

pub fn linkv_creds(emu: &RunningEmulator) -> LinkvCredentials {
    let app = emu.linkv_app();
    LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

pub fn polyv_creds(emu: &RunningEmulator) -> PolyvCredentials {
    let app = emu.polyv_app();
    PolyvCredentials::builder()
        .app_id(&app.app_id)
        .secret(app.secret.as_str())
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

/// Builds `op` signed as of the emulator's own time.
pub fn build<O: Operation>(
    emu: &RunningEmulator,
    op: &O,
    creds: &O::Credentials,
) -> http::Request<Bytes> {
    op.build(creds, emu.clock().now(), &OsEntropy).unwrap()
}

/// Sends `op` once and decodes the answer with the SDK's own decoder.
pub async fn call<O: Operation>(
    emu: &RunningEmulator,
    op: &O,
    creds: &O::Credentials,
) -> Result<O::Output, liveapi_model::ApiError> {
    let request = build(emu, op, creds);
    let reply = send_request(emu.addr(), &request).await.reply();
    op.parse(&reply.to_http())
}

pub fn request_id(seed: u64) -> RequestId {
    // A fixed time: the id depends on its seed alone.
    let made = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    SeededEntropy::new(seed).request_id(made).unwrap()
}

pub fn fresh_request_id() -> RequestId {
    OsEntropy.request_id(SystemTime::now()).unwrap()
}

pub fn register_op(user: &str) -> ThGetToken {
    ThGetToken::register(
        UserId::new(user).unwrap(),
        UserName::new("Ann").unwrap(),
        PortraitUri::new("https://cdn.example.com/ann.png").unwrap(),
    )
}

/// Registers `user` and returns the open id.
pub async fn register(emu: &RunningEmulator, user: &str) -> OpenId {
    call(emu, &register_op(user), &linkv_creds(emu))
        .await
        .unwrap()
        .open_id
}

/// An expiry `days` after the emulator's now.
pub fn days(emu: &RunningEmulator, days: u32) -> Expiration {
    Expiration::after_days(emu.clock().now(), days)
}

pub fn credit_op(emu: &RunningEmulator, uid: &OpenId, rid: RequestId, coins: u64) -> ChangeGold {
    ChangeGold::add(uid.clone(), rid, Coins::new(coins).unwrap(), days(emu, 30)).unwrap()
}

pub fn spend_op(emu: &RunningEmulator, uid: &OpenId, rid: RequestId, coins: u64) -> ChangeGold {
    ChangeGold::remove(uid.clone(), rid, Coins::new(coins).unwrap(), days(emu, 30)).unwrap()
}

pub fn order_op(
    emu: &RunningEmulator,
    uid: &OpenId,
    rid: RequestId,
    order: &str,
    coins: u64,
) -> OrderSuccess {
    OrderSuccess::credit(
        uid.clone(),
        rid,
        OrderId::new(order).unwrap(),
        Coins::new(coins).unwrap(),
        UsdCents::new(199),
        Platform::Ios,
        days(emu, 91),
    )
    .unwrap()
}

pub async fn balance(emu: &RunningEmulator, uid: &OpenId) -> u64 {
    call(emu, &GetUserTokens::new(uid.clone()), &linkv_creds(emu))
        .await
        .unwrap()
        .coins
        .get()
}

/// A LinkV form with `app_id`, a nonce for `now` and the signature added, form-encoded.
pub fn signed_linkv_form(
    params: &[(&str, &str)],
    app_id: &str,
    secret: &str,
    now: SystemTime,
) -> String {
    let nonce = liveapi_sign::linkv::Nonce::generate(now, |buf| buf.fill(7)).unwrap();
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.push(("app_id".into(), app_id.into()));
    all.push(("nonce_str".into(), nonce.to_string()));
    let sign = liveapi_sign::linkv::sign(all.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret)
        .unwrap();
    all.push(("sign".into(), sign.to_string()));
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish()
}

/// A signed Polyv query for `now` with the extra parameters.
pub fn signed_polyv_query(
    extra: &[(&str, &str)],
    app_id: &str,
    secret: &str,
    now: SystemTime,
) -> String {
    let ts = liveapi_sign::polyv::timestamp(now).unwrap();
    let mut all: Vec<(String, String)> = vec![
        ("appId".into(), app_id.into()),
        ("timestamp".into(), ts.to_string()),
    ];
    all.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let sign = liveapi_sign::polyv::sign(all.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret)
        .unwrap();
    all.push(("sign".into(), sign.to_string()));
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish()
}

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}
