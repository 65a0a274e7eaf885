//! Frames out of a v5 segment stream: segments in, payloads joined, frames split off.

use bytes::BytesMut;

use super::{SegmentCompression, SegmentDecoder, SegmentError};
use crate::frame::{Frame, FrameDecoder, FrameError, FrameHeader};

/// Decodes the frames of a v5 connection after the handshake: segments from the byte stream,
/// then frames from their payloads.
///
/// Call [`SegmentedFrameDecoder::decode`] after every read, and again while it returns a frame.
/// A self-contained segment's payload becomes the frame buffer itself (no copy), and its frames
/// are split off it without copying, as [`FrameDecoder`] does. The parts of a frame split across
/// non-self-contained segments are joined in that buffer, whose size the frame cap bounds: the
/// frame header is checked against the cap as soon as it is complete. After an error the byte
/// stream is out of sync and the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentedFrameDecoder {
    segments: SegmentDecoder,
    frames: FrameDecoder,
    /// Payload bytes not yet split into frames: whole frames of a self-contained segment, or
    /// the start of a frame split across segments.
    pending: BytesMut,
}

impl SegmentedFrameDecoder {
    /// A decoder for segments in the `compression` format, rejecting frame bodies longer than
    /// `max_frame_size` bytes.
    pub fn new(compression: SegmentCompression, max_frame_size: usize) -> Self {
        Self {
            segments: SegmentDecoder::new(compression),
            frames: FrameDecoder::new(max_frame_size),
            pending: BytesMut::new(),
        }
    }

    /// The configured cap on a frame body.
    pub const fn max_frame_size(&self) -> usize {
        self.frames.max_frame_size()
    }

    /// How many payload bytes are buffered but not yet returned as frames.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Decodes the next frame, reading as many segments from the front of `buf` as it takes.
    ///
    /// `Ok(None)` means more bytes are needed; the segments read so far stay buffered in the
    /// decoder. Besides the errors of [`SegmentDecoder::decode`] and [`FrameDecoder::decode`],
    /// a self-contained segment that arrives while a split frame is unfinished
    /// ([`SegmentError::UnexpectedSelfContained`]) or whose payload does not end on a frame
    /// boundary ([`SegmentError::IncompleteFrame`]) is an error.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            if !self.pending.is_empty()
                && let Some(frame) = self.frames.decode(&mut self.pending)?
            {
                if self.pending.is_empty() {
                    // Drop the empty tail's reference to the read buffer, so the caller's
                    // `reserve` can reuse that buffer instead of allocating a new one.
                    self.pending = BytesMut::new();
                }
                return Ok(Some(frame));
            }
            let Some(segment) = self.segments.decode(buf)? else {
                return Ok(None);
            };
            if segment.self_contained {
                if !self.pending.is_empty() {
                    return Err(SegmentError::UnexpectedSelfContained {
                        pending: self.pending.len(),
                    }
                    .into());
                }
                self.check_whole_frames(&segment.payload)?;
                self.pending = segment.payload;
            } else if self.pending.is_empty() {
                self.pending = segment.payload;
            } else {
                self.pending.extend_from_slice(&segment.payload);
            }
        }
    }

    /// Walks the frame headers of a self-contained payload: it must end on a frame boundary, and
    /// no frame may exceed the cap.
    fn check_whole_frames(&self, payload: &[u8]) -> Result<(), FrameError> {
        let max = self.frames.max_frame_size();
        let mut offset = 0;
        while let Some(header) = payload.get(offset..offset + FrameHeader::LEN) {
            let body_len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
            if u64::from(body_len) > max as u64 {
                return Err(FrameError::TooLarge {
                    len: body_len.into(),
                    max,
                });
            }
            // body_len <= max, a usize; saturating keeps a huge cap from wrapping.
            let end = (offset + FrameHeader::LEN).saturating_add(body_len as usize);
            if end > payload.len() {
                break;
            }
            offset = end;
        }
        if offset == payload.len() {
            Ok(())
        } else {
            Err(SegmentError::IncompleteFrame {
                len: payload.len(),
                trailing: payload.len() - offset,
            }
            .into())
        }
    }
}
