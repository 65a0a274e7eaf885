//! The floor: one connection, pre-encoded frames, pipelined, responses decoded with
//! [`FrameDecoder`] and [`decode_response`]. No routing, no policies, no per-request futures.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::{Bytes, BytesMut};
use proto::frame::{RequestOptions, decode_response, encode_request};
use proto::request::{
    BatchStatement, BatchStatementKind, Execute, Prepare, Query, SerializedValuesBuilder, Startup,
};
use proto::{
    BatchType, Consistency, FrameDecoder, ProtocolVersion, QueryParameters, RawValue, Request,
    Response, ResultBody, SerializedValues, Text,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::runner::Outcome;
use crate::workload::{self, BATCH_SIZE, Workload};

const VERSION: ProtocolVersion = ProtocolVersion::V4;
/// Distinct pre-encoded requests per workload (keys cycle through them).
const DISTINCT_FRAMES: u64 = 1024;

/// One raw v4 connection.
pub(crate) struct RawConn {
    stream: TcpStream,
    decoder: FrameDecoder,
    rbuf: BytesMut,
}

impl RawConn {
    /// Connects to `addr` and completes STARTUP.
    pub(crate) async fn connect(addr: &str) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("raw: connect {addr}"))?;
        stream.set_nodelay(true)?;
        let mut conn = Self {
            stream,
            decoder: FrameDecoder::default(),
            rbuf: BytesMut::with_capacity(1 << 20),
        };
        let options =
            proto::StringMap::from([(Startup::CQL_VERSION.to_owned(), "3.0.0".to_owned())]);
        match conn
            .roundtrip(&Request::Startup(Startup { options }))
            .await?
        {
            Response::Ready => Ok(conn),
            other => bail!("raw: STARTUP answered {other:?}"),
        }
    }

    /// Sends one request on stream 0 and waits for its response.
    pub(crate) async fn roundtrip(&mut self, request: &Request) -> Result<Response> {
        let mut buf = BytesMut::new();
        encode_request(&mut buf, VERSION, 0, request, &RequestOptions::default())?;
        self.stream.write_all(&buf).await?;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.rbuf)? {
                if frame.header.stream < 0 {
                    continue; // an event
                }
                let envelope = decode_response(&frame, None)?;
                return match envelope.response {
                    Response::Error(e) => Err(anyhow!("raw: server error {e:?}")),
                    other => Ok(other),
                };
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                bail!("raw: connection closed");
            }
        }
    }

    /// Runs unprepared statements one after another.
    pub(crate) async fn setup(&mut self, statements: &[String]) -> Result<()> {
        for s in statements {
            self.roundtrip(&query(s)).await?;
        }
        Ok(())
    }

    /// Pre-encodes the workload's frames (preparing on this connection first).
    pub(crate) async fn frames(&mut self, workload: Workload, offset: u64) -> Result<Vec<Bytes>> {
        let id = if workload == Workload::Unprepared {
            Bytes::new()
        } else {
            let prepare = Request::Prepare(Prepare {
                query: workload.statement().into(),
                keyspace: None,
            });
            match self.roundtrip(&prepare).await? {
                Response::Result(ResultBody::Prepared(p)) => p.id,
                other => bail!("raw: PREPARE answered {other:?}"),
            }
        };
        let mut frames = Vec::new();
        for k in 0..DISTINCT_FRAMES {
            let i = offset + k;
            let request = match workload {
                Workload::Insert => execute(&id, insert_values(i)?, false),
                Workload::Select => {
                    let mut b = SerializedValuesBuilder::new();
                    b.push(RawValue::Value(&workload::select_key(i).to_be_bytes()))?;
                    execute(&id, b.finish(), true)
                }
                Workload::SelectPage => {
                    let mut b = SerializedValuesBuilder::new();
                    b.push(RawValue::Value(&0i32.to_be_bytes()))?;
                    execute(&id, b.finish(), true)
                }
                Workload::Unprepared => query(workload::UNPREPARED),
                Workload::Batch => {
                    let mut statements = Vec::with_capacity(BATCH_SIZE);
                    for j in 0..BATCH_SIZE as u64 {
                        statements.push(BatchStatement {
                            kind: BatchStatementKind::Prepared(id.clone()),
                            values: insert_values(i * BATCH_SIZE as u64 + j)?,
                        });
                    }
                    Request::Batch(proto::request::Batch {
                        batch_type: BatchType::UNLOGGED,
                        statements,
                        consistency: Consistency::LOCAL_QUORUM,
                        serial_consistency: None,
                        timestamp: None,
                        keyspace: None,
                        now_in_seconds: None,
                    })
                }
            };
            let mut buf = BytesMut::new();
            encode_request(&mut buf, VERSION, 0, &request, &RequestOptions::default())?;
            frames.push(buf.freeze());
        }
        Ok(frames)
    }

    /// Sends `requests` frames (cycling through `frames`) with at most `depth` in flight.
    pub(crate) async fn run(
        &mut self,
        frames: &[Bytes],
        requests: u64,
        depth: usize,
        cap: Duration,
        latencies: &mut Vec<u64>,
    ) -> Result<Outcome> {
        let depth = depth.clamp(1, 32_768);
        let started = Instant::now();
        let deadline = started + cap;
        let mut sent_at = vec![started; depth];
        let mut free: Vec<i16> = (0..depth as i16).rev().collect();
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        let (mut sent, mut done, mut errors) = (0u64, 0u64, 0u64);
        let mut first_error = None;
        let mut stop = false;
        while done < sent || !stop {
            if !stop {
                while let Some(&stream) = free.last() {
                    if sent >= requests || Instant::now() >= deadline {
                        stop = true;
                        break;
                    }
                    free.pop();
                    let frame = &frames[(sent % frames.len() as u64) as usize];
                    let at = wbuf.len();
                    wbuf.extend_from_slice(frame);
                    wbuf[at + 2..at + 4].copy_from_slice(&stream.to_be_bytes());
                    sent_at[stream as usize] = Instant::now();
                    sent += 1;
                }
                if !wbuf.is_empty() {
                    self.stream.write_all(&wbuf).await?;
                    wbuf.clear();
                }
            }
            if done == sent {
                continue;
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                bail!("raw: connection closed");
            }
            while let Some(frame) = self.decoder.decode(&mut self.rbuf)? {
                let stream = frame.header.stream;
                if stream < 0 || stream as usize >= depth {
                    continue;
                }
                let ok = match decode_response(&frame, None)?.response {
                    Response::Result(ResultBody::Rows(rows)) => {
                        rows.rows()
                            .flatten()
                            .map(|r| r.cells().count())
                            .sum::<usize>()
                            > 0
                    }
                    Response::Result(_) => true,
                    Response::Error(e) => {
                        first_error.get_or_insert_with(|| format!("{e:?}"));
                        false
                    }
                    _ => false,
                };
                if ok {
                    latencies.push(sent_at[stream as usize].elapsed().as_nanos().max(1) as u64);
                } else {
                    errors += 1;
                }
                done += 1;
                free.push(stream);
            }
        }
        let elapsed = started.elapsed();
        latencies.sort_unstable();
        Ok(Outcome {
            ok: latencies.len() as u64,
            errors,
            first_error,
            latencies_ns: std::mem::take(latencies),
            elapsed,
        })
    }
}

fn query(text: impl Into<Text>) -> Request {
    Request::Query(Query {
        query: text.into(),
        params: QueryParameters {
            consistency: Consistency::LOCAL_QUORUM,
            ..QueryParameters::default()
        },
    })
}

fn execute(id: &Bytes, values: SerializedValues, skip_metadata: bool) -> Request {
    Request::Execute(Execute {
        id: id.clone(),
        result_metadata_id: None,
        params: QueryParameters {
            consistency: Consistency::LOCAL_QUORUM,
            values,
            skip_metadata,
            ..QueryParameters::default()
        },
    })
}

fn insert_values(i: u64) -> Result<SerializedValues> {
    let (pk, c1, c2, c3, c4) = workload::insert_row(i);
    let mut b = SerializedValuesBuilder::new();
    b.push(RawValue::Value(&pk.to_be_bytes()))?;
    b.push(RawValue::Value(&c1.to_be_bytes()))?;
    b.push(RawValue::Value(c2.as_bytes()))?;
    b.push(RawValue::Value(&c3.to_be_bytes()))?;
    b.push(RawValue::Value(c4))?;
    Ok(b.finish())
}
