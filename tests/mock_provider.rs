//! A scripted LLM provider on a real HTTP server (axum on 127.0.0.1): it
//! answers every request with the next reply of its script — a streamed SSE
//! body (which may end cleanly, break off, or stall), or an error status — and
//! records what it received, so tests can assert on paths, headers and JSON
//! bodies.
//!
//! The server runs on its own thread with its own runtime; dropping the
//! [`MockProvider`] stops it, stalled connections included.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;

/// How a streamed reply ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The body ends normally.
    Close,
    /// The connection breaks after the chunks.
    Reset,
    /// Nothing more is ever sent, and the connection stays open.
    Stall,
}

/// One scripted reply.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `200 text/event-stream` with these chunks, sent as separate writes.
    Stream {
        /// The body, in pieces.
        chunks: Vec<Vec<u8>>,
        /// What happens after the last piece.
        end: StreamEnd,
    },
    /// An error response.
    Status {
        /// The HTTP status.
        status: u16,
        /// Extra headers (`Retry-After`, …).
        headers: Vec<(String, String)>,
        /// The body.
        body: String,
    },
}

impl Reply {
    /// A complete SSE body, sent in one piece.
    pub fn sse(body: impl Into<String>) -> Reply {
        Reply::Stream {
            chunks: vec![body.into().into_bytes()],
            end: StreamEnd::Close,
        }
    }

    /// An error status with a JSON or text body.
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header to an error reply.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The path, without the query.
    pub path: String,
    /// The query string ("" when none).
    pub query: String,
    /// Headers, names lower-cased (a repeated one's values joined by `, `).
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Value::Null` when it did not parse).
    pub body: Value,
    /// When it arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Recorded>,
    /// Requests being answered now, and the most there ever were.
    in_flight: usize,
    most_in_flight: usize,
    /// Hold every request until the test lets it go ([`MockProvider::release`]).
    gate: Option<Arc<tokio::sync::Semaphore>>,
    /// Replies sent.
    answered: usize,
}

/// The running server.
pub struct MockProvider {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockProvider {
    /// Starts a server that answers with `replies` in order; past the end of
    /// the script every request gets a 500.
    ///
    /// # Panics
    /// If no port can be bound (tests only).
    pub fn start(replies: impl IntoIterator<Item = Reply>) -> MockProvider {
        MockProvider::serve(Script {
            replies: replies.into_iter().collect(),
            ..Script::default()
        })
    }

    /// Like [`start`](MockProvider::start), but every request waits until the
    /// test lets it be answered with [`release`](MockProvider::release).
    pub fn gated(replies: impl IntoIterator<Item = Reply>) -> MockProvider {
        MockProvider::serve(Script {
            replies: replies.into_iter().collect(),
            gate: Some(Arc::new(tokio::sync::Semaphore::new(0))),
            ..Script::default()
        })
    }

    /// Lets `n` more requests of a [`gated`](MockProvider::gated) server be
    /// answered.
    pub fn release(&self, n: usize) {
        if let Ok(s) = self.script.lock() {
            if let Some(gate) = &s.gate {
                gate.add_permits(n);
            }
        }
    }

    /// Requests here now and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.script.lock().map(|s| s.in_flight).unwrap_or(0)
    }

    /// Replies sent so far.
    pub fn answered(&self) -> usize {
        self.script.lock().map(|s| s.answered).unwrap_or(0)
    }

    /// The most requests ever in flight at once (arrived and not yet
    /// answered).
    pub fn most_in_flight(&self) -> usize {
        self.script.lock().map(|s| s.most_in_flight).unwrap_or(0)
    }

    fn serve(script: Script) -> MockProvider {
        let script = Arc::new(Mutex::new(script));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&script);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = axum::Router::new().fallback(answer).with_state(state);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime cancels stalled connections.
        });
        MockProvider {
            addr,
            script,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The base URL to give tracker (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// Replies not yet used.
    pub fn remaining(&self) -> usize {
        self.script.lock().map(|s| s.replies.len()).unwrap_or(0)
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let recorded = Recorded {
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .fold(BTreeMap::new(), |mut all, (k, v)| {
                // A repeated header reads as its values joined, so a test sees it.
                let value = v.to_str().unwrap_or("");
                all.entry(k.as_str().to_ascii_lowercase())
                    .and_modify(|seen: &mut String| {
                        seen.push_str(", ");
                        seen.push_str(value);
                    })
                    .or_insert_with(|| value.to_string());
                all
            }),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        at: std::time::Instant::now(),
    };
    let gate = match script.lock() {
        Ok(mut s) => {
            s.received.push(recorded);
            s.in_flight += 1;
            s.most_in_flight = s.most_in_flight.max(s.in_flight);
            s.gate.clone()
        }
        Err(_) => None,
    };
    if let Some(gate) = gate {
        if let Ok(permit) = gate.acquire().await {
            permit.forget();
        }
    }
    let reply = match script.lock() {
        Ok(mut s) => {
            s.in_flight -= 1;
            s.answered += 1;
            s.replies.pop_front()
        }
        Err(_) => None,
    };
    match reply {
        None => status_response(500, &[], "mock provider: script exhausted".into()),
        Some(Reply::Status {
            status,
            headers,
            body,
        }) => status_response(status, &headers, body),
        Some(Reply::Stream { chunks, end }) => stream_response(chunks, end),
    }
}

fn status_response(status: u16, headers: &[(String, String)], body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = HeaderValue::from_static("application/json");
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn stream_response(chunks: Vec<Vec<u8>>, end: StreamEnd) -> Response {
    let body = stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
    );
    let body = match end {
        StreamEnd::Close => Body::from_stream(body),
        StreamEnd::Reset => Body::from_stream(body.chain(stream::once(async {
            // Pending once first: the server flushes what it has written
            // whenever the body is not ready, so the client sees the chunks
            // before the connection breaks.
            tokio::task::yield_now().await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "mock provider: connection reset",
            ))
        }))),
        StreamEnd::Stall => Body::from_stream(body.chain(stream::once(async {
            // Never resolves; the connection stays open and silent.
            std::future::pending::<()>().await;
            Ok::<_, std::io::Error>(Bytes::new())
        }))),
    };
    let mut response = Response::new(body);
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
}
