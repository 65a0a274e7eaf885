//! Order-preserving ("memcomparable") encoding of clustering keys, so rows sort as plain bytes
//! in the order the CQL types define, with `DESC` columns inverted.

use proto::{ColumnType, CqlValue};

/// Appends the order-preserving encoding of one clustering component (`bytes` is the value's
/// serialized form). Every component encoding is prefix-free, so inverting it for `DESC` keeps
/// the order of whole keys correct.
pub(crate) fn encode_component(typ: &ColumnType, bytes: &[u8], desc: bool, out: &mut Vec<u8>) {
    let start = out.len();
    if bytes.is_empty() && !matches!(typ, ColumnType::Text | ColumnType::Ascii | ColumnType::Blob) {
        out.push(0x00);
    } else {
        out.push(0x01);
        encode_value(typ, bytes, out, 0);
    }
    if desc {
        for b in &mut out[start..] {
            *b = !*b;
        }
    }
}

fn escaped(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn encode_value(typ: &ColumnType, bytes: &[u8], out: &mut Vec<u8>, depth: usize) {
    let signed_fixed = |n: usize, out: &mut Vec<u8>| {
        if bytes.len() == n {
            out.push(bytes[0] ^ 0x80);
            out.extend_from_slice(&bytes[1..]);
        } else {
            escaped(bytes, out);
        }
    };
    match typ {
        ColumnType::TinyInt => signed_fixed(1, out),
        ColumnType::SmallInt => signed_fixed(2, out),
        ColumnType::Int => signed_fixed(4, out),
        ColumnType::BigInt | ColumnType::Counter | ColumnType::Timestamp | ColumnType::Time => {
            signed_fixed(8, out);
        }
        ColumnType::Date | ColumnType::Boolean => out.extend_from_slice(bytes),
        ColumnType::Float | ColumnType::Double => {
            if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                out.extend(bytes.iter().map(|b| !b));
            } else if let Some((first, rest)) = bytes.split_first() {
                out.push(first ^ 0x80);
                out.extend_from_slice(rest);
            }
        }
        ColumnType::Uuid | ColumnType::Timeuuid if bytes.len() == 16 => {
            let version = bytes[6] >> 4;
            if *typ == ColumnType::Uuid {
                out.push(version);
            }
            if version == 1 {
                // time_hi (without version), time_mid, time_low: the 60-bit timestamp.
                out.push(bytes[6] & 0x0f);
                out.push(bytes[7]);
                out.extend_from_slice(&bytes[4..6]);
                out.extend_from_slice(&bytes[0..4]);
            }
            out.extend_from_slice(&bytes[..8]);
            // The low bytes compare as signed bytes on servers.
            out.extend(bytes[8..].iter().map(|b| b ^ 0x80));
        }
        ColumnType::Varint => match proto::value::CqlVarint(bytes.to_vec()).to_i128() {
            Some(v) => {
                out.push(0x01);
                let b = v.to_be_bytes();
                out.push(b[0] ^ 0x80);
                out.extend_from_slice(&b[1..]);
            }
            None => {
                out.push(if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                    0x00
                } else {
                    0x02
                });
                escaped(bytes, out);
            }
        },
        ColumnType::Decimal => {
            let approx = match CqlValue::decode_bytes(typ, bytes) {
                Ok(CqlValue::Decimal(d)) => d.to_string().parse::<f64>().unwrap_or(0.0),
                _ => 0.0,
            };
            encode_value(&ColumnType::Double, &approx.to_be_bytes(), out, depth);
            escaped(bytes, out);
        }
        ColumnType::List(e) | ColumnType::Set(e) | ColumnType::Vector(e, _) if depth < 16 => {
            match CqlValue::decode_bytes(typ, bytes) {
                Ok(CqlValue::List(items) | CqlValue::Set(items) | CqlValue::Vector(items)) => {
                    for item in items {
                        element(e, Some(&item), out, depth);
                    }
                    out.push(0x00);
                }
                _ => escaped(bytes, out),
            }
        }
        ColumnType::Map(k, v) if depth < 16 => match CqlValue::decode_bytes(typ, bytes) {
            Ok(CqlValue::Map(entries)) => {
                for (key, val) in entries {
                    element(k, Some(&key), out, depth);
                    element(v, Some(&val), out, depth);
                }
                out.push(0x00);
            }
            _ => escaped(bytes, out),
        },
        ColumnType::Tuple(ts) if depth < 16 => match CqlValue::decode_bytes(typ, bytes) {
            Ok(CqlValue::Tuple(items)) => {
                for (i, t) in ts.iter().enumerate() {
                    element(t, items.get(i).and_then(Option::as_ref), out, depth);
                }
                out.push(0x00);
            }
            _ => escaped(bytes, out),
        },
        ColumnType::Udt { fields, .. } if depth < 16 => match CqlValue::decode_bytes(typ, bytes) {
            Ok(CqlValue::Udt { fields: vals, .. }) => {
                for (i, (_, t)) in fields.iter().enumerate() {
                    element(t, vals.get(i).and_then(|(_, v)| v.as_ref()), out, depth);
                }
                out.push(0x00);
            }
            _ => escaped(bytes, out),
        },
        _ => escaped(bytes, out),
    }
}

fn element(typ: &ColumnType, v: Option<&CqlValue>, out: &mut Vec<u8>, depth: usize) {
    let mut buf = bytes::BytesMut::new();
    match v {
        Some(v) if v.encode_bytes(typ, &mut buf).is_ok() => {
            out.push(0x02);
            if buf.is_empty() {
                out.push(0x00);
            } else {
                out.push(0x01);
                encode_value(typ, &buf, out, depth + 1);
            }
        }
        _ => out.push(0x01),
    }
}

/// The encoding of a whole clustering key (or prefix).
pub(crate) fn encode_key(types: &[(&ColumnType, bool)], values: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for ((t, desc), v) in types.iter().zip(values) {
        encode_component(t, v, *desc, &mut out);
    }
    out
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` if
/// there is none (all `0xff`).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last != 0xff {
            p.push(last + 1);
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(t: &ColumnType, v: &CqlValue, desc: bool) -> Vec<u8> {
        let mut b = bytes::BytesMut::new();
        v.encode_bytes(t, &mut b).unwrap();
        let mut out = Vec::new();
        encode_component(t, &b, desc, &mut out);
        out
    }

    #[test]
    fn orders_like_the_types() {
        let ints = [-5i32, -1, 0, 1, 300, i32::MAX];
        for w in ints.windows(2) {
            assert!(
                enc(&ColumnType::Int, &CqlValue::Int(w[0]), false)
                    < enc(&ColumnType::Int, &CqlValue::Int(w[1]), false)
            );
            assert!(
                enc(&ColumnType::Int, &CqlValue::Int(w[0]), true)
                    > enc(&ColumnType::Int, &CqlValue::Int(w[1]), true)
            );
        }
        let ds = [-10.5f64, -0.1, 0.0, 0.2, 1e9];
        for w in ds.windows(2) {
            assert!(
                enc(&ColumnType::Double, &CqlValue::Double(w[0]), false)
                    < enc(&ColumnType::Double, &CqlValue::Double(w[1]), false)
            );
        }
        let ss = ["", "a", "a\0", "ab", "b"];
        for w in ss.windows(2) {
            let a = enc(&ColumnType::Text, &CqlValue::Text(w[0].into()), false);
            let b = enc(&ColumnType::Text, &CqlValue::Text(w[1].into()), false);
            assert!(a < b, "{:?} < {:?}", w[0], w[1]);
            let a = enc(&ColumnType::Text, &CqlValue::Text(w[0].into()), true);
            let b = enc(&ColumnType::Text, &CqlValue::Text(w[1].into()), true);
            assert!(a > b);
        }
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
    }
}

#[cfg(test)]
mod uuid_order {
    use proptest::prelude::*;

    use super::*;

    fn order(typ: &ColumnType, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        encode_component(typ, a, false, &mut x);
        encode_component(typ, b, false, &mut y);
        x.cmp(&y)
    }

    proptest! {
        /// Stored uuid and timeuuid clustering keys sort as the servers compare them
        /// (`cql-proto`'s `compare`: timestamp first, low bytes signed).
        #[test]
        fn uuid_keys_sort_as_servers_compare(
            mut a in any::<[u8; 16]>(),
            mut b in any::<[u8; 16]>(),
            same_high in any::<bool>(),
            v4 in any::<bool>(),
        ) {
            let version = if v4 { 0x40 } else { 0x10 };
            a[6] = (a[6] & 0x0f) | version;
            b[6] = (b[6] & 0x0f) | version;
            if same_high {
                b[..8].copy_from_slice(&a[..8]);
            }
            for typ in [ColumnType::Uuid, ColumnType::Timeuuid] {
                if typ == ColumnType::Timeuuid && v4 {
                    continue;
                }
                prop_assert_eq!(order(&typ, &a, &b), proto::value::compare(&typ, &a, &b));
            }
        }
    }
}
