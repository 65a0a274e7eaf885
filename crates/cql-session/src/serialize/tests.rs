use std::collections::{BTreeMap, HashMap};

use bytes::BytesMut;
use proto::ColumnType;
use proto::response::ColumnSpec;
use proto::value::Unset;

use super::*;

fn spec(name: &'static str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

fn specs() -> Vec<ColumnSpec> {
    vec![spec("id", ColumnType::Int), spec("name", ColumnType::Text)]
}

fn write(
    row: &(impl SerializeRow + ?Sized),
    specs: &[ColumnSpec],
) -> Result<Vec<u8>, SerializationError> {
    let mut buf = BytesMut::new();
    let ctx = RowSerializationContext::from_specs(specs);
    let mut w = RowWriter::new(&mut buf);
    row.serialize(&ctx, &mut w)?;
    assert_eq!(w.value_count(), specs.len());
    Ok(buf.to_vec())
}

// [int] 4, int 42, [int] 2, "hi" — written by hand from the `[value]` layout.
const ID_42_NAME_HI: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 42, 0, 0, 0, 2, b'h', b'i'];

#[test]
fn tuple_writes_values_in_marker_order() {
    assert_eq!(write(&(42i32, "hi"), &specs()).unwrap(), ID_42_NAME_HI);
}

#[test]
fn vec_of_dyn_values_and_slices_work() {
    let v: Vec<&dyn SerializeValue> = vec![&42i32, &"hi"];
    assert_eq!(write(&v, &specs()).unwrap(), ID_42_NAME_HI);
    assert_eq!(write(v.as_slice(), &specs()).unwrap(), ID_42_NAME_HI);
    let ints = vec![1i32, 2];
    let int_specs = [spec("a", ColumnType::Int), spec("b", ColumnType::Int)];
    assert_eq!(
        write(&ints, &int_specs).unwrap(),
        [0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2]
    );
}

#[test]
fn null_and_unset_have_their_lengths() {
    let row: (Option<i32>, Unset) = (None, Unset);
    assert_eq!(
        write(&row, &specs()).unwrap(),
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]
    );
}

#[test]
fn wrong_arity_is_an_error_before_sending() {
    let err = write(&(42i32,), &specs()).unwrap_err();
    assert!(
        matches!(
            err,
            SerializationError::WrongColumnCount {
                expected: 2,
                got: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = write(&(), &specs()).unwrap_err();
    assert!(matches!(
        err,
        SerializationError::WrongColumnCount {
            expected: 2,
            got: 0,
            ..
        }
    ));
}

#[test]
fn wrong_type_names_the_marker() {
    let err = write(&("not an int", "hi"), &specs()).unwrap_err();
    match err {
        SerializationError::Column {
            index,
            name,
            source,
        } => {
            assert_eq!((index, name.as_str()), (0, "id"));
            assert!(source.to_string().contains("int"), "{source}");
        }
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn maps_bind_by_name_in_marker_order() {
    let mut m: HashMap<&str, &dyn SerializeValue> = HashMap::new();
    m.insert("name", &"hi");
    m.insert("id", &42i32);
    assert_eq!(write(&m, &specs()).unwrap(), ID_42_NAME_HI);

    let mut b: BTreeMap<String, i32> = BTreeMap::new();
    b.insert("id".into(), 42);
    let err = write(&b, &specs()).unwrap_err();
    assert!(
        matches!(&err, SerializationError::ValueMissingForColumn { name, .. } if name == "name"),
        "{err}"
    );

    m.insert("extra", &1i32);
    let err = write(&m, &specs()).unwrap_err();
    assert!(
        matches!(&err, SerializationError::NoColumnWithName { name, .. } if name == "extra"),
        "{err}"
    );
}

#[test]
fn a_name_used_by_two_markers_is_written_twice() {
    let specs = [spec("x", ColumnType::Int), spec("x", ColumnType::Int)];
    let mut m = HashMap::new();
    m.insert("x".to_owned(), 5i32);
    assert_eq!(
        write(&m, &specs).unwrap(),
        [0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 5]
    );
}

#[test]
fn unit_row_fits_no_markers() {
    assert_eq!(write(&(), &[]).unwrap(), Vec::<u8>::new());
    assert!(SerializeRow::is_empty(&()));
    assert!(!SerializeRow::is_empty(&(1i32,)));
}

#[test]
fn row_writer_writes_values_nulls_and_unsets_as_the_spec_says() {
    let mut buf = BytesMut::new();
    let mut w = RowWriter::new(&mut buf);
    w.write_raw(Some(b"ab")).unwrap();
    w.write_null();
    w.write_unset();
    w.write_raw(Some(b"")).unwrap();
    assert_eq!(w.value_count(), 4);
    // Spec section 1.3 `[value]`: an [int] n, then n bytes; n = -1 is null, n = -2 is unset.
    let want: &[u8] = &[
        0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0,
    ];
    assert_eq!(&buf[..], want);
}

#[test]
fn batch_values_index_rows() {
    let v = ((1i32,), ("a",));
    assert_eq!(BatchValues::len(&v), 2);
    let s = [spec("a", ColumnType::Text)];
    let mut buf = BytesMut::new();
    let mut w = RowWriter::new(&mut buf);
    v.serialize_nth(1, &RowSerializationContext::from_specs(&s), &mut w)
        .unwrap();
    assert_eq!(&buf[..], [0, 0, 0, 1, b'a']);
    assert!(!v.is_nth_empty(0));
    assert!(().is_nth_empty(7));
}
