//! Cassandra's comparison order of serialized values, as used for clustering keys.

use std::cmp::Ordering;

use bytes::BytesMut;

use crate::codec::Reader;
use crate::error::EncodeError;
use crate::value::types::{ColumnType, MAX_TYPE_DEPTH};
use crate::value::{CqlValue, CqlVarint, vint};

impl CqlValue {
    /// Compares two values of type `typ` in Cassandra's order (see [`compare`]), through their
    /// encodings; fails when either value does not fit `typ`.
    pub fn cmp_as(&self, other: &Self, typ: &ColumnType) -> Result<Ordering, EncodeError> {
        let mut a = BytesMut::new();
        self.encode_bytes(typ, &mut a)?;
        let mut b = BytesMut::new();
        other.encode_bytes(typ, &mut b)?;
        Ok(compare(typ, &a, &b))
    }
}

/// The least significant 8 bytes of two 16-byte uuids compared as signed bytes, as Cassandra's
/// `UUIDType` and `TimeUUIDType` do "for compatibility" (so `0x80` sorts before `0x00`).
fn signed_low_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let low = |u: &[u8]| -> Vec<i8> { u.iter().skip(8).map(|x| *x as i8).collect() };
    low(a).cmp(&low(b))
}

/// Compares two serialized (non-null) values of type `typ` in Cassandra's order.
///
/// Integers, `timestamp` and `time` compare as signed numbers, `date` as unsigned, `float` and
/// `double` numerically (`NaN` last, `-0.0` before `0.0`), `varint` numerically, `boolean` false
/// before true; `text`, `ascii`, `blob`, `inet`, `duration` and custom types bytewise. `timeuuid`
/// orders by its timestamp, then its low bytes; `uuid` by version, then the timestamp (of a
/// version 1 uuid) or the high bytes, then its low bytes. Collections, tuples, UDTs and vectors compare element by element (a null
/// element first, a shorter value first when it is a prefix). An empty value sorts first.
///
/// The least significant 8 bytes of a `uuid` or `timeuuid` (clock sequence and node) compare
/// as signed bytes, as Cassandra compares them.
///
/// Simplification: `decimal` compares numerically only when both values fit an `i128` after
/// rescaling (otherwise bytewise). Malformed input falls back to a bytewise order; it never
/// panics.
pub fn compare(typ: &ColumnType, a: &[u8], b: &[u8]) -> Ordering {
    cmp(typ, a, b, 0)
}

fn cmp(t: &ColumnType, a: &[u8], b: &[u8], depth: usize) -> Ordering {
    use ColumnType as T;
    if a.is_empty() || b.is_empty() || depth > MAX_TYPE_DEPTH {
        return a.len().min(1).cmp(&b.len().min(1)).then_with(|| a.cmp(b));
    }
    let fallback = || a.cmp(b);
    match t {
        T::TinyInt | T::SmallInt | T::Int | T::BigInt | T::Counter | T::Timestamp | T::Time => {
            match (signed(a), signed(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => fallback(),
            }
        }
        T::Float => match (<[u8; 4]>::try_from(a), <[u8; 4]>::try_from(b)) {
            (Ok(x), Ok(y)) => float_cmp(
                f64::from(f32::from_be_bytes(x)),
                f64::from(f32::from_be_bytes(y)),
            ),
            _ => fallback(),
        },
        T::Double => match (<[u8; 8]>::try_from(a), <[u8; 8]>::try_from(b)) {
            (Ok(x), Ok(y)) => float_cmp(f64::from_be_bytes(x), f64::from_be_bytes(y)),
            _ => fallback(),
        },
        T::Varint => varint_cmp(a, b),
        T::Decimal => decimal_cmp(a, b).unwrap_or_else(fallback),
        T::Timeuuid => match (uuid_ts(a), uuid_ts(b)) {
            (Some(x), Some(y)) => x
                .cmp(&y)
                .then_with(|| signed_low_bytes(a, b))
                .then_with(fallback),
            _ => fallback(),
        },
        T::Uuid => {
            if a.len() != 16 || b.len() != 16 {
                return fallback();
            }
            let (va, vb) = (a[6] >> 4, b[6] >> 4);
            va.cmp(&vb)
                .then_with(|| {
                    if va == 1 {
                        uuid_ts(a).cmp(&uuid_ts(b))
                    } else {
                        a[..8].cmp(&b[..8])
                    }
                })
                .then_with(|| signed_low_bytes(a, b))
        }
        T::List(e) | T::Set(e) => seq_cmp(
            a,
            b,
            |r| r.read_len("n"),
            |r| r.read_bytes("e"),
            |x, y| cmp(e, x, y, depth + 1),
        )
        .unwrap_or_else(fallback),
        T::Map(k, v) => {
            let mut i = 0usize;
            seq_cmp(
                a,
                b,
                |r| Ok(r.read_len("n")? * 2),
                |r| r.read_bytes("e"),
                |x, y| {
                    let et = if i & 1 == 0 { k } else { v };
                    i += 1;
                    cmp(et, x, y, depth + 1)
                },
            )
            .unwrap_or_else(fallback)
        }
        T::Tuple(ts) => fields_cmp(ts.iter(), a, b, depth).unwrap_or_else(fallback),
        T::Udt { fields, .. } => {
            fields_cmp(fields.iter().map(|(_, t)| t), a, b, depth).unwrap_or_else(fallback)
        }
        T::Vector(e, dim) => {
            let size = crate::value::encode::vector_element_size(e);
            if size == Some(0) {
                return fallback();
            }
            let n = *dim as usize;
            let (Some(xs), Some(ys)) = (vector_elems(a, n, size), vector_elems(b, n, size)) else {
                return fallback();
            };
            xs.iter()
                .zip(&ys)
                .map(|(x, y)| cmp(e, x, y, depth + 1))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }
        _ => fallback(),
    }
}

fn vector_elems(b: &[u8], n: usize, size: Option<usize>) -> Option<Vec<&[u8]>> {
    let mut r = Reader::new(b);
    let mut out = Vec::with_capacity(n.min(b.len()));
    for _ in 0..n {
        let len = match size {
            Some(s) => s,
            None => usize::try_from(vint::read_unsigned_vint(&mut r, "len").ok()?).ok()?,
        };
        out.push(r.take(len, "e").ok()?);
    }
    r.is_empty().then_some(out)
}

type Next<'a> = fn(&mut Reader<'a>) -> Result<Option<&'a [u8]>, crate::DecodeError>;

/// Compares `[int] n` + `n` elements lexicographically.
fn seq_cmp<'a>(
    a: &'a [u8],
    b: &'a [u8],
    count: fn(&mut Reader<'a>) -> Result<usize, crate::DecodeError>,
    next: Next<'a>,
    mut elem: impl FnMut(&[u8], &[u8]) -> Ordering,
) -> Option<Ordering> {
    let (mut ra, mut rb) = (Reader::new(a), Reader::new(b));
    let (na, nb) = (count(&mut ra).ok()?, count(&mut rb).ok()?);
    for _ in 0..na.min(nb) {
        let x = next(&mut ra).ok()??;
        let y = next(&mut rb).ok()??;
        let o = elem(x, y);
        if o.is_ne() {
            return Some(o);
        }
    }
    Some(na.cmp(&nb))
}

/// Compares `[bytes]` fields in order; null first; a missing trailing field counts as null.
fn fields_cmp<'t>(
    types: impl Iterator<Item = &'t ColumnType>,
    a: &[u8],
    b: &[u8],
    depth: usize,
) -> Option<Ordering> {
    let (mut ra, mut rb) = (Reader::new(a), Reader::new(b));
    for t in types {
        let x = if ra.is_empty() {
            None
        } else {
            ra.read_bytes("f").ok()?
        };
        let y = if rb.is_empty() {
            None
        } else {
            rb.read_bytes("f").ok()?
        };
        let o = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp(t, x, y, depth + 1),
        };
        if o.is_ne() {
            return Some(o);
        }
    }
    Some(Ordering::Equal)
}

fn signed(b: &[u8]) -> Option<i64> {
    Some(match b.len() {
        1 => i64::from(b[0] as i8),
        2 => i64::from(i16::from_be_bytes([b[0], b[1]])),
        4 => i64::from(i32::from_be_bytes(b.try_into().ok()?)),
        8 => i64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

fn float_cmp(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.total_cmp(&y),
    }
}

fn varint_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (x, y) = (
        CqlVarint(a.to_vec()).normalized(),
        CqlVarint(b.to_vec()).normalized(),
    );
    let (nx, ny) = (x.is_negative(), y.is_negative());
    if nx != ny {
        return ny.cmp(&nx);
    }
    // Same sign: a longer magnitude is larger when positive, smaller when negative.
    let by_len = x.0.len().cmp(&y.0.len());
    let by_len = if nx { by_len.reverse() } else { by_len };
    by_len.then_with(|| x.0.cmp(&y.0))
}

fn decimal_cmp(a: &[u8], b: &[u8]) -> Option<Ordering> {
    let da = crate::value::decode::decimal(a).ok()?;
    let db = crate::value::decode::decimal(b).ok()?;
    let (ua, ub) = (da.unscaled.to_i128()?, db.unscaled.to_i128()?);
    let scale = da.scale.max(db.scale);
    let up = |u: i128, s: i32| -> Option<i128> {
        let diff = u32::try_from(i64::from(scale) - i64::from(s)).ok()?;
        u.checked_mul(10i128.checked_pow(diff)?)
    };
    Some(up(ua, da.scale)?.cmp(&up(ub, db.scale)?))
}

/// The 60-bit timestamp of a version-1 uuid.
fn uuid_ts(b: &[u8]) -> Option<u64> {
    if b.len() != 16 {
        return None;
    }
    let hi = u64::from(u16::from_be_bytes([b[6], b[7]]) & 0x0FFF);
    let mid = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let low = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Some((hi << 48) | (mid << 32) | low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    #[test]
    fn values() {
        let (a, b) = (CqlValue::Int(-3), CqlValue::Int(2));
        assert_eq!(a.cmp_as(&b, &T::Int).unwrap(), Ordering::Less);
        assert!(a.cmp_as(&b, &T::Text).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(
            compare(&T::Int, &(-1i32).to_be_bytes(), &1i32.to_be_bytes()),
            Ordering::Less
        );
        assert_eq!(
            compare(&T::BigInt, &5i64.to_be_bytes(), &5i64.to_be_bytes()),
            Ordering::Equal
        );
        assert_eq!(
            compare(&T::Date, &[0x80, 0, 0, 0], &[0x7f, 0, 0, 0]),
            Ordering::Greater
        );
        assert_eq!(compare(&T::Varint, &[0xff], &[0x00]), Ordering::Less);
        assert_eq!(
            compare(&T::Varint, &[0x00, 0x80], &[0x7f]),
            Ordering::Greater
        );
        assert_eq!(compare(&T::Varint, &[0xff, 0x7f], &[0x80]), Ordering::Less);
        assert_eq!(
            compare(&T::Double, &(-0.0f64).to_be_bytes(), &0.0f64.to_be_bytes()),
            Ordering::Less
        );
        assert_eq!(
            compare(
                &T::Float,
                &f32::NAN.to_be_bytes(),
                &f32::INFINITY.to_be_bytes()
            ),
            Ordering::Greater
        );
        // 1.5 (15, scale 1) < 2 (2, scale 0).
        assert_eq!(
            compare(&T::Decimal, &[0, 0, 0, 1, 15], &[0, 0, 0, 0, 2]),
            Ordering::Less
        );
        assert_eq!(compare(&T::Boolean, &[0], &[1]), Ordering::Less);
        assert_eq!(compare(&T::Int, &[], &[0, 0, 0, 0]), Ordering::Less);
    }

    #[test]
    fn strings_uuids_and_composites() {
        assert_eq!(compare(&T::Text, b"ab", b"b"), Ordering::Less);
        // Timeuuids order by timestamp: time_low of the first is larger, time_hi smaller.
        let mut early = [0u8; 16];
        early[0] = 0xff;
        early[6] = 0x10;
        let mut late = [0u8; 16];
        late[6] = 0x11;
        assert_eq!(compare(&T::Timeuuid, &early, &late), Ordering::Less);
        // Same timestamp: the clock sequence and node bytes compare signed (0x80 < 0x00).
        let mut neg = late;
        neg[8] = 0x80;
        assert_eq!(compare(&T::Timeuuid, &neg, &late), Ordering::Less);
        assert_eq!(compare(&T::Uuid, &neg, &late), Ordering::Less);
        let mut v4_neg = [0u8; 16];
        v4_neg[6] = 0x40;
        let mut v4 = v4_neg;
        v4_neg[15] = 0xff;
        v4[15] = 0x01;
        assert_eq!(compare(&T::Uuid, &v4_neg, &v4), Ordering::Less);
        let l = T::List(Box::new(T::Int));
        let one = [0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1];
        let two = [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0];
        assert_eq!(compare(&l, &one, &two), Ordering::Less);
        let tt = T::Tuple(vec![T::Int, T::Int]);
        let null_first = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 9];
        let minus = [0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(compare(&tt, &null_first, &minus), Ordering::Less);
        // Garbage does not panic.
        let _ = compare(&l, &[0x7f, 0xff, 0xff, 0xff], &[1]);
        let _ = compare(&T::Vector(Box::new(T::Text), 3), &[0xff, 1], &[9]);
    }
}
