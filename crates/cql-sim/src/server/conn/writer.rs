//! The connection's writer side: the frames the reader queues, and the task that encodes
//! them (packed into v5 segments once the handshake switched to them) into one buffer per
//! write.

use bytes::{BufMut, BytesMut};
use proto::codes::{ErrorCode, Opcode};
use proto::frame::{Compression, FrameHeader, ProtocolVersion, ResponseOptions, encode_response};
use proto::response::{ErrorBody, ErrorDetails, Response};
use proto::segment::{FrameWriter, SegmentCompression};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::coordinator;

/// Responses buffered before a write is forced.
const MAX_COALESCE: usize = 256 * 1024;

/// A response frame to encode.
#[derive(Debug)]
pub(super) struct OutFrame {
    pub(super) version: ProtocolVersion,
    pub(super) stream: i16,
    pub(super) response: Response,
    pub(super) tracing_id: Option<Uuid>,
    pub(super) warnings: Vec<String>,
    pub(super) custom_payload: Option<coordinator::CustomPayload>,
    pub(super) compression: Option<Compression>,
    /// After this frame (READY or AUTHENTICATE of a v5 STARTUP), frames go in segments.
    pub(super) then_segments: Option<SegmentCompression>,
}

/// What the writer task is asked to do.
#[derive(Debug)]
pub(super) enum Outgoing {
    Frame(OutFrame),
    /// Write the first half of the frame, then close.
    HalfThenClose(OutFrame),
    /// Write a frame whose body cannot be decoded.
    Malformed {
        version: ProtocolVersion,
        stream: i16,
    },
    /// Close after writing everything queued before.
    Close,
}

/// Aborts the writer task when the connection is dropped mid-way (see [`super::run`]); disarmed
/// when it ends normally, so the writer can flush what was queued.
pub(super) struct AbortWriter(pub(super) Option<tokio::task::AbortHandle>);

impl Drop for AbortWriter {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

fn encode_out(buf: &mut BytesMut, f: &OutFrame) {
    let opts = ResponseOptions {
        tracing_id: f.tracing_id,
        warnings: &f.warnings,
        custom_payload: f.custom_payload.as_ref(),
        compression: f.compression,
    };
    if let Err(e) = encode_response(buf, f.version, f.stream, &f.response, &opts) {
        tracing::warn!(error = %e, "cannot encode response");
        let err = Response::Error(ErrorBody {
            code: ErrorCode::SERVER_ERROR,
            message: format!("cannot encode response: {e}"),
            details: ErrorDetails::None,
        });
        let _ = encode_response(buf, f.version, f.stream, &err, &ResponseOptions::default());
    }
}

/// Packs the queued frames into segments at the end of `buf` (nothing to do before v5). The
/// frames are our own encoder's, so packing cannot fail; if it did, they are dropped with a
/// warning rather than sent unframed.
fn seal(framing: &mut FrameWriter, buf: &mut BytesMut) {
    if let Err(e) = framing.seal(buf) {
        tracing::warn!(error = %e, "cannot pack response frames into segments");
    }
}

/// A RESULT frame whose 2-byte body cannot hold the 4-byte result kind.
fn malformed(buf: &mut BytesMut, version: ProtocolVersion, stream: i16) {
    let header = FrameHeader {
        version,
        is_response: true,
        flags: proto::frame::FrameFlags::EMPTY,
        stream,
        opcode: Opcode::RESULT,
        length: 2,
    };
    header.encode(buf);
    buf.put_slice(&[0x00, 0x01]);
}

/// Writes queued frames (as they are, or packed into v5 segments once the handshake switched
/// the connection to them) in one write per batch.
pub(super) async fn write_loop<W: AsyncWrite + Unpin>(mut wr: W, mut rx: mpsc::Receiver<Outgoing>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut framing = FrameWriter::new(None);
    while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Outgoing::Frame(f) => {
                    encode_out(framing.frame_buf(&mut buf), &f);
                    if let Some(c) = f.then_segments {
                        seal(&mut framing, &mut buf);
                        framing = FrameWriter::new(Some(c));
                    }
                }
                Outgoing::HalfThenClose(f) => {
                    seal(&mut framing, &mut buf);
                    let start = buf.len();
                    encode_out(framing.frame_buf(&mut buf), &f);
                    seal(&mut framing, &mut buf);
                    let len = buf.len() - start;
                    buf.truncate(start + len / 2);
                    close = true;
                }
                Outgoing::Malformed { version, stream } => {
                    malformed(framing.frame_buf(&mut buf), version, stream);
                }
                Outgoing::Close => close = true,
            }
            if close || buf.len() + framing.queued_len() >= MAX_COALESCE {
                break;
            }
            next = rx.try_recv().ok();
        }
        seal(&mut framing, &mut buf);
        if wr.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
        if close {
            let _ = wr.shutdown().await;
            return;
        }
    }
    let _ = wr.shutdown().await;
}
