//! `bigdecimal::BigDecimal` 0.4 (feature `bigdecimal-04`) as `decimal`.

use bigdecimal_04::BigDecimal;
use bigdecimal_04::num_bigint::BigInt;
use bytes::{BufMut, BytesMut};

use super::{ValueOverflow, encode_overflow};
use crate::error::{DecodeError, EncodeError};
use crate::value::traits::{check, non_null, wrong};
use crate::value::types::ColumnType;
use crate::value::{CqlDecimal, CqlVarint, DeserializeValue, Emptiable, SerializeValue};

/// Fails when the scale does not fit CQL's `[int]` scale.
impl TryFrom<BigDecimal> for CqlDecimal {
    type Error = ValueOverflow;

    fn try_from(v: BigDecimal) -> Result<Self, ValueOverflow> {
        let (unscaled, scale) = v.into_bigint_and_exponent();
        Ok(Self {
            unscaled: CqlVarint(unscaled.to_signed_bytes_be()),
            scale: i32::try_from(scale).map_err(|_| ValueOverflow)?,
        })
    }
}

/// Every `decimal` fits.
impl From<CqlDecimal> for BigDecimal {
    fn from(v: CqlDecimal) -> Self {
        Self::new(
            BigInt::from_signed_bytes_be(&v.unscaled.0),
            i64::from(v.scale),
        )
    }
}

impl SerializeValue for BigDecimal {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !matches!(typ, ColumnType::Decimal) {
            return Err(wrong::<Self>(typ));
        }
        let (unscaled, scale) = self.as_bigint_and_exponent();
        let scale = i32::try_from(scale).map_err(|_| encode_overflow::<Self>(typ, self))?;
        buf.put_i32(scale);
        buf.put_slice(&unscaled.to_signed_bytes_be());
        Ok(())
    }
}

impl<'frame> DeserializeValue<'frame> for BigDecimal {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        check::<Self>(matches!(typ, ColumnType::Decimal), typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        Self::type_check(typ)?;
        CqlDecimal::deserialize(typ, Some(non_null::<Self>(v)?)).map(Self::from)
    }
}

impl Emptiable for BigDecimal {}
