//! A scripted fake CQL node: answers the handshake itself and every QUERY with what the test's
//! handler says, over any socket (`tokio::io::duplex`, TCP, TLS).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use proto::codes::ErrorCode;
use proto::frame::{self, Compression, FrameDecoder, ProtocolVersion, ResponseOptions};
use proto::request::{AuthResponse, Request};
use proto::response::{Event, Response, ResultBody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::{Notify, mpsc};

use crate::query::server_error;

/// What a [`FakeNode`] does with one QUERY.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer at once.
    Respond(Response),
    /// Answer after this delay (other requests are served meanwhile).
    Delay(Duration, Response),
    /// Never answer (the stream id stays in use on the client).
    Drop,
    /// Close the connection without answering.
    Close,
}

impl From<Response> for Reply {
    fn from(r: Response) -> Self {
        Self::Respond(r)
    }
}

type QueryHandler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// The authenticator a [`FakeNode`] names in AUTHENTICATE.
const AUTHENTICATOR: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

/// A fake CQL node, cheap to clone (clones share the request log and the captured STARTUP
/// options).
///
/// OPTIONS gets the SUPPORTED map (by default only `CQL_VERSION: 3.4.5`); STARTUP gets READY,
/// or AUTHENTICATE when [`FakeNode::with_credentials`] is set; REGISTER gets READY; QUERY gets
/// what the handler set with [`FakeNode::on_query`] returns (by default a VOID result); any
/// other request gets a PROTOCOL_ERROR. Responses are v4 frames on the request's stream id,
/// compressed once STARTUP has chosen a compression.
#[derive(Clone)]
pub struct FakeNode {
    supported: HashMap<String, Vec<String>>,
    credentials: Option<(String, String)>,
    challenge: bool,
    on_query: QueryHandler,
    kill: Option<Arc<Notify>>,
    log: Arc<Mutex<Vec<String>>>,
    startup_options: Arc<Mutex<Option<HashMap<String, String>>>>,
}

/// What one served connection has negotiated so far.
#[derive(Default)]
struct ConnectionState {
    compression: Option<Compression>,
    challenged: bool,
}

impl Default for FakeNode {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for FakeNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeNode")
            .field("supported", &self.supported)
            .field("credentials", &self.credentials.is_some())
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl FakeNode {
    /// A node that advertises only `CQL_VERSION` and answers every QUERY with VOID.
    pub fn new() -> Self {
        let mut supported = HashMap::new();
        supported.insert("CQL_VERSION".to_owned(), vec!["3.4.5".to_owned()]);
        Self {
            supported,
            credentials: None,
            challenge: false,
            on_query: Arc::new(|_| Reply::Respond(Response::Result(ResultBody::Void))),
            kill: None,
            log: Arc::default(),
            startup_options: Arc::default(),
        }
    }

    /// Adds (or replaces) the SUPPORTED key `key` with `values`.
    pub fn with_supported(mut self, key: &str, values: &[&str]) -> Self {
        self.supported.insert(
            key.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
        self
    }

    /// Requires password authentication: STARTUP gets AUTHENTICATE (`PasswordAuthenticator`),
    /// and an AUTH_RESPONSE other than the SASL PLAIN token `\0user\0password` gets
    /// BAD_CREDENTIALS ("bad credentials").
    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Replaces the password check by a two-step SASL exchange: the first AUTH_RESPONSE must be
    /// `hello` and gets AUTH_CHALLENGE `nonce`, the second must be `answer:nonce` and gets
    /// AUTH_SUCCESS `done`. Needs [`FakeNode::with_credentials`] to ask for authentication.
    pub fn with_auth_challenge(mut self) -> Self {
        self.challenge = true;
        self
    }

    /// Answers every QUERY with what `handler` returns for its CQL text.
    pub fn on_query(mut self, handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        self.on_query = Arc::new(handler);
        self
    }

    /// Ends the connections this node serves (EOF for the client) when `kill` is notified.
    pub fn with_kill(mut self, kill: Arc<Notify>) -> Self {
        self.kill = Some(kill);
        self
    }

    /// Every request served so far, summarized: `OPTIONS`, `STARTUP`, `AUTH_RESPONSE`,
    /// `REGISTER <event types joined by ','>`, `QUERY <cql>`, or the opcode of any other
    /// request.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// The options of the last STARTUP served, if any.
    pub fn startup_options(&self) -> Option<HashMap<String, String>> {
        self.startup_options
            .lock()
            .expect("startup options lock")
            .clone()
    }

    /// Opens an in-memory connection to this node: serves the server end on a spawned task and
    /// returns the client end.
    pub fn duplex(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(self.clone().serve(server));
        client
    }

    /// Serves one connection until the client closes it, a frame fails to decode, a
    /// [`Reply::Close`], or the kill switch.
    pub async fn serve<S: AsyncRead + AsyncWrite + Send + 'static>(self, io: S) {
        self.run(io, None).await;
    }

    /// [`FakeNode::serve`], also pushing each event received on `events` as an EVENT frame
    /// (stream -1).
    pub async fn serve_with_events<S: AsyncRead + AsyncWrite + Send + 'static>(
        self,
        io: S,
        events: mpsc::Receiver<Event>,
    ) {
        self.run(io, Some(events)).await;
    }

    async fn run<S: AsyncRead + AsyncWrite + Send + 'static>(
        self,
        io: S,
        mut events: Option<mpsc::Receiver<Event>>,
    ) {
        let (mut rd, wr) = tokio::io::split(io);
        let wr = Arc::new(tokio::sync::Mutex::new(wr));
        let mut buf = BytesMut::new();
        let mut decoder = FrameDecoder::default();
        let mut state = ConnectionState::default();
        let kill = self.kill.clone();
        loop {
            let frame = match decoder.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => {
                    tokio::select! {
                        () = killed(kill.as_deref()) => return,
                        n = rd.read_buf(&mut buf) => if !matches!(n, Ok(n) if n > 0) { return },
                        Some(ev) = next_event(events.as_mut()) => {
                            let out = encode(-1, &Response::Event(ev), state.compression);
                            if wr.lock().await.write_all(&out).await.is_err() {
                                return;
                            }
                        }
                    }
                    continue;
                }
                Err(_) => return,
            };
            let Ok(env) = frame::decode_request(&frame, state.compression) else {
                return;
            };
            // Bare frames only: a v5 client is refused as a v4 server (Scylla) refuses it, in
            // a v4 frame, and the connection closed.
            if env.version.is_v5_or_later() {
                let message = format!("Invalid or unsupported protocol version: {}", env.version.0);
                let out = encode(
                    env.stream,
                    &server_error(ErrorCode::PROTOCOL_ERROR, &message),
                    None,
                );
                let mut wr = wr.lock().await;
                let _ = wr.write_all(&out).await;
                let _ = wr.shutdown().await;
                return;
            }
            // The answer to STARTUP is never compressed; the frames after it are.
            let compression = state.compression;
            let (delay, response) = match self.answer(env.request, &mut state) {
                Reply::Respond(r) => (None, r),
                Reply::Delay(d, r) => (Some(d), r),
                Reply::Drop => continue,
                Reply::Close => return,
            };
            let out = encode(env.stream, &response, compression);
            match delay {
                Some(d) => {
                    let wr = Arc::clone(&wr);
                    tokio::spawn(async move {
                        tokio::time::sleep(d).await;
                        let _ = wr.lock().await.write_all(&out).await;
                    });
                }
                None => {
                    if wr.lock().await.write_all(&out).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    fn answer(&self, request: Request, state: &mut ConnectionState) -> Reply {
        let mut log = self.log.lock().expect("log lock");
        let response = match request {
            Request::Options => {
                log.push("OPTIONS".into());
                Response::Supported {
                    options: self.supported.clone().into_iter().collect(),
                }
            }
            Request::Startup(s) => {
                log.push("STARTUP".into());
                state.compression = s
                    .options
                    .get("COMPRESSION")
                    .and_then(|c| Compression::from_name(c));
                *self.startup_options.lock().expect("startup options lock") =
                    Some(s.options.into_iter().collect());
                if self.credentials.is_some() {
                    Response::Authenticate {
                        authenticator: AUTHENTICATOR.into(),
                    }
                } else {
                    Response::Ready
                }
            }
            Request::AuthResponse(a) => {
                log.push("AUTH_RESPONSE".into());
                self.authenticate(&a, state)
            }
            Request::Register(r) => {
                log.push(format!("REGISTER {}", r.events.join(",")));
                Response::Ready
            }
            Request::Query(q) => {
                log.push(format!("QUERY {}", &*q.query));
                drop(log);
                return (self.on_query)(&q.query);
            }
            other => {
                log.push(format!("{:?}", other.opcode()));
                server_error(ErrorCode::PROTOCOL_ERROR, "not supported by FakeNode")
            }
        };
        Reply::Respond(response)
    }

    fn authenticate(&self, auth: &AuthResponse, state: &mut ConnectionState) -> Response {
        let token = auth.token.as_deref();
        if self.challenge {
            let first = !state.challenged;
            state.challenged = true;
            return match (first, token) {
                (true, Some(b"hello")) => Response::AuthChallenge {
                    token: Some(Bytes::from_static(b"nonce")),
                },
                (true, _) => server_error(ErrorCode::BAD_CREDENTIALS, "bad first token"),
                (false, Some(b"answer:nonce")) => Response::AuthSuccess {
                    token: Some(Bytes::from_static(b"done")),
                },
                (false, _) => server_error(ErrorCode::BAD_CREDENTIALS, "bad answer"),
            };
        }
        let (user, password) = self.credentials.clone().unwrap_or_default();
        let expected = format!("\0{user}\0{password}");
        if token == Some(expected.as_bytes()) {
            Response::AuthSuccess { token: None }
        } else {
            server_error(ErrorCode::BAD_CREDENTIALS, "bad credentials")
        }
    }
}

/// A v4 response frame on `stream`.
fn encode(stream: i16, response: &Response, compression: Option<Compression>) -> BytesMut {
    let mut out = BytesMut::new();
    let opts = ResponseOptions {
        compression,
        ..ResponseOptions::default()
    };
    frame::encode_response(&mut out, ProtocolVersion::V4, stream, response, &opts)
        .expect("encode a response");
    out
}

/// Resolves when `kill` is notified; never without one.
async fn killed(kill: Option<&Notify>) {
    match kill {
        Some(k) => k.notified().await,
        None => std::future::pending().await,
    }
}

/// The next pushed event; never without a channel.
async fn next_event(events: Option<&mut mpsc::Receiver<Event>>) -> Option<Event> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawClient;

    #[tokio::test]
    async fn answers_the_handshake_and_scripted_queries() {
        let node = FakeNode::new()
            .with_supported("SCYLLA_NR_SHARDS", &["2"])
            .on_query(|cql| match cql {
                "drop" => Reply::Drop,
                "slow" => Reply::Delay(
                    Duration::from_millis(20),
                    Response::Result(ResultBody::SetKeyspace("slow".into())),
                ),
                _ => Response::Result(ResultBody::SetKeyspace(cql.into())).into(),
            });
        let mut c = RawClient::from_stream(node.duplex());
        let supported = c.supported().await;
        assert_eq!(supported["SCYLLA_NR_SHARDS"], ["2"]);
        assert!(matches!(c.startup(None).await, Response::Ready));
        let dropped = c.send(&crate::query::query("drop")).await;
        let slow = c.send(&crate::query::query("slow")).await;
        let r = c.query("ks").await;
        assert!(matches!(r, Response::Result(ResultBody::SetKeyspace(ref k)) if k == "ks"));
        let r = c.response(slow).await.response;
        assert!(matches!(r, Response::Result(ResultBody::SetKeyspace(ref k)) if k == "slow"));
        assert!(
            c.try_response(dropped, Duration::from_millis(50))
                .await
                .is_none()
        );
        let r = c.prepare("SELECT 1").await;
        assert_eq!(crate::query::error_code(&r), ErrorCode::PROTOCOL_ERROR);
        assert_eq!(
            node.log(),
            [
                "OPTIONS",
                "STARTUP",
                "QUERY drop",
                "QUERY slow",
                "QUERY ks",
                "PREPARE"
            ]
        );
    }

    #[tokio::test]
    async fn close_ends_the_connection() {
        let node = FakeNode::new().on_query(|_| Reply::Close);
        let mut c = RawClient::from_stream(node.duplex());
        c.send(&crate::query::query("bye")).await;
        assert!(matches!(
            c.read_frame_timeout(crate::TIMEOUT).await,
            Ok(None)
        ));
    }

    #[tokio::test]
    async fn authenticates_pushes_events_and_ends_when_killed() {
        use proto::codes::StatusChangeType;
        let kill = Arc::new(Notify::new());
        let node = FakeNode::new()
            .with_credentials("u", "p")
            .with_kill(Arc::clone(&kill));
        let (events, rx) = mpsc::channel(1);
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(node.clone().serve_with_events(server, rx));
        let mut c = RawClient::from_stream(client);
        assert!(matches!(
            c.startup(None).await,
            Response::Authenticate { .. }
        ));
        let options = node.startup_options().expect("STARTUP captured");
        assert_eq!(options["CQL_VERSION"], "3.0.0");
        let auth = |token: &'static [u8]| {
            Request::AuthResponse(AuthResponse {
                token: Some(Bytes::from_static(token)),
            })
        };
        let r = c.request(&auth(b"\0u\0wrong")).await.response;
        assert_eq!(crate::query::error_code(&r), ErrorCode::BAD_CREDENTIALS);
        let r = c.request(&auth(b"\0u\0p")).await.response;
        assert!(matches!(r, Response::AuthSuccess { token: None }), "{r:?}");
        let ev = Event::StatusChange {
            change: StatusChangeType::Up,
            addr: "127.0.0.2:9042".parse().expect("addr"),
        };
        events.send(ev.clone()).await.expect("send");
        assert_eq!(c.next_event(crate::TIMEOUT).await, Some(ev));
        kill.notify_one();
        assert!(matches!(
            c.read_frame_timeout(crate::TIMEOUT).await,
            Ok(None)
        ));
        assert_eq!(node.log(), ["STARTUP", "AUTH_RESPONSE", "AUTH_RESPONSE"]);
    }
}
