//! [`CqlTimeuuid`]: a version 1 uuid ordered as Cassandra orders `timeuuid` values.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};
use uuid::Uuid;

use crate::error::{DecodeError, EncodeError};
use crate::value::decode as dec;
use crate::value::encode::check_timeuuid;
use crate::value::traits::{check, non_null, wrong};
use crate::value::types::ColumnType;
use crate::value::{DeserializeValue, SerializeValue, compare};

/// A CQL `timeuuid`: a uuid whose order is Cassandra's `timeuuid` order.
///
/// [`Ord`] compares the 60-bit timestamps first, then the low 8 bytes (clock sequence and node)
/// as *signed* bytes, exactly as the server sorts a `timeuuid` clustering column; it is the order
/// of [`compare`] with [`ColumnType::Timeuuid`]. [`Uuid`]'s own order is plain bytewise, which
/// sorts by the low 32 bits of the timestamp first.
///
/// Written only as `timeuuid` (and checked to be a version 1 uuid); read from `timeuuid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CqlTimeuuid(Uuid);

impl CqlTimeuuid {
    /// The nil uuid (all zeros). Not a valid `timeuuid` to write; useful as a placeholder.
    pub const fn nil() -> Self {
        Self(Uuid::nil())
    }

    /// From the 16 bytes in wire (big-endian) order.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }

    /// From a slice of exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, uuid::Error> {
        Uuid::from_slice(bytes).map(Self)
    }

    /// From a `u128` (big-endian).
    pub const fn from_u128(v: u128) -> Self {
        Self(Uuid::from_u128(v))
    }

    /// The 16 bytes in wire order.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The value as a `u128` (big-endian).
    pub const fn as_u128(&self) -> u128 {
        self.0.as_u128()
    }

    /// The inner uuid.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 60-bit timestamp of a version 1 uuid: 100-nanosecond intervals since 1582-10-15.
    pub fn timestamp(&self) -> u64 {
        let b = self.0.as_bytes();
        let hi = u64::from(u16::from_be_bytes([b[6], b[7]]) & 0x0FFF);
        let mid = u64::from(u16::from_be_bytes([b[4], b[5]]));
        let low = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        (hi << 48) | (mid << 32) | low
    }
}

impl Ord for CqlTimeuuid {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&ColumnType::Timeuuid, self.as_bytes(), other.as_bytes())
    }
}

impl PartialOrd for CqlTimeuuid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<Uuid> for CqlTimeuuid {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl From<CqlTimeuuid> for Uuid {
    fn from(t: CqlTimeuuid) -> Self {
        t.0
    }
}

impl AsRef<Uuid> for CqlTimeuuid {
    fn as_ref(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for CqlTimeuuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for CqlTimeuuid {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::from_str(s).map(Self)
    }
}

impl SerializeValue for CqlTimeuuid {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !matches!(typ, ColumnType::Timeuuid) {
            return Err(wrong::<Self>(typ));
        }
        check_timeuuid(&self.0)?;
        buf.put_slice(self.0.as_bytes());
        Ok(())
    }
}

impl<'frame> DeserializeValue<'frame> for CqlTimeuuid {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        check::<Self>(matches!(typ, ColumnType::Timeuuid), typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        Self::type_check(typ)?;
        dec::timeuuid(non_null::<Self>(v)?).map(Self)
    }
}
