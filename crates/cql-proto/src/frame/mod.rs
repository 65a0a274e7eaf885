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

mod compression;
mod decoder;
mod envelope;
mod header;

use bytes::Bytes;

pub use compression::Compression;
pub use decoder::{DEFAULT_MAX_FRAME_SIZE, FrameDecoder};
pub use envelope::{
    RequestEnvelope, RequestOptions, ResponseEnvelope, ResponseOptions, decode_request,
    decode_request_limited, decode_response, decode_response_limited, encode_request,
    encode_response,
};
pub use header::{FrameFlags, FrameHeader, ProtocolVersion};

use crate::codes::Opcode;
use crate::error::DecodeError;

/// A whole frame: its header and its body as on the wire (possibly compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The decoded header; `header.length` is the body's length.
    pub header: FrameHeader,
    /// The body bytes, split off the read buffer without copying.
    pub body: Bytes,
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
}
