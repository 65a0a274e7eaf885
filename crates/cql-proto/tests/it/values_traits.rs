//! Round trips and type checks of the value traits.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Debug;
use std::net::IpAddr;

use bytes::{Bytes, BytesMut};
use cql_proto::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, DeserializeValue,
    SerializeValue, Unset,
};
use cql_proto::{ColumnType, CqlValue, DecodeError, EncodeError};
use proptest::prelude::*;
use uuid::Uuid;

fn ser<T: SerializeValue + ?Sized>(v: &T, t: &ColumnType) -> Vec<u8> {
    let mut b = BytesMut::new();
    v.serialize(t, &mut b).unwrap();
    b.to_vec()
}

/// Serializes, checks the bytes against the dynamic encoder, and reads the value back.
fn round_trip<T>(v: T, t: &ColumnType)
where
    T: SerializeValue + for<'a> DeserializeValue<'a> + PartialEq + Debug,
{
    let bytes = ser(&v, t);
    T::type_check(t).unwrap();
    let back = T::deserialize(t, Some(&bytes)).unwrap();
    assert_eq!(back, v);
    // The traits and CqlValue agree on the bytes.
    let dynamic = CqlValue::decode_bytes(t, &bytes).unwrap();
    let mut again = BytesMut::new();
    dynamic.encode_bytes(t, &mut again).unwrap();
    assert_eq!(&again[..], &bytes[..]);
}

#[test]
fn natives_round_trip() {
    use ColumnType as T;
    round_trip(-5i8, &T::TinyInt);
    round_trip(-300i16, &T::SmallInt);
    round_trip(7i32, &T::Int);
    round_trip(i64::MIN, &T::BigInt);
    round_trip(42i64, &T::Counter);
    round_trip(1.5f32, &T::Float);
    round_trip(-0.25f64, &T::Double);
    round_trip(true, &T::Boolean);
    round_trip("héllo".to_owned(), &T::Text);
    round_trip("plain".to_owned(), &T::Ascii);
    round_trip(vec![1u8, 2, 3], &T::Blob);
    round_trip(Bytes::from_static(b"xy"), &T::Blob);
    round_trip(Uuid::from_u128(0x1234), &T::Uuid);
    round_trip("10.0.0.1".parse::<IpAddr>().unwrap(), &T::Inet);
    round_trip(CqlDate(1 << 31), &T::Date);
    round_trip(CqlTime(5), &T::Time);
    round_trip(CqlTimestamp(-7), &T::Timestamp);
    round_trip(
        CqlDuration {
            months: 1,
            days: 2,
            nanoseconds: 3,
        },
        &T::Duration,
    );
    round_trip(CqlVarint::from(-129i64), &T::Varint);
    round_trip(CqlDecimal::from_unscaled(12345, 2), &T::Decimal);
    assert_eq!(ser(&1i32, &T::Int), [0, 0, 0, 1]);
    assert_eq!(ser("ab", &T::Text), b"ab");
}

#[test]
fn borrowing_deserialize() {
    let t = ColumnType::Text;
    let frame = b"borrowed".to_vec();
    let s: &str = <&str>::deserialize(&t, Some(&frame)).unwrap();
    assert_eq!(s, "borrowed");
    assert!(std::ptr::eq(s.as_ptr(), frame.as_ptr()));
    let b: &[u8] = <&[u8]>::deserialize(&ColumnType::Blob, Some(&frame)).unwrap();
    assert!(std::ptr::eq(b.as_ptr(), frame.as_ptr()));
    // A list of borrowed strings.
    let lt = ColumnType::List(Box::new(ColumnType::Text));
    let bytes = ser(&vec!["a", "bc"], &lt);
    let v: Vec<&str> = Vec::deserialize(&lt, Some(&bytes)).unwrap();
    assert_eq!(v, ["a", "bc"]);
}

#[test]
fn collections_round_trip() {
    use ColumnType as T;
    let li = T::List(Box::new(T::Int));
    round_trip(vec![1i32, 2, 3], &li);
    assert_eq!(
        ser(&vec![1i32, 2], &li),
        [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2]
    );
    round_trip(
        BTreeSet::from(["a".to_owned(), "b".to_owned()]),
        &T::Set(Box::new(T::Text)),
    );
    round_trip(HashSet::from([1i64, 2]), &T::Set(Box::new(T::BigInt)));
    let mt = T::Map(Box::new(T::Text), Box::new(T::List(Box::new(T::Int))));
    round_trip(BTreeMap::from([("k".to_owned(), vec![1i32])]), &mt);
    round_trip(HashMap::from([("k".to_owned(), vec![1i32, 2])]), &mt);
    round_trip(vec![1.0f32, 2.0], &T::Vector(Box::new(T::Float), 2));
    round_trip(
        vec!["x".to_owned(), String::new()],
        &T::Vector(Box::new(T::Text), 2),
    );
    assert_eq!(
        ser(&vec![1.0f32], &T::Vector(Box::new(T::Float), 1)),
        [0x3f, 0x80, 0, 0]
    );
}

#[test]
fn tuples_and_options() {
    use ColumnType as T;
    let tt = T::Tuple(vec![T::Int, T::Text, T::Boolean]);
    round_trip((1i32, "a".to_owned(), true), &tt);
    round_trip((Some(1i32), None::<String>, Some(false)), &tt);
    assert_eq!(
        ser(&(5i32, None::<String>), &T::Tuple(vec![T::Int, T::Text])),
        [0, 0, 0, 4, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff]
    );
    round_trip(
        (1i8, 2i16, 3i32, 4i64, 5.0f32, 6.0f64, true, "h".to_owned()),
        &T::Tuple(vec![
            T::TinyInt,
            T::SmallInt,
            T::Int,
            T::BigInt,
            T::Float,
            T::Double,
            T::Boolean,
            T::Text,
        ]),
    );
    // A missing trailing element reads as null.
    let two: (i32, Option<String>) = DeserializeValue::deserialize(
        &T::Tuple(vec![T::Int, T::Text]),
        Some(&[0, 0, 0, 4, 0, 0, 0, 9]),
    )
    .unwrap();
    assert_eq!(two, (9, None));
    // Nulls only for Option.
    assert_eq!(Option::<i32>::deserialize(&T::Int, None).unwrap(), None);
    assert!(i32::deserialize(&T::Int, None).is_err());
    assert_eq!(
        CqlValue::deserialize(&T::Int, Some(&[])).unwrap(),
        CqlValue::Empty
    );
    assert!(i32::deserialize(&T::Int, Some(&[])).is_err());
}

#[test]
fn cells_null_and_unset() {
    let mut b = BytesMut::new();
    7i32.serialize_cell(&ColumnType::Int, &mut b).unwrap();
    None::<i32>
        .serialize_cell(&ColumnType::Int, &mut b)
        .unwrap();
    Unset.serialize_cell(&ColumnType::Int, &mut b).unwrap();
    assert_eq!(
        &b[..],
        &[
            0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe
        ]
    );
    assert!(
        Unset
            .serialize(&ColumnType::Int, &mut BytesMut::new())
            .is_err()
    );
}

#[test]
fn strict_type_checks() {
    use ColumnType as T;
    assert!(matches!(
        1i32.serialize(&T::BigInt, &mut BytesMut::new()),
        Err(EncodeError::TypeMismatch { .. })
    ));
    assert!(1i64.serialize(&T::Timestamp, &mut BytesMut::new()).is_err());
    assert!("é".serialize(&T::Ascii, &mut BytesMut::new()).is_err());
    assert!(
        vec![1i32]
            .serialize(
                &T::Map(Box::new(T::Int), Box::new(T::Int)),
                &mut BytesMut::new()
            )
            .is_err()
    );
    assert!(
        Uuid::from_u128(1)
            .serialize(&T::Timeuuid, &mut BytesMut::new())
            .is_err()
    );
    assert!(matches!(
        i32::type_check(&T::BigInt),
        Err(DecodeError::TypeMismatch { .. })
    ));
    assert!(i64::type_check(&T::Counter).is_ok());
    assert!(String::type_check(&T::Blob).is_err());
    assert!(Vec::<i32>::type_check(&T::List(Box::new(T::Text))).is_err());
    assert!(HashSet::<i32>::type_check(&T::Vector(Box::new(T::Int), 1)).is_err());
    assert!(<(i32, i32)>::type_check(&T::Tuple(vec![T::Int])).is_err());
    assert!(
        BTreeMap::<String, i32>::type_check(&T::Map(Box::new(T::Text), Box::new(T::Int))).is_ok()
    );
    // Bad bytes are errors, not panics.
    assert!(i32::deserialize(&T::Int, Some(&[1, 2])).is_err());
    assert!(Vec::<i32>::deserialize(&T::List(Box::new(T::Int)), Some(&[0x7f, 0, 0, 0])).is_err());
}

proptest! {
    #[test]
    fn vec_of_i64_round_trips(v in prop::collection::vec(any::<i64>(), 0..20)) {
        round_trip(v, &ColumnType::List(Box::new(ColumnType::BigInt)));
    }

    #[test]
    fn map_round_trips(m in prop::collection::btree_map(any::<String>(), any::<i32>(), 0..8)) {
        round_trip(m, &ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Int)));
    }

    #[test]
    fn arbitrary_bytes_never_panic_typed(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let t = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::List(Box::new(ColumnType::Int))));
        let _ = BTreeMap::<String, Vec<i32>>::deserialize(&t, Some(&bytes));
        let tt = ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text]);
        let _ = <(Option<i32>, Option<&str>)>::deserialize(&tt, Some(&bytes));
    }
}

/// CQL sends an empty list, set or map as null: the collection types read it as empty, while
/// a null vector (a fixed-size type) is still an error.
#[test]
fn null_collections_read_as_empty() {
    let list = ColumnType::List(Box::new(ColumnType::Int));
    let set = ColumnType::Set(Box::new(ColumnType::Text));
    let map = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Int));
    assert_eq!(
        Vec::<i32>::deserialize(&list, None).unwrap(),
        Vec::<i32>::new()
    );
    assert!(
        HashSet::<String>::deserialize(&set, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        BTreeSet::<String>::deserialize(&set, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        HashMap::<String, i32>::deserialize(&map, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        BTreeMap::<String, i32>::deserialize(&map, None)
            .unwrap()
            .is_empty()
    );
    let vector = ColumnType::Vector(Box::new(ColumnType::Float), 3);
    assert!(Vec::<f32>::deserialize(&vector, None).is_err());
    assert!(i32::deserialize(&ColumnType::Int, None).is_err());
}
