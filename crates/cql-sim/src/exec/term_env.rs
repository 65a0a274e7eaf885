//! [`TermEnv`], what a statement's terms are evaluated with (its bound values and its clock),
//! and the serialization helpers the evaluation and the native functions share. A leaf: the
//! evaluation itself ([`super::value`]) and the native functions both build on it.

use bytes::{Bytes, BytesMut};
use proto::{ColumnType, CqlValue};
use uuid::Uuid;

use super::BoundValue;
use crate::error::{CqlError, Result};

/// The values a statement executes with, and the clock.
pub(crate) struct TermEnv<'a> {
    pub(crate) values: &'a [BoundValue],
    pub(crate) now_micros: i64,
    pub(crate) unique: u64,
}

/// Serializes a value as `typ`.
pub(crate) fn encode(v: &CqlValue, typ: &ColumnType) -> Result<Bytes> {
    let mut b = BytesMut::new();
    v.encode_bytes(typ, &mut b)
        .map_err(|e| CqlError::invalid(e.to_string()))?;
    Ok(b.freeze())
}

/// A version-1 UUID for `micros` since the epoch; `seq` makes ids within one microsecond unique.
pub(crate) fn timeuuid(micros: i64, seq: u64) -> Uuid {
    let ticks = (micros as u64)
        .wrapping_mul(10)
        .wrapping_add(0x01B2_1DD2_1381_4000)
        .wrapping_add(seq % 10);
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((ticks & 0xffff_ffff) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((ticks >> 32) & 0xffff) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((ticks >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
    let cs = (seq / 10) as u16;
    b[8] = (((cs >> 8) & 0x3f) as u8) | 0x80;
    b[9] = cs as u8;
    b[10..16].copy_from_slice(&[0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
    Uuid::from_bytes(b)
}

/// The millisecond timestamp of a version-1 UUID.
pub(crate) fn timeuuid_millis(u: &Uuid) -> i64 {
    let b = u.as_bytes();
    let low = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let mid = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let hi = u64::from(u16::from_be_bytes([b[6], b[7]]) & 0x0fff);
    let ticks = (hi << 48) | (mid << 32) | low;
    ((ticks as i64) - 0x01B2_1DD2_1381_4000) / 10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeuuids_keep_their_millisecond() {
        let u = timeuuid(1_600_000_000_123_000, 3);
        assert_eq!(u.get_version_num(), 1);
        assert_eq!(timeuuid_millis(&u), 1_600_000_000_123);
    }
}
