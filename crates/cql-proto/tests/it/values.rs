//! Golden vectors for value encoding, written by hand from section 6 of the v4 spec (and 5.8/5.25
//! of the v5 spec for duration and vector), plus property tests.

use std::net::IpAddr;

use bytes::BytesMut;
use cql_proto::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, write_cell,
};
use cql_proto::{ColumnType, CqlValue, DecodeError, EncodeError};
use uuid::Uuid;

fn enc(v: &CqlValue, t: &ColumnType) -> Vec<u8> {
    let mut b = BytesMut::new();
    v.encode_bytes(t, &mut b).unwrap();
    b.to_vec()
}

/// Checks both directions against a hand-written byte string.
fn golden(t: ColumnType, v: CqlValue, bytes: &[u8]) {
    assert_eq!(enc(&v, &t), bytes, "encode {v:?} as {t}");
    assert_eq!(
        CqlValue::decode_bytes(&t, bytes).unwrap(),
        v,
        "decode {bytes:02x?} as {t}"
    );
}

#[test]
fn native_golden() {
    use ColumnType as T;
    use CqlValue as V;
    golden(T::Int, V::Int(1), &[0, 0, 0, 1]);
    golden(T::Int, V::Int(-2), &[0xff, 0xff, 0xff, 0xfe]);
    golden(T::BigInt, V::BigInt(-1), &[0xff; 8]);
    golden(T::Counter, V::Counter(258), &[0, 0, 0, 0, 0, 0, 1, 2]);
    golden(T::SmallInt, V::SmallInt(-32768), &[0x80, 0x00]);
    golden(T::TinyInt, V::TinyInt(-1), &[0xff]);
    golden(T::Boolean, V::Boolean(true), &[1]);
    golden(T::Boolean, V::Boolean(false), &[0]);
    golden(T::Ascii, V::Ascii("ab".into()), b"ab");
    golden(T::Text, V::Text("é".into()), &[0xc3, 0xa9]);
    golden(T::Blob, V::Blob(vec![0xca, 0xfe]), &[0xca, 0xfe]);
    // IEEE 754: 1.0f32 = 0x3f800000, -2.5f64 = 0xc004000000000000.
    golden(T::Float, V::Float(1.0), &[0x3f, 0x80, 0, 0]);
    golden(T::Double, V::Double(-2.5), &[0xc0, 0x04, 0, 0, 0, 0, 0, 0]);
    // date: unsigned days with the epoch at 2^31.
    golden(T::Date, V::Date(CqlDate(1 << 31)), &[0x80, 0, 0, 0]);
    golden(
        T::Date,
        V::Date(CqlDate((1 << 31) - 1)),
        &[0x7f, 0xff, 0xff, 0xff],
    );
    golden(
        T::Time,
        V::Time(CqlTime(1_000_000_000)),
        &[0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0x00],
    );
    golden(T::Timestamp, V::Timestamp(CqlTimestamp(-1)), &[0xff; 8]);
    golden(
        T::Inet,
        V::Inet("127.0.0.1".parse::<IpAddr>().unwrap()),
        &[127, 0, 0, 1],
    );
    let mut v6 = [0u8; 16];
    v6[15] = 1;
    golden(T::Inet, V::Inet("::1".parse::<IpAddr>().unwrap()), &v6);
    let u = Uuid::from_bytes([
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0, 0, 0, 0, 0, 0, 1,
    ]);
    golden(T::Uuid, V::Uuid(u), u.as_bytes());
    // A version-1 uuid: the high nibble of byte 6 is 1.
    let tu = Uuid::from_bytes([
        0xc0, 0x5e, 0x8e, 0x10, 0x3a, 0x7c, 0x11, 0xee, 0x80, 0, 0, 0, 0, 0, 0, 2,
    ]);
    golden(T::Timeuuid, V::Timeuuid(tu.into()), tu.as_bytes());
}

#[test]
fn varint_and_decimal_golden() {
    use ColumnType as T;
    use CqlValue as V;
    golden(T::Varint, V::Varint(CqlVarint(vec![0x00])), &[0x00]);
    golden(
        T::Varint,
        V::Varint(CqlVarint(vec![0x00, 0x80])),
        &[0x00, 0x80],
    ); // 128
    golden(
        T::Varint,
        V::Varint(CqlVarint(vec![0xff, 0x7f])),
        &[0xff, 0x7f],
    ); // -129
    assert_eq!(CqlVarint::from(128i64).0, vec![0x00, 0x80]);
    assert_eq!(CqlVarint::from(-129i64).0, vec![0xff, 0x7f]);
    assert_eq!(CqlVarint::from(-1i64).0, vec![0xff]);
    assert_eq!(CqlVarint::from(127i64).0, vec![0x7f]);
    assert_eq!(CqlVarint::from(-128i64).0, vec![0x80]);
    // decimal 123.45 = unscaled 12345 (0x3039), scale 2.
    golden(
        T::Decimal,
        V::Decimal(CqlDecimal {
            unscaled: CqlVarint(vec![0x30, 0x39]),
            scale: 2,
        }),
        &[0, 0, 0, 2, 0x30, 0x39],
    );
    // A decimal needs the scale and at least one varint byte.
    assert!(CqlValue::decode_bytes(&T::Decimal, &[0, 0, 0, 2]).is_err());
}

#[test]
fn duration_golden() {
    // 1 month, 2 days, 3 ns: zig-zag 2, 4, 6, each a one-byte vint.
    golden(
        ColumnType::Duration,
        CqlValue::Duration(CqlDuration {
            months: 1,
            days: 2,
            nanoseconds: 3,
        }),
        &[2, 4, 6],
    );
    // -1 month, 0 days, -1000 ns: zig-zag 1, 0, 1999 = 0x7cf -> two-byte vint [10]000111 11001111.
    golden(
        ColumnType::Duration,
        CqlValue::Duration(CqlDuration {
            months: -1,
            days: 0,
            nanoseconds: -1000,
        }),
        &[1, 0, 0x87, 0xcf],
    );
    // Mixed signs are invalid both ways.
    let mixed = CqlValue::Duration(CqlDuration {
        months: 1,
        days: -1,
        nanoseconds: 0,
    });
    assert!(
        mixed
            .encode_bytes(&ColumnType::Duration, &mut BytesMut::new())
            .is_err()
    );
    assert!(CqlValue::decode_bytes(&ColumnType::Duration, &[2, 1, 0]).is_err());
    // Trailing bytes after the three vints.
    assert!(CqlValue::decode_bytes(&ColumnType::Duration, &[2, 4, 6, 0]).is_err());
}

#[test]
fn collections_golden() {
    use ColumnType as T;
    use CqlValue as V;
    let list_int = T::List(Box::new(T::Int));
    golden(
        list_int.clone(),
        V::List(vec![V::Int(1), V::Int(2)]),
        &[0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2],
    );
    golden(
        T::Set(Box::new(T::Text)),
        V::Set(vec![V::Text("a".into())]),
        &[0, 0, 0, 1, 0, 0, 0, 1, b'a'],
    );
    golden(
        T::Map(Box::new(T::Text), Box::new(T::Int)),
        V::Map(vec![(V::Text("k".into()), V::Int(7))]),
        &[0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 4, 0, 0, 0, 7],
    );
    // A null element in a list is an error.
    assert!(CqlValue::decode_bytes(&list_int, &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]).is_err());
    // A count larger than the input is an error, not an allocation.
    assert!(CqlValue::decode_bytes(&list_int, &[0x7f, 0xff, 0xff, 0xff]).is_err());
    // Leftover bytes are an error.
    assert!(CqlValue::decode_bytes(&list_int, &[0, 0, 0, 0, 0]).is_err());
}

#[test]
fn tuple_and_udt_golden() {
    use ColumnType as T;
    use CqlValue as V;
    let tt = T::Tuple(vec![T::Int, T::Text]);
    golden(
        tt,
        V::Tuple(vec![Some(V::Int(5)), None]),
        &[0, 0, 0, 4, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff],
    );
    let udt = T::Udt {
        keyspace: "ks".into(),
        name: "addr".into(),
        fields: vec![("street".into(), T::Text), ("no".into(), T::Int)],
    };
    let full = V::Udt {
        keyspace: "ks".into(),
        name: "addr".into(),
        fields: vec![
            ("street".into(), Some(V::Text("x".into()))),
            ("no".into(), Some(V::Int(3))),
        ],
    };
    golden(
        udt.clone(),
        full,
        &[0, 0, 0, 1, b'x', 0, 0, 0, 4, 0, 0, 0, 3],
    );
    // Fewer fields than declared: the missing trailing field is null.
    let short = CqlValue::decode_bytes(&udt, &[0, 0, 0, 1, b'x']).unwrap();
    assert_eq!(
        short,
        V::Udt {
            keyspace: "ks".into(),
            name: "addr".into(),
            fields: vec![
                ("street".into(), Some(V::Text("x".into()))),
                ("no".into(), None),
            ],
        }
    );
    // A field the type does not have is a mismatch.
    let bad = V::Udt {
        keyspace: "ks".into(),
        name: "addr".into(),
        fields: vec![("zip".into(), Some(V::Int(1)))],
    };
    assert!(matches!(
        bad.encode_bytes(&udt, &mut BytesMut::new()),
        Err(EncodeError::TypeMismatch { .. })
    ));
}

#[test]
fn vector_golden() {
    use ColumnType as T;
    use CqlValue as V;
    // vector<float, 2>: fixed-size elements, concatenated.
    golden(
        T::Vector(Box::new(T::Float), 2),
        V::Vector(vec![V::Float(1.0), V::Float(1.0)]),
        &[0x3f, 0x80, 0, 0, 0x3f, 0x80, 0, 0],
    );
    // vector<text, 2>: variable-size elements, each prefixed by an unsigned vint length.
    golden(
        T::Vector(Box::new(T::Text), 2),
        V::Vector(vec![V::Text("ab".into()), V::Text(String::new())]),
        &[2, b'a', b'b', 0],
    );
    // Wrong dimension.
    assert!(
        V::Vector(vec![V::Float(1.0)])
            .encode_bytes(&T::Vector(Box::new(T::Float), 2), &mut BytesMut::new())
            .is_err()
    );
    assert!(CqlValue::decode_bytes(&T::Vector(Box::new(T::Float), 2), &[0; 7]).is_err());
}

#[test]
fn empty_and_validation() {
    use ColumnType as T;
    use CqlValue as V;
    assert_eq!(CqlValue::decode_bytes(&T::Int, &[]).unwrap(), V::Empty);
    assert_eq!(
        CqlValue::decode_bytes(&T::Text, &[]).unwrap(),
        V::Text(String::new())
    );
    assert_eq!(
        CqlValue::decode_bytes(&T::Blob, &[]).unwrap(),
        V::Blob(vec![])
    );
    assert!(CqlValue::decode_bytes(&T::Int, &[0, 0, 1]).is_err());
    assert!(CqlValue::decode_bytes(&T::Ascii, &[0x80]).is_err());
    assert!(matches!(
        CqlValue::decode_bytes(&T::Text, &[0xff]),
        Err(DecodeError::InvalidUtf8 { .. })
    ));
    assert!(CqlValue::decode_bytes(&T::Inet, &[1, 2, 3, 4, 5]).is_err());
    // time past the end of the day.
    assert!(CqlValue::decode_bytes(&T::Time, &86_400_000_000_000i64.to_be_bytes()).is_err());
    // A version-4 uuid is not a timeuuid.
    let v4 = Uuid::from_bytes([0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert!(CqlValue::decode_bytes(&T::Timeuuid, v4.as_bytes()).is_err());
    assert!(
        V::Timeuuid(v4.into())
            .encode_bytes(&T::Timeuuid, &mut BytesMut::new())
            .is_err()
    );
    assert!(
        V::Ascii("é".into())
            .encode_bytes(&T::Ascii, &mut BytesMut::new())
            .is_err()
    );
    let err = V::Int(1)
        .encode_bytes(&T::Text, &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(
        err,
        EncodeError::TypeMismatch {
            expected: "text".into(),
            got: "int".into()
        }
    );
}

#[test]
fn cells() {
    let mut b = BytesMut::new();
    write_cell(&mut b, Some(&CqlValue::Int(1)), &ColumnType::Int).unwrap();
    write_cell(&mut b, None, &ColumnType::Int).unwrap();
    assert_eq!(&b[..], &[0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
}

#[test]
fn deep_types_are_rejected() {
    let mut t = ColumnType::Int;
    let mut v = CqlValue::Int(1);
    for _ in 0..40 {
        t = ColumnType::List(Box::new(t));
        v = CqlValue::List(vec![v]);
    }
    assert!(v.encode_bytes(&t, &mut BytesMut::new()).is_err());
    let bytes = [0u8, 0, 0, 1, 0, 0, 0, 4].repeat(40);
    assert!(CqlValue::decode_bytes(&t, &bytes).is_err());
}

#[test]
fn zero_size_vector_elements_are_rejected() {
    // vector<vector<int, 0>, 4000000000>: every element would take zero bytes.
    let t = ColumnType::Vector(
        Box::new(ColumnType::Vector(Box::new(ColumnType::Int), 0)),
        4_000_000_000,
    );
    assert!(CqlValue::decode_bytes(&t, &[0]).is_err());
    assert_eq!(
        cql_proto::value::compare(&t, &[1], &[2]),
        std::cmp::Ordering::Less
    );
}

/// A decoded `timeuuid` is a `CqlTimeuuid` (as in the `scylla` crate 1.x), so values read
/// from a row sort as the server sorts them: by timestamp first, where [`Uuid`]'s bytewise
/// order puts the low 32 bits of the timestamp first.
#[test]
fn decoded_timeuuids_sort_in_server_order() {
    use ColumnType as T;
    // Timestamp 0x1_0000_0000 (time_mid 1, time_low 0) and timestamp 0xFFFF_FFFF.
    let later = [0, 0, 0, 0, 0, 1, 0x10, 0, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let earlier = [
        0xff, 0xff, 0xff, 0xff, 0, 0, 0x10, 0, 0x80, 0, 0, 0, 0, 0, 0, 0,
    ];
    let decode = |b: &[u8; 16]| CqlValue::decode_bytes(&T::Timeuuid, b).unwrap();
    let (a, b) = (decode(&later), decode(&earlier));
    let (Some(a), Some(b)) = (a.as_timeuuid(), b.as_timeuuid()) else {
        panic!("expected timeuuids: {a:?} {b:?}");
    };
    assert!(b < a, "server order: the earlier timestamp first");
    assert!(a.as_uuid() < b.as_uuid(), "bytewise order differs");
    assert_eq!(a.timestamp(), 0x1_0000_0000);
    // `as_uuid` still reads the uuid of either kind; a `uuid` is no timeuuid.
    assert_eq!(decode(&later).as_uuid(), Some(Uuid::from_bytes(later)));
    let plain = CqlValue::decode_bytes(&T::Uuid, &later).unwrap();
    assert_eq!(plain.as_timeuuid(), None);
}
