//! A raw CQL client: frames encoded and decoded with `cql-proto`, responses awaited by stream id.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use proto::codes::Consistency;
use proto::frame::{
    Compression, DEFAULT_MAX_FRAME_SIZE, Frame, ProtocolVersion, RequestOptions, ResponseEnvelope,
    decode_response, encode_request,
};
use proto::request::{Execute, Prepare, Request, SerializedValues, Startup};
use proto::response::{Event, Response};
use proto::segment::{FrameReader, FrameWriter, SegmentCompression};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::query::{params, query_req};

/// How long a [`RawClient`] waits for a connect or any single response.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A raw CQL client over one socket (TCP by default, any `AsyncRead + AsyncWrite` with
/// [`RawClient::from_stream`]): sends requests on increasing stream ids, keeps responses that
/// arrive for other streams until asked for, and queues pushed EVENTs (stream -1).
///
/// Every method panics on an encode or frame error: it is for tests of a server.
pub struct RawClient<S = TcpStream> {
    stream: S,
    buf: BytesMut,
    decoder: FrameReader,
    writer: FrameWriter,
    compression: Option<Compression>,
    next_stream: i16,
    pending: HashMap<i16, ResponseEnvelope>,
    events: VecDeque<ResponseEnvelope>,
    /// The protocol version of the frames this client sends (default v4).
    pub version: ProtocolVersion,
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
}

impl RawClient<TcpStream> {
    /// Connects to `addr` within [`TIMEOUT`].
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out())??;
        Ok(Self::from_stream(stream))
    }

    /// Connects to `addr` from the chosen local port on the same IP (for shard-aware routing).
    pub async fn connect_from_port(addr: SocketAddr, local_port: u16) -> std::io::Result<Self> {
        let sock = TcpSocket::new_v4()?;
        sock.set_reuseaddr(true)?;
        sock.bind(SocketAddr::new(addr.ip(), local_port))?;
        let stream = tokio::time::timeout(TIMEOUT, sock.connect(addr))
            .await
            .map_err(|_| timed_out())??;
        Ok(Self::from_stream(stream))
    }

    /// Connects and completes STARTUP without compression or authentication; panics unless the
    /// server answers READY.
    pub async fn ready(addr: SocketAddr) -> Self {
        let mut c = Self::connect(addr).await.expect("connect");
        let r = c.startup(None).await;
        assert!(matches!(r, Response::Ready), "expected READY, got {r:?}");
        c
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    /// A client over an open socket, before STARTUP.
    pub fn from_stream(stream: S) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            decoder: FrameReader::new(None, DEFAULT_MAX_FRAME_SIZE),
            writer: FrameWriter::new(None),
            compression: None,
            next_stream: 1,
            pending: HashMap::new(),
            events: VecDeque::new(),
            version: ProtocolVersion::V4,
        }
    }

    /// The compression STARTUP negotiated, if any.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// Writes `bytes` to the socket as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Sends `req` on the next stream id, with the tracing flag set as asked; returns the id.
    pub async fn send_with(&mut self, req: &Request, tracing: bool) -> i16 {
        let stream = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(1).max(1);
        let mut buf = BytesMut::new();
        let opts = RequestOptions {
            tracing,
            custom_payload: None,
            compression: self.compression,
        };
        encode_request(
            self.writer.frame_buf(&mut buf),
            self.version,
            stream,
            req,
            &opts,
        )
        .expect("encode");
        self.writer.seal(&mut buf).expect("segments");
        self.send_raw(&buf).await;
        stream
    }

    /// Sends `req` on the next stream id; returns the id.
    pub async fn send(&mut self, req: &Request) -> i16 {
        self.send_with(req, false).await
    }

    /// Reads one frame; `None` when the connection closed.
    pub async fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.buf).expect("frame") {
                return Some(f);
            }
            let n = self.stream.read_buf(&mut self.buf).await.ok()?;
            if n == 0 {
                return None;
            }
        }
    }

    /// Reads one frame within `t`: `Err` on timeout, `Ok(None)` when the connection closed.
    pub async fn read_frame_timeout(&mut self, t: Duration) -> Result<Option<Frame>, ()> {
        tokio::time::timeout(t, self.read_frame())
            .await
            .map_err(|_| ())
    }

    /// Reads one frame and files it as an event or a pending response.
    async fn pump(&mut self) -> Option<()> {
        let frame = self.read_frame().await?;
        let env = decode_response(&frame, self.compression).expect("decode response");
        if env.stream == -1 {
            self.events.push_back(env);
        } else {
            self.pending.insert(env.stream, env);
        }
        Some(())
    }

    /// Awaits the response to `stream`; panics after [`TIMEOUT`] or when the connection closed.
    pub async fn response(&mut self, stream: i16) -> ResponseEnvelope {
        self.try_response(stream, TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no response on stream {stream}"))
    }

    /// Awaits the response to `stream` within `t`; `None` on timeout or close.
    pub async fn try_response(&mut self, stream: i16, t: Duration) -> Option<ResponseEnvelope> {
        let fut = async {
            loop {
                if let Some(e) = self.pending.remove(&stream) {
                    return Some(e);
                }
                self.pump().await?;
            }
        };
        tokio::time::timeout(t, fut).await.ok().flatten()
    }

    /// Sends `req` and awaits its response.
    pub async fn request(&mut self, req: &Request) -> ResponseEnvelope {
        let s = self.send(req).await;
        self.response(s).await
    }

    /// Sends OPTIONS and returns the SUPPORTED map (panics on any other response).
    pub async fn supported(&mut self) -> HashMap<String, Vec<String>> {
        let r = self.request(&Request::Options).await;
        let Response::Supported { options } = r.response else {
            panic!("expected SUPPORTED, got {:?}", r.response)
        };
        options.into_iter().collect()
    }

    /// Sends STARTUP (CQL 3.0.0, with `compression` if given) and returns the answer; later
    /// frames use the compression once the server answered READY or AUTHENTICATE (with
    /// protocol v5: later frames travel in segments, LZ4-compressed if asked).
    pub async fn startup(&mut self, compression: Option<Compression>) -> Response {
        let mut options = proto::StringMap::new();
        options.insert("CQL_VERSION".to_owned(), "3.0.0".to_owned());
        if let Some(c) = compression {
            options.insert("COMPRESSION".to_owned(), c.as_str().to_owned());
        }
        let r = self.request(&Request::Startup(Startup { options })).await;
        if matches!(r.response, Response::Ready | Response::Authenticate { .. }) {
            if self.version.is_v5_or_later() {
                let c = SegmentCompression::from_negotiated(compression)
                    .expect("v5 compresses segments with lz4 only");
                self.decoder = FrameReader::new(Some(c), DEFAULT_MAX_FRAME_SIZE);
                self.writer = FrameWriter::new(Some(c));
            } else {
                self.compression = compression;
            }
        }
        r.response
    }

    /// Sends STARTUP (CQL 3.0.0) with the extra `options` (extension keys, say), without
    /// compression, and panics unless the server answers READY.
    pub async fn startup_with(&mut self, options: &[(&str, &str)]) {
        let mut all = proto::StringMap::new();
        all.insert("CQL_VERSION".to_owned(), "3.0.0".to_owned());
        for (key, value) in options {
            all.insert((*key).to_owned(), (*value).to_owned());
        }
        let r = self
            .request(&Request::Startup(Startup { options: all }))
            .await;
        assert!(matches!(r.response, Response::Ready), "{:?}", r.response);
    }

    /// Runs `q` at consistency `cl` and returns the response.
    pub async fn query_cl(&mut self, q: &str, cl: Consistency) -> Response {
        self.request(&query_req(q, cl, SerializedValues::new()))
            .await
            .response
    }

    /// Runs `q` at consistency ONE and returns the response.
    pub async fn query(&mut self, q: &str) -> Response {
        self.query_cl(q, Consistency::ONE).await
    }

    /// Runs `q`, which must succeed: panics unless the answer is a RESULT.
    pub async fn ok(&mut self, q: &str) -> Response {
        let r = self.query(q).await;
        assert!(matches!(r, Response::Result(_)), "{q}: {r:?}");
        r
    }

    /// Prepares `q` and returns the response.
    pub async fn prepare(&mut self, q: &str) -> Response {
        self.request(&Request::Prepare(Prepare {
            query: q.to_owned().into(),
            keyspace: None,
        }))
        .await
        .response
    }

    /// Executes the prepared statement `id` with `values` at consistency ONE.
    pub async fn execute(&mut self, id: Bytes, values: SerializedValues) -> Response {
        self.request(&Request::Execute(Execute {
            id,
            result_metadata_id: None,
            params: params(Consistency::ONE, values),
        }))
        .await
        .response
    }

    /// The next pushed event within `t`; `None` on timeout or close.
    pub async fn next_event(&mut self, t: Duration) -> Option<Event> {
        let fut = async {
            loop {
                if let Some(ResponseEnvelope {
                    response: Response::Event(ev),
                    ..
                }) = self.events.pop_front()
                {
                    return Some(ev);
                }
                self.pump().await?;
            }
        };
        tokio::time::timeout(t, fut).await.ok().flatten()
    }
}
