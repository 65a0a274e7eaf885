//! The derive macros of `cql-macros`, reached through `cql-session`'s `derive` feature.
//!
//! Expected bytes are written by hand from the spec's layout: a `[value]` / `[bytes]` is an
//! `[int]` length (big endian, `-1` = null) followed by the bytes; a UDT value is its fields as
//! `[bytes]` in the order of the UDT type's fields.

use bytes::{Bytes, BytesMut};
use cql_session::deserialize::{
    DeserializationError, DeserializeRow, DeserializeValue, TypeCheckError,
};
use cql_session::serialize::{SerializationError, SerializeRow, SerializeValue};
use proto::response::ColumnSpec;
use proto::{ColumnType, DecodeError, EncodeError};

use crate::derive_common::{de_row, one_row, rows_over, ser_row, spec, udt_named};

fn udt(fields: &[(&str, ColumnType)]) -> ColumnType {
    udt_named("address", fields)
}

// ---- SerializeRow ------------------------------------------------------------------------------

#[derive(Debug, cql_session::SerializeRow, cql_session::DeserializeRow, PartialEq)]
struct User {
    id: i64,
    #[cql(rename = "user_name")]
    name: String,
    #[cql(skip)]
    cache: u8,
}

fn user() -> User {
    User {
        id: 42,
        name: "ab".to_owned(),
        cache: 7,
    }
}

#[test]
fn serialize_row_matches_fields_to_markers_by_name_in_marker_order() {
    let specs = [
        spec("user_name", ColumnType::Text),
        spec("id", ColumnType::BigInt),
    ];
    let (bytes, n) = ser_row(&user(), &specs).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        bytes,
        [
            0x00, 0x00, 0x00, 0x02, b'a', b'b', // user_name: text "ab"
            0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x2A, // id: bigint 42
        ]
    );
    assert!(!user().is_empty());
}

#[test]
fn serialize_row_writes_a_field_once_per_marker_with_its_name() {
    let specs = [
        spec("id", ColumnType::BigInt),
        spec("user_name", ColumnType::Text),
        spec("id", ColumnType::BigInt),
    ];
    let (bytes, n) = ser_row(&user(), &specs).unwrap();
    assert_eq!(n, 3);
    let id = [0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x2A];
    let mut want = id.to_vec();
    want.extend_from_slice(&[0x00, 0x00, 0x00, 0x02, b'a', b'b']);
    want.extend_from_slice(&id);
    assert_eq!(bytes, want);
}

#[test]
fn serialize_row_fails_for_a_marker_without_a_field() {
    let specs = [
        spec("id", ColumnType::BigInt),
        spec("user_name", ColumnType::Text),
        spec("cache", ColumnType::TinyInt),
    ];
    let err = ser_row(&user(), &specs).unwrap_err();
    assert!(
        matches!(&err, SerializationError::ValueMissingForColumn { name, rust_type }
            if name == "cache" && rust_type.ends_with("User")),
        "{err:?}"
    );
}

#[test]
fn serialize_row_fails_for_a_field_without_a_marker() {
    // The renamed field is looked up under its CQL name, not its Rust name.
    let specs = [
        spec("id", ColumnType::BigInt),
        spec("name", ColumnType::Text),
    ];
    let err = ser_row(&user(), &specs).unwrap_err();
    assert!(
        matches!(&err, SerializationError::ValueMissingForColumn { name, .. } if name == "name"),
        "{err:?}"
    );
    let specs = [spec("id", ColumnType::BigInt)];
    let err = ser_row(&user(), &specs).unwrap_err();
    assert!(
        matches!(&err, SerializationError::NoColumnWithName { name, .. } if name == "user_name"),
        "{err:?}"
    );
}

#[test]
fn serialize_row_fails_for_a_field_of_the_wrong_type() {
    let specs = [
        spec("user_name", ColumnType::Text),
        spec("id", ColumnType::Int),
    ];
    let err = ser_row(&user(), &specs).unwrap_err();
    assert!(
        matches!(&err, SerializationError::Column { index: 1, name, source: EncodeError::TypeMismatch { .. } }
            if name == "id"),
        "{err:?}"
    );
}

#[derive(cql_session::SerializeRow, cql_session::DeserializeRow, Debug, PartialEq)]
#[cql(flavor = "enforce_order")]
struct Ordered {
    a: i32,
    b: Option<String>,
}

#[test]
fn serialize_row_in_order_writes_fields_by_position() {
    let specs = [spec("a", ColumnType::Int), spec("b", ColumnType::Text)];
    let (bytes, n) = ser_row(&Ordered { a: 7, b: None }, &specs).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        bytes,
        [
            0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, // a: int 7
            0xFF, 0xFF, 0xFF, 0xFF, // b: null
        ]
    );
}

#[test]
fn serialize_row_in_order_checks_count_and_names() {
    let row = Ordered { a: 7, b: None };
    let err = ser_row(&row, &[spec("a", ColumnType::Int)]).unwrap_err();
    assert!(
        matches!(
            err,
            SerializationError::WrongColumnCount {
                expected: 1,
                got: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let specs = [spec("b", ColumnType::Int), spec("a", ColumnType::Text)];
    let err = ser_row(&row, &specs).unwrap_err();
    assert!(
        matches!(&err, SerializationError::ValueMissingForColumn { name, .. } if name == "b"),
        "{err:?}"
    );
}

#[derive(cql_session::SerializeRow)]
#[cql(flavor = "enforce_order", skip_name_checks)]
struct Unnamed {
    first: i8,
    second: i16,
}

#[test]
fn serialize_row_without_name_checks_ignores_marker_names() {
    let specs = [
        spec("x", ColumnType::TinyInt),
        spec("y", ColumnType::SmallInt),
    ];
    let (bytes, _) = ser_row(
        &Unnamed {
            first: -1,
            second: 0x0102,
        },
        &specs,
    )
    .unwrap();
    assert_eq!(
        bytes,
        [
            0x00, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02
        ]
    );
}

#[derive(cql_session::SerializeRow, cql_session::DeserializeRow, Debug, Default, PartialEq)]
struct OnlySkipped {
    #[cql(skip)]
    hidden: u32,
}

#[test]
fn a_row_without_active_fields_is_empty_and_takes_no_markers() {
    let row = OnlySkipped { hidden: 3 };
    assert!(row.is_empty());
    assert_eq!(ser_row(&row, &[]).unwrap(), (vec![], 0));
    let err = ser_row(&row, &[spec("hidden", ColumnType::Int)]).unwrap_err();
    assert!(
        matches!(err, SerializationError::ValueMissingForColumn { .. }),
        "{err:?}"
    );

    let rows = one_row(&[], &[]);
    assert_eq!(
        de_row::<OnlySkipped>(&rows).unwrap(),
        OnlySkipped { hidden: 0 }
    );
}

#[derive(cql_session::SerializeRow)]
struct Generic<T> {
    value: T,
}

#[test]
fn serialize_row_of_a_generic_struct() {
    let specs = [spec("value", ColumnType::Boolean)];
    let (bytes, _) = ser_row(&Generic { value: true }, &specs).unwrap();
    assert_eq!(bytes, [0x00, 0x00, 0x00, 0x01, 0x01]);
}

mod custom_crate_path {
    use cql_session as session;

    /// Generated code reaches the traits through `session::` instead of `::cql_session::`.
    #[derive(session::SerializeRow, session::DeserializeRow)]
    #[cql(crate = session)]
    pub(super) struct Renamed {
        pub(super) v: i32,
    }

    #[derive(session::SerializeRow)]
    #[cql(crate = "session")]
    pub(super) struct RenamedStr {
        pub(super) v: i32,
    }
}

#[test]
fn the_crate_attribute_changes_the_path_of_generated_code() {
    let specs = [spec("v", ColumnType::Int)];
    let want = [0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0x00];
    let (bytes, _) = ser_row(&custom_crate_path::Renamed { v: 256 }, &specs).unwrap();
    assert_eq!(bytes, want);
    let (bytes, _) = ser_row(&custom_crate_path::RenamedStr { v: 256 }, &specs).unwrap();
    assert_eq!(bytes, want);
    let rows = one_row(&specs, &want);
    assert_eq!(de_row::<custom_crate_path::Renamed>(&rows).unwrap().v, 256);
}

// ---- DeserializeRow ----------------------------------------------------------------------------

#[derive(cql_session::DeserializeRow, Debug, PartialEq)]
struct Borrowed<'a> {
    #[cql(rename = "user_name")]
    name: &'a str,
    id: i64,
    #[cql(default_when_null)]
    score: i32,
    maybe: Option<i32>,
    #[cql(skip)]
    local: Vec<u8>,
}

fn borrowed_specs() -> Vec<ColumnSpec> {
    vec![
        spec("id", ColumnType::BigInt),
        spec("maybe", ColumnType::Int),
        spec("user_name", ColumnType::Text),
        spec("score", ColumnType::Int),
    ]
}

const BORROWED_ROW: &[u8] = &[
    0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // id: bigint 256
    0xFF, 0xFF, 0xFF, 0xFF, // maybe: null
    0x00, 0x00, 0x00, 0x03, b'b', b'o', b'b', // user_name: text "bob"
    0xFF, 0xFF, 0xFF, 0xFF, // score: null
];

#[test]
fn deserialize_row_matches_columns_by_name_and_borrows_from_the_frame() {
    let content = Bytes::from_static(BORROWED_ROW);
    let rows = rows_over(&borrowed_specs(), content.clone());
    let row: Borrowed<'_> = de_row(&rows).unwrap();
    assert_eq!(
        row,
        Borrowed {
            name: "bob",
            id: 256,
            score: 0,
            maybe: None,
            local: vec![],
        }
    );
    // The `&str` points into the rows' bytes: no copy.
    assert!(content.as_ptr_range().contains(&row.name.as_ptr()));
}

#[test]
fn deserialize_row_type_check_fails_for_a_column_of_the_wrong_type() {
    let mut specs = borrowed_specs();
    specs[2].typ = ColumnType::Int;
    let err = Borrowed::type_check(&specs).unwrap_err();
    assert!(
        matches!(&err, TypeCheckError::ColumnType { index: 2, name, source: DecodeError::TypeMismatch { .. }, .. }
            if name == "user_name"),
        "{err:?}"
    );
}

#[test]
fn deserialize_row_type_check_fails_for_a_missing_or_unexpected_column() {
    let mut specs = borrowed_specs();
    specs.remove(1);
    let err = Borrowed::type_check(&specs).unwrap_err();
    assert!(
        matches!(&err, TypeCheckError::MissingColumn { name, .. } if name == "maybe"),
        "{err:?}"
    );

    let mut specs = borrowed_specs();
    specs.push(spec("local", ColumnType::Blob));
    let err = Borrowed::type_check(&specs).unwrap_err();
    assert!(
        matches!(&err, TypeCheckError::UnexpectedColumn { name, .. } if name == "local"),
        "{err:?}"
    );
    // The Rust name of a renamed field is not a column name.
    let mut specs = borrowed_specs();
    specs[2].name = "name".into();
    assert!(matches!(
        Borrowed::type_check(&specs),
        Err(TypeCheckError::UnexpectedColumn { .. })
    ));
}

#[test]
fn deserialize_row_fails_for_a_null_in_a_non_option_field() {
    let specs = borrowed_specs();
    let mut content = BORROWED_ROW.to_vec();
    // Make `id` null: replace its 12 bytes with a -1 length.
    content.splice(0..12, [0xFF, 0xFF, 0xFF, 0xFF]);
    let rows = one_row(&specs, &content);
    let err = de_row::<Borrowed<'_>>(&rows).unwrap_err();
    assert!(
        matches!(&err, DeserializationError::Column { index: 0, name, .. } if name == "id"),
        "{err:?}"
    );
}

#[test]
fn deserialize_row_in_order_reads_columns_by_position() {
    let specs = [spec("a", ColumnType::Int), spec("b", ColumnType::Text)];
    let content = [
        0x00, 0x00, 0x00, 0x04, 0, 0, 0, 9, 0x00, 0x00, 0x00, 0x01, b'z',
    ];
    let rows = one_row(&specs, &content);
    assert_eq!(
        de_row::<Ordered>(&rows).unwrap(),
        Ordered {
            a: 9,
            b: Some("z".to_owned())
        }
    );
    let err = Ordered::type_check(&specs[..1]).unwrap_err();
    assert!(
        matches!(
            err,
            TypeCheckError::WrongColumnCount {
                expected: 2,
                got: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let swapped = [spec("b", ColumnType::Text), spec("a", ColumnType::Int)];
    let err = Ordered::type_check(&swapped).unwrap_err();
    assert!(
        matches!(&err, TypeCheckError::MissingColumn { name, .. } if name == "a"),
        "{err:?}"
    );
}

#[test]
fn serialize_then_deserialize_a_row_round_trips() {
    let specs = [
        spec("id", ColumnType::BigInt),
        spec("user_name", ColumnType::Text),
    ];
    let (bytes, _) = ser_row(&user(), &specs).unwrap();
    let rows = one_row(&specs, &bytes);
    // `cache` is skipped: it comes back as its default.
    assert_eq!(de_row::<User>(&rows).unwrap(), User { cache: 0, ..user() });
}

// ---- UDTs: SerializeValue and DeserializeValue -------------------------------------------------

#[derive(cql_session::SerializeValue, cql_session::DeserializeValue, Debug, Clone, PartialEq)]
struct Address {
    street: String,
    #[cql(rename = "zip_code")]
    zip: i32,
    note: Option<String>,
}

fn address_type() -> ColumnType {
    udt(&[
        ("zip_code", ColumnType::Int),
        ("street", ColumnType::Text),
        ("extra", ColumnType::Text),
        ("note", ColumnType::Text),
    ])
}

/// `Address { street: "elm", zip: 12345, note: None }` as `address_type()`.
const ADDRESS: &[u8] = &[
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x30, 0x39, // zip_code: int 12345
    0x00, 0x00, 0x00, 0x03, b'e', b'l', b'm', // street: text "elm"
    0xFF, 0xFF, 0xFF, 0xFF, // extra: not in the struct, null
    0xFF, 0xFF, 0xFF, 0xFF, // note: None, null
];

fn address() -> Address {
    Address {
        street: "elm".to_owned(),
        zip: 12345,
        note: None,
    }
}

#[test]
fn serialize_udt_writes_fields_in_the_types_order_with_nulls_for_unknown_fields() {
    let mut buf = BytesMut::new();
    address().serialize(&address_type(), &mut buf).unwrap();
    assert_eq!(&buf[..], ADDRESS);
}

#[derive(cql_session::SerializeRow)]
struct WithUdt {
    home: Address,
}

#[test]
fn a_udt_struct_is_a_bound_value_with_its_length() {
    let specs = [spec("home", address_type())];
    let (bytes, n) = ser_row(&WithUdt { home: address() }, &specs).unwrap();
    assert_eq!(n, 1);
    assert_eq!(&bytes[..4], &[0x00, 0x00, 0x00, 23]);
    assert_eq!(&bytes[4..], ADDRESS);
}

#[test]
fn serialize_udt_fails_for_a_type_that_does_not_fit() {
    let mut buf = BytesMut::new();
    let err = address()
        .serialize(&ColumnType::Text, &mut buf)
        .unwrap_err();
    assert!(matches!(err, EncodeError::TypeMismatch { .. }), "{err:?}");

    // The UDT has no `street` field.
    let typ = udt(&[("zip_code", ColumnType::Int), ("note", ColumnType::Text)]);
    let err = address().serialize(&typ, &mut buf).unwrap_err();
    assert!(
        matches!(&err, EncodeError::TypeMismatch { got, .. } if got.contains("`street`")),
        "{err:?}"
    );
    assert!(
        buf.is_empty(),
        "nothing is written for a type that does not fit"
    );

    // A field of the wrong type.
    let typ = udt(&[
        ("zip_code", ColumnType::Text),
        ("street", ColumnType::Text),
        ("note", ColumnType::Text),
    ]);
    assert!(address().serialize(&typ, &mut buf).is_err());
}

#[test]
fn deserialize_udt_matches_fields_by_name() {
    let typ = address_type();
    Address::type_check(&typ).unwrap();
    let mut with_note = ADDRESS.to_vec();
    with_note.truncate(ADDRESS.len() - 4);
    with_note.extend_from_slice(&[0x00, 0x00, 0x00, 0x02, b'h', b'i']);
    assert_eq!(
        Address::deserialize(&typ, Some(&with_note)).unwrap(),
        Address {
            note: Some("hi".to_owned()),
            ..address()
        }
    );
}

#[test]
fn deserialize_udt_reads_missing_trailing_fields_as_null() {
    let typ = address_type();
    // The value ends after `street`: `extra` and `note` are null, and `note` is an `Option`.
    let short = &ADDRESS[..15];
    assert_eq!(Address::deserialize(&typ, Some(short)).unwrap(), address());
    // Ending before `street`, a `String`, is an error.
    let err = Address::deserialize(&typ, Some(&ADDRESS[..8])).unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err:?}");
}

#[test]
fn deserialize_udt_rejects_malformed_values() {
    let typ = address_type();
    assert!(Address::deserialize(&typ, None).is_err(), "null");
    let mut trailing = ADDRESS.to_vec();
    trailing.push(0);
    let err = Address::deserialize(&typ, Some(&trailing)).unwrap_err();
    assert!(
        matches!(err, DecodeError::TrailingBytes { count: 1, .. }),
        "{err:?}"
    );
    // A field length past the end.
    let err = Address::deserialize(&typ, Some(&ADDRESS[..10])).unwrap_err();
    assert!(matches!(err, DecodeError::UnexpectedEof { .. }), "{err:?}");
    let err = Address::deserialize(&typ, Some(&ADDRESS[..2])).unwrap_err();
    assert!(matches!(err, DecodeError::UnexpectedEof { .. }), "{err:?}");
}

#[test]
fn deserialize_udt_type_check_fails_for_a_type_that_does_not_fit() {
    assert!(Address::type_check(&ColumnType::Int).is_err());
    let no_street = udt(&[("zip_code", ColumnType::Int), ("note", ColumnType::Text)]);
    let err = Address::type_check(&no_street).unwrap_err();
    assert!(
        matches!(&err, DecodeError::TypeMismatch { expected, .. } if expected.contains("`street`")),
        "{err:?}"
    );
    let wrong_zip = udt(&[
        ("zip_code", ColumnType::BigInt),
        ("street", ColumnType::Text),
        ("note", ColumnType::Text),
    ]);
    assert!(Address::type_check(&wrong_zip).is_err());
}

#[test]
fn udt_round_trips_through_a_row_and_a_list() {
    #[derive(cql_session::SerializeRow, cql_session::DeserializeRow, Debug, PartialEq)]
    struct Person {
        home: Address,
        past: Vec<Address>,
    }
    let person = Person {
        home: Address {
            note: Some("n".to_owned()),
            ..address()
        },
        past: vec![
            address(),
            Address {
                street: "oak".to_owned(),
                zip: -1,
                note: None,
            },
        ],
    };
    let specs = [
        spec("past", ColumnType::List(Box::new(address_type()))),
        spec("home", address_type()),
    ];
    let (bytes, _) = ser_row(&person, &specs).unwrap();
    let rows = one_row(&specs, &bytes);
    assert_eq!(de_row::<Person>(&rows).unwrap(), person);
}

#[derive(cql_session::SerializeValue, cql_session::DeserializeValue, Debug, PartialEq)]
#[cql(forbid_excess_udt_fields)]
struct Strict {
    a: i32,
}

#[test]
fn forbid_excess_udt_fields_rejects_udt_fields_without_a_struct_field() {
    let typ = udt(&[("a", ColumnType::Int), ("b", ColumnType::Int)]);
    let err = Strict { a: 1 }
        .serialize(&typ, &mut BytesMut::new())
        .unwrap_err();
    assert!(
        matches!(&err, EncodeError::TypeMismatch { got, .. } if got.contains("`b`")),
        "{err:?}"
    );
    let err = Strict::type_check(&typ).unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err:?}");

    let exact = udt(&[("a", ColumnType::Int)]);
    let mut buf = BytesMut::new();
    Strict { a: 1 }.serialize(&exact, &mut buf).unwrap();
    assert_eq!(&buf[..], [0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
    Strict::type_check(&exact).unwrap();
    assert_eq!(
        Strict::deserialize(&exact, Some(&buf)).unwrap(),
        Strict { a: 1 }
    );
}

#[derive(cql_session::SerializeValue, cql_session::DeserializeValue, Debug, PartialEq)]
#[cql(flavor = "enforce_order")]
struct Point {
    x: i32,
    #[cql(skip)]
    label: String,
    y: i32,
}

#[test]
fn udt_in_order_matches_fields_by_position_and_checks_names() {
    let typ = udt(&[
        ("x", ColumnType::Int),
        ("y", ColumnType::Int),
        ("z", ColumnType::Int),
    ]);
    let p = Point {
        x: 1,
        label: "skipped".to_owned(),
        y: 2,
    };
    let mut buf = BytesMut::new();
    p.serialize(&typ, &mut buf).unwrap();
    let want = [
        0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1, // x
        0x00, 0x00, 0x00, 0x04, 0, 0, 0, 2, // y
        0xFF, 0xFF, 0xFF, 0xFF, // z: null
    ];
    assert_eq!(&buf[..], want);
    Point::type_check(&typ).unwrap();
    assert_eq!(
        Point::deserialize(&typ, Some(&want)).unwrap(),
        Point {
            label: String::new(),
            ..p
        }
    );

    let swapped = udt(&[("y", ColumnType::Int), ("x", ColumnType::Int)]);
    assert!(p.serialize(&swapped, &mut BytesMut::new()).is_err());
    assert!(Point::type_check(&swapped).is_err());
    assert!(Point::deserialize(&swapped, Some(&want[..16])).is_err());
    let short = udt(&[("x", ColumnType::Int)]);
    assert!(p.serialize(&short, &mut BytesMut::new()).is_err());
    assert!(Point::type_check(&short).is_err());
}

#[derive(cql_session::DeserializeValue, Debug, PartialEq)]
struct Defaulted {
    #[cql(default_when_null)]
    n: i64,
    s: Option<String>,
}

#[test]
fn default_when_null_in_a_udt_field() {
    let typ = udt(&[("n", ColumnType::BigInt), ("s", ColumnType::Text)]);
    assert_eq!(
        Defaulted::deserialize(&typ, Some(&[0xFF, 0xFF, 0xFF, 0xFF])).unwrap(),
        Defaulted { n: 0, s: None }
    );
    // An empty value: every field is null.
    assert_eq!(
        Defaulted::deserialize(&typ, Some(&[])).unwrap(),
        Defaulted { n: 0, s: None }
    );
}

#[derive(cql_session::SerializeRow, cql_session::DeserializeRow, Debug, PartialEq)]
struct RawAndGeneric<T> {
    r#type: i32,
    inner: T,
}

#[test]
fn raw_identifiers_lose_their_prefix_and_generic_fields_get_bounds() {
    let specs = [
        spec("inner", ColumnType::Text),
        spec("type", ColumnType::Int),
    ];
    let row = RawAndGeneric {
        r#type: 5,
        inner: "q".to_owned(),
    };
    let (bytes, _) = ser_row(&row, &specs).unwrap();
    assert_eq!(
        bytes,
        [
            0x00, 0x00, 0x00, 0x01, b'q', 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 5
        ]
    );
    let rows = one_row(&specs, &bytes);
    assert_eq!(de_row::<RawAndGeneric<String>>(&rows).unwrap(), row);
    // The bound is on `T`: a `T` that cannot read `text` fails the type check.
    assert!(RawAndGeneric::<i64>::type_check(&specs).is_err());
}
