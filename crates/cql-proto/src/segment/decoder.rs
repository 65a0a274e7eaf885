//! The incremental segment decoder.

use bytes::{Buf, BytesMut};

use super::compression::lz4_decompress;
use super::{Segment, SegmentCompression, SegmentError, SegmentHeader, TRAILER_LEN, crc32};

/// Splits v5 segments off a read buffer as bytes arrive, checking both checksums.
///
/// Call [`SegmentDecoder::decode`] after every read; it returns `Ok(None)` until a whole
/// segment is buffered. The header's CRC24 is checked as soon as the header is there, and the
/// payload's CRC32 before the payload is taken, so nothing is allocated for a corrupt segment.
/// After an error the byte stream is out of sync and the connection should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentDecoder {
    compression: SegmentCompression,
}

impl SegmentDecoder {
    /// A decoder for segments in the `compression` format.
    pub const fn new(compression: SegmentCompression) -> Self {
        Self { compression }
    }

    /// The segment format this decoder reads.
    pub const fn compression(&self) -> SegmentCompression {
        self.compression
    }

    /// Decodes the next segment from the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed: `buf`'s contents are left as they are, though
    /// space may be reserved for the rest of a segment whose header has arrived (at most
    /// 128 KiB, the largest segment). An uncompressed or stored payload is split off `buf`
    /// without copying; an LZ4 payload is decompressed into a new buffer of the announced length.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Segment>, SegmentError> {
        let Some(header) = SegmentHeader::decode(self.compression, buf)? else {
            return Ok(None);
        };
        let header_len = self.compression.header_len();
        let payload_end = header_len + header.payload_len;
        let total = payload_end + TRAILER_LEN;
        if buf.len() < total {
            buf.reserve(total - buf.len());
            return Ok(None);
        }
        let mut trailer = [0u8; TRAILER_LEN];
        trailer.copy_from_slice(&buf[payload_end..total]);
        let expected = u32::from_le_bytes(trailer);
        let actual = crc32(&buf[header_len..payload_end]);
        if expected != actual {
            return Err(SegmentError::PayloadCrc {
                expected,
                actual,
                len: header.payload_len,
            });
        }
        buf.advance(header_len);
        let wire = buf.split_to(header.payload_len);
        buf.advance(TRAILER_LEN);
        let payload = if header.uncompressed_len == 0 {
            wire
        } else {
            lz4_decompress(&wire, header.uncompressed_len)?
        };
        Ok(Some(Segment {
            self_contained: header.self_contained,
            payload,
        }))
    }
}
