//! The segment header: lengths, the self-contained flag and the header's own CRC24.

use super::{MAX_PAYLOAD_LEN, SegmentCompression, SegmentError, crc24};

/// Bit 17 of an uncompressed header, bit 34 of an LZ4 header.
const SELF_CONTAINED_UNCOMPRESSED: u64 = 1 << 17;
const SELF_CONTAINED_LZ4: u64 = 1 << 34;
/// A 17-bit length field.
const LEN_MASK: u64 = 0x1_FFFF;

/// A decoded segment header.
///
/// On the wire (all little-endian, errata 3):
///
/// ```text
///   uncompressed, 6 bytes:  payload length (17 bits) | self-contained (1) | padding (6) | CRC24
///   lz4, 8 bytes:           compressed length (17) | uncompressed length (17)
///                           | self-contained (1) | padding (5) | CRC24 of the low 5 bytes
/// ```
///
/// Padding bits are ignored when decoding (but covered by the CRC24) and written as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentHeader {
    /// The length of the payload on the wire (compressed, for LZ4 when `uncompressed_len` is not
    /// 0), at most [`MAX_PAYLOAD_LEN`].
    pub payload_len: usize,
    /// LZ4 only: the payload's length after decompression, or 0 when the payload is stored
    /// as-is (errata 4). Always 0 for uncompressed segments.
    pub uncompressed_len: usize,
    /// Whether the payload holds whole frames only; otherwise it is one part of a frame split
    /// across consecutive segments.
    pub self_contained: bool,
}

impl SegmentHeader {
    /// Decodes and checks the header at the front of `bytes`: `Ok(None)` when fewer than
    /// [`SegmentCompression::header_len`] bytes are there, an error when its CRC24 does not
    /// match.
    pub fn decode(
        compression: SegmentCompression,
        bytes: &[u8],
    ) -> Result<Option<Self>, SegmentError> {
        let header_len = compression.header_len();
        let Some(raw) = bytes.get(..header_len) else {
            return Ok(None);
        };
        let mut word = [0u8; 8];
        word[..header_len].copy_from_slice(raw);
        let word = u64::from_le_bytes(word);
        let contents_len = header_len - 3;
        let contents = word & ((1 << (8 * contents_len)) - 1);
        let expected = (word >> (8 * contents_len)) as u32;
        let actual = crc24(&contents.to_le_bytes()[..contents_len]);
        if expected != actual {
            return Err(SegmentError::HeaderCrc { expected, actual });
        }
        // The masks keep every length within 17 bits, so within MAX_PAYLOAD_LEN.
        Ok(Some(match compression {
            SegmentCompression::None => Self {
                payload_len: (contents & LEN_MASK) as usize,
                uncompressed_len: 0,
                self_contained: contents & SELF_CONTAINED_UNCOMPRESSED != 0,
            },
            SegmentCompression::Lz4 => Self {
                payload_len: (contents & LEN_MASK) as usize,
                uncompressed_len: ((contents >> 17) & LEN_MASK) as usize,
                self_contained: contents & SELF_CONTAINED_LZ4 != 0,
            },
        }))
    }

    /// Encodes the header with its CRC24 into the first [`SegmentCompression::header_len`]
    /// bytes of the returned array.
    ///
    /// Fails when a length exceeds [`MAX_PAYLOAD_LEN`]. The `uncompressed_len` of an
    /// uncompressed header is not written.
    pub fn encode(&self, compression: SegmentCompression) -> Result<[u8; 8], SegmentError> {
        for len in [self.payload_len, self.uncompressed_len] {
            if len > MAX_PAYLOAD_LEN {
                return Err(SegmentError::PayloadTooLarge {
                    len,
                    max: MAX_PAYLOAD_LEN,
                });
            }
        }
        let payload_len = self.payload_len as u64;
        let (contents, contents_len) = match compression {
            SegmentCompression::None => {
                let flag = if self.self_contained {
                    SELF_CONTAINED_UNCOMPRESSED
                } else {
                    0
                };
                (payload_len | flag, 3)
            }
            SegmentCompression::Lz4 => {
                let flag = if self.self_contained {
                    SELF_CONTAINED_LZ4
                } else {
                    0
                };
                (payload_len | (self.uncompressed_len as u64) << 17 | flag, 5)
            }
        };
        let crc = crc24(&contents.to_le_bytes()[..contents_len]);
        Ok((contents | u64::from(crc) << (8 * contents_len)).to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_length_limits() {
        for compression in [SegmentCompression::None, SegmentCompression::Lz4] {
            for (payload_len, uncompressed_len) in [(0, 0), (1, 0), (MAX_PAYLOAD_LEN, 0)] {
                for self_contained in [false, true] {
                    let h = SegmentHeader {
                        payload_len,
                        uncompressed_len,
                        self_contained,
                    };
                    let bytes = h.encode(compression).unwrap();
                    let len = compression.header_len();
                    assert_eq!(
                        SegmentHeader::decode(compression, &bytes[..len]),
                        Ok(Some(h))
                    );
                    assert_eq!(
                        SegmentHeader::decode(compression, &bytes[..len - 1]),
                        Ok(None)
                    );
                }
            }
        }
        let h = SegmentHeader {
            payload_len: 5,
            uncompressed_len: MAX_PAYLOAD_LEN,
            self_contained: true,
        };
        let bytes = h.encode(SegmentCompression::Lz4).unwrap();
        assert_eq!(
            SegmentHeader::decode(SegmentCompression::Lz4, &bytes),
            Ok(Some(h))
        );
    }

    #[test]
    fn too_long_is_rejected() {
        let h = SegmentHeader {
            payload_len: MAX_PAYLOAD_LEN + 1,
            uncompressed_len: 0,
            self_contained: true,
        };
        assert_eq!(
            h.encode(SegmentCompression::None),
            Err(SegmentError::PayloadTooLarge {
                len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
    }

    #[test]
    fn padding_bits_are_ignored_but_checked() {
        // Payload length 9, self-contained, and padding bit 23 set, with the CRC24 of those
        // three bytes: decodes as if the padding were zero.
        let contents: u64 = 9 | 1 << 17 | 1 << 23;
        let crc = u64::from(crc24(&contents.to_le_bytes()[..3]));
        let bytes = (contents | crc << 24).to_le_bytes();
        let h = SegmentHeader::decode(SegmentCompression::None, &bytes[..6])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, h.self_contained), (9, true));
    }
}
