//! Value impls for smart pointers and borrowed forms: `Box<T>`, `Arc<T>`, `Cow<'_, T>`, and
//! `[u8; N]` as a `blob` of exactly `N` bytes.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};
use crate::value::traits::non_null;
use crate::value::types::ColumnType;
use crate::value::{DeserializeValue, SerializeValue};

/// Forwards both methods to the pointee, so `None` inside still writes null.
macro_rules! forward_serialize {
    ($($ptr:ident),+) => {$(
        impl<T: SerializeValue + ?Sized> SerializeValue for $ptr<T> {
            #[inline]
            fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
                (**self).serialize(typ, buf)
            }
            #[inline]
            fn serialize_cell(
                &self,
                typ: &ColumnType,
                buf: &mut BytesMut,
            ) -> Result<(), EncodeError> {
                (**self).serialize_cell(typ, buf)
            }
        }

        impl<'frame, T: DeserializeValue<'frame>> DeserializeValue<'frame> for $ptr<T> {
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                T::type_check(typ)
            }
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                T::deserialize(typ, v).map($ptr::new)
            }
        }

        impl<'frame> DeserializeValue<'frame> for $ptr<str> {
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                <&str>::type_check(typ)
            }
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                <&str>::deserialize(typ, v).map(Self::from)
            }
        }

        impl<'frame> DeserializeValue<'frame> for $ptr<[u8]> {
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                <&[u8]>::type_check(typ)
            }
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                <&[u8]>::deserialize(typ, v).map(Self::from)
            }
        }
    )+};
}

forward_serialize!(Box, Arc);

impl<T: SerializeValue + ToOwned + ?Sized> SerializeValue for Cow<'_, T> {
    #[inline]
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_ref().serialize(typ, buf)
    }
    #[inline]
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_ref().serialize_cell(typ, buf)
    }
}

/// Borrows from the frame (`Cow::Borrowed`), like `&str`.
impl<'frame> DeserializeValue<'frame> for Cow<'frame, str> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&str>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&str>::deserialize(typ, v).map(Cow::Borrowed)
    }
}

/// Borrows from the frame (`Cow::Borrowed`), like `&[u8]`.
impl<'frame> DeserializeValue<'frame> for Cow<'frame, [u8]> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&[u8]>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&[u8]>::deserialize(typ, v).map(Cow::Borrowed)
    }
}

impl<const N: usize> SerializeValue for [u8; N] {
    #[inline]
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_slice().serialize(typ, buf)
    }
}

/// A `blob` of exactly `N` bytes; any other length is [`DecodeError::InvalidLength`].
impl<'frame, const N: usize> DeserializeValue<'frame> for [u8; N] {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&[u8]>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        Self::type_check(typ)?;
        let b = non_null::<Self>(v)?;
        b.try_into().map_err(|_| DecodeError::InvalidLength {
            what: std::any::type_name::<Self>(),
            len: b.len() as i64,
        })
    }
}
