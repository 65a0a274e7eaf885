//! What can go wrong while framing or unframing v5 segments.

use crate::frame::Compression;

/// A v5 segment could not be decoded or encoded.
///
/// Decoding errors mean the byte stream is corrupt or out of sync: close the connection.
/// [`SegmentError::NotWholeFrames`], [`SegmentError::PayloadTooLarge`] and
/// [`SegmentError::UnsupportedCompression`] are caller mistakes on the encoding side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The CRC24 at the end of a segment header does not match the header's bytes.
    #[error(
        "segment header checksum mismatch: the header carries CRC24 {expected:#08x}, \
         its bytes give {actual:#08x}"
    )]
    HeaderCrc {
        /// The CRC24 carried by the header.
        expected: u32,
        /// The CRC24 computed over the header's bytes.
        actual: u32,
    },
    /// The CRC32 trailer does not match the payload.
    #[error(
        "segment payload checksum mismatch: the trailer carries CRC32 {expected:#010x}, \
         the {len} payload bytes give {actual:#010x}"
    )]
    PayloadCrc {
        /// The CRC32 carried by the trailer.
        expected: u32,
        /// The CRC32 computed over the payload as received (compressed, for LZ4).
        actual: u32,
        /// The payload's length on the wire.
        len: usize,
    },
    /// A payload given to the encoder is larger than a segment can carry.
    #[error("segment payload of {len} bytes exceeds the {max} byte limit")]
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The limit, [`super::MAX_PAYLOAD_LEN`].
        max: usize,
    },
    /// An LZ4 payload is corrupt, or does not expand to the length its header announces.
    #[error(
        "cannot decompress lz4 segment payload of {compressed_len} bytes into the announced \
         {uncompressed_len} bytes: {detail}"
    )]
    Decompression {
        /// The payload's length on the wire.
        compressed_len: usize,
        /// The length the header announces.
        uncompressed_len: usize,
        /// What went wrong.
        detail: String,
    },
    /// A segment is LZ4-compressed but this build has no LZ4 (cargo feature `lz4` is off).
    #[error("segment payload is lz4-compressed but lz4 is not enabled in this build")]
    CompressionUnavailable,
    /// Only LZ4 exists for v5 segments; the negotiated compression is another one.
    #[error("{0} compression cannot be used with protocol v5 segments, only lz4")]
    UnsupportedCompression(Compression),
    /// A self-contained segment's payload does not end on a frame boundary.
    #[error(
        "self-contained segment of {len} payload bytes does not end on a frame boundary: \
         its last {trailing} bytes start a frame they do not finish"
    )]
    IncompleteFrame {
        /// The payload's length after decompression.
        len: usize,
        /// How many bytes of the payload belong to the unfinished frame.
        trailing: usize,
    },
    /// A self-contained segment arrived while a frame split across segments was unfinished.
    #[error(
        "self-contained segment arrived while {pending} bytes of a frame split across \
         segments were waiting for the rest"
    )]
    UnexpectedSelfContained {
        /// How many bytes of the unfinished frame were buffered.
        pending: usize,
    },
    /// Bytes given to the encoder as frames are not a sequence of whole frames.
    #[error(
        "bytes to frame are not whole frames: the frame at offset {offset} needs {needed} \
         bytes, only {available} remain"
    )]
    NotWholeFrames {
        /// Where the frame (or the header) that does not fit starts.
        offset: usize,
        /// How many bytes it needs: its header, or its header and body.
        needed: u64,
        /// How many bytes are left from `offset` on.
        available: usize,
    },
}
