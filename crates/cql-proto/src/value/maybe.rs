//! [`MaybeUnset`] (a bound value that may be left unset) and [`MaybeEmpty`] (a value that may
//! be CQL's zero-length "empty" value).

use bytes::BytesMut;
use uuid::Uuid;

use crate::error::{DecodeError, EncodeError};
use crate::value::traits::non_null;
use crate::value::types::ColumnType;
use crate::value::{
    CqlDate, CqlDecimal, CqlTime, CqlTimestamp, CqlTimeuuid, CqlVarint, DeserializeValue,
    SerializeValue, Unset,
};

/// A bound value that is either set, or [`Unset`]: the server leaves the column as it is.
///
/// Lets one prepared statement serve callers that update only some columns:
/// `MaybeUnset::Unset` is written as the protocol's unset marker (length `-2`), and
/// `MaybeUnset::Set(v)` as `v` (so `Set(None)` is a null).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaybeUnset<V> {
    /// Leave the column unchanged.
    Unset,
    /// Write this value.
    Set(V),
}

impl<V> MaybeUnset<V> {
    /// `Some(v)` is `Set(v)`, `None` is `Unset`.
    pub fn from_option(value: Option<V>) -> Self {
        value.map_or(Self::Unset, Self::Set)
    }
}

impl<V: SerializeValue> SerializeValue for MaybeUnset<V> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Self::Set(v) => v.serialize(typ, buf),
            Self::Unset => Unset.serialize(typ, buf),
        }
    }
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Self::Set(v) => v.serialize_cell(typ, buf),
            Self::Unset => Unset.serialize_cell(typ, buf),
        }
    }
}

/// A Rust type that cannot itself hold CQL's "empty" value, so that [`MaybeEmpty`] may wrap it.
///
/// In CQL, a non-null value of most fixed-size types (`int`, `uuid`, `timestamp`, …) may also be
/// *empty*: zero bytes, distinct from null. Strings and blobs represent empty natively, so they
/// are not `Emptiable`.
pub trait Emptiable {}

macro_rules! emptiable {
    ($($t:ty),+ $(,)?) => { $( impl Emptiable for $t {} )+ };
}

emptiable!(
    bool,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    std::net::IpAddr,
    Uuid,
    CqlDate,
    CqlDecimal,
    CqlTime,
    CqlTimestamp,
    CqlTimeuuid,
    CqlVarint,
);

/// A value that may be CQL's empty value (zero bytes, not null): see [`Emptiable`].
///
/// `MaybeEmpty::Empty` writes a zero-length value; reading a zero-length value gives
/// `MaybeEmpty::Empty` instead of the error that `T` alone would raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaybeEmpty<T: Emptiable> {
    /// The empty value: zero bytes.
    Empty,
    /// A non-empty value.
    Value(T),
}

impl<T: Emptiable + SerializeValue> SerializeValue for MaybeEmpty<T> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Self::Value(v) => v.serialize(typ, buf),
            Self::Empty => Ok(()),
        }
    }
}

impl<'frame, T: Emptiable + DeserializeValue<'frame>> DeserializeValue<'frame> for MaybeEmpty<T> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        T::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        if non_null::<Self>(v)?.is_empty() {
            T::type_check(typ)?;
            return Ok(Self::Empty);
        }
        T::deserialize(typ, v).map(Self::Value)
    }
}
