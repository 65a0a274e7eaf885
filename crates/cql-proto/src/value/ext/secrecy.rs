//! `secrecy::Secret<T>` 0.8 (feature `secrecy-08`): written and read as its inner value.

use bytes::BytesMut;
use secrecy_08::{ExposeSecret, Secret, Zeroize};

use crate::error::{DecodeError, EncodeError};
use crate::value::types::ColumnType;
use crate::value::{DeserializeValue, SerializeValue};

impl<T: SerializeValue + Zeroize> SerializeValue for Secret<T> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.expose_secret().serialize(typ, buf)
    }
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.expose_secret().serialize_cell(typ, buf)
    }
}

impl<'frame, T: DeserializeValue<'frame> + Zeroize> DeserializeValue<'frame> for Secret<T> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        T::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        T::deserialize(typ, v).map(Self::new)
    }
}
