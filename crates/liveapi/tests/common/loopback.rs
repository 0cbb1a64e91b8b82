//! A loopback HTTP server written for the tests: it records every request's raw bytes and
//! answers each with the next scripted response, so that a test sees exactly what the client
//! put on the wire and decodes exactly what a vendor's document says the server answers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer: an HTTP status, a content type and a body.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Answer {
    /// An HTTP 200 answer with `text/html`, as the real LinkV server sends its JSON.
    pub(crate) fn linkv(body: &str) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=UTF-8",
            body: body.to_owned(),
        }
    }

    /// An HTTP 200 answer with a JSON content type, as Polyv sends it.
    pub(crate) fn json(body: &str) -> Self {
        Self {
            status: 200,
            content_type: "application/json;charset=UTF-8",
            body: body.to_owned(),
        }
    }
}

/// A request as it arrived.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    /// `POST /path?query HTTP/1.1`.
    pub(crate) request_line: String,
    /// Header names in lower case, values as sent.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// The decoded form fields of the body, or of the query for a request without a body.
    pub(crate) fn params(&self) -> Vec<(String, String)> {
        let target = self.request_line.split(' ').nth(1).unwrap_or_default();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .chain(form_urlencoded::parse(&self.body))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    pub(crate) fn param(&self, key: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// The server: answers scripted responses in order (the last one again once they run out).
pub(crate) struct Loopback {
    pub(crate) base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Loopback {
    pub(crate) async fn start(answers: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, answers) = (Arc::clone(&log), Arc::clone(&answers));
                tokio::spawn(serve(stream, log, answers));
            }
        });
        Self { base_url, received }
    }

    /// Every request so far, in order.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    log: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
) {
    // Requests on one connection, one after another, until the client closes it.
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8(buffer[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let body_start = head_end + 4;
        while buffer.len() < body_start + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[body_start..body_start + length].to_vec();
        buffer.drain(..body_start + length);
        log.lock().unwrap().push(Received {
            request_line,
            headers,
            body,
        });
        let answer = {
            let mut answers = answers.lock().unwrap();
            if answers.len() > 1 {
                answers.pop_front().unwrap()
            } else {
                answers.front().cloned().unwrap()
            }
        };
        let reason = match answer.status {
            200 => "OK",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let response = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}",
            answer.status,
            answer.content_type,
            answer.body.len(),
            answer.body
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
