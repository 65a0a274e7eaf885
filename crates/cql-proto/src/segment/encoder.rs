//! The segment encoder: whole frames in, as few segments as possible out.

use bytes::{BufMut, BytesMut};

use super::compression::lz4_compress;
use super::{MAX_PAYLOAD_LEN, SegmentCompression, SegmentError, SegmentHeader, TRAILER_LEN, crc32};
use crate::frame::FrameHeader;

/// Wraps encoded frames into v5 segments.
///
/// [`SegmentEncoder::encode_frames`] packs whole frames into self-contained segments and splits
/// a frame too large for one segment across non-self-contained ones (spec section 1). Segments
/// are written straight into the caller's buffer: the header is reserved, the payload written
/// (or compressed) in place, and the header patched once the payload's length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentEncoder {
    compression: SegmentCompression,
}

impl SegmentEncoder {
    /// An encoder writing segments in the `compression` format.
    pub const fn new(compression: SegmentCompression) -> Self {
        Self { compression }
    }

    /// The segment format this encoder writes.
    pub const fn compression(&self) -> SegmentCompression {
        self.compression
    }

    /// Appends `frames`, one or more whole encoded frames back to back, to `out` as segments.
    ///
    /// Consecutive frames share a self-contained segment while their total stays within
    /// [`MAX_PAYLOAD_LEN`]; a frame larger than that goes, after the pending self-contained
    /// segment, into consecutive non-self-contained segments of at most [`MAX_PAYLOAD_LEN`]
    /// bytes each. Empty `frames` writes nothing.
    ///
    /// Fails with [`SegmentError::NotWholeFrames`] when `frames` does not end on a frame
    /// boundary (as read from each 9-byte header's length); `out` is then left as it was.
    pub fn encode_frames(&self, frames: &[u8], out: &mut BytesMut) -> Result<(), SegmentError> {
        let start = out.len();
        let result = self.append_segments(frames, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// [`Self::encode_frames`] without restoring `out` on an error.
    fn append_segments(&self, frames: &[u8], out: &mut BytesMut) -> Result<(), SegmentError> {
        // Frames are contiguous, so a self-contained segment's payload is one range of `frames`:
        // `packed..offset`.
        let mut packed = 0;
        let mut offset = 0;
        while offset < frames.len() {
            let len = frame_len(frames, offset)?;
            if len > MAX_PAYLOAD_LEN {
                if packed < offset {
                    self.encode_segment(&frames[packed..offset], true, out)?;
                }
                for part in frames[offset..offset + len].chunks(MAX_PAYLOAD_LEN) {
                    self.encode_segment(part, false, out)?;
                }
                packed = offset + len;
            } else if offset + len - packed > MAX_PAYLOAD_LEN {
                self.encode_segment(&frames[packed..offset], true, out)?;
                packed = offset;
            }
            offset += len;
        }
        if packed < offset {
            self.encode_segment(&frames[packed..offset], true, out)?;
        }
        Ok(())
    }

    /// Appends one segment carrying `payload` to `out`.
    ///
    /// `self_contained` says whether `payload` is whole frames only; it is written as given,
    /// which lets tests and fault injection write segments the encoder would not. With LZ4, the
    /// payload is compressed when that makes it smaller, and stored as-is (uncompressed length
    /// 0) otherwise. Fails when `payload` is longer than [`MAX_PAYLOAD_LEN`].
    pub fn encode_segment(
        &self,
        payload: &[u8],
        self_contained: bool,
        out: &mut BytesMut,
    ) -> Result<(), SegmentError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(SegmentError::PayloadTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }
        let header_len = self.compression.header_len();
        out.reserve(header_len + payload.len() + TRAILER_LEN);
        let header_at = out.len();
        out.put_bytes(0, header_len);
        let payload_at = out.len();
        let mut header = SegmentHeader {
            payload_len: payload.len(),
            uncompressed_len: 0,
            self_contained,
        };
        match self.compression {
            SegmentCompression::None => out.put_slice(payload),
            SegmentCompression::Lz4 => match lz4_compress(payload, out) {
                Some(compressed_len) => {
                    header.payload_len = compressed_len;
                    header.uncompressed_len = payload.len();
                }
                None => out.put_slice(payload),
            },
        }
        let bytes = header.encode(self.compression)?;
        out[header_at..payload_at].copy_from_slice(&bytes[..header_len]);
        let crc = crc32(&out[payload_at..]);
        out.put_u32_le(crc);
        Ok(())
    }
}

/// The length (header and body) of the frame at `offset`, which must fit in `frames`.
fn frame_len(frames: &[u8], offset: usize) -> Result<usize, SegmentError> {
    let available = frames.len() - offset;
    let not_whole = |needed: u64| SegmentError::NotWholeFrames {
        offset,
        needed,
        available,
    };
    let Some(header) = frames.get(offset..offset + FrameHeader::LEN) else {
        return Err(not_whole(FrameHeader::LEN as u64));
    };
    let body_len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    let needed = FrameHeader::LEN as u64 + u64::from(body_len);
    if needed > available as u64 {
        return Err(not_whole(needed));
    }
    // needed <= available, a usize.
    Ok(needed as usize)
}
