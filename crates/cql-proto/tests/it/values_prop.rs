//! Property tests: encode/decode round trips for arbitrary types and values, and arbitrary bytes
//! never panicking in the decoder.

use std::net::IpAddr;

use bytes::BytesMut;
use cql_proto::value::{CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint};
use cql_proto::{ColumnType, CqlValue};
use proptest::prelude::*;
use uuid::Uuid;

fn native_type() -> impl Strategy<Value = ColumnType> {
    use ColumnType as T;
    prop_oneof![
        Just(T::Ascii),
        Just(T::BigInt),
        Just(T::Blob),
        Just(T::Boolean),
        Just(T::Counter),
        Just(T::Decimal),
        Just(T::Double),
        Just(T::Float),
        Just(T::Int),
        Just(T::Timestamp),
        Just(T::Uuid),
        Just(T::Text),
        Just(T::Varint),
        Just(T::Timeuuid),
        Just(T::Inet),
        Just(T::Date),
        Just(T::Time),
        Just(T::SmallInt),
        Just(T::TinyInt),
        Just(T::Duration),
        Just(T::Custom("com.example.Custom".into())),
    ]
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    use ColumnType as T;
    native_type().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| T::List(Box::new(t))),
            inner.clone().prop_map(|t| T::Set(Box::new(t))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| T::Map(Box::new(k), Box::new(v))),
            prop::collection::vec(inner.clone(), 1..4).prop_map(T::Tuple),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|ts| T::Udt {
                keyspace: "ks".into(),
                name: "u".into(),
                fields: ts
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| (format!("f{i}"), t))
                    .collect(),
            }),
            (inner, 1u32..4).prop_map(|(t, n)| T::Vector(Box::new(t), n)),
        ]
    })
}

fn varint() -> impl Strategy<Value = CqlVarint> {
    prop_oneof![
        any::<i64>().prop_map(CqlVarint::from),
        any::<i128>().prop_map(CqlVarint::from),
    ]
}

fn duration() -> impl Strategy<Value = CqlDuration> {
    (any::<bool>(), 0..=i32::MAX, 0..=i32::MAX, 0..=i64::MAX).prop_map(|(neg, m, d, n)| {
        if neg {
            CqlDuration {
                months: -m,
                days: -d,
                nanoseconds: -n,
            }
        } else {
            CqlDuration {
                months: m,
                days: d,
                nanoseconds: n,
            }
        }
    })
}

fn value_of(t: &ColumnType) -> BoxedStrategy<CqlValue> {
    use ColumnType as T;
    use CqlValue as V;
    match t {
        T::Ascii => "[ -~]{0,8}".prop_map(V::Ascii).boxed(),
        T::Text => any::<String>().prop_map(V::Text).boxed(),
        T::BigInt => any::<i64>().prop_map(V::BigInt).boxed(),
        T::Counter => any::<i64>().prop_map(V::Counter).boxed(),
        T::Blob => prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(V::Blob)
            .boxed(),
        T::Custom(_) => prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(V::Custom)
            .boxed(),
        T::Boolean => any::<bool>().prop_map(V::Boolean).boxed(),
        T::Decimal => (varint(), any::<i32>())
            .prop_map(|(unscaled, scale)| V::Decimal(CqlDecimal { unscaled, scale }))
            .boxed(),
        T::Double => any::<f64>()
            .prop_filter("not NaN", |x| !x.is_nan())
            .prop_map(V::Double)
            .boxed(),
        T::Float => any::<f32>()
            .prop_filter("not NaN", |x| !x.is_nan())
            .prop_map(V::Float)
            .boxed(),
        T::Int => any::<i32>().prop_map(V::Int).boxed(),
        T::Timestamp => any::<i64>()
            .prop_map(|x| V::Timestamp(CqlTimestamp(x)))
            .boxed(),
        T::Uuid => any::<u128>()
            .prop_map(|x| V::Uuid(Uuid::from_u128(x)))
            .boxed(),
        T::Timeuuid => any::<u128>()
            .prop_map(|x| {
                let mut b = Uuid::from_u128(x).into_bytes();
                b[6] = (b[6] & 0x0F) | 0x10;
                V::Timeuuid(Uuid::from_bytes(b).into())
            })
            .boxed(),
        T::Varint => varint().prop_map(V::Varint).boxed(),
        T::Inet => prop_oneof![
            any::<[u8; 4]>().prop_map(|b| V::Inet(IpAddr::from(b))),
            any::<[u8; 16]>().prop_map(|b| V::Inet(IpAddr::from(b))),
        ]
        .boxed(),
        T::Date => any::<u32>().prop_map(|x| V::Date(CqlDate(x))).boxed(),
        T::Time => (0..=CqlTime::MAX_NANOS)
            .prop_map(|x| V::Time(CqlTime(x)))
            .boxed(),
        T::SmallInt => any::<i16>().prop_map(V::SmallInt).boxed(),
        T::TinyInt => any::<i8>().prop_map(V::TinyInt).boxed(),
        T::Duration => duration().prop_map(V::Duration).boxed(),
        T::List(e) => prop::collection::vec(value_of(e), 0..3)
            .prop_map(V::List)
            .boxed(),
        T::Set(e) => prop::collection::vec(value_of(e), 0..3)
            .prop_map(V::Set)
            .boxed(),
        T::Map(k, v) => prop::collection::vec((value_of(k), value_of(v)), 0..3)
            .prop_map(V::Map)
            .boxed(),
        T::Tuple(ts) => ts
            .iter()
            .map(|t| prop::option::of(value_of(t)))
            .collect::<Vec<_>>()
            .prop_map(V::Tuple)
            .boxed(),
        T::Udt { fields, .. } => {
            let names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
            fields
                .iter()
                .map(|(_, t)| prop::option::of(value_of(t)))
                .collect::<Vec<_>>()
                .prop_map(move |vs| V::Udt {
                    keyspace: "ks".into(),
                    name: "u".into(),
                    fields: names.iter().cloned().zip(vs).collect(),
                })
                .boxed()
        }
        T::Vector(e, n) => prop::collection::vec(value_of(e), *n as usize)
            .prop_map(V::Vector)
            .boxed(),
        other => panic!("no strategy for {other}"),
    }
}

fn type_and_value() -> impl Strategy<Value = (ColumnType, CqlValue)> {
    column_type().prop_flat_map(|t| {
        let v = value_of(&t);
        (Just(t), v)
    })
}

/// A value that is empty bytes on the wire decodes as `Empty` for non-string types; such values
/// (empty strings/blobs inside non-string positions cannot occur) round trip except for the
/// zero-length case at the top level of a string type, which the generator may produce and which
/// decodes back to the same string.
fn round_trips(t: &ColumnType, v: &CqlValue) -> Result<(), TestCaseError> {
    let mut b = BytesMut::new();
    v.encode_bytes(t, &mut b)
        .map_err(|e| TestCaseError::fail(format!("encode {v:?} as {t}: {e}")))?;
    let back = CqlValue::decode_bytes(t, &b)
        .map_err(|e| TestCaseError::fail(format!("decode {t}: {e}")))?;
    if b.is_empty() && back == CqlValue::Empty {
        // e.g. a vector of zero-length... only reachable for types with no empty values.
        return Ok(());
    }
    prop_assert_eq!(&back, v);
    let mut b2 = BytesMut::new();
    back.encode_bytes(t, &mut b2).unwrap();
    prop_assert_eq!(b, b2);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn value_round_trip((t, v) in type_and_value()) {
        round_trips(&t, &v)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(t in column_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = CqlValue::decode_bytes(&t, &bytes);
    }

    #[test]
    fn mutated_encodings_never_panic(
        (t, v) in type_and_value(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = BytesMut::new();
        v.encode_bytes(&t, &mut b).unwrap();
        let mut bytes = b.to_vec();
        if !bytes.is_empty() {
            for (i, x) in flips {
                let i = i.index(bytes.len());
                bytes[i] ^= x;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let _ = CqlValue::decode_bytes(&t, &bytes);
    }
}

proptest! {
    #[test]
    fn compare_matches_numeric_order(x in any::<i128>(), y in any::<i128>(), a in any::<i64>(), b in any::<i64>()) {
        use cql_proto::value::compare;
        let (vx, vy) = (CqlVarint::from(x), CqlVarint::from(y));
        prop_assert_eq!(compare(&ColumnType::Varint, &vx.0, &vy.0), x.cmp(&y));
        prop_assert_eq!(compare(&ColumnType::BigInt, &a.to_be_bytes(), &b.to_be_bytes()), a.cmp(&b));
        let (da, db) = (CqlDate::from_days_since_epoch(a as i32), CqlDate::from_days_since_epoch(b as i32));
        prop_assert_eq!(compare(&ColumnType::Date, &da.0.to_be_bytes(), &db.0.to_be_bytes()), (a as i32).cmp(&(b as i32)));
    }

    #[test]
    fn compare_never_panics(t in column_type(), a in prop::collection::vec(any::<u8>(), 0..48), b in prop::collection::vec(any::<u8>(), 0..48)) {
        let _ = cql_proto::value::compare(&t, &a, &b);
        prop_assert_eq!(cql_proto::value::compare(&t, &a, &a), std::cmp::Ordering::Equal);
    }

    #[test]
    fn literals_round_trip(d in any::<i32>(), t in 0..=CqlTime::MAX_NANOS, ms in -10_000_000_000_000i64..10_000_000_000_000, dur in duration()) {
        let date = CqlDate::from_days_since_epoch(d);
        prop_assert_eq!(CqlDate::parse(&date.to_string()).unwrap(), date);
        prop_assert_eq!(CqlTime::parse(&CqlTime(t).to_string()).unwrap(), CqlTime(t));
        prop_assert_eq!(CqlTimestamp::parse(&CqlTimestamp(ms).to_string()).unwrap(), CqlTimestamp(ms));
        prop_assert_eq!(CqlDuration::parse(&dur.to_string()).unwrap(), dur);
    }
}
