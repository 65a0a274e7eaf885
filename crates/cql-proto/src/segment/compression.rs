//! The compression of v5 segments: none, or LZ4 raw blocks (spec section 2.2, errata 3 to 5).
//!
//! All feature-gated LZ4 code of the segment layer is here.

use bytes::BytesMut;

use super::SegmentError;
use crate::frame::Compression;

/// How the segments of a connection are compressed, fixed by STARTUP's `COMPRESSION` option.
///
/// [`SegmentCompression::Lz4`] exists in every build. Without the `lz4` cargo feature, the
/// encoder stores every payload as-is (uncompressed length 0, which every peer accepts) and the
/// decoder reads stored payloads but fails compressed ones with
/// [`SegmentError::CompressionUnavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SegmentCompression {
    /// No compression: a 6-byte header (spec section 2.1).
    #[default]
    None,
    /// LZ4: an 8-byte header with both lengths (spec section 2.2).
    Lz4,
}

impl SegmentCompression {
    /// The segment compression for what STARTUP negotiated: `None` gives
    /// [`SegmentCompression::None`], LZ4 gives [`SegmentCompression::Lz4`], and any other
    /// algorithm is an error, since v5 segments only know LZ4.
    pub const fn from_negotiated(negotiated: Option<Compression>) -> Result<Self, SegmentError> {
        match negotiated {
            None => Ok(Self::None),
            Some(Compression::Lz4) => Ok(Self::Lz4),
            Some(other) => Err(SegmentError::UnsupportedCompression(other)),
        }
    }

    /// The length of a segment header in this format, its CRC24 included: 6 or 8 bytes.
    pub const fn header_len(self) -> usize {
        match self {
            Self::None => 6,
            Self::Lz4 => 8,
        }
    }
}

/// Payloads shorter than this cannot shrink: LZ4 emits them as one literal run plus a token.
#[cfg(feature = "lz4")]
const LZ4_MIN_INPUT: usize = 13;

/// Compresses `src` as a raw LZ4 block appended to `dst`, and returns its length, or returns
/// `None` with `dst` unchanged when the block would not be smaller than `src`.
#[cfg(feature = "lz4")]
pub(super) fn lz4_compress(src: &[u8], dst: &mut BytesMut) -> Option<usize> {
    if src.len() < LZ4_MIN_INPUT {
        return None;
    }
    let start = dst.len();
    dst.resize(
        start + lz4_flex::block::get_maximum_output_size(src.len()),
        0,
    );
    match lz4_flex::block::compress_into(src, &mut dst[start..]) {
        Ok(n) if n < src.len() => {
            dst.truncate(start + n);
            Some(n)
        }
        // The output was sized by the block's bound, so an error cannot happen; storing the
        // payload as-is is correct whatever the reason.
        _ => {
            dst.truncate(start);
            None
        }
    }
}

/// Without LZ4 compiled in, every payload is stored as-is.
#[cfg(not(feature = "lz4"))]
pub(super) fn lz4_compress(_src: &[u8], _dst: &mut BytesMut) -> Option<usize> {
    None
}

/// Decompresses a raw LZ4 block that must expand to exactly `len` bytes (at most
/// [`super::MAX_PAYLOAD_LEN`], as a header's 17 bits allow).
#[cfg(feature = "lz4")]
pub(super) fn lz4_decompress(src: &[u8], len: usize) -> Result<BytesMut, SegmentError> {
    let err = |detail: String| SegmentError::Decompression {
        compressed_len: src.len(),
        uncompressed_len: len,
        detail,
    };
    let mut out = BytesMut::zeroed(len);
    let n = lz4_flex::block::decompress_into(src, &mut out).map_err(|e| err(e.to_string()))?;
    if n != len {
        return Err(err(format!("the block expands to {n} bytes")));
    }
    Ok(out)
}

/// Without LZ4 compiled in, a compressed payload cannot be read.
#[cfg(not(feature = "lz4"))]
pub(super) fn lz4_decompress(_src: &[u8], _len: usize) -> Result<BytesMut, SegmentError> {
    Err(SegmentError::CompressionUnavailable)
}
