//! Cassandra's variable-length integers (`[unsigned vint]` and `[vint]` of the v5 spec, section 3).
//!
//! The first byte's leading 1-bits count the extra bytes that follow; the rest of the first byte
//! holds the most significant bits of the value. Nine bytes (first byte `0xFF`) carry a full
//! 64-bit value.

use bytes::{BufMut, BytesMut};

use crate::codec::Reader;
use crate::error::DecodeError;

/// Writes an `[unsigned vint]`.
pub(crate) fn write_unsigned_vint(buf: &mut BytesMut, v: u64) {
    let size = unsigned_vint_size(v);
    if size == 9 {
        buf.put_u8(0xFF);
        buf.put_u64(v);
        return;
    }
    let bytes = v.to_be_bytes();
    let body = &bytes[8 - size..];
    let extra = size - 1;
    // `extra` <= 7 here, so the mask fits a byte.
    let first = body[0] | !(0xFFu8 >> extra);
    buf.put_u8(first);
    buf.put_slice(&body[1..]);
}

/// How many bytes [`write_unsigned_vint`] writes for `v` (1 to 9).
pub(crate) fn unsigned_vint_size(v: u64) -> usize {
    let magnitude = (v | 1).leading_zeros() as usize;
    (639 - magnitude * 9) >> 6
}

/// Reads an `[unsigned vint]`.
pub(crate) fn read_unsigned_vint(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<u64, DecodeError> {
    let first = r.read_u8(what)?;
    let extra = first.leading_ones() as usize;
    if extra == 0 {
        return Ok(u64::from(first));
    }
    let mut v: u64 = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xFFu8 >> extra))
    };
    for &b in r.take(extra, what)? {
        v = (v << 8) | u64::from(b);
    }
    Ok(v)
}

/// Writes a signed `[vint]` (zig-zag encoded).
pub(crate) fn write_vint(buf: &mut BytesMut, v: i64) {
    write_unsigned_vint(buf, ((v >> 63) ^ (v << 1)) as u64);
}

/// Reads a signed `[vint]` (zig-zag encoded).
pub(crate) fn read_vint(r: &mut Reader<'_>, what: &'static str) -> Result<i64, DecodeError> {
    let n = read_unsigned_vint(r, what)?;
    Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_256000() {
        // v5 spec, section 3: 256 000 is encoded on 3 bytes as [110]00011 11101000 00000000.
        let mut b = BytesMut::new();
        write_unsigned_vint(&mut b, 256_000);
        assert_eq!(&b[..], &[0b1100_0011, 0b1110_1000, 0x00]);
        let mut r = Reader::new(&b);
        assert_eq!(read_unsigned_vint(&mut r, "v").unwrap(), 256_000);
        assert!(r.is_empty());
    }

    #[test]
    fn nine_byte_form_and_zigzag() {
        let mut b = BytesMut::new();
        write_unsigned_vint(&mut b, u64::MAX);
        assert_eq!(&b[..], &[0xFF; 9]);
        let mut b = BytesMut::new();
        write_vint(&mut b, -1);
        write_vint(&mut b, 1);
        write_vint(&mut b, -2);
        assert_eq!(&b[..], &[1, 2, 3]);
        for v in [0i64, 1, -1, 63, 64, -65, i64::MAX, i64::MIN, 1 << 40] {
            let mut b = BytesMut::new();
            write_vint(&mut b, v);
            let mut r = Reader::new(&b);
            assert_eq!(read_vint(&mut r, "v").unwrap(), v);
            assert!(r.is_empty());
        }
    }
}
