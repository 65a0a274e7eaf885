//! `MaybeUnset`, `MaybeEmpty`, `CqlTimeuuid`, 16-element tuples and the pointer and array impls:
//! golden bytes written from the spec (native_protocol_v4.spec, sections 3 and 6), round trips,
//! and the `timeuuid` order against `compare`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use cql_proto::value::{
    CqlTimeuuid, DeserializeValue, MaybeEmpty, MaybeUnset, SerializeValue, compare,
};
use cql_proto::{ColumnType, DecodeError, EncodeError};
use proptest::prelude::*;
use uuid::Uuid;

fn cell<T: SerializeValue + ?Sized>(v: &T, t: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut b = BytesMut::new();
    v.serialize_cell(t, &mut b)?;
    Ok(b.to_vec())
}

#[test]
fn maybe_unset_writes_the_unset_marker_or_the_value() {
    // [value]: "n < 0 … -2 … not set" (spec section 3, [value]).
    let unset: MaybeUnset<i32> = MaybeUnset::Unset;
    assert_eq!(
        cell(&unset, &ColumnType::Int).unwrap(),
        [0xFF, 0xFF, 0xFF, 0xFE]
    );
    assert_eq!(
        cell(&MaybeUnset::Set(7i32), &ColumnType::Int).unwrap(),
        [0, 0, 0, 4, 0, 0, 0, 7]
    );
    // Set(None) is a null (-1), not unset.
    assert_eq!(
        cell(&MaybeUnset::Set(None::<i32>), &ColumnType::Int).unwrap(),
        [0xFF; 4]
    );
    // The set value is still type-checked.
    assert!(matches!(
        cell(&MaybeUnset::Set(7i32), &ColumnType::Text),
        Err(EncodeError::TypeMismatch { .. })
    ));
    assert_eq!(MaybeUnset::from_option(Some(1)), MaybeUnset::Set(1));
    assert_eq!(MaybeUnset::<i32>::from_option(None), MaybeUnset::Unset);
}

#[test]
fn maybe_empty_reads_and_writes_zero_bytes() {
    let t = ColumnType::Int;
    assert_eq!(cell(&MaybeEmpty::<i32>::Empty, &t).unwrap(), [0, 0, 0, 0]);
    assert_eq!(
        cell(&MaybeEmpty::Value(-2i32), &t).unwrap(),
        [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFE]
    );
    assert_eq!(
        MaybeEmpty::<i32>::deserialize(&t, Some(&[])).unwrap(),
        MaybeEmpty::Empty
    );
    assert_eq!(
        MaybeEmpty::<i32>::deserialize(&t, Some(&[0, 0, 1, 0])).unwrap(),
        MaybeEmpty::Value(256)
    );
    // Without the wrapper, zero bytes are an error for `int`.
    assert!(i32::deserialize(&t, Some(&[])).is_err());
    // A null is still not a value, and the wrong type is still rejected, even when empty.
    assert!(MaybeEmpty::<i32>::deserialize(&t, None).is_err());
    assert!(matches!(
        MaybeEmpty::<i32>::deserialize(&ColumnType::Text, Some(&[])),
        Err(DecodeError::TypeMismatch { .. })
    ));
    assert_eq!(
        Option::<MaybeEmpty<Uuid>>::deserialize(&ColumnType::Uuid, None).unwrap(),
        None
    );
}

/// A version 1 uuid from its timestamp, clock sequence and node.
fn v1(ts: u64, clock_seq: u16, node: [u8; 6]) -> CqlTimeuuid {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((ts & 0xFFFF_FFFF) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((ts >> 32) & 0xFFFF) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((ts >> 48) & 0x0FFF) as u16) | 0x1000).to_be_bytes());
    b[8..10].copy_from_slice(&((clock_seq & 0x3FFF) | 0x8000).to_be_bytes());
    b[10..16].copy_from_slice(&node);
    CqlTimeuuid::from_bytes(b)
}

#[test]
fn timeuuid_orders_by_timestamp_then_signed_low_bytes() {
    // A later timestamp whose low 32 bits are smaller: bytewise it sorts first, by time last.
    let early = v1(0x0000_0001_FFFF_FFFF, 0, [0; 6]);
    let late = v1(0x0000_0002_0000_0000, 0, [0; 6]);
    assert!(early.as_bytes() > late.as_bytes());
    assert!(early < late);
    assert_eq!(early.timestamp(), 0x0000_0001_FFFF_FFFF);
    // Same timestamp: node byte 0x80 is -128 as a signed byte, so it sorts before 0x01.
    let neg = v1(5, 0, [0x80, 0, 0, 0, 0, 0]);
    let pos = v1(5, 0, [0x01, 0, 0, 0, 0, 0]);
    assert!(neg < pos);
    assert_eq!(neg.cmp(&neg), Ordering::Equal);
}

#[test]
fn timeuuid_serializes_only_as_a_version_1_timeuuid() {
    let t = v1(1, 2, [1, 2, 3, 4, 5, 6]);
    let bytes = cell(&t, &ColumnType::Timeuuid).unwrap();
    assert_eq!(&bytes[..4], [0, 0, 0, 16]);
    assert_eq!(&bytes[4..], t.as_bytes());
    assert_eq!(
        CqlTimeuuid::deserialize(&ColumnType::Timeuuid, Some(&bytes[4..])).unwrap(),
        t
    );
    assert!(cell(&t, &ColumnType::Uuid).is_err());
    let v4 = CqlTimeuuid::from(Uuid::from_u128(0x4000_0000_0000_4000_8000_0000_0000_0001));
    assert!(cell(&v4, &ColumnType::Timeuuid).is_err());
    assert!(CqlTimeuuid::deserialize(&ColumnType::Timeuuid, Some(v4.as_bytes())).is_err());
    assert!(CqlTimeuuid::deserialize(&ColumnType::Uuid, Some(t.as_bytes())).is_err());
    let s = t.to_string();
    assert_eq!(s.parse::<CqlTimeuuid>().unwrap(), t);
    assert_eq!(Uuid::from(t), *t.as_uuid());
}

proptest! {
    /// `Ord` is `compare`'s `timeuuid` order, and consistent with `Eq`.
    #[test]
    fn timeuuid_ord_is_compare(ts_a in 0u64..(1 << 60), ts_b in 0u64..(1 << 60),
                               ca in any::<u16>(), cb in any::<u16>(),
                               na in any::<[u8; 6]>(), nb in any::<[u8; 6]>(), same_ts: bool) {
        let a = v1(ts_a, ca, na);
        let b = v1(if same_ts { ts_a } else { ts_b }, cb, nb);
        let expected = compare(&ColumnType::Timeuuid, a.as_bytes(), b.as_bytes());
        prop_assert_eq!(a.cmp(&b), expected);
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(b.cmp(&a), expected.reverse());
        if a.timestamp() != b.timestamp() {
            prop_assert_eq!(a.cmp(&b), a.timestamp().cmp(&b.timestamp()));
        }
    }
}

#[test]
fn sixteen_element_tuples_round_trip() {
    type T16 = (
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        Option<String>,
    );
    let typ = ColumnType::Tuple(
        std::iter::repeat_n(ColumnType::Int, 15)
            .chain([ColumnType::Text])
            .collect(),
    );
    let v: T16 = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, None);
    let mut buf = BytesMut::new();
    v.serialize(&typ, &mut buf).unwrap();
    // 15 × ([int] 4, 4 bytes) then a null.
    assert_eq!(buf.len(), 15 * 8 + 4);
    assert_eq!(&buf[buf.len() - 4..], [0xFF; 4]);
    assert_eq!(&buf[8 * 14..8 * 15], [0, 0, 0, 4, 0, 0, 0, 14]);
    // std has no `PartialEq` for 16-tuples: compare the fields.
    let back = T16::deserialize(&typ, Some(&buf)).unwrap();
    assert_eq!((back.0, back.7, back.14, back.15), (0, 7, 14, None));
    // Arity is checked both ways.
    let short = ColumnType::Tuple(vec![ColumnType::Int; 15]);
    assert!(v.serialize(&short, &mut BytesMut::new()).is_err());
    assert!(T16::type_check(&short).is_err());
}

#[test]
fn pointers_and_cow_forward_to_the_pointee() {
    let text = ColumnType::Text;
    let hello = [0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'];
    assert_eq!(cell(&Arc::new("hello".to_owned()), &text).unwrap(), hello);
    assert_eq!(cell(&Arc::<str>::from("hello"), &text).unwrap(), hello);
    assert_eq!(cell(&Box::<str>::from("hello"), &text).unwrap(), hello);
    assert_eq!(cell(&Cow::Borrowed("hello"), &text).unwrap(), hello);
    assert_eq!(
        cell(&Cow::<str>::Owned("hello".into()), &text).unwrap(),
        hello
    );
    // A null inside a pointer is still a null.
    assert_eq!(
        cell(&Arc::new(None::<i32>), &ColumnType::Int).unwrap(),
        [0xFF; 4]
    );
    assert_eq!(
        cell(&Cow::<[u8]>::Borrowed(&[9]), &ColumnType::Blob).unwrap(),
        [0, 0, 0, 1, 9]
    );
    assert!(cell(&Arc::new(1i32), &text).is_err());

    let b = b"hello".as_slice();
    let cow = Cow::<str>::deserialize(&text, Some(b)).unwrap();
    assert!(matches!(cow, Cow::Borrowed("hello")));
    assert_eq!(&*Arc::<str>::deserialize(&text, Some(b)).unwrap(), "hello");
    assert_eq!(&*Box::<str>::deserialize(&text, Some(b)).unwrap(), "hello");
    assert_eq!(
        *Box::<i32>::deserialize(&ColumnType::Int, Some(&[0, 0, 0, 3])).unwrap(),
        3
    );
    assert_eq!(
        *Arc::<i32>::deserialize(&ColumnType::Int, Some(&[0, 0, 0, 3])).unwrap(),
        3
    );
    assert!(Arc::<i32>::deserialize(&text, Some(b)).is_err());
    assert!(matches!(
        Cow::<[u8]>::deserialize(&ColumnType::Blob, Some(b)).unwrap(),
        Cow::Borrowed(b"hello")
    ));
}

#[test]
fn byte_arrays_are_blobs_of_exactly_n_bytes() {
    let blob = ColumnType::Blob;
    assert_eq!(cell(&[1u8, 2, 3], &blob).unwrap(), [0, 0, 0, 3, 1, 2, 3]);
    assert!(cell(&[1u8, 2, 3], &ColumnType::Text).is_err());
    assert_eq!(
        <[u8; 3]>::deserialize(&blob, Some(&[1, 2, 3])).unwrap(),
        [1, 2, 3]
    );
    assert_eq!(<[u8; 0]>::deserialize(&blob, Some(&[])).unwrap(), [0u8; 0]);
    assert!(matches!(
        <[u8; 4]>::deserialize(&blob, Some(&[1, 2, 3])),
        Err(DecodeError::InvalidLength { len: 3, .. })
    ));
    assert!(<[u8; 3]>::deserialize(&blob, None).is_err());
    assert!(<[u8; 3]>::type_check(&ColumnType::Int).is_err());
}
