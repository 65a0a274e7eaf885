//! A raw CQL client over cql-proto for the server tests: connect, handshake, send requests and
//! await responses by stream id.
#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use proto::codes::Consistency;
use proto::frame::{
    Compression, Frame, FrameDecoder, ProtocolVersion, RequestOptions, ResponseEnvelope,
    decode_response, encode_request,
};
use proto::request::{
    Execute, Prepare, Query, QueryParameters, Request, SerializedValues, Startup,
};
use proto::response::{Event, Response, ResultBody, Rows};
use proto::{ColumnType, CqlValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long a test waits for any single response.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct RawClient {
    pub stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
    pub compression: Option<Compression>,
    next_stream: i16,
    pending: HashMap<i16, ResponseEnvelope>,
    pub events: VecDeque<ResponseEnvelope>,
    pub version: ProtocolVersion,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
        Ok(Self::from_stream(stream))
    }

    /// Connects from a chosen local port (for shard-aware routing).
    pub async fn connect_from_port(addr: SocketAddr, local_port: u16) -> std::io::Result<Self> {
        let sock = TcpSocket::new_v4()?;
        sock.set_reuseaddr(true)?;
        sock.bind(SocketAddr::new(addr.ip(), local_port))?;
        let stream = tokio::time::timeout(TIMEOUT, sock.connect(addr))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
        Ok(Self::from_stream(stream))
    }

    pub fn from_stream(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            decoder: FrameDecoder::default(),
            compression: None,
            next_stream: 1,
            pending: HashMap::new(),
            events: VecDeque::new(),
            version: ProtocolVersion::V4,
        }
    }

    /// Connects and completes STARTUP (no authentication).
    pub async fn ready(addr: SocketAddr) -> Self {
        let mut c = Self::connect(addr).await.expect("connect");
        let r = c.startup(None).await;
        assert!(matches!(r, Response::Ready), "expected READY, got {r:?}");
        c
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    pub async fn send_with(&mut self, req: &Request, tracing: bool) -> i16 {
        let stream = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(1).max(1);
        let mut buf = BytesMut::new();
        let opts = RequestOptions {
            tracing,
            custom_payload: None,
            compression: self.compression,
        };
        encode_request(&mut buf, self.version, stream, req, &opts).expect("encode");
        self.send_raw(&buf).await;
        stream
    }

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

    /// Reads one frame with a timeout; `Err` on timeout, `Ok(None)` on close.
    pub async fn read_frame_timeout(&mut self, t: Duration) -> Result<Option<Frame>, ()> {
        tokio::time::timeout(t, self.read_frame())
            .await
            .map_err(|_| ())
    }

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

    /// Awaits the response to `stream`.
    pub async fn response(&mut self, stream: i16) -> ResponseEnvelope {
        self.try_response(stream, TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no response on stream {stream}"))
    }

    /// Awaits the response to `stream`; `None` on timeout or close.
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
        options
    }

    pub async fn startup(&mut self, compression: Option<Compression>) -> Response {
        let mut options = HashMap::new();
        options.insert("CQL_VERSION".to_owned(), "3.0.0".to_owned());
        if let Some(c) = compression {
            options.insert("COMPRESSION".to_owned(), c.as_str().to_owned());
        }
        let r = self.request(&Request::Startup(Startup { options })).await;
        if matches!(r.response, Response::Ready | Response::Authenticate { .. }) {
            self.compression = compression;
        }
        r.response
    }

    pub async fn query_cl(&mut self, q: &str, cl: Consistency) -> Response {
        self.request(&query_req(q, cl, SerializedValues::new()))
            .await
            .response
    }

    pub async fn query(&mut self, q: &str) -> Response {
        self.query_cl(q, Consistency::ONE).await
    }

    /// Runs a query that must succeed.
    pub async fn ok(&mut self, q: &str) -> Response {
        let r = self.query(q).await;
        assert!(matches!(r, Response::Result(_)), "{q}: {r:?}");
        r
    }

    pub async fn prepare(&mut self, q: &str) -> Response {
        self.request(&Request::Prepare(Prepare {
            query: q.to_owned().into(),
            keyspace: None,
        }))
        .await
        .response
    }

    pub async fn execute(&mut self, id: Bytes, values: SerializedValues) -> Response {
        self.request(&Request::Execute(Execute {
            id,
            result_metadata_id: None,
            params: params(Consistency::ONE, values),
        }))
        .await
        .response
    }

    /// The next pushed event within `t`.
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

pub fn params(cl: Consistency, values: SerializedValues) -> QueryParameters {
    QueryParameters {
        consistency: cl,
        values,
        skip_metadata: false,
        page_size: None,
        paging_state: None,
        serial_consistency: None,
        timestamp: None,
        keyspace: None,
        now_in_seconds: None,
    }
}

pub fn query_req(q: &str, cl: Consistency, values: SerializedValues) -> Request {
    Request::Query(Query {
        query: q.to_owned().into(),
        params: params(cl, values),
    })
}

/// The Rows of a RESULT, or a panic naming what came instead.
pub fn rows(r: &Response) -> &Rows {
    match r {
        Response::Result(ResultBody::Rows(rows)) => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

/// Every cell of every row, decoded with the column types.
pub fn values(r: &Response) -> Vec<Vec<Option<CqlValue>>> {
    let rows = rows(r);
    let types: Vec<ColumnType> = rows
        .metadata
        .col_specs
        .iter()
        .map(|c| c.typ.clone())
        .collect();
    rows.rows()
        .map(|row| {
            let row = row.expect("row");
            row.cells()
                .zip(&types)
                .map(|(cell, t)| cell.map(|b| CqlValue::decode_bytes(t, b).expect("value")))
                .collect()
        })
        .collect()
}

/// Values of one named column.
pub fn column(r: &Response, name: &str) -> Vec<Option<CqlValue>> {
    let rows = rows(r);
    let i = rows
        .metadata
        .col_specs
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    values(r)
        .into_iter()
        .map(|mut row| row.swap_remove(i))
        .collect()
}

pub fn int_values(vals: &[i32]) -> SerializedValues {
    let mut b = proto::request::SerializedValuesBuilder::new();
    for v in vals {
        b.push(proto::RawValue::Value(&v.to_be_bytes()))
            .expect("push");
    }
    b.finish()
}

pub fn error_code(r: &Response) -> proto::ErrorCode {
    match r {
        Response::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}
