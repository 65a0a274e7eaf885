//! Value impls for types of other crates, each behind a feature named as the `scylla` crate
//! names it: `chrono-04`, `time-03`, `num-bigint-03`, `num-bigint-04`, `bigdecimal-04`,
//! `secrecy-08`.
//!
//! Every type converts to and from the matching `Cql*` type (`From` where every value fits,
//! `TryFrom` with [`ValueOverflow`] where one side is wider), and implements [`SerializeValue`]
//! and [`DeserializeValue`] with the same type checks as that `Cql*` type. A value outside the
//! other side's range is an [`EncodeError::ValueOutOfRange`] or
//! [`DecodeError::ValueOutOfRange`]; nothing panics.
//!
//! [`SerializeValue`]: crate::value::SerializeValue
//! [`DeserializeValue`]: crate::value::DeserializeValue

#[cfg(feature = "bigdecimal-04")]
mod bigdecimal;
#[cfg(any(feature = "num-bigint-03", feature = "num-bigint-04"))]
mod bigint;
#[cfg(feature = "chrono-04")]
mod chrono;
#[cfg(feature = "secrecy-08")]
mod secrecy;
#[cfg(feature = "time-03")]
mod time;

#[cfg(any(feature = "chrono-04", feature = "time-03", feature = "bigdecimal-04"))]
use std::fmt::Display;

#[cfg(any(feature = "chrono-04", feature = "time-03"))]
use crate::error::DecodeError;
#[cfg(any(feature = "chrono-04", feature = "time-03", feature = "bigdecimal-04"))]
use crate::error::EncodeError;
#[cfg(any(feature = "chrono-04", feature = "time-03", feature = "bigdecimal-04"))]
use crate::value::types::ColumnType;

/// A value does not fit the type it is converted to (a date past the range of a date library,
/// a leap second as a CQL `time`, a decimal scale beyond `i32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("the value is outside the range of the target type")]
pub struct ValueOverflow;

/// The error for a Rust value `T` that cannot be written as `typ`.
#[cfg(any(feature = "chrono-04", feature = "time-03", feature = "bigdecimal-04"))]
#[cold]
fn encode_overflow<T: ?Sized>(typ: &ColumnType, value: &dyn Display) -> EncodeError {
    EncodeError::ValueOutOfRange {
        rust_type: std::any::type_name::<T>(),
        value: format!("{value} as {typ}"),
    }
}

/// The error for a CQL value of `typ` that the Rust type `T` cannot hold.
#[cfg(any(feature = "chrono-04", feature = "time-03"))]
#[cold]
fn decode_overflow<T: ?Sized>(typ: &ColumnType, value: &dyn Display) -> DecodeError {
    DecodeError::ValueOutOfRange {
        value: format!("{typ} {value}"),
        rust_type: std::any::type_name::<T>(),
    }
}

/// `SerializeValue` and `DeserializeValue` for a `Copy` type `$t` through `TryFrom` to and from
/// `$cql`, with `$cql`'s type check (errors name `$t`).
#[cfg(any(feature = "chrono-04", feature = "time-03"))]
macro_rules! via_cql {
    ($t:ty, $cql:ty) => {
        impl $crate::value::SerializeValue for $t {
            fn serialize(
                &self,
                typ: &$crate::value::ColumnType,
                buf: &mut bytes::BytesMut,
            ) -> Result<(), $crate::error::EncodeError> {
                if <$cql as $crate::value::DeserializeValue<'_>>::type_check(typ).is_err() {
                    return Err($crate::value::traits::wrong::<Self>(typ));
                }
                let cql = <$cql>::try_from(*self)
                    .map_err(|_| super::encode_overflow::<Self>(typ, self))?;
                $crate::value::SerializeValue::serialize(&cql, typ, buf)
            }
        }

        impl<'frame> $crate::value::DeserializeValue<'frame> for $t {
            fn type_check(typ: &$crate::value::ColumnType) -> Result<(), $crate::DecodeError> {
                $crate::value::traits::check::<Self>(
                    <$cql as $crate::value::DeserializeValue<'_>>::type_check(typ).is_ok(),
                    typ,
                )
            }
            fn deserialize(
                typ: &'frame $crate::value::ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, $crate::DecodeError> {
                <Self as $crate::value::DeserializeValue<'frame>>::type_check(typ)?;
                let cql = <$cql as $crate::value::DeserializeValue<'frame>>::deserialize(typ, v)
                    .map_err(|e| super::rename::<Self>(e))?;
                Self::try_from(cql).map_err(|_| super::decode_overflow::<Self>(typ, &cql))
            }
        }
    };
}
#[cfg(any(feature = "chrono-04", feature = "time-03"))]
pub(crate) use via_cql;

/// A null read as a non-`Option` type names `$cql`; name the type asked for instead.
#[cfg(any(feature = "chrono-04", feature = "time-03"))]
pub(crate) fn rename<T>(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::TypeMismatch { got, .. } => DecodeError::TypeMismatch {
            expected: std::any::type_name::<T>().to_owned(),
            got,
        },
        other => other,
    }
}
