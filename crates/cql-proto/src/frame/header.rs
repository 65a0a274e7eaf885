//! The frame header: version, flags, stream, opcode and body length.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use bytes::{BufMut, BytesMut};

use super::FrameError;
use crate::codes::{Opcode, open_code};

open_code! {
    /// A native protocol version (the version byte without the response bit 0x80).
    ProtocolVersion(u8), hex width 2 {
        /// Protocol v3.
        V3 = 3,
        /// Protocol v4.
        V4 = 4,
        /// Protocol v5.
        V5 = 5,
    }
}

impl ProtocolVersion {
    /// Whether bodies use the v5 layout (`[int]` query flags, metadata ids, ...).
    pub const fn is_v5_or_later(self) -> bool {
        self.0 >= 5
    }
}

/// A frame's flags byte (section 2.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(pub u8);

impl FrameFlags {
    /// No flag set.
    pub const EMPTY: Self = Self(0);
    /// 0x01: the body is compressed.
    pub const COMPRESSION: Self = Self(0x01);
    /// 0x02: tracing requested (request) or tracing id present (response).
    pub const TRACING: Self = Self(0x02);
    /// 0x04: a custom payload `[bytes map]` is present.
    pub const CUSTOM_PAYLOAD: Self = Self(0x04);
    /// 0x08: a warnings `[string list]` is present (responses).
    pub const WARNING: Self = Self(0x08);
    /// 0x10: the frame uses a beta protocol version.
    pub const USE_BETA: Self = Self(0x10);

    const NAMES: [(Self, &'static str); 5] = [
        (Self::COMPRESSION, "COMPRESSION"),
        (Self::TRACING, "TRACING"),
        (Self::CUSTOM_PAYLOAD, "CUSTOM_PAYLOAD"),
        (Self::WARNING, "WARNING"),
        (Self::USE_BETA, "USE_BETA"),
    ];

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with `other`'s flags set too.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` with `flag` set when `on`.
    pub const fn set_if(self, flag: Self, on: bool) -> Self {
        if on { self.with(flag) } else { self }
    }
}

impl BitOr for FrameFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.with(rhs)
    }
}

impl BitOrAssign for FrameFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.with(rhs);
    }
}

impl fmt::Debug for FrameFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut known = 0u8;
        f.write_str("FrameFlags(")?;
        for (flag, name) in Self::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
                known |= flag.0;
            }
        }
        let unknown = self.0 & !known;
        if unknown != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "0x{unknown:02x}")?;
        }
        f.write_str(")")
    }
}

/// The 9-byte frame header of protocol v3 to v5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// The protocol version.
    pub version: ProtocolVersion,
    /// Whether the frame is a response (bit 0x80 of the version byte).
    pub is_response: bool,
    /// The flags.
    pub flags: FrameFlags,
    /// The stream id (negative for server-initiated frames such as EVENT).
    pub stream: i16,
    /// The opcode: open, so an unknown opcode still decodes as a frame.
    pub opcode: Opcode,
    /// The body length in bytes.
    pub length: u32,
}

impl FrameHeader {
    /// The header's length on the wire.
    pub const LEN: usize = 9;

    /// The response bit of the version byte.
    pub const RESPONSE_BIT: u8 = 0x80;

    /// Decodes a header from the first [`Self::LEN`] bytes of `bytes`.
    ///
    /// Fails on a short input (as a decode error) or a version other than 3, 4 or 5.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let Some(h) = bytes.get(..Self::LEN) else {
            return Err(FrameError::Decode(crate::DecodeError::UnexpectedEof {
                what: "frame header",
                needed: Self::LEN - bytes.len(),
            }));
        };
        let version = h[0] & !Self::RESPONSE_BIT;
        if !(3..=5).contains(&version) {
            return Err(FrameError::UnsupportedVersion { version });
        }
        Ok(Self {
            version: ProtocolVersion(version),
            is_response: h[0] & Self::RESPONSE_BIT != 0,
            flags: FrameFlags(h[1]),
            stream: i16::from_be_bytes([h[2], h[3]]),
            opcode: Opcode(h[4]),
            length: u32::from_be_bytes([h[5], h[6], h[7], h[8]]),
        })
    }

    /// Writes `stream` into an already encoded frame (bytes 2..4 of its header), so a frame
    /// can be encoded before its stream id is known. A buffer shorter than a header is left
    /// unchanged.
    pub fn patch_stream(frame: &mut [u8], stream: i16) {
        if let Some(dst) = frame.get_mut(2..4) {
            dst.copy_from_slice(&stream.to_be_bytes());
        }
    }

    /// Appends the header to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        let response = if self.is_response {
            Self::RESPONSE_BIT
        } else {
            0
        };
        buf.put_u8(self.version.0 | response);
        buf.put_u8(self.flags.0);
        buf.put_i16(self.stream);
        buf.put_u8(self.opcode.0);
        buf.put_u32(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_stream_writes_bytes_2_and_3_big_endian() {
        let mut f = [0x04, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0];
        FrameHeader::patch_stream(&mut f, 0x1234);
        assert_eq!(f, [0x04, 0x00, 0x12, 0x34, 0x05, 0, 0, 0, 0]);
        FrameHeader::patch_stream(&mut f, -1);
        assert_eq!(&f[2..4], &[0xFF, 0xFF]);
        let mut short = [0x04, 0x00];
        FrameHeader::patch_stream(&mut short, 7);
        assert_eq!(short, [0x04, 0x00]);
    }

    #[test]
    fn options_request_header_golden() {
        // v4 request, no flags, stream 1, OPTIONS (0x05), empty body.
        let bytes = [0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00];
        let h = FrameHeader::decode(&bytes).unwrap();
        assert_eq!(
            h,
            FrameHeader {
                version: ProtocolVersion::V4,
                is_response: false,
                flags: FrameFlags::EMPTY,
                stream: 1,
                opcode: Opcode::OPTIONS,
                length: 0,
            }
        );
        let mut b = BytesMut::new();
        h.encode(&mut b);
        assert_eq!(&b[..], &bytes);
    }

    #[test]
    fn response_bit_negative_stream_and_flags() {
        // v4 response, tracing|warning, stream -1, EVENT, length 0x0102.
        let bytes = [0x84, 0x0a, 0xff, 0xff, 0x0c, 0x00, 0x00, 0x01, 0x02];
        let h = FrameHeader::decode(&bytes).unwrap();
        assert!(h.is_response);
        assert_eq!(h.stream, -1);
        assert_eq!(h.flags, FrameFlags::TRACING | FrameFlags::WARNING);
        assert_eq!(h.length, 0x0102);
        let mut b = BytesMut::new();
        h.encode(&mut b);
        assert_eq!(&b[..], &bytes);
    }

    #[test]
    fn bad_versions_are_rejected() {
        for v in [0u8, 1, 2, 6, 0x7f, 0x81, 0x82, 0x86] {
            let bytes = [v, 0, 0, 0, 0, 0, 0, 0, 0];
            assert!(matches!(
                FrameHeader::decode(&bytes),
                Err(FrameError::UnsupportedVersion { .. })
            ));
        }
        assert!(FrameHeader::decode(&[4, 0, 0]).is_err());
    }

    #[test]
    fn flags_debug() {
        assert_eq!(
            format!("{:?}", FrameFlags(0x03 | 0x40)),
            "FrameFlags(COMPRESSION | TRACING | 0x40)"
        );
        assert_eq!(format!("{:?}", ProtocolVersion::V4), "V4");
    }
}
