//! One connection's framing either way: frames as they are (before v5, and during a v5
//! handshake) or frames packed into segments (v5 after STARTUP). The connection driver and the
//! simulated server hold one [`FrameReader`] and one [`FrameWriter`] each and switch them when
//! the STARTUP exchange ends.

use bytes::BytesMut;

use super::{SegmentCompression, SegmentEncoder, SegmentError, SegmentedFrameDecoder};
use crate::frame::{Frame, FrameDecoder, FrameError};

/// Splits the frames of one direction of a connection off its read buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameReader {
    /// Frames directly on the stream (protocol v3 and v4, and a v5 connection's handshake).
    Frames(FrameDecoder),
    /// Frames inside v5 segments.
    Segments(Box<SegmentedFrameDecoder>),
}

impl FrameReader {
    /// A reader for frames in segments compressed with `segments`, or for bare frames when
    /// `None`; frame bodies over `max_frame_size` bytes are refused.
    pub fn new(segments: Option<SegmentCompression>, max_frame_size: usize) -> Self {
        match segments {
            None => Self::Frames(FrameDecoder::new(max_frame_size)),
            Some(c) => Self::Segments(Box::new(SegmentedFrameDecoder::new(c, max_frame_size))),
        }
    }

    /// Whether frames arrive inside segments.
    pub fn is_segmented(&self) -> bool {
        matches!(self, Self::Segments(_))
    }

    /// The next frame from the front of `buf`; `Ok(None)` when more bytes are needed (see
    /// [`FrameDecoder::decode`] and [`SegmentedFrameDecoder::decode`]).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match self {
            Self::Frames(d) => d.decode(buf),
            Self::Segments(d) => d.decode(buf),
        }
    }
}

/// Puts the frames of one direction of a connection on the wire.
///
/// Frames are appended to [`FrameWriter::frame_buf`]; [`FrameWriter::seal`] then moves them into
/// the output buffer. Without segments the frame buffer *is* the output buffer and sealing does
/// nothing; with segments, every frame queued since the last seal shares as few segments as the
/// payload limit allows, so callers seal once per write, not once per frame.
#[derive(Debug, Clone, Default)]
pub struct FrameWriter {
    segments: Option<(SegmentEncoder, BytesMut)>,
}

impl FrameWriter {
    /// A writer packing frames into segments compressed with `segments`, or writing bare frames
    /// when `None`.
    pub fn new(segments: Option<SegmentCompression>) -> Self {
        Self {
            segments: segments.map(|c| (SegmentEncoder::new(c), BytesMut::new())),
        }
    }

    /// Whether frames are packed into segments.
    pub fn is_segmented(&self) -> bool {
        self.segments.is_some()
    }

    /// Where the next whole frame goes: `out` itself without segments, else the queue of frames
    /// waiting for [`Self::seal`].
    pub fn frame_buf<'a>(&'a mut self, out: &'a mut BytesMut) -> &'a mut BytesMut {
        match &mut self.segments {
            None => out,
            Some((_, frames)) => frames,
        }
    }

    /// Bytes of queued frames not yet sealed into segments (0 without segments).
    pub fn queued_len(&self) -> usize {
        self.segments.as_ref().map_or(0, |(_, frames)| frames.len())
    }

    /// Packs the queued frames into segments appended to `out`. The queue keeps its allocation.
    /// An error (the queue did not hold whole frames) drops the queue: the caller's stream is
    /// then out of step and should be closed.
    pub fn seal(&mut self, out: &mut BytesMut) -> Result<(), SegmentError> {
        let Some((encoder, frames)) = &mut self.segments else {
            return Ok(());
        };
        if frames.is_empty() {
            return Ok(());
        }
        let result = encoder.encode_frames(frames, out);
        frames.clear();
        result
    }
}
