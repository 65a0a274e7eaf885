//! Protocol v5 framing (sections 1 and 2 of the v5 spec): frames carried in checksummed
//! segments, optionally LZ4-compressed.
//!
//! After the STARTUP exchange, a v5 connection sends its frames inside segments. A segment is a
//! header with its own CRC24, a payload of at most [`MAX_PAYLOAD_LEN`] bytes, and a CRC32
//! trailer. A self-contained segment carries whole frames; a frame too large for one segment is
//! split across consecutive segments that are not self-contained.
//!
//! ```text
//!   frames ──► SegmentEncoder ──► [header | payload | CRC32] ... ──► bytes to a socket
//!   bytes from a socket ──► SegmentDecoder ──► Segment ──► SegmentedFrameDecoder ──► Frame
//! ```
//!
//! Where the spec and Cassandra's implementation disagree, this module follows the
//! implementation, as `specs/README.md` (errata) describes: the CRC32 is seeded with
//! `FA 2D 55 CA`, the LZ4 header is one little-endian 64-bit word, an LZ4 payload stored as-is
//! has uncompressed length 0, and LZ4 payloads are raw blocks.
//!
//! ```
//! use bytes::BytesMut;
//! use cql_proto::frame::{ProtocolVersion, RequestOptions, encode_request};
//! use cql_proto::request::Request;
//! use cql_proto::segment::{SegmentCompression, SegmentEncoder, SegmentedFrameDecoder};
//!
//! let mut frames = BytesMut::new();
//! encode_request(&mut frames, ProtocolVersion::V5, 1, &Request::Options, &RequestOptions::default())?;
//! let mut wire = BytesMut::new();
//! SegmentEncoder::new(SegmentCompression::Lz4).encode_frames(&frames, &mut wire)?;
//!
//! let mut decoder = SegmentedFrameDecoder::new(SegmentCompression::Lz4, 1 << 20);
//! let frame = decoder.decode(&mut wire)?.expect("a whole frame");
//! assert_eq!(frame.header.stream, 1);
//! assert!(decoder.decode(&mut wire)?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compression;
mod crc;
mod decoder;
mod encoder;
mod error;
mod framed;
mod header;
mod stream;

use bytes::BytesMut;

pub use compression::SegmentCompression;
pub use crc::{CRC32_SEED, crc24, crc32};
pub use decoder::SegmentDecoder;
pub use encoder::SegmentEncoder;
pub use error::SegmentError;
pub use framed::SegmentedFrameDecoder;
pub use header::SegmentHeader;
pub use stream::{FrameReader, FrameWriter};

/// The largest segment payload, before and after compression: payloads are smaller than 2^17
/// bytes (errata 5).
pub const MAX_PAYLOAD_LEN: usize = (1 << 17) - 1;

/// The length of the CRC32 trailer after each payload.
pub const TRAILER_LEN: usize = 4;

/// A decoded segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Whether the payload holds whole frames only; otherwise it is one part of a frame split
    /// across consecutive segments.
    pub self_contained: bool,
    /// The payload, decompressed. An uncompressed or stored payload is split off the read
    /// buffer without copying.
    pub payload: BytesMut,
}
