//! The derive features beyond plain structs, through the real traits: the `scylla` attribute
//! namespace, `allow_missing`, `flatten`, C-like enums and transparent newtypes.
//!
//! Expected bytes are written by hand from the spec's layout: a `[value]` is an `[int]` length
//! (big endian, `-1` = null) followed by the bytes.

use bytes::BytesMut;
use cql_session::deserialize::{DeserializeRow, DeserializeValue, TypeCheckError};
use cql_session::serialize::{SerializationError, SerializeRow, SerializeValue};
use proto::response::ColumnSpec;
use proto::{ColumnType, DecodeError, EncodeError};
use uuid::Uuid;

use crate::derive_common::{self, de_row, one_row, spec, udt_named};

/// [`ser_row`](crate::derive_common::ser_row), checking that every marker got a value.
fn ser_row<R: SerializeRow>(row: &R, specs: &[ColumnSpec]) -> Result<Vec<u8>, SerializationError> {
    let (bytes, n) = derive_common::ser_row(row, specs)?;
    assert_eq!(n, specs.len(), "one value per marker");
    Ok(bytes)
}

fn ser_value<V: SerializeValue>(v: &V, typ: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut buf = BytesMut::new();
    v.serialize(typ, &mut buf)?;
    Ok(buf.to_vec())
}

fn de_value<'f, V: DeserializeValue<'f>>(
    typ: &'f ColumnType,
    bytes: Option<&'f [u8]>,
) -> Result<V, DecodeError> {
    V::type_check(typ)?;
    V::deserialize(typ, bytes)
}

fn cell(bytes: &[u8]) -> Vec<u8> {
    let mut out = i32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

fn udt(fields: &[(&str, ColumnType)]) -> ColumnType {
    udt_named("u", fields)
}

// ---- the `scylla` namespace --------------------------------------------------------------------

/// Written as for the `scylla` crate, with only the crate path changed; one `cql` key mixed in.
#[derive(Debug, PartialEq, cql_session::SerializeRow, cql_session::DeserializeRow)]
#[scylla(crate = cql_session)]
struct ScyllaStyle {
    id: i32,
    #[scylla(rename = "user_name")]
    name: String,
    #[scylla(skip)]
    cache: u8,
    #[cql(default_when_null)]
    score: i32,
}

#[test]
fn a_struct_written_for_the_scylla_crate_round_trips() {
    let specs = [
        spec("user_name", ColumnType::Text),
        spec("score", ColumnType::Int),
        spec("id", ColumnType::Int),
    ];
    let row = ScyllaStyle {
        id: 7,
        name: "ab".to_owned(),
        cache: 3,
        score: 0,
    };
    let bytes = ser_row(&row, &specs).unwrap();
    let mut want = cell(b"ab");
    want.extend(cell(&0i32.to_be_bytes()));
    want.extend(cell(&7i32.to_be_bytes()));
    assert_eq!(bytes, want);
    let rows = one_row(&specs, &bytes);
    let back: ScyllaStyle = de_row(&rows).unwrap();
    assert_eq!(back, ScyllaStyle { cache: 0, ..row });
}

// ---- allow_missing ------------------------------------------------------------------------------

#[derive(Debug, PartialEq, cql_session::DeserializeRow)]
struct Partial {
    id: i32,
    #[scylla(allow_missing)]
    extra: i64,
}

#[derive(Debug, PartialEq, cql_session::DeserializeRow)]
#[cql(allow_missing)]
struct AllOptional {
    a: i32,
    b: String,
}

#[test]
fn allow_missing_columns_are_default_and_read_when_present() {
    let only_id = [spec("id", ColumnType::Int)];
    let rows = one_row(&only_id, &cell(&5i32.to_be_bytes()));
    assert_eq!(
        de_row::<Partial>(&rows).unwrap(),
        Partial { id: 5, extra: 0 }
    );

    let both = [
        spec("extra", ColumnType::BigInt),
        spec("id", ColumnType::Int),
    ];
    let mut content = cell(&9i64.to_be_bytes());
    content.extend(cell(&5i32.to_be_bytes()));
    let rows = one_row(&both, &content);
    assert_eq!(
        de_row::<Partial>(&rows).unwrap(),
        Partial { id: 5, extra: 9 }
    );

    // Only the allowed column may be missing; a present one is still type-checked.
    let err = Partial::type_check(&[spec("extra", ColumnType::BigInt)]).unwrap_err();
    assert!(matches!(err, TypeCheckError::MissingColumn { ref name, .. } if name == "id"));
    let err = Partial::type_check(&[spec("id", ColumnType::Int), spec("extra", ColumnType::Int)])
        .unwrap_err();
    assert!(matches!(err, TypeCheckError::ColumnType { ref name, .. } if name == "extra"));

    let rows = one_row(&[spec("b", ColumnType::Text)], &cell(b"x"));
    assert_eq!(
        de_row::<AllOptional>(&rows).unwrap(),
        AllOptional {
            a: 0,
            b: "x".to_owned()
        }
    );
}

#[derive(Debug, PartialEq, cql_session::DeserializeValue)]
struct UdtByName {
    a: i32,
    #[scylla(allow_missing)]
    b: Option<String>,
}

#[derive(Debug, PartialEq, cql_session::DeserializeValue)]
#[cql(flavor = "enforce_order")]
struct UdtInOrder {
    a: i32,
    #[cql(allow_missing)]
    b: i32,
    c: i32,
}

#[test]
fn allow_missing_udt_fields_are_default_when_the_type_lacks_them() {
    let typ = udt(&[("a", ColumnType::Int)]);
    let value = cell(&1i32.to_be_bytes());
    let got: UdtByName = de_value(&typ, Some(&value)).unwrap();
    assert_eq!(got, UdtByName { a: 1, b: None });
    // Without the attribute, the same type fails its check.
    let strict = udt(&[("b", ColumnType::Text)]);
    assert!(UdtByName::type_check(&strict).is_err());

    // By position, an absent field (here: another name comes next) takes nothing.
    let typ = udt(&[("a", ColumnType::Int), ("c", ColumnType::Int)]);
    let mut value = cell(&1i32.to_be_bytes());
    value.extend(cell(&3i32.to_be_bytes()));
    let got: UdtInOrder = de_value(&typ, Some(&value)).unwrap();
    assert_eq!(got, UdtInOrder { a: 1, b: 0, c: 3 });
    let typ = udt(&[
        ("a", ColumnType::Int),
        ("b", ColumnType::Int),
        ("c", ColumnType::Int),
    ]);
    let mut value = cell(&1i32.to_be_bytes());
    value.extend(cell(&2i32.to_be_bytes()));
    value.extend(cell(&3i32.to_be_bytes()));
    let got: UdtInOrder = de_value(&typ, Some(&value)).unwrap();
    assert_eq!(got, UdtInOrder { a: 1, b: 2, c: 3 });
    // A required field still must be there.
    assert!(UdtInOrder::type_check(&udt(&[("a", ColumnType::Int)])).is_err());
}

// ---- flatten -------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, cql_session::SerializeRow, cql_session::DeserializeRow)]
struct Tags {
    tag: String,
}

#[derive(Debug, Clone, PartialEq, cql_session::SerializeRow, cql_session::DeserializeRow)]
struct Audit {
    created: i64,
    #[scylla(flatten)]
    tags: Tags,
}

#[derive(Debug, Clone, PartialEq, cql_session::SerializeRow, cql_session::DeserializeRow)]
struct Doc {
    id: i32,
    #[cql(flatten)]
    audit: Audit,
}

fn doc() -> Doc {
    Doc {
        id: 1,
        audit: Audit {
            created: 2,
            tags: Tags {
                tag: "t".to_owned(),
            },
        },
    }
}

fn doc_specs() -> [ColumnSpec; 3] {
    [
        spec("tag", ColumnType::Text),
        spec("id", ColumnType::Int),
        spec("created", ColumnType::BigInt),
    ]
}

#[test]
fn flattened_fields_are_matched_as_if_they_were_the_outer_structs() {
    let bytes = ser_row(&doc(), &doc_specs()).unwrap();
    let mut want = cell(b"t");
    want.extend(cell(&1i32.to_be_bytes()));
    want.extend(cell(&2i64.to_be_bytes()));
    assert_eq!(bytes, want);
    let rows = one_row(&doc_specs(), &bytes);
    assert_eq!(de_row::<Doc>(&rows).unwrap(), doc());
    assert!(!doc().is_empty());
}

#[test]
fn flattened_fields_are_checked_like_own_fields() {
    // A nested field without a marker.
    let err = ser_row(&doc(), &doc_specs()[1..]).unwrap_err();
    assert!(
        matches!(err, SerializationError::NoColumnWithName { ref name, .. } if name == "tag"),
        "{err}"
    );
    // A marker no field has.
    let mut specs = doc_specs().to_vec();
    specs.push(spec("other", ColumnType::Int));
    let err = ser_row(&doc(), &specs).unwrap_err();
    assert!(
        matches!(err, SerializationError::ValueMissingForColumn { ref name, .. } if name == "other")
    );
    // A nested field of the wrong type.
    let wrong = [
        spec("tag", ColumnType::Int),
        spec("id", ColumnType::Int),
        spec("created", ColumnType::BigInt),
    ];
    assert!(matches!(
        ser_row(&doc(), &wrong),
        Err(SerializationError::Column { index: 0, .. })
    ));

    let err = Doc::type_check(&doc_specs()[..2]).unwrap_err();
    assert!(matches!(err, TypeCheckError::MissingColumn { ref name, .. } if name == "created"));
    let err = Doc::type_check(&specs).unwrap_err();
    assert!(matches!(err, TypeCheckError::UnexpectedColumn { ref name, .. } if name == "other"));
    let err = Doc::type_check(&wrong).unwrap_err();
    assert!(
        matches!(err, TypeCheckError::ColumnType { index: 0, .. }),
        "{err}"
    );
}

// ---- C-like enums ----------------------------------------------------------------------------------

#[derive(
    Debug, Clone, Copy, PartialEq, cql_session::SerializeValue, cql_session::DeserializeValue,
)]
#[cql(repr = "int")]
enum Level {
    Low = 1,
    Mid,
    High = 10,
}

#[derive(
    Debug, Clone, Copy, PartialEq, cql_session::SerializeValue, cql_session::DeserializeValue,
)]
#[scylla(repr = "smallint")]
enum Signed {
    Neg = -2,
    Zero = 0,
}

#[derive(
    Debug, Clone, Copy, PartialEq, cql_session::SerializeValue, cql_session::DeserializeValue,
)]
#[cql(repr = "text", rename_all = "snake_case")]
enum Status {
    InProgress,
    #[cql(rename = "DONE")]
    Done,
}

#[test]
fn integer_enums_store_their_discriminants() {
    for (level, raw) in [(Level::Low, 1i32), (Level::Mid, 2), (Level::High, 10)] {
        let bytes = ser_value(&level, &ColumnType::Int).unwrap();
        assert_eq!(bytes, raw.to_be_bytes());
        assert_eq!(
            de_value::<Level>(&ColumnType::Int, Some(&bytes)).unwrap(),
            level
        );
    }
    let bytes = ser_value(&Signed::Neg, &ColumnType::SmallInt).unwrap();
    assert_eq!(bytes, (-2i16).to_be_bytes());
    assert_eq!(
        de_value::<Signed>(&ColumnType::SmallInt, Some(&bytes)).unwrap(),
        Signed::Neg
    );
}

#[test]
fn integer_enums_reject_other_columns_unknown_values_and_null() {
    let err = ser_value(&Level::Low, &ColumnType::BigInt).unwrap_err();
    assert!(
        err.to_string().contains("Level (an enum stored as int)"),
        "{err}"
    );
    let err = Level::type_check(&ColumnType::Text).unwrap_err();
    assert!(matches!(err, DecodeError::TypeMismatch { .. }), "{err}");

    let err = de_value::<Level>(&ColumnType::Int, Some(&7i32.to_be_bytes())).unwrap_err();
    assert!(matches!(err, DecodeError::Invalid { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("7 is not a value of") && msg.contains("1, 2, 10"),
        "{msg}"
    );
    assert!(de_value::<Level>(&ColumnType::Int, None).is_err());
    assert_eq!(
        de_value::<Option<Level>>(&ColumnType::Int, None).unwrap(),
        None
    );
}

#[test]
fn text_enums_store_their_names() {
    for (status, name) in [(Status::InProgress, "in_progress"), (Status::Done, "DONE")] {
        let bytes = ser_value(&status, &ColumnType::Text).unwrap();
        assert_eq!(bytes, name.as_bytes());
        assert_eq!(
            de_value::<Status>(&ColumnType::Text, Some(&bytes)).unwrap(),
            status
        );
        assert_eq!(
            de_value::<Status>(&ColumnType::Ascii, Some(&bytes)).unwrap(),
            status
        );
    }
    let err = de_value::<Status>(&ColumnType::Text, Some(b"Done")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"Done\" is not a variant") && msg.contains("\"DONE\""),
        "{msg}"
    );
    assert!(ser_value(&Status::Done, &ColumnType::Int).is_err());
}

// ---- transparent ---------------------------------------------------------------------------------

#[derive(
    Debug, Clone, Copy, PartialEq, cql_session::SerializeValue, cql_session::DeserializeValue,
)]
#[cql(transparent)]
struct UserId(Uuid);

#[derive(Debug, Clone, PartialEq, cql_session::SerializeValue, cql_session::DeserializeValue)]
#[scylla(transparent)]
struct Nick {
    value: Option<String>,
    #[cql(skip)]
    cached: bool,
}

#[derive(Debug, PartialEq, cql_session::SerializeRow, cql_session::DeserializeRow)]
#[cql(transparent)]
struct Wrapped(Tags);

#[test]
fn transparent_newtypes_are_their_inner_value() {
    let id = UserId(Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10));
    let bytes = ser_value(&id, &ColumnType::Uuid).unwrap();
    assert_eq!(bytes, id.0.as_bytes());
    assert_eq!(
        de_value::<UserId>(&ColumnType::Uuid, Some(&bytes)).unwrap(),
        id
    );
    // The inner type's checks apply.
    assert!(ser_value(&id, &ColumnType::Text).is_err());
    assert!(UserId::type_check(&ColumnType::Int).is_err());

    // An inner `Option` writes and reads null.
    let none = Nick {
        value: None,
        cached: true,
    };
    let mut buf = BytesMut::new();
    none.serialize_cell(&ColumnType::Text, &mut buf).unwrap();
    assert_eq!(&buf[..], &[0xFF, 0xFF, 0xFF, 0xFF]);
    let back: Nick = de_value(&ColumnType::Text, None).unwrap();
    assert_eq!(
        back,
        Nick {
            value: None,
            cached: false
        }
    );

    let specs = [spec("tag", ColumnType::Text)];
    let row = Wrapped(Tags {
        tag: "x".to_owned(),
    });
    let bytes = ser_row(&row, &specs).unwrap();
    assert_eq!(bytes, cell(b"x"));
    let rows = one_row(&specs, &bytes);
    assert_eq!(de_row::<Wrapped>(&rows).unwrap(), row);
}
