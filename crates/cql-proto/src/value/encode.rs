//! Value encoding: a [`CqlValue`] into the bytes of section 6 of the v4 spec (and 5.8/5.25 of v5).

use std::net::IpAddr;

use bytes::{BufMut, BytesMut};

use crate::error::EncodeError;
use crate::value::types::{ColumnType, MAX_TYPE_DEPTH};
use crate::value::{CqlDuration, CqlValue, CqlVarint, vint};

impl CqlValue {
    /// Encodes the value's bytes (no length prefix) as CQL type `typ`.
    ///
    /// The value is checked against the type: a mismatch is [`EncodeError::TypeMismatch`] naming
    /// both. Some lenient pairs are accepted: `Text`/`Ascii` for either string type (ASCII checked),
    /// `BigInt` for `counter`, `Uuid`/`Timeuuid` for either uuid type (version 1 checked for
    /// `timeuuid`), `List`/`Set` for either collection, `List` for a vector, `Blob` for a custom
    /// type. [`CqlValue::Empty`] encodes as zero bytes for every type.
    pub fn encode_bytes(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        encode(self, typ, buf, 0)
    }

    /// A short name of the value's variant, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Ascii(_) => "ascii",
            Self::BigInt(_) => "bigint",
            Self::Blob(_) => "blob",
            Self::Boolean(_) => "boolean",
            Self::Counter(_) => "counter",
            Self::Decimal(_) => "decimal",
            Self::Date(_) => "date",
            Self::Double(_) => "double",
            Self::Duration(_) => "duration",
            Self::Float(_) => "float",
            Self::Int(_) => "int",
            Self::Inet(_) => "inet",
            Self::List(_) => "list",
            Self::Map(_) => "map",
            Self::Set(_) => "set",
            Self::SmallInt(_) => "smallint",
            Self::Text(_) => "text",
            Self::Time(_) => "time",
            Self::Timestamp(_) => "timestamp",
            Self::Timeuuid(_) => "timeuuid",
            Self::TinyInt(_) => "tinyint",
            Self::Tuple(_) => "tuple",
            Self::Udt { .. } => "udt",
            Self::Uuid(_) => "uuid",
            Self::Varint(_) => "varint",
            Self::Vector(_) => "vector",
            Self::Custom(_) => "custom",
            Self::Empty => "empty",
        }
    }
}

/// Writes a `[bytes]` cell: the value's `[int]` length and bytes, or `-1` for `None` (null).
pub fn write_cell(
    buf: &mut BytesMut,
    value: Option<&CqlValue>,
    typ: &ColumnType,
) -> Result<(), EncodeError> {
    match value {
        None => {
            buf.put_i32(-1);
            Ok(())
        }
        Some(v) => with_int_length(buf, |buf| encode(v, typ, buf, 0)),
    }
}

/// Writes an `[int]` length placeholder, runs `body`, then patches the length.
#[inline]
pub(crate) fn with_int_length(
    buf: &mut BytesMut,
    body: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let at = buf.len();
    buf.put_i32(0);
    body(buf)?;
    let len = buf.len() - at - 4;
    let n = i32::try_from(len).map_err(|_| EncodeError::TooLong { what: "value", len })?;
    buf[at..at + 4].copy_from_slice(&n.to_be_bytes());
    Ok(())
}

/// Writes a collection or element count as an `[int]`.
pub(crate) fn write_count(
    buf: &mut BytesMut,
    what: &'static str,
    len: usize,
) -> Result<(), EncodeError> {
    let n = i32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })?;
    buf.put_i32(n);
    Ok(())
}

/// The error for a value that does not fit its type.
pub(crate) fn mismatch(typ: &ColumnType, got: &str) -> EncodeError {
    EncodeError::TypeMismatch {
        expected: typ.to_string(),
        got: got.to_owned(),
    }
}

pub(crate) fn too_deep() -> EncodeError {
    EncodeError::Invalid(format!("type nesting deeper than {MAX_TYPE_DEPTH} levels"))
}

/// The serialized size of a fixed-length type inside a vector, `None` for variable-length types.
///
/// Follows Cassandra's `valueLengthIfFixed`: boolean, int, bigint, float, double, timestamp,
/// uuid and timeuuid are fixed; so is a vector of a fixed-length type. Cassandra's `ShortType`,
/// `ByteType`, `SimpleDateType`, `TimeType` and `CounterColumnType` do not declare a fixed length,
/// so smallint, tinyint, date, time and counter elements are length-prefixed.
pub fn vector_element_size(typ: &ColumnType) -> Option<usize> {
    match typ {
        ColumnType::Boolean => Some(1),
        ColumnType::Int | ColumnType::Float => Some(4),
        ColumnType::BigInt | ColumnType::Double | ColumnType::Timestamp => Some(8),
        ColumnType::Uuid | ColumnType::Timeuuid => Some(16),
        ColumnType::Vector(e, n) => vector_element_size(e).and_then(|s| s.checked_mul(*n as usize)),
        _ => None,
    }
}

/// Checks the sign rule of a duration: all components >= 0 or all <= 0.
pub(crate) fn duration_signs_ok(d: &CqlDuration) -> bool {
    let pos = d.months >= 0 && d.days >= 0 && d.nanoseconds >= 0;
    let neg = d.months <= 0 && d.days <= 0 && d.nanoseconds <= 0;
    pos || neg
}

pub(crate) fn write_duration(buf: &mut BytesMut, d: &CqlDuration) -> Result<(), EncodeError> {
    if !duration_signs_ok(d) {
        return Err(EncodeError::Invalid(format!(
            "duration components must share a sign: {d:?}"
        )));
    }
    vint::write_vint(buf, i64::from(d.months));
    vint::write_vint(buf, i64::from(d.days));
    vint::write_vint(buf, d.nanoseconds);
    Ok(())
}

pub(crate) fn write_varint(buf: &mut BytesMut, v: &CqlVarint) {
    if v.0.is_empty() {
        buf.put_u8(0);
    } else {
        buf.put_slice(&v.0);
    }
}

pub(crate) fn check_time(nanos: i64) -> Result<(), EncodeError> {
    if (0..=crate::value::CqlTime::MAX_NANOS).contains(&nanos) {
        Ok(())
    } else {
        Err(EncodeError::Invalid(format!(
            "time {nanos} is outside 0..=86399999999999 nanoseconds"
        )))
    }
}

pub(crate) fn check_timeuuid(u: &uuid::Uuid) -> Result<(), EncodeError> {
    if u.get_version_num() == 1 {
        Ok(())
    } else {
        Err(EncodeError::Invalid(format!(
            "timeuuid {u} is not a version 1 uuid"
        )))
    }
}

pub(crate) fn write_inet(buf: &mut BytesMut, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => buf.put_slice(&a.octets()),
        IpAddr::V6(a) => buf.put_slice(&a.octets()),
    }
}

fn encode(
    v: &CqlValue,
    t: &ColumnType,
    buf: &mut BytesMut,
    depth: usize,
) -> Result<(), EncodeError> {
    use ColumnType as T;
    use CqlValue as V;
    if depth > MAX_TYPE_DEPTH {
        return Err(too_deep());
    }
    match (t, v) {
        (_, V::Empty) => {}
        (T::Ascii, V::Ascii(s) | V::Text(s)) => {
            if !s.is_ascii() {
                return Err(EncodeError::Invalid(
                    "ascii value contains a non-ASCII character".to_owned(),
                ));
            }
            buf.put_slice(s.as_bytes());
        }
        (T::Text, V::Text(s) | V::Ascii(s)) => buf.put_slice(s.as_bytes()),
        (T::BigInt, V::BigInt(x)) | (T::Counter, V::Counter(x) | V::BigInt(x)) => buf.put_i64(*x),
        (T::Blob, V::Blob(b)) | (T::Custom(_), V::Custom(b) | V::Blob(b)) => buf.put_slice(b),
        (T::Boolean, V::Boolean(b)) => buf.put_u8(u8::from(*b)),
        (T::Decimal, V::Decimal(d)) => {
            buf.put_i32(d.scale);
            write_varint(buf, &d.unscaled);
        }
        (T::Date, V::Date(d)) => buf.put_u32(d.0),
        (T::Double, V::Double(x)) => buf.put_f64(*x),
        (T::Duration, V::Duration(d)) => write_duration(buf, d)?,
        (T::Float, V::Float(x)) => buf.put_f32(*x),
        (T::Int, V::Int(x)) => buf.put_i32(*x),
        (T::Inet, V::Inet(ip)) => write_inet(buf, ip),
        (T::SmallInt, V::SmallInt(x)) => buf.put_i16(*x),
        (T::TinyInt, V::TinyInt(x)) => buf.put_i8(*x),
        (T::Time, V::Time(x)) => {
            check_time(x.0)?;
            buf.put_i64(x.0);
        }
        (T::Timestamp, V::Timestamp(x)) => buf.put_i64(x.0),
        (T::Timeuuid, V::Timeuuid(u)) => {
            check_timeuuid(u.as_uuid())?;
            buf.put_slice(u.as_bytes());
        }
        (T::Timeuuid, V::Uuid(u)) => {
            check_timeuuid(u)?;
            buf.put_slice(u.as_bytes());
        }
        (T::Uuid, V::Uuid(u)) => buf.put_slice(u.as_bytes()),
        (T::Uuid, V::Timeuuid(u)) => buf.put_slice(u.as_bytes()),
        (T::Varint, V::Varint(x)) => write_varint(buf, x),
        (T::List(e) | T::Set(e), V::List(items) | V::Set(items)) => {
            write_count(buf, "collection", items.len())?;
            for item in items {
                with_int_length(buf, |buf| encode(item, e, buf, depth + 1))?;
            }
        }
        (T::Map(kt, vt), V::Map(entries)) => {
            write_count(buf, "map", entries.len())?;
            for (k, val) in entries {
                with_int_length(buf, |buf| encode(k, kt, buf, depth + 1))?;
                with_int_length(buf, |buf| encode(val, vt, buf, depth + 1))?;
            }
        }
        (T::Tuple(ts), V::Tuple(items)) => {
            if items.len() > ts.len() {
                return Err(mismatch(t, &format!("tuple of {} elements", items.len())));
            }
            for (item, et) in items.iter().zip(ts) {
                write_nullable(buf, item.as_ref(), et, depth)?;
            }
        }
        (T::Udt { fields: tf, .. }, V::Udt { fields: vf, .. }) => {
            if let Some((name, _)) = vf.iter().find(|(n, _)| !tf.iter().any(|(f, _)| f == n)) {
                return Err(mismatch(t, &format!("udt with unknown field {name}")));
            }
            for (fname, ftype) in tf {
                let val = vf
                    .iter()
                    .find(|(n, _)| n == fname)
                    .and_then(|(_, v)| v.as_ref());
                write_nullable(buf, val, ftype, depth)?;
            }
        }
        (T::Vector(e, dim), V::Vector(items) | V::List(items)) => {
            if items.len() != *dim as usize {
                return Err(mismatch(t, &format!("vector of {} elements", items.len())));
            }
            match vector_element_size(e) {
                Some(size) => {
                    for item in items {
                        let at = buf.len();
                        encode(item, e, buf, depth + 1)?;
                        if buf.len() - at != size {
                            return Err(EncodeError::Invalid(format!(
                                "vector element of type {e} must be {size} bytes"
                            )));
                        }
                    }
                }
                None => {
                    let mut scratch = BytesMut::new();
                    for item in items {
                        scratch.clear();
                        encode(item, e, &mut scratch, depth + 1)?;
                        vint::write_unsigned_vint(buf, scratch.len() as u64);
                        buf.put_slice(&scratch);
                    }
                }
            }
        }
        _ => return Err(mismatch(t, v.kind_name())),
    }
    Ok(())
}

fn write_nullable(
    buf: &mut BytesMut,
    v: Option<&CqlValue>,
    t: &ColumnType,
    depth: usize,
) -> Result<(), EncodeError> {
    match v {
        None => {
            buf.put_i32(-1);
            Ok(())
        }
        Some(v) => with_int_length(buf, |buf| encode(v, t, buf, depth + 1)),
    }
}
