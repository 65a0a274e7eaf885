//! Value decoding: the bytes of a non-null value into a [`CqlValue`]. Never panics on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use uuid::Uuid;

use crate::codec::Reader;
use crate::error::DecodeError;
use crate::value::encode::vector_element_size;
use crate::value::types::{ColumnType, MAX_TYPE_DEPTH};
use crate::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint, vint,
};

impl CqlValue {
    /// Decodes the bytes of a non-null value of type `typ`.
    ///
    /// Zero bytes for any type except `ascii`, `text`, `blob` and custom types give
    /// [`CqlValue::Empty`]. A UDT or tuple value may hold fewer fields than its type declares:
    /// the missing trailing fields are null.
    pub fn decode_bytes(typ: &ColumnType, bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(typ, bytes, 0)
    }
}

/// Takes exactly `N` bytes, or fails with the length found.
#[inline]
pub(crate) fn fixed<const N: usize>(b: &[u8], what: &'static str) -> Result<[u8; N], DecodeError> {
    b.try_into().map_err(|_| bad_length(what, b.len()))
}

#[cold]
#[inline(never)]
fn bad_length(what: &'static str, len: usize) -> DecodeError {
    DecodeError::InvalidLength {
        what,
        len: len as i64,
    }
}

pub(crate) fn ascii(b: &[u8]) -> Result<&str, DecodeError> {
    if !b.is_ascii() {
        return Err(DecodeError::InvalidUtf8 {
            what: "ascii value (non-ASCII byte)",
        });
    }
    text(b)
}

pub(crate) fn text(b: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8 { what: "text value" })
}

pub(crate) fn time(b: &[u8]) -> Result<i64, DecodeError> {
    let n = i64::from_be_bytes(fixed(b, "time value")?);
    if !(0..=CqlTime::MAX_NANOS).contains(&n) {
        return Err(DecodeError::invalid(
            "time value",
            format!("{n} is outside 0..=86399999999999 nanoseconds"),
        ));
    }
    Ok(n)
}

pub(crate) fn timeuuid(b: &[u8]) -> Result<Uuid, DecodeError> {
    let u = Uuid::from_bytes(fixed(b, "timeuuid value")?);
    if u.get_version_num() != 1 {
        return Err(DecodeError::invalid(
            "timeuuid value",
            format!("{u} is not a version 1 uuid"),
        ));
    }
    Ok(u)
}

pub(crate) fn inet(b: &[u8]) -> Result<IpAddr, DecodeError> {
    match b.len() {
        4 => Ok(IpAddr::V4(Ipv4Addr::from(fixed::<4>(b, "inet value")?))),
        16 => Ok(IpAddr::V6(Ipv6Addr::from(fixed::<16>(b, "inet value")?))),
        n => Err(DecodeError::InvalidLength {
            what: "inet value",
            len: n as i64,
        }),
    }
}

pub(crate) fn duration(b: &[u8]) -> Result<CqlDuration, DecodeError> {
    let mut r = Reader::new(b);
    let months = vint::read_vint(&mut r, "duration months")?;
    let days = vint::read_vint(&mut r, "duration days")?;
    let nanoseconds = vint::read_vint(&mut r, "duration nanoseconds")?;
    r.finish("duration value")?;
    let d = CqlDuration {
        months: i32::try_from(months)
            .map_err(|_| DecodeError::invalid("duration months", months.to_string()))?,
        days: i32::try_from(days)
            .map_err(|_| DecodeError::invalid("duration days", days.to_string()))?,
        nanoseconds,
    };
    if !crate::value::encode::duration_signs_ok(&d) {
        return Err(DecodeError::invalid(
            "duration value",
            format!("components with mixed signs: {d:?}"),
        ));
    }
    Ok(d)
}

pub(crate) fn decimal(b: &[u8]) -> Result<CqlDecimal, DecodeError> {
    if b.len() < 5 {
        return Err(DecodeError::InvalidLength {
            what: "decimal value",
            len: b.len() as i64,
        });
    }
    let (scale, unscaled) = b.split_at(4);
    Ok(CqlDecimal {
        unscaled: CqlVarint(unscaled.to_vec()),
        scale: i32::from_be_bytes(fixed(scale, "decimal scale")?),
    })
}

/// Reads `[int] n` followed by `n` non-null `[bytes]` elements.
fn elements<'a>(
    r: &mut Reader<'a>,
    per_item: usize,
    what: &'static str,
) -> Result<(usize, usize), DecodeError> {
    let n = r.read_len(what)?;
    // Each element takes at least four bytes (its length), so cap the preallocation.
    Ok((n, n.min(r.remaining() / (4 * per_item))))
}

fn non_null<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    r.read_bytes(what)?
        .ok_or_else(|| DecodeError::invalid(what, "null element in a collection"))
}

fn decode(t: &ColumnType, b: &[u8], depth: usize) -> Result<CqlValue, DecodeError> {
    use ColumnType as T;
    use CqlValue as V;
    if depth > MAX_TYPE_DEPTH {
        return Err(DecodeError::TooDeep {
            max: MAX_TYPE_DEPTH,
        });
    }
    if b.is_empty() && !matches!(t, T::Ascii | T::Text | T::Blob | T::Custom(_)) {
        return Ok(V::Empty);
    }
    Ok(match t {
        T::Ascii => V::Ascii(ascii(b)?.to_owned()),
        T::Text => V::Text(text(b)?.to_owned()),
        T::BigInt => V::BigInt(i64::from_be_bytes(fixed(b, "bigint value")?)),
        T::Counter => V::Counter(i64::from_be_bytes(fixed(b, "counter value")?)),
        T::Blob => V::Blob(b.to_vec()),
        T::Custom(_) => V::Custom(b.to_vec()),
        T::Boolean => V::Boolean(fixed::<1>(b, "boolean value")?[0] != 0),
        T::Decimal => V::Decimal(decimal(b)?),
        T::Date => V::Date(CqlDate(u32::from_be_bytes(fixed(b, "date value")?))),
        T::Double => V::Double(f64::from_be_bytes(fixed(b, "double value")?)),
        T::Duration => V::Duration(duration(b)?),
        T::Float => V::Float(f32::from_be_bytes(fixed(b, "float value")?)),
        T::Int => V::Int(i32::from_be_bytes(fixed(b, "int value")?)),
        T::Inet => V::Inet(inet(b)?),
        T::SmallInt => V::SmallInt(i16::from_be_bytes(fixed(b, "smallint value")?)),
        T::TinyInt => V::TinyInt(i8::from_be_bytes(fixed(b, "tinyint value")?)),
        T::Time => V::Time(CqlTime(time(b)?)),
        T::Timestamp => V::Timestamp(CqlTimestamp(i64::from_be_bytes(fixed(
            b,
            "timestamp value",
        )?))),
        T::Timeuuid => V::Timeuuid(timeuuid(b)?.into()),
        T::Uuid => V::Uuid(Uuid::from_bytes(fixed(b, "uuid value")?)),
        T::Varint => V::Varint(CqlVarint(b.to_vec())),
        T::List(e) | T::Set(e) => {
            let mut r = Reader::new(b);
            let (n, cap) = elements(&mut r, 1, "collection size")?;
            let mut items = Vec::with_capacity(cap);
            for _ in 0..n {
                items.push(decode(
                    e,
                    non_null(&mut r, "collection element")?,
                    depth + 1,
                )?);
            }
            r.finish("collection value")?;
            if matches!(t, T::List(_)) {
                V::List(items)
            } else {
                V::Set(items)
            }
        }
        T::Map(kt, vt) => {
            let mut r = Reader::new(b);
            let (n, cap) = elements(&mut r, 2, "map size")?;
            let mut entries = Vec::with_capacity(cap);
            for _ in 0..n {
                let k = decode(kt, non_null(&mut r, "map key")?, depth + 1)?;
                let v = decode(vt, non_null(&mut r, "map value")?, depth + 1)?;
                entries.push((k, v));
            }
            r.finish("map value")?;
            V::Map(entries)
        }
        T::Tuple(ts) => {
            let mut r = Reader::new(b);
            let mut items = Vec::with_capacity(ts.len());
            for et in ts {
                items.push(nullable(&mut r, et, depth, "tuple element")?);
            }
            r.finish("tuple value")?;
            V::Tuple(items)
        }
        T::Udt {
            keyspace,
            name,
            fields: tf,
        } => {
            let mut r = Reader::new(b);
            let mut fields = Vec::with_capacity(tf.len());
            for (fname, ftype) in tf {
                fields.push((fname.clone(), nullable(&mut r, ftype, depth, "udt field")?));
            }
            r.finish("udt value")?;
            V::Udt {
                keyspace: keyspace.clone(),
                name: name.clone(),
                fields,
            }
        }
        T::Vector(e, dim) => {
            let mut r = Reader::new(b);
            let dim = *dim as usize;
            let mut items = Vec::with_capacity(dim.min(r.remaining()));
            match vector_element_size(e) {
                // Zero-size elements (a nested zero-dimension vector, which Cassandra forbids)
                // would let a tiny input claim billions of elements.
                Some(0) if dim > 0 => {
                    return Err(DecodeError::invalid(
                        "vector type",
                        format!("elements of {e} have no bytes"),
                    ));
                }
                Some(size) => {
                    for _ in 0..dim {
                        items.push(decode(e, r.take(size, "vector element")?, depth + 1)?);
                    }
                }
                None => {
                    for _ in 0..dim {
                        let len = vint::read_unsigned_vint(&mut r, "vector element length")?;
                        let len = usize::try_from(len).map_err(|_| DecodeError::InvalidLength {
                            what: "vector element",
                            len: i64::try_from(len).unwrap_or(i64::MAX),
                        })?;
                        items.push(decode(e, r.take(len, "vector element")?, depth + 1)?);
                    }
                }
            }
            r.finish("vector value")?;
            V::Vector(items)
        }
    })
}

/// A `[bytes]` that may be null; at the end of the input it is a missing trailing field (null).
fn nullable(
    r: &mut Reader<'_>,
    t: &ColumnType,
    depth: usize,
    what: &'static str,
) -> Result<Option<CqlValue>, DecodeError> {
    if r.is_empty() {
        return Ok(None);
    }
    match r.read_bytes(what)? {
        None => Ok(None),
        Some(b) => Ok(Some(decode(t, b, depth + 1)?)),
    }
}
