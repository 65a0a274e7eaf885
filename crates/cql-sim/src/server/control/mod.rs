//! The control channel: a small HTTP/1.1 + JSON admin server on a loopback address, through
//! which a test written in any language drives a running cluster: stop, start, pause and
//! resume nodes, add and decommission nodes, inject error rules, delays, dropped responses,
//! mid-frame closes and corrupt frames, and read per-node counters. The routes are listed in
//! [`routes`] and in `docs/sim-control.md`.
//!
//! One request per connection (`Connection: close`), bodies up to 64 KiB, every read bounded
//! by a timeout: a slow or malformed client gets an error response or a closed socket, never a
//! stuck server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cql_sim::SimError> {
//! use std::sync::Arc;
//! let cluster = Arc::new(cql_sim::SimCluster::builder().nodes(2).start().await?);
//! let control = cql_sim::ControlServer::start(Arc::clone(&cluster), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("POST http://{}/nodes/1/stop", control.local_addr());
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::cluster::SimCluster;
use super::error::SimError;

pub mod routes;

/// The largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 16 * 1024;
/// The largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A running control server; dropping it stops it (the cluster keeps running).
#[derive(Debug)]
pub struct ControlServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ControlServer {
    /// Serves the control API for `cluster` on `addr`, which must be a loopback address (port 0
    /// picks a free port; see [`ControlServer::local_addr`]).
    pub async fn start(cluster: Arc<SimCluster>, addr: SocketAddr) -> Result<Self, SimError> {
        if !addr.ip().is_loopback() {
            return Err(SimError::InvalidConfig(format!(
                "the control channel listens on loopback only, not {addr}"
            )));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| SimError::Bind { addr, source: e })?;
        let addr = listener
            .local_addr()
            .map_err(|e| SimError::Bind { addr, source: e })?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of descriptors or similar: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let cluster = Arc::clone(&cluster);
                tokio::spawn(serve(stream, cluster));
            }
        });
        Ok(Self { addr, task })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One parsed request.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Value,
}

/// A response: status code and JSON body.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl HttpResponse {
    pub(crate) fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    pub(crate) fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

async fn serve(mut stream: TcpStream, cluster: Arc<SimCluster>) {
    let response = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
        Err(_) => HttpResponse::error(408, "request not received in time"),
        Ok(Err(r)) => r,
        Ok(Ok(req)) => routes::handle(&cluster, req).await,
    };
    let _ = tokio::time::timeout(READ_TIMEOUT, write_response(&mut stream, &response)).await;
}

/// Reads a request head and its `Content-Length` body; a bad request is an error response.
async fn read_request(stream: &mut TcpStream) -> Result<HttpRequest, HttpResponse> {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(HttpResponse::error(431, "request head too large"));
        }
        read_more(stream, &mut buf, "connection closed mid-request").await?;
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| HttpResponse::error(400, "request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target)) = (first.next(), first.next()) else {
        return Err(HttpResponse::error(400, "malformed request line"));
    };
    let mut length = 0usize;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| HttpResponse::error(400, "bad Content-Length"))?;
        }
    }
    if length > MAX_BODY {
        return Err(HttpResponse::error(413, "request body too large"));
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        read_more(stream, &mut body, "connection closed mid-body").await?;
    }
    body.truncate(length);
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| HttpResponse::error(400, format!("the body is not JSON: {e}")))?
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();
    Ok(HttpRequest {
        method: method.to_ascii_uppercase(),
        path,
        body,
    })
}

/// Appends what the client sent next; an error response when it closed (`closed`) or failed.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    closed: &str,
) -> Result<(), HttpResponse> {
    let mut chunk = [0u8; 4096];
    let n = stream
        .read(&mut chunk)
        .await
        .map_err(|e| HttpResponse::error(400, e.to_string()))?;
    if n == 0 {
        return Err(HttpResponse::error(400, closed));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn write_response(stream: &mut TcpStream, r: &HttpResponse) {
    let body = r.body.to_string();
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        r.status,
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}
