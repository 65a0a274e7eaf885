//! `num_bigint::BigInt` 0.3 and 0.4 (features `num-bigint-03`, `num-bigint-04`) as `varint`.

use bytes::{BufMut, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::value::traits::{check, non_null, wrong};
use crate::value::types::ColumnType;
use crate::value::{CqlVarint, DeserializeValue, SerializeValue};

/// Conversions and value impls for one `num-bigint` major version.
macro_rules! bigint {
    ($krate:ident) => {
        /// Two's-complement big-endian bytes, as CQL writes a `varint`.
        impl From<$krate::BigInt> for CqlVarint {
            fn from(v: $krate::BigInt) -> Self {
                Self(v.to_signed_bytes_be())
            }
        }

        /// Every `varint` fits (an empty one is zero).
        impl From<CqlVarint> for $krate::BigInt {
            fn from(v: CqlVarint) -> Self {
                Self::from_signed_bytes_be(&v.0)
            }
        }

        impl SerializeValue for $krate::BigInt {
            fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
                if !matches!(typ, ColumnType::Varint) {
                    return Err(wrong::<Self>(typ));
                }
                buf.put_slice(&self.to_signed_bytes_be());
                Ok(())
            }
        }

        impl<'frame> DeserializeValue<'frame> for $krate::BigInt {
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                check::<Self>(matches!(typ, ColumnType::Varint), typ)
            }
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                Self::type_check(typ)?;
                let b = non_null::<Self>(v)?;
                if b.is_empty() {
                    // As `CqlVarint`: an empty varint is CQL's "empty" value, not zero.
                    return Err(DecodeError::InvalidLength {
                        what: "varint value",
                        len: 0,
                    });
                }
                Ok(Self::from_signed_bytes_be(b))
            }
        }

        impl crate::value::Emptiable for $krate::BigInt {}
    };
}

#[cfg(feature = "num-bigint-03")]
bigint!(num_bigint_03);
#[cfg(feature = "num-bigint-04")]
bigint!(num_bigint_04);
