//! Frame-body compression (section 5 of the v4 spec): LZ4 and Snappy.
//!
//! A v4 LZ4 body is a 4-byte big-endian uncompressed length followed by a raw LZ4 block; a Snappy
//! body is a raw Snappy block. Decompression never allocates more than the caller's limit, whatever
//! a length prefix claims.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::FrameError;
use crate::error::EncodeError;

/// A body compression algorithm, as negotiated by STARTUP's `COMPRESSION` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// LZ4 (feature `lz4`).
    Lz4,
    /// Snappy (feature `snappy`).
    Snappy,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// LZ4 cannot expand data by more than this factor (a block of max-length matches).
#[cfg(feature = "lz4")]
const LZ4_MAX_RATIO: u64 = 255;

impl Compression {
    /// The name used in STARTUP's `COMPRESSION` option: `"lz4"` or `"snappy"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lz4 => "lz4",
            Self::Snappy => "snappy",
        }
    }

    /// Parses a STARTUP `COMPRESSION` name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("lz4") {
            Some(Self::Lz4)
        } else if name.eq_ignore_ascii_case("snappy") {
            Some(Self::Snappy)
        } else {
            None
        }
    }

    /// Whether this algorithm was compiled in.
    pub const fn is_available(self) -> bool {
        match self {
            Self::Lz4 => cfg!(feature = "lz4"),
            Self::Snappy => cfg!(feature = "snappy"),
        }
    }

    /// Compresses `src` and appends the result to `dst`.
    pub fn compress(self, src: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            #[cfg(feature = "lz4")]
            Self::Lz4 => {
                let len = u32::try_from(src.len()).map_err(|_| EncodeError::TooLong {
                    what: "lz4 body",
                    len: src.len(),
                })?;
                let start = dst.len();
                let max = lz4_flex::block::get_maximum_output_size(src.len());
                dst.resize(start + 4 + max, 0);
                dst[start..start + 4].copy_from_slice(&len.to_be_bytes());
                let n = lz4_flex::block::compress_into(src, &mut dst[start + 4..])
                    .map_err(|e| EncodeError::Invalid(format!("lz4 compression failed: {e}")))?;
                dst.truncate(start + 4 + n);
                Ok(())
            }
            #[cfg(feature = "snappy")]
            Self::Snappy => {
                let start = dst.len();
                let max = snap::raw::max_compress_len(src.len());
                if max == 0 && !src.is_empty() {
                    return Err(EncodeError::TooLong {
                        what: "snappy body",
                        len: src.len(),
                    });
                }
                dst.resize(start + max, 0);
                let n = snap::raw::Encoder::new()
                    .compress(src, &mut dst[start..])
                    .map_err(|e| EncodeError::Invalid(format!("snappy compression failed: {e}")))?;
                dst.truncate(start + n);
                Ok(())
            }
            #[allow(unreachable_patterns)]
            other => {
                let _ = (src, dst);
                Err(EncodeError::Invalid(format!(
                    "{other} compression is not enabled in this build"
                )))
            }
        }
    }

    /// Decompresses `src`, refusing to produce more than `max_len` bytes.
    pub fn decompress(self, src: &[u8], max_len: usize) -> Result<Bytes, FrameError> {
        match self {
            #[cfg(feature = "lz4")]
            Self::Lz4 => {
                let err = |detail: String| FrameError::Decompression {
                    algorithm: self,
                    detail,
                };
                let Some((prefix, block)) = src.split_first_chunk::<4>() else {
                    return Err(err("body shorter than the 4-byte length prefix".into()));
                };
                let len = u32::from_be_bytes(*prefix);
                if u64::from(len) > max_len as u64 {
                    return Err(FrameError::DecompressedTooLarge {
                        len: len.into(),
                        max: max_len,
                    });
                }
                if u64::from(len) > (block.len() as u64).saturating_mul(LZ4_MAX_RATIO) + 16 {
                    return Err(err(format!(
                        "{} compressed bytes cannot expand to {len}",
                        block.len()
                    )));
                }
                let mut out = vec![0u8; len as usize];
                let n = lz4_flex::block::decompress_into(block, &mut out)
                    .map_err(|e| err(e.to_string()))?;
                if n != out.len() {
                    return Err(err(format!("expected {} bytes, got {n}", out.len())));
                }
                Ok(Bytes::from(out))
            }
            #[cfg(feature = "snappy")]
            Self::Snappy => {
                let err = |detail: String| FrameError::Decompression {
                    algorithm: self,
                    detail,
                };
                let len = snap::raw::decompress_len(src).map_err(|e| err(e.to_string()))?;
                if len > max_len {
                    return Err(FrameError::DecompressedTooLarge {
                        len: len as u64,
                        max: max_len,
                    });
                }
                let mut out = vec![0u8; len];
                let n = snap::raw::Decoder::new()
                    .decompress(src, &mut out)
                    .map_err(|e| err(e.to_string()))?;
                out.truncate(n);
                Ok(Bytes::from(out))
            }
            #[allow(unreachable_patterns)]
            other => {
                let _ = (src, max_len);
                Err(FrameError::CompressionUnavailable(other))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Compression::from_name("LZ4"), Some(Compression::Lz4));
        assert_eq!(Compression::from_name("snappy"), Some(Compression::Snappy));
        assert_eq!(Compression::from_name("zstd"), None);
        assert_eq!(Compression::Lz4.as_str(), "lz4");
    }

    #[cfg(feature = "lz4")]
    #[test]
    fn lz4_round_trip_and_prefix() {
        let data = b"hello hello hello hello hello hello".repeat(10);
        let mut c = BytesMut::new();
        Compression::Lz4.compress(&data, &mut c).unwrap();
        assert_eq!(&c[..4], &(data.len() as u32).to_be_bytes());
        let d = Compression::Lz4.decompress(&c, 1 << 20).unwrap();
        assert_eq!(&d[..], &data[..]);
        // The limit is enforced from the prefix.
        assert!(matches!(
            Compression::Lz4.decompress(&c, 10),
            Err(FrameError::DecompressedTooLarge { .. })
        ));
    }

    #[cfg(feature = "lz4")]
    #[test]
    fn lz4_hostile_prefix_is_rejected_without_allocating() {
        // Claims 200 MiB from 3 bytes of block.
        let body = [0x0c, 0x80, 0x00, 0x00, 0x10, 0x00, 0x00];
        assert!(matches!(
            Compression::Lz4.decompress(&body, 256 << 20),
            Err(FrameError::Decompression { .. })
        ));
        assert!(Compression::Lz4.decompress(&[0, 0], 100).is_err());
    }

    #[cfg(feature = "snappy")]
    #[test]
    fn snappy_round_trip_and_corruption() {
        let data = b"abcabcabcabcabcabcabcabc".repeat(20);
        let mut c = BytesMut::new();
        Compression::Snappy.compress(&data, &mut c).unwrap();
        let d = Compression::Snappy.decompress(&c, 1 << 20).unwrap();
        assert_eq!(&d[..], &data[..]);
        assert!(matches!(
            Compression::Snappy.decompress(&c, 10),
            Err(FrameError::DecompressedTooLarge { .. })
        ));
        let mut bad = c.to_vec();
        let last = bad.len() - 1;
        bad.truncate(last);
        assert!(Compression::Snappy.decompress(&bad, 1 << 20).is_err());
    }
}
