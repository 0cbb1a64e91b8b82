//! One request's way through the emulator: the inspection API or a vendor's handler, the
//! fault it draws, its body, the wait until what it changed is durable, and its line in the
//! request log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::faults::FaultKind;
use crate::http::body::{BodyFailure, CHUNK_OVER_LIMIT, read_body};
use crate::http::conn_io::Aborted;
use crate::http::connections::Connections;
use crate::http::reply::{Body, Reply};
use crate::http::request_log::RequestRecord;
use crate::shared::Shared;
use crate::vendors::{linkv, polyv};
use crate::{Vendor, inspect};

fn vendor_of(path: &str) -> Option<Vendor> {
    if path.starts_with("/open/") {
        Some(Vendor::Linkv)
    } else if path.starts_with("/live/") {
        Some(Vendor::Polyv)
    } else {
        None
    }
}

/// Answers one request, or ends its connection without an answer.
pub(super) async fn handle(
    shared: &Arc<Shared>,
    conns: &Connections,
    mut request: Request<Incoming>,
    peer: SocketAddr,
    reset: Arc<AtomicBool>,
) -> Result<Response<Body>, Aborted> {
    // HEAD is answered as GET in every way, its status, headers and `Content-Length` included;
    // hyper, which knows the request was HEAD, leaves the body out.
    let head = request.method() == Method::HEAD;
    if head {
        *request.method_mut() = Method::GET;
    }
    let path = request.uri().path().to_owned();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(inspect::handle(shared, conns, request)
            .await
            .into_response());
    }
    let vendor = vendor_of(&path);
    let mut record = RequestRecord {
        seq: shared.log.next_seq(),
        at_ms: shared.clock.now_ms(),
        method: if head {
            "HEAD"
        } else {
            request.method().as_str()
        }
        .to_owned(),
        path,
        vendor,
        client: peer.ip().to_string(),
        status: None,
        message: String::new(),
        fault: None,
        signature: None,
    };
    let Some(vendor) = vendor else {
        let reply = Reply::plain_error(StatusCode::NOT_FOUND, "not found");
        record.status = Some(reply.status.as_u16());
        record.message = reply.message.clone();
        shared.log.push_answered(record, reply.body.clone());
        return Ok(reply.into_response());
    };

    let fault = shared.faults.decide(vendor, &record.path);
    record.fault = fault.map(|f| f.kind);
    if record.fault == Some(FaultKind::ResetBeforeApply) {
        reset.store(true, Ordering::Release);
        shared.log.push(record);
        return Err(Aborted);
    }
    // The body is read even for an injected server error, so that a client still sending it
    // gets the error page rather than a reset.
    let read = read_body(request, shared.limits.body_limit, conns).await;
    let mut reply = match (
        record
            .fault
            .and_then(|kind| Reply::injected(kind, vendor, shared.limits.linkv_answers)),
        read,
    ) {
        (_, Err(BodyFailure::Aborted)) => {
            shared.log.push(record);
            return Err(Aborted);
        }
        // A request that is not whole is answered as such, fault or not: there is no request
        // to fail.
        (_, Err(BodyFailure::TimedOut)) => {
            Reply::vendor_error(vendor, StatusCode::REQUEST_TIMEOUT, "request timeout").closing()
        }
        (_, Err(BodyFailure::Malformed)) => {
            Reply::vendor_error(vendor, StatusCode::BAD_REQUEST, "malformed request body").closing()
        }
        (_, Err(BodyFailure::ChunkOverLimit)) => {
            Reply::vendor_error(vendor, StatusCode::BAD_REQUEST, CHUNK_OVER_LIMIT).closing()
        }
        (Some(failure), _) => failure,
        (None, Err(BodyFailure::TooLarge)) => Reply::vendor_error(
            vendor,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request entity too large",
        )
        .closing(),
        (None, Ok((parts, body))) => {
            let reply = match vendor {
                Vendor::Linkv => linkv::handle(shared, &parts, &body),
                Vendor::Polyv => polyv::handle(shared, &parts, &body, peer.ip()),
            };
            // With a state file, nothing is answered before the changes it may have seen are
            // durable; a log that cannot be written any more fails the request.
            match shared.settle().await {
                Ok(()) => reply,
                Err(_) => Reply::vendor_error(
                    vendor,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "state store failed",
                ),
            }
        }
    };
    record.status = Some(reply.status.as_u16());
    record.message = reply.message.clone();
    record.signature = reply.signature.take().map(|refusal| *refusal);
    // Shared with the response, not copied.
    let answer = reply.body.clone();

    match fault {
        Some(f) if f.kind == FaultKind::ResetAfterApply => {
            record.status = None;
            reset.store(true, Ordering::Release);
            shared.log.push(record);
            Err(Aborted)
        }
        Some(f) if f.kind == FaultKind::TruncateAfterApply => {
            shared.log.push_answered(record, answer);
            Ok(reply.truncated())
        }
        Some(f) if f.kind == FaultKind::Latency => {
            shared.log.push_answered(record, answer);
            shared.sleep(f.delay).await;
            Ok(reply.into_response())
        }
        _ => {
            shared.log.push_answered(record, answer);
            Ok(reply.into_response())
        }
    }
}
