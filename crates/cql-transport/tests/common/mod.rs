//! A minimal CQL responder built from cql-proto, shared by the integration tests.

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::BytesMut;
use proto::frame::{self, FrameDecoder, ProtocolVersion, ResponseOptions};
use proto::request::{Query, Request};
use proto::response::{Response, ResultBody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Answers OPTIONS, STARTUP and QUERY (with SetKeyspace naming the peer's port) on one socket.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut sock: S, peer: SocketAddr) {
    let mut buf = BytesMut::new();
    loop {
        let frame = match FrameDecoder::default().decode(&mut buf) {
            Ok(Some(f)) => f,
            Ok(None) => match sock.read_buf(&mut buf).await {
                Ok(n) if n > 0 => continue,
                _ => return,
            },
            Err(_) => return,
        };
        let Ok(env) = frame::decode_request(&frame, None) else {
            return;
        };
        let response = match env.request {
            Request::Options => {
                let mut options = HashMap::new();
                options.insert("CQL_VERSION".to_owned(), vec!["3.4.5".to_owned()]);
                Response::Supported { options }
            }
            Request::Startup(_) => Response::Ready,
            Request::Query(_) => Response::Result(ResultBody::SetKeyspace(peer.port().to_string())),
            _ => return,
        };
        let mut out = BytesMut::new();
        frame::encode_response(
            &mut out,
            ProtocolVersion::V4,
            frame.header.stream,
            &response,
            &ResponseOptions::default(),
        )
        .expect("encode");
        if sock.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// A trivial QUERY request.
pub(crate) fn query() -> Request {
    Request::Query(Query {
        query: "SELECT 1".into(),
        params: Default::default(),
    })
}
