//! Value traits: Rust types that serialize to, and deserialize from, CQL values.
//!
//! Type checks are strict, one Rust type per CQL type family:
//!
//! | Rust | CQL |
//! | --- | --- |
//! | `i8`, `i16`, `i32` | `tinyint`, `smallint`, `int` |
//! | `i64` | `bigint`, `counter` (not `timestamp`: use [`CqlTimestamp`]) |
//! | `f32`, `f64`, `bool` | `float`, `double`, `boolean` |
//! | `String`, `&str` | `text`, `ascii` (ASCII checked when writing `ascii`) |
//! | `Vec<u8>`, `&[u8]`, `Bytes` | `blob` and custom types |
//! | `Uuid` | `uuid`, `timeuuid` (version 1 checked for `timeuuid`) |
//! | `IpAddr` | `inet` |
//! | `Vec<T>`, `&[T]` | `list`, `set`, `vector` |
//! | `HashSet<T>`, `BTreeSet<T>` | `set`, `list` |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | `map` |
//! | tuples of 1 to 16 elements | `tuple` of the same arity |
//! | `CqlDate`, `CqlTime`, `CqlTimestamp`, `CqlDuration`, `CqlVarint`, `CqlDecimal` | the matching type |
//! | [`CqlValue`] | any type (checked when encoding) |
//!
//! A null is only accepted by `Option<T>`. Zero-length bytes are an error for the fixed-size
//! Rust types; deserialize into [`CqlValue`] to see them as [`CqlValue::Empty`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};
use uuid::Uuid;

use crate::codec::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::value::decode::{self as dec, fixed};
use crate::value::encode::{
    check_time, check_timeuuid, mismatch, vector_element_size, with_int_length, write_count,
    write_duration, write_inet, write_varint,
};
use crate::value::types::ColumnType;
use crate::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint, vint,
};

/// A Rust value that can be written as a CQL value of a given type.
pub trait SerializeValue {
    /// Writes the value's bytes (no length prefix) as CQL type `typ`, or fails when the Rust type
    /// does not fit `typ`.
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError>;

    /// Writes the value as a `[bytes]` cell with its `[int]` length; `None` writes null (-1) and
    /// [`Unset`] writes unset (-2).
    #[inline]
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        with_int_length(buf, |buf| self.serialize(typ, buf))
    }
}

/// A Rust value that can be read from a CQL value, borrowing from the frame where it can.
pub trait DeserializeValue<'frame>: Sized {
    /// Checks that the CQL type can be read as this Rust type.
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError>;

    /// Reads a value of type `typ`; `None` is null, which only `Option<T>` accepts.
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError>;
}

/// The "unset" marker of protocol v4+: the bound value is left unchanged by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unset;

#[cold]
#[inline(never)]
pub(crate) fn wrong<T: ?Sized>(typ: &ColumnType) -> EncodeError {
    mismatch(typ, std::any::type_name::<T>())
}

#[cold]
#[inline(never)]
pub(crate) fn type_err<T: ?Sized>(typ: &ColumnType) -> DecodeError {
    DecodeError::TypeMismatch {
        expected: std::any::type_name::<T>().to_owned(),
        got: typ.to_string(),
    }
}

#[inline]
pub(crate) fn non_null<T: ?Sized>(v: Option<&[u8]>) -> Result<&[u8], DecodeError> {
    match v {
        Some(b) => Ok(b),
        None => Err(null_err::<T>()),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn null_err<T: ?Sized>() -> DecodeError {
    DecodeError::TypeMismatch {
        expected: std::any::type_name::<T>().to_owned(),
        got: "null".to_owned(),
    }
}

#[inline]
pub(crate) fn check<T: ?Sized>(ok: bool, typ: &ColumnType) -> Result<(), DecodeError> {
    if ok { Ok(()) } else { Err(type_err::<T>(typ)) }
}

impl<T: SerializeValue + ?Sized> SerializeValue for &T {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        (**self).serialize(typ, buf)
    }
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        (**self).serialize_cell(typ, buf)
    }
}

/// Fixed-size native types: Rust type, accepted CQL types, writer and reader.
macro_rules! native {
    ($t:ty, $pat:pat, |$s:ident, $buf:ident| $write:expr, |$b:ident| $read:expr) => {
        impl SerializeValue for $t {
            #[inline]
            fn serialize(&self, typ: &ColumnType, $buf: &mut BytesMut) -> Result<(), EncodeError> {
                match typ {
                    $pat => {
                        let $s = self;
                        $write;
                        Ok(())
                    }
                    _ => Err(wrong::<Self>(typ)),
                }
            }
        }

        impl<'frame> DeserializeValue<'frame> for $t {
            // `#[inline]`: called per cell from other crates; without it each is a call.
            #[inline]
            fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
                check::<Self>(matches!(typ, $pat), typ)
            }
            #[inline]
            fn deserialize(
                typ: &'frame ColumnType,
                v: Option<&'frame [u8]>,
            ) -> Result<Self, DecodeError> {
                Self::type_check(typ)?;
                let $b = non_null::<Self>(v)?;
                $read
            }
        }
    };
}

native!(i8, ColumnType::TinyInt, |s, buf| buf.put_i8(*s), |b| Ok(
    Self::from_be_bytes(fixed(b, "tinyint value")?)
));
native!(i16, ColumnType::SmallInt, |s, buf| buf.put_i16(*s), |b| Ok(
    Self::from_be_bytes(fixed(b, "smallint value")?)
));
native!(i32, ColumnType::Int, |s, buf| buf.put_i32(*s), |b| Ok(
    Self::from_be_bytes(fixed(b, "int value")?)
));
native!(
    i64,
    ColumnType::BigInt | ColumnType::Counter,
    |s, buf| buf.put_i64(*s),
    |b| Ok(Self::from_be_bytes(fixed(b, "bigint value")?))
);
native!(f32, ColumnType::Float, |s, buf| buf.put_f32(*s), |b| Ok(
    Self::from_be_bytes(fixed(b, "float value")?)
));
native!(f64, ColumnType::Double, |s, buf| buf.put_f64(*s), |b| Ok(
    Self::from_be_bytes(fixed(b, "double value")?)
));
native!(
    bool,
    ColumnType::Boolean,
    |s, buf| buf.put_u8(u8::from(*s)),
    |b| Ok(fixed::<1>(b, "boolean value")?[0] != 0)
);
native!(IpAddr, ColumnType::Inet, |s, buf| write_inet(buf, s), |b| {
    dec::inet(b)
});
native!(
    CqlDate,
    ColumnType::Date,
    |s, buf| buf.put_u32(s.0),
    |b| Ok(Self(u32::from_be_bytes(fixed(b, "date value")?)))
);
native!(
    CqlTime,
    ColumnType::Time,
    |s, buf| {
        check_time(s.0)?;
        buf.put_i64(s.0)
    },
    |b| Ok(Self(dec::time(b)?))
);
native!(
    CqlTimestamp,
    ColumnType::Timestamp,
    |s, buf| buf.put_i64(s.0),
    |b| Ok(Self(i64::from_be_bytes(fixed(b, "timestamp value")?)))
);
native!(
    CqlDuration,
    ColumnType::Duration,
    |s, buf| write_duration(buf, s)?,
    |b| dec::duration(b)
);
native!(
    CqlVarint,
    ColumnType::Varint,
    |s, buf| write_varint(buf, s),
    |b| {
        if b.is_empty() {
            return Err(DecodeError::InvalidLength {
                what: "varint value",
                len: 0,
            });
        }
        Ok(Self(b.to_vec()))
    }
);
native!(
    CqlDecimal,
    ColumnType::Decimal,
    |s, buf| {
        buf.put_i32(s.scale);
        write_varint(buf, &s.unscaled)
    },
    |b| dec::decimal(b)
);

impl SerializeValue for Uuid {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match typ {
            ColumnType::Uuid => {}
            ColumnType::Timeuuid => check_timeuuid(self)?,
            _ => return Err(wrong::<Self>(typ)),
        }
        buf.put_slice(self.as_bytes());
        Ok(())
    }
}

impl<'frame> DeserializeValue<'frame> for Uuid {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        check::<Self>(matches!(typ, ColumnType::Uuid | ColumnType::Timeuuid), typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        let b = non_null::<Self>(v)?;
        match typ {
            ColumnType::Uuid => Ok(Self::from_bytes(fixed(b, "uuid value")?)),
            ColumnType::Timeuuid => dec::timeuuid(b),
            _ => Err(type_err::<Self>(typ)),
        }
    }
}

impl SerializeValue for str {
    #[inline]
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match typ {
            ColumnType::Text => {}
            ColumnType::Ascii if self.is_ascii() => {}
            ColumnType::Ascii => {
                return Err(EncodeError::Invalid(
                    "ascii value contains a non-ASCII character".to_owned(),
                ));
            }
            _ => return Err(wrong::<Self>(typ)),
        }
        buf.put_slice(self.as_bytes());
        Ok(())
    }
}

impl SerializeValue for String {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_str().serialize(typ, buf)
    }
}

impl<'frame> DeserializeValue<'frame> for &'frame str {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        check::<Self>(matches!(typ, ColumnType::Text | ColumnType::Ascii), typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        let b = non_null::<Self>(v)?;
        match typ {
            ColumnType::Text => dec::text(b),
            ColumnType::Ascii => dec::ascii(b),
            _ => Err(type_err::<Self>(typ)),
        }
    }
}

impl<'frame> DeserializeValue<'frame> for String {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&str>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&str>::deserialize(typ, v).map(str::to_owned)
    }
}

fn blob_type(typ: &ColumnType) -> bool {
    matches!(typ, ColumnType::Blob | ColumnType::Custom(_))
}

impl SerializeValue for [u8] {
    #[inline]
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !blob_type(typ) {
            return Err(wrong::<Self>(typ));
        }
        buf.put_slice(self);
        Ok(())
    }
}

impl SerializeValue for Vec<u8> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_slice().serialize(typ, buf)
    }
}

impl SerializeValue for Bytes {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_ref().serialize(typ, buf)
    }
}

impl<'frame> DeserializeValue<'frame> for &'frame [u8] {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        check::<Self>(blob_type(typ), typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        Self::type_check(typ)?;
        non_null::<Self>(v)
    }
}

impl<'frame> DeserializeValue<'frame> for Vec<u8> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&[u8]>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&[u8]>::deserialize(typ, v).map(<[u8]>::to_vec)
    }
}

impl<'frame> DeserializeValue<'frame> for Bytes {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&[u8]>::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&[u8]>::deserialize(typ, v).map(Self::copy_from_slice)
    }
}

impl<T: SerializeValue> SerializeValue for Option<T> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Some(v) => v.serialize(typ, buf),
            None => Err(EncodeError::Invalid(
                "a null has no value bytes; write it as a cell".to_owned(),
            )),
        }
    }
    fn serialize_cell(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Some(v) => v.serialize_cell(typ, buf),
            None => {
                buf.put_i32(-1);
                Ok(())
            }
        }
    }
}

impl<'frame, T: DeserializeValue<'frame>> DeserializeValue<'frame> for Option<T> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        T::type_check(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        match v {
            None => Ok(None),
            Some(b) => T::deserialize(typ, Some(b)).map(Some),
        }
    }
}

impl SerializeValue for Unset {
    fn serialize(&self, _typ: &ColumnType, _buf: &mut BytesMut) -> Result<(), EncodeError> {
        Err(EncodeError::Invalid(
            "an unset value has no value bytes; write it as a cell".to_owned(),
        ))
    }
    fn serialize_cell(&self, _typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_i32(-2);
        Ok(())
    }
}

impl SerializeValue for CqlValue {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_bytes(typ, buf)
    }
}

impl<'frame> DeserializeValue<'frame> for CqlValue {
    fn type_check(_typ: &ColumnType) -> Result<(), DecodeError> {
        Ok(())
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        Self::decode_bytes(typ, non_null::<Self>(v)?)
    }
}

/// Writes a sequence as a list, set or vector of `typ`.
fn serialize_seq<'a, T, I>(
    items: I,
    typ: &ColumnType,
    buf: &mut BytesMut,
    allow_vector: bool,
    name: &'static str,
) -> Result<(), EncodeError>
where
    T: SerializeValue + 'a,
    I: ExactSizeIterator<Item = &'a T>,
{
    match typ {
        ColumnType::List(e) | ColumnType::Set(e) => {
            write_count(buf, "collection", items.len())?;
            for it in items {
                it.serialize_cell(e, buf)?;
            }
            Ok(())
        }
        ColumnType::Vector(e, dim) if allow_vector => {
            if items.len() != *dim as usize {
                return Err(mismatch(
                    typ,
                    &format!("{name} of {} elements", items.len()),
                ));
            }
            match vector_element_size(e) {
                Some(size) => {
                    for it in items {
                        let at = buf.len();
                        it.serialize(e, buf)?;
                        if buf.len() - at != size {
                            return Err(EncodeError::Invalid(format!(
                                "vector element of type {e} must be {size} bytes"
                            )));
                        }
                    }
                }
                None => {
                    let mut scratch = BytesMut::new();
                    for it in items {
                        scratch.clear();
                        it.serialize(e, &mut scratch)?;
                        vint::write_unsigned_vint(buf, scratch.len() as u64);
                        buf.put_slice(&scratch);
                    }
                }
            }
            Ok(())
        }
        _ => Err(mismatch(typ, name)),
    }
}

/// The bytes of a collection value. CQL does not tell an empty list, set or map from null (the
/// server sends an empty collection as null), so a null of those types reads as empty: `None`
/// here. A null vector is still an error, like any other non-`Option` null.
fn collection_bytes<'frame, C: ?Sized>(
    typ: &ColumnType,
    v: Option<&'frame [u8]>,
) -> Result<Option<&'frame [u8]>, DecodeError> {
    match (v, typ) {
        (Some(b), _) => Ok(Some(b)),
        (None, ColumnType::List(_) | ColumnType::Set(_) | ColumnType::Map(..)) => Ok(None),
        (None, _) => non_null::<C>(None).map(Some),
    }
}

/// Reads the elements of a list, set or vector, calling `push` with each.
fn deserialize_seq<'frame, T: DeserializeValue<'frame>>(
    typ: &'frame ColumnType,
    b: &'frame [u8],
    allow_vector: bool,
    mut push: impl FnMut(T),
) -> Result<(), DecodeError> {
    let mut r = Reader::new(b);
    match typ {
        ColumnType::List(e) | ColumnType::Set(e) => {
            let n = r.read_len("collection size")?;
            for _ in 0..n {
                push(T::deserialize(e, r.read_bytes("collection element")?)?);
            }
        }
        ColumnType::Vector(e, dim) if allow_vector => {
            let size = vector_element_size(e);
            if size == Some(0) && *dim > 0 {
                return Err(DecodeError::invalid(
                    "vector type",
                    format!("elements of {e} have no bytes"),
                ));
            }
            for _ in 0..*dim {
                let len = match size {
                    Some(s) => s,
                    None => usize::try_from(vint::read_unsigned_vint(&mut r, "vector element")?)
                        .map_err(|_| DecodeError::invalid("vector element", "length too large"))?,
                };
                push(T::deserialize(e, Some(r.take(len, "vector element")?))?);
            }
        }
        _ => return Err(type_err::<T>(typ)),
    }
    r.finish("collection value")
}

/// Decodes a list or set (or, with `allow_vector`, a vector) into a new `C`, adding each
/// element with `add`; a null value is an empty `C`.
fn collect_seq<'frame, T: DeserializeValue<'frame>, C: Default>(
    typ: &'frame ColumnType,
    v: Option<&'frame [u8]>,
    allow_vector: bool,
    mut add: impl FnMut(&mut C, T),
) -> Result<C, DecodeError> {
    let mut out = C::default();
    if let Some(b) = collection_bytes::<C>(typ, v)? {
        deserialize_seq(typ, b, allow_vector, |x| add(&mut out, x))?;
    }
    Ok(out)
}

fn seq_type_check<'frame, T: DeserializeValue<'frame>, C: ?Sized>(
    typ: &ColumnType,
    allow_vector: bool,
) -> Result<(), DecodeError> {
    match typ {
        ColumnType::List(e) | ColumnType::Set(e) => T::type_check(e),
        ColumnType::Vector(e, _) if allow_vector => T::type_check(e),
        _ => Err(type_err::<C>(typ)),
    }
}

impl<T: SerializeValue> SerializeValue for [T] {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_seq(self.iter(), typ, buf, true, "slice")
    }
}

impl<T: SerializeValue> SerializeValue for Vec<T> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_seq(self.iter(), typ, buf, true, "Vec")
    }
}

impl<T: SerializeValue, S> SerializeValue for HashSet<T, S> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_seq(self.iter(), typ, buf, false, "HashSet")
    }
}

impl<T: SerializeValue> SerializeValue for BTreeSet<T> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_seq(self.iter(), typ, buf, false, "BTreeSet")
    }
}

impl<'frame, T: DeserializeValue<'frame>> DeserializeValue<'frame> for Vec<T> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        seq_type_check::<T, Self>(typ, true)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        collect_seq(typ, v, true, Self::push)
    }
}

impl<'frame, T, S> DeserializeValue<'frame> for HashSet<T, S>
where
    T: DeserializeValue<'frame> + Eq + Hash,
    S: BuildHasher + Default,
{
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        seq_type_check::<T, Self>(typ, false)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        collect_seq(typ, v, false, |out: &mut Self, x| {
            out.insert(x);
        })
    }
}

impl<'frame, T: DeserializeValue<'frame> + Ord> DeserializeValue<'frame> for BTreeSet<T> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        seq_type_check::<T, Self>(typ, false)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        collect_seq(typ, v, false, |out: &mut Self, x| {
            out.insert(x);
        })
    }
}

fn serialize_map<'a, K, V, I>(
    entries: I,
    typ: &ColumnType,
    buf: &mut BytesMut,
    name: &'static str,
) -> Result<(), EncodeError>
where
    K: SerializeValue + 'a,
    V: SerializeValue + 'a,
    I: ExactSizeIterator<Item = (&'a K, &'a V)>,
{
    let ColumnType::Map(kt, vt) = typ else {
        return Err(mismatch(typ, name));
    };
    write_count(buf, "map", entries.len())?;
    for (k, v) in entries {
        k.serialize_cell(kt, buf)?;
        v.serialize_cell(vt, buf)?;
    }
    Ok(())
}

fn deserialize_map<'frame, K, V, C: ?Sized>(
    typ: &'frame ColumnType,
    b: &'frame [u8],
    mut insert: impl FnMut(K, V),
) -> Result<(), DecodeError>
where
    K: DeserializeValue<'frame>,
    V: DeserializeValue<'frame>,
{
    let ColumnType::Map(kt, vt) = typ else {
        return Err(type_err::<C>(typ));
    };
    let mut r = Reader::new(b);
    let n = r.read_len("map size")?;
    for _ in 0..n {
        let k = K::deserialize(kt, r.read_bytes("map key")?)?;
        let v = V::deserialize(vt, r.read_bytes("map value")?)?;
        insert(k, v);
    }
    r.finish("map value")
}

/// Decodes a map into a new `C`, adding each entry with `add`; a null value is an empty `C`.
fn collect_map<'frame, K, V, C: Default>(
    typ: &'frame ColumnType,
    v: Option<&'frame [u8]>,
    mut add: impl FnMut(&mut C, K, V),
) -> Result<C, DecodeError>
where
    K: DeserializeValue<'frame>,
    V: DeserializeValue<'frame>,
{
    let mut out = C::default();
    if let Some(b) = collection_bytes::<C>(typ, v)? {
        deserialize_map::<K, V, C>(typ, b, |k, v| add(&mut out, k, v))?;
    }
    Ok(out)
}

fn map_type_check<'frame, K, V, C: ?Sized>(typ: &ColumnType) -> Result<(), DecodeError>
where
    K: DeserializeValue<'frame>,
    V: DeserializeValue<'frame>,
{
    let ColumnType::Map(kt, vt) = typ else {
        return Err(type_err::<C>(typ));
    };
    K::type_check(kt)?;
    V::type_check(vt)
}

impl<K: SerializeValue, V: SerializeValue, S> SerializeValue for HashMap<K, V, S> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_map(self.iter(), typ, buf, "HashMap")
    }
}

impl<K: SerializeValue, V: SerializeValue> SerializeValue for BTreeMap<K, V> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        serialize_map(self.iter(), typ, buf, "BTreeMap")
    }
}

impl<'frame, K, V, S> DeserializeValue<'frame> for HashMap<K, V, S>
where
    K: DeserializeValue<'frame> + Eq + Hash,
    V: DeserializeValue<'frame>,
    S: BuildHasher + Default,
{
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        map_type_check::<K, V, Self>(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        collect_map(typ, v, |out: &mut Self, k, v| {
            out.insert(k, v);
        })
    }
}

impl<'frame, K, V> DeserializeValue<'frame> for BTreeMap<K, V>
where
    K: DeserializeValue<'frame> + Ord,
    V: DeserializeValue<'frame>,
{
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        map_type_check::<K, V, Self>(typ)
    }
    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        collect_map(typ, v, |out: &mut Self, k, v| {
            out.insert(k, v);
        })
    }
}
