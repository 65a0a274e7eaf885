//! A tiny fake CQL node for unit tests: decodes requests with cql-proto and encodes responses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use proto::frame::{self, Compression, FrameDecoder, ProtocolVersion, ResponseOptions};
use proto::request::Request;
use proto::response::{
    ColumnSpec, ErrorBody, ErrorDetails, Event, Response, ResultBody, ResultMetadata, RowsWriter,
};
use proto::{ColumnType, ErrorCode, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;

/// Answers a QUERY (other than USE) with a response.
pub(crate) type QueryHandler = Arc<dyn Fn(&str) -> Response + Send + Sync>;

/// The fake node's behavior.
#[derive(Clone)]
pub(crate) struct FakeNode {
    pub(crate) supported: HashMap<String, Vec<String>>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) on_query: QueryHandler,
    /// Every request, summarized: "OPTIONS", "STARTUP", "AUTH_RESPONSE", "QUERY <cql>", "REGISTER".
    pub(crate) log: Arc<Mutex<Vec<String>>>,
    pub(crate) startup_options: Arc<Mutex<Option<HashMap<String, String>>>>,
    /// Answer the first AUTH_RESPONSE with AUTH_CHALLENGE "nonce" and expect "answer:nonce".
    pub(crate) challenge: bool,
    /// Ends the connection (EOF for the client) when notified.
    pub(crate) kill: Option<Arc<tokio::sync::Notify>>,
}

impl Default for FakeNode {
    fn default() -> Self {
        let mut supported = HashMap::new();
        supported.insert("CQL_VERSION".to_owned(), vec!["3.4.5".to_owned()]);
        supported.insert(
            "COMPRESSION".to_owned(),
            vec!["lz4".to_owned(), "snappy".to_owned()],
        );
        Self {
            supported,
            credentials: None,
            on_query: Arc::new(|_| Response::Result(ResultBody::Void)),
            log: Arc::default(),
            startup_options: Arc::default(),
            challenge: false,
            kill: None,
        }
    }
}

/// The configuration the fake node's tests use: protocol v4, the one version the fake speaks
/// (offered v5, it refuses as Scylla does, and the connection asks again at v4).
pub(crate) fn v4() -> crate::config::ConnectionConfig {
    crate::config::ConnectionConfig::default().protocol_version(ProtocolVersion::V4)
}

pub(crate) fn error(code: ErrorCode, message: &str) -> Response {
    Response::Error(ErrorBody {
        code,
        message: message.to_owned(),
        details: ErrorDetails::None,
    })
}

/// A text-columns Rows result.
pub(crate) fn text_rows(
    keyspace: &str,
    table: &str,
    columns: &[(&str, ColumnType)],
    rows: &[Vec<Option<Vec<u8>>>],
) -> Response {
    let specs = columns
        .iter()
        .map(|(n, t)| ColumnSpec {
            keyspace: Text::copy_from_str(keyspace),
            table: Text::copy_from_str(table),
            name: Text::copy_from_str(n),
            typ: t.clone(),
        })
        .collect();
    let mut w = RowsWriter::new(ResultMetadata::new(specs));
    for row in rows {
        w.push_row(row.iter().map(|c| c.as_deref()))
            .expect("row shape");
    }
    Response::Result(ResultBody::Rows(w.finish().expect("rows")))
}

impl FakeNode {
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }

    /// Serves one connection until it closes. `events` pushes EVENTs on stream -1.
    pub(crate) async fn serve(
        self,
        mut io: DuplexStream,
        mut events: Option<mpsc::Receiver<Event>>,
    ) {
        let mut buf = BytesMut::new();
        let mut compression: Option<Compression> = None;
        let mut challenged = false;
        let kill = self.kill.clone();
        loop {
            let frame = loop {
                match FrameDecoder::default().decode(&mut buf) {
                    Ok(Some(f)) => break f,
                    Ok(None) => {}
                    Err(_) => return,
                }
                let ev = async {
                    match events.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let killed = async {
                    match &kill {
                        Some(k) => k.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = killed => return,
                    n = io.read_buf(&mut buf) => if !matches!(n, Ok(n) if n > 0) { return },
                    Some(ev) = ev => {
                        let mut out = BytesMut::new();
                        let opts = ResponseOptions { compression, ..ResponseOptions::default() };
                        frame::encode_response(&mut out, ProtocolVersion::V4, -1, &Response::Event(ev), &opts).expect("encode");
                        if io.write_all(&out).await.is_err() { return }
                    }
                }
            };
            if frame.header.version != ProtocolVersion::V4 {
                // A v4-only server, as Scylla: refuse in v4, then close.
                let msg = format!(
                    "Invalid or unsupported protocol version: {}",
                    frame.header.version.0
                );
                let mut out = BytesMut::new();
                frame::encode_response(
                    &mut out,
                    ProtocolVersion::V4,
                    frame.header.stream,
                    &error(ErrorCode::PROTOCOL_ERROR, &msg),
                    &ResponseOptions::default(),
                )
                .expect("encode");
                let _ = io.write_all(&out).await;
                return;
            }
            let Ok(env) = frame::decode_request(&frame, compression) else {
                return;
            };
            let stream = frame.header.stream;
            let mut next_compression = compression;
            let response = match env.request {
                Request::Options => {
                    self.log.lock().expect("lock").push("OPTIONS".into());
                    Response::Supported {
                        options: self.supported.clone().into_iter().collect(),
                    }
                }
                Request::Startup(s) => {
                    self.log.lock().expect("lock").push("STARTUP".into());
                    next_compression = s
                        .options
                        .get("COMPRESSION")
                        .and_then(|c| Compression::from_name(c));
                    *self.startup_options.lock().expect("lock") =
                        Some(s.options.into_iter().collect());
                    if self.credentials.is_some() {
                        Response::Authenticate {
                            authenticator: "org.apache.cassandra.auth.PasswordAuthenticator".into(),
                        }
                    } else {
                        Response::Ready
                    }
                }
                Request::AuthResponse(a) => {
                    self.log.lock().expect("lock").push("AUTH_RESPONSE".into());
                    let (u, p) = self.credentials.clone().unwrap_or_default();
                    let expected = format!("\0{u}\0{p}");
                    if self.challenge && !challenged {
                        challenged = true;
                        if a.token.as_deref() == Some(b"hello".as_slice()) {
                            Response::AuthChallenge {
                                token: Some(Bytes::from_static(b"nonce")),
                            }
                        } else {
                            error(ErrorCode::BAD_CREDENTIALS, "bad first token")
                        }
                    } else if self.challenge {
                        if a.token.as_deref() == Some(b"answer:nonce".as_slice()) {
                            Response::AuthSuccess {
                                token: Some(Bytes::from_static(b"done")),
                            }
                        } else {
                            error(ErrorCode::BAD_CREDENTIALS, "bad answer")
                        }
                    } else if a.token.as_deref() == Some(expected.as_bytes()) {
                        Response::AuthSuccess { token: None }
                    } else {
                        error(ErrorCode::BAD_CREDENTIALS, "bad credentials")
                    }
                }
                Request::Query(q) => {
                    self.log
                        .lock()
                        .expect("lock")
                        .push(format!("QUERY {}", q.query));
                    if q.query == "USE missing" {
                        error(ErrorCode::INVALID, "keyspace missing does not exist")
                    } else if let Some(ks) = q.query.strip_prefix("USE ") {
                        Response::Result(ResultBody::SetKeyspace(ks.trim_matches('"').to_owned()))
                    } else {
                        (self.on_query)(&q.query)
                    }
                }
                Request::Register(r) => {
                    self.log
                        .lock()
                        .expect("lock")
                        .push(format!("REGISTER {}", r.events.join(",")));
                    Response::Ready
                }
                _ => error(ErrorCode::SERVER_ERROR, "not implemented in the fake node"),
            };
            let mut out = BytesMut::new();
            // STARTUP's own answer is never compressed.
            let opts = ResponseOptions {
                compression,
                ..ResponseOptions::default()
            };
            frame::encode_response(&mut out, ProtocolVersion::V4, stream, &response, &opts)
                .expect("encode");
            compression = next_compression;
            if io.write_all(&out).await.is_err() {
                return;
            }
        }
    }
}

/// Cell bytes of a text value.
pub(crate) fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}
