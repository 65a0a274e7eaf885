//! Frames (section 2 of the v4 spec): the 9-byte header, the incremental [`FrameDecoder`], body
//! compression, and the envelope (tracing id, warnings, custom payload) around a message body.
//!
//! ```text
//!   0         8        16        24        32         40
//!   +---------+---------+---------+---------+---------+
//!   | version |  flags  |      stream       | opcode  |
//!   +---------+---------+---------+---------+---------+
//!   |                length                 |
//!   +---------+---------+---------+---------+
//!   |                 body ...
//! ```
//!
//! Encoding writes a whole frame into the caller's buffer; decoding splits frames off a read
//! buffer as bytes arrive:
//!
//! ```
//! use bytes::BytesMut;
//! use cql_proto::frame::{FrameDecoder, ProtocolVersion, RequestOptions, decode_request, encode_request};
//! use cql_proto::request::Request;
//!
//! let mut wire = BytesMut::new();
//! encode_request(&mut wire, ProtocolVersion::V4, 7, &Request::Options, &RequestOptions::default())?;
//! assert_eq!(&wire[..], &[0x04, 0x00, 0x00, 0x07, 0x05, 0, 0, 0, 0]);
//!
//! let mut decoder = FrameDecoder::default();
//! let mut partial = wire.split_to(5);
//! assert!(decoder.decode(&mut partial)?.is_none()); // needs more bytes
//! partial.unsplit(wire);
//! let frame = decoder.decode(&mut partial)?.expect("a whole frame");
//! let envelope = decode_request(&frame, None)?;
//! assert_eq!((envelope.stream, envelope.request), (7, Request::Options));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compression;
mod decoder;
mod envelope;
mod header;

use bytes::{BufMut, Bytes, BytesMut};

pub use compression::Compression;
pub use decoder::{DEFAULT_MAX_FRAME_SIZE, FrameDecoder};
pub use envelope::{
    DecodeOptions, RequestEnvelope, RequestOptions, ResponseEnvelope, ResponseOptions,
    decode_request, decode_request_limited, decode_request_with, decode_response,
    decode_response_limited, decode_response_with, encode_request, encode_response,
};
pub use header::{FrameFlags, FrameHeader, ProtocolVersion};

/// Negotiated protocol extensions that change body layouts beyond what the protocol version says.
///
/// Only decoding needs them: when encoding, the message's own fields say what to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct BodyExtensions {
    /// Scylla's `SCYLLA_USE_METADATA_ID`: before v5, EXECUTE requests and PREPARED results
    /// carry a result metadata id as in v5.
    pub scylla_metadata_id: bool,
}

impl BodyExtensions {
    /// No extensions.
    pub const NONE: Self = Self {
        scylla_metadata_id: false,
    };

    /// These extensions with `SCYLLA_USE_METADATA_ID` on or off.
    pub const fn with_scylla_metadata_id(mut self, on: bool) -> Self {
        self.scylla_metadata_id = on;
        self
    }

    /// Whether EXECUTE and PREPARED bodies carry a result metadata id.
    pub(crate) const fn metadata_id(self, version: ProtocolVersion) -> bool {
        version.is_v5_or_later() || self.scylla_metadata_id
    }

    /// Reads the `<id>` that starts EXECUTE and PREPARED bodies, then the
    /// `<result_metadata_id>` after it when [`Self::metadata_id`] says it is there.
    pub(crate) fn read_prepared_ids(
        self,
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<(Bytes, Option<Bytes>), DecodeError> {
        let id = body.slice_ref(r.read_short_bytes("prepared id")?);
        let result_metadata_id = if self.metadata_id(version) {
            Some(body.slice_ref(r.read_short_bytes("result metadata id")?))
        } else {
            None
        };
        Ok((id, result_metadata_id))
    }
}

use crate::codec::Reader;
use crate::codes::Opcode;
use crate::error::{DecodeError, EncodeError};
use crate::segment::SegmentError;

/// A whole frame: its header and its body as on the wire (possibly compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The decoded header; `header.length` is the body's length.
    pub header: FrameHeader,
    /// The body bytes, split off the read buffer without copying.
    pub body: Bytes,
}

impl Frame {
    /// Appends the frame as it is (header, then body) to `buf`; `header.length` is set from the
    /// body. Useful to forward frames or to write deliberately odd ones in tests.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let length = u32::try_from(self.body.len()).map_err(|_| EncodeError::TooLong {
            what: "frame body",
            len: self.body.len(),
        })?;
        FrameHeader {
            length,
            ..self.header
        }
        .encode(buf);
        buf.put_slice(&self.body);
        Ok(())
    }
}

/// A frame could not be decoded, decompressed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The header announces a body larger than the configured limit.
    #[error("frame body of {len} bytes exceeds the {max} byte limit")]
    TooLarge {
        /// The body length from the header.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// The version byte names a protocol version this crate does not speak.
    #[error("unsupported protocol version {version} (expected 3, 4 or 5)")]
    UnsupportedVersion {
        /// The version number (without the response bit).
        version: u8,
    },
    /// The frame's opcode is unknown, or not valid in the frame's direction.
    #[error("opcode {opcode} is not a known {direction} opcode")]
    UnknownOpcode {
        /// The opcode.
        opcode: Opcode,
        /// "request" or "response".
        direction: &'static str,
    },
    /// A request frame was given where a response was expected, or the other way round.
    #[error("expected a {expected} frame, got the other direction")]
    WrongDirection {
        /// "request" or "response".
        expected: &'static str,
    },
    /// The frame is compressed but no compression was negotiated.
    #[error("frame has the compression flag but no compression was negotiated")]
    UnexpectedCompression,
    /// The compression algorithm was not compiled in (cargo feature disabled).
    #[error("{0} compression is not enabled in this build")]
    CompressionUnavailable(Compression),
    /// A compressed body announces more uncompressed bytes than the limit.
    #[error("decompressed body of {len} bytes exceeds the {max} byte limit")]
    DecompressedTooLarge {
        /// The announced uncompressed length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A compressed body is corrupt.
    #[error("cannot decompress {algorithm} body: {detail}")]
    Decompression {
        /// The algorithm.
        algorithm: Compression,
        /// What went wrong.
        detail: String,
    },
    /// The body (or its envelope) could not be decoded.
    #[error("cannot decode frame body: {0}")]
    Decode(#[from] DecodeError),
    /// The v5 segment carrying the frame could not be decoded.
    #[error("cannot decode v5 segment: {0}")]
    Segment(#[from] SegmentError),
}
