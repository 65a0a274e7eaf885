//! The incremental frame decoder.

use bytes::BytesMut;

use super::{Frame, FrameError, FrameHeader};

/// The default cap on a frame body: 256 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 256 * 1024 * 1024;

/// The most buffer space reserved ahead of bytes that have not arrived yet.
///
/// Beyond this the decoder grows the buffer in proportion to what is already buffered, so a
/// peer that announces a huge body and sends nothing costs this much memory, not the body's
/// length, while a large body that does arrive is still copied only O(1) times per byte.
const RESERVE_AHEAD: usize = 64 * 1024;

/// Splits frames off a read buffer as bytes arrive.
///
/// Call [`FrameDecoder::decode`] after every read; it returns `Ok(None)` until a whole frame is
/// buffered. The body is split off without copying. The body length is checked against the cap as
/// soon as the header is complete, before any buffer space is reserved for the body, and space
/// for a body is reserved only as its bytes arrive (never more than what is buffered, or 64 KiB,
/// ahead of them). After an error the byte stream is out of sync and the connection should be
/// closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameDecoder {
    max_frame_size: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameDecoder {
    /// A decoder that rejects frame bodies longer than `max_frame_size` bytes.
    pub const fn new(max_frame_size: usize) -> Self {
        Self { max_frame_size }
    }

    /// The configured cap on a frame body.
    pub const fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Decodes the next frame from the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed (`buf` is left untouched, except that space may be
    /// reserved for more of the announced body once its length has passed the cap: at most as
    /// much as `buf` already holds, or 64 KiB when that is more).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < FrameHeader::LEN {
            return Ok(None);
        }
        let header = FrameHeader::decode(buf)?;
        let len = header.length as usize;
        if u64::from(header.length) > self.max_frame_size as u64 {
            return Err(FrameError::TooLarge {
                len: header.length.into(),
                max: self.max_frame_size,
            });
        }
        let total = FrameHeader::LEN + len;
        if buf.len() < total {
            let ahead = (total - buf.len()).min(buf.len().max(RESERVE_AHEAD));
            buf.reserve(ahead);
            return Ok(None);
        }
        let _ = buf.split_to(FrameHeader::LEN);
        let body = buf.split_to(len).freeze();
        Ok(Some(Frame { header, body }))
    }
}
