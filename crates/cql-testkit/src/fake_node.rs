//! A scripted fake CQL node: answers the handshake itself and every QUERY with what the test's
//! handler says, over any socket (`tokio::io::duplex`, TCP, TLS).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use proto::codes::ErrorCode;
use proto::frame::{self, FrameDecoder, ProtocolVersion, ResponseOptions};
use proto::request::Request;
use proto::response::{ErrorBody, ErrorDetails, Response, ResultBody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

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

/// A fake CQL node, cheap to clone (clones share the request log).
///
/// OPTIONS gets the SUPPORTED map (by default only `CQL_VERSION: 3.4.5`), STARTUP and REGISTER
/// get READY, QUERY gets what the handler set with [`FakeNode::on_query`] returns (by default
/// a VOID result), and any other request gets a PROTOCOL_ERROR. Every response is a v4 frame
/// without compression, on the request's stream id.
#[derive(Clone)]
pub struct FakeNode {
    supported: HashMap<String, Vec<String>>,
    on_query: QueryHandler,
    log: Arc<Mutex<Vec<String>>>,
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
            on_query: Arc::new(|_| Reply::Respond(Response::Result(ResultBody::Void))),
            log: Arc::default(),
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

    /// Answers every QUERY with what `handler` returns for its CQL text.
    pub fn on_query(mut self, handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        self.on_query = Arc::new(handler);
        self
    }

    /// Every request served so far, summarized: `OPTIONS`, `STARTUP`, `REGISTER`,
    /// `QUERY <cql>`, or the opcode of any other request.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// Opens an in-memory connection to this node: serves the server end on a spawned task and
    /// returns the client end.
    pub fn duplex(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(self.clone().serve(server));
        client
    }

    /// Serves one connection until the client closes it, a frame fails to decode, or a
    /// [`Reply::Close`].
    pub async fn serve<S: AsyncRead + AsyncWrite + Send + 'static>(self, io: S) {
        let (mut rd, wr) = tokio::io::split(io);
        let wr = Arc::new(tokio::sync::Mutex::new(wr));
        let mut buf = BytesMut::new();
        let mut decoder = FrameDecoder::default();
        loop {
            let frame = match decoder.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => match rd.read_buf(&mut buf).await {
                    Ok(n) if n > 0 => continue,
                    _ => return,
                },
                Err(_) => return,
            };
            let Ok(env) = frame::decode_request(&frame, None) else {
                return;
            };
            // Bare frames only: a v5 client is refused as a v4 server (Scylla) refuses it, in
            // a v4 frame, and the connection closed.
            if env.version.is_v5_or_later() {
                let refusal = Response::Error(ErrorBody {
                    code: ErrorCode::PROTOCOL_ERROR,
                    message: format!("Invalid or unsupported protocol version: {}", env.version.0),
                    details: ErrorDetails::None,
                });
                let mut out = BytesMut::new();
                frame::encode_response(
                    &mut out,
                    ProtocolVersion::V4,
                    env.stream,
                    &refusal,
                    &ResponseOptions::default(),
                )
                .expect("encode");
                let mut wr = wr.lock().await;
                let _ = wr.write_all(&out).await;
                let _ = wr.shutdown().await;
                return;
            }
            let reply = self.answer(env.request);
            let (delay, response) = match reply {
                Reply::Respond(r) => (None, r),
                Reply::Delay(d, r) => (Some(d), r),
                Reply::Drop => continue,
                Reply::Close => return,
            };
            let mut out = BytesMut::new();
            frame::encode_response(
                &mut out,
                env.version,
                env.stream,
                &response,
                &ResponseOptions::default(),
            )
            .expect("encode");
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

    fn answer(&self, request: Request) -> Reply {
        let mut log = self.log.lock().expect("log lock");
        match request {
            Request::Options => {
                log.push("OPTIONS".into());
                Reply::Respond(Response::Supported {
                    options: self.supported.clone().into_iter().collect(),
                })
            }
            Request::Startup(_) => {
                log.push("STARTUP".into());
                Reply::Respond(Response::Ready)
            }
            Request::Register(_) => {
                log.push("REGISTER".into());
                Reply::Respond(Response::Ready)
            }
            Request::Query(q) => {
                log.push(format!("QUERY {}", &*q.query));
                drop(log);
                (self.on_query)(&q.query)
            }
            other => {
                log.push(format!("{:?}", other.opcode()));
                Reply::Respond(Response::Error(ErrorBody {
                    code: ErrorCode::PROTOCOL_ERROR,
                    message: "not supported by FakeNode".into(),
                    details: ErrorDetails::None,
                }))
            }
        }
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
}
