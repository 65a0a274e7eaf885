//! Tuples of 1 to 16 elements as CQL `tuple` values of the same arity.

use bytes::BytesMut;

use crate::codec::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::value::traits::{non_null, type_err, wrong};
use crate::value::types::ColumnType;
use crate::value::{DeserializeValue, SerializeValue};

macro_rules! tuple_impls {
    ($n:literal; $($T:ident $idx:tt),+) => {
        impl<$($T: SerializeValue),+> SerializeValue for ($($T,)+) {
            fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match typ {
                    ColumnType::Tuple(ts) if ts.len() == $n => {
                        $( self.$idx.serialize_cell(&ts[$idx], buf)?; )+
                        Ok(())
                    }
                    _ => Err(wrong::<Self>(typ)),
                }
            }
        }

        impl<'frame, $($T: DeserializeValue<'frame>),+> DeserializeValue<'frame> for ($($T,)+) {
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                match typ {
                    ColumnType::Tuple(ts) if ts.len() == $n => {
                        $( $T::type_check(&ts[$idx])?; )+
                        Ok(())
                    }
                    _ => Err(type_err::<Self>(typ)),
                }
            }
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                let b = non_null::<Self>(v)?;
                let ts = match typ {
                    ColumnType::Tuple(ts) if ts.len() == $n => ts,
                    _ => return Err(type_err::<Self>(typ)),
                };
                let mut r = Reader::new(b);
                let out = ($(
                    {
                        // A missing trailing element is null.
                        let cell = if r.is_empty() { None } else { r.read_bytes("tuple element")? };
                        $T::deserialize(&ts[$idx], cell)?
                    },
                )+);
                r.finish("tuple value")?;
                Ok(out)
            }
        }
    };
}

tuple_impls!(1; A 0);
tuple_impls!(2; A 0, B 1);
tuple_impls!(3; A 0, B 1, C 2);
tuple_impls!(4; A 0, B 1, C 2, D 3);
tuple_impls!(5; A 0, B 1, C 2, D 3, E 4);
tuple_impls!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_impls!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_impls!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_impls!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_impls!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_impls!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_impls!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_impls!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_impls!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_impls!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_impls!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
