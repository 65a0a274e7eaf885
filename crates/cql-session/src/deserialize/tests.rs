use std::sync::Arc;

use bytes::Bytes;
use proto::response::{ColumnSpec, ResultBody, ResultMetadata, Rows};
use proto::{ColumnType, CqlValue};

use super::*;
use crate::response::QueryResult;
use crate::response::query_result::{FirstRowError, RowsError, SingleRowError};
use crate::value::Row;

fn spec(name: &'static str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

/// Two rows of (id int, name text): (42, "hi") and (7, null), written by hand as `[bytes]` cells.
fn rows_result() -> QueryResult {
    let content: &[u8] = &[
        0, 0, 0, 4, 0, 0, 0, 42, 0, 0, 0, 2, b'h', b'i', // row 1
        0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, // row 2
    ];
    let md = ResultMetadata::new(vec![
        spec("id", ColumnType::Int),
        spec("name", ColumnType::Text),
    ]);
    let rows = Rows::new(md, 2, Bytes::from_static(content));
    QueryResult::new(ResultBody::Rows(rows), None, None, vec!["w1".into()])
}

#[test]
fn tuples_decode_rows_borrowing_from_the_frame() {
    let res = rows_result().into_rows_result().unwrap();
    assert_eq!(res.rows_num(), 2);
    let rows: Vec<(i32, Option<&str>)> = res
        .rows::<(i32, Option<&str>)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![(42, Some("hi")), (7, None)]);
    assert_eq!(res.warnings().collect::<Vec<_>>(), ["w1"]);
    let names: Vec<&str> = res.column_specs().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(res.column_specs().get_by_name("name").unwrap().0, 1);
}

#[test]
fn dynamic_rows_decode_every_value() {
    let res = rows_result().into_rows_result().unwrap();
    let rows: Vec<Row> = res.rows::<Row>().unwrap().map(Result::unwrap).collect();
    assert_eq!(
        rows[0].columns,
        vec![Some(CqlValue::Int(42)), Some(CqlValue::Text("hi".into()))]
    );
    assert_eq!(rows[1].columns, vec![Some(CqlValue::Int(7)), None]);
}

#[test]
fn type_check_rejects_wrong_arity_and_types_before_decoding() {
    let res = rows_result().into_rows_result().unwrap();
    let Err(RowsError::TypeCheckFailed(e)) = res.rows::<(i32,)>() else {
        panic!("arity not checked");
    };
    assert!(
        matches!(
            e,
            TypeCheckError::WrongColumnCount {
                expected: 1,
                got: 2,
                ..
            }
        ),
        "{e}"
    );
    let Err(RowsError::TypeCheckFailed(e)) = res.rows::<(i64, String)>() else {
        panic!("type not checked");
    };
    match e {
        TypeCheckError::ColumnType { index, name, .. } => {
            assert_eq!((index, name.as_str()), (0, "id"))
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn null_into_non_option_is_a_column_error() {
    let res = rows_result().into_rows_result().unwrap();
    let mut it = res.rows::<(i32, &str)>().unwrap();
    assert_eq!(it.next().unwrap().unwrap(), (42, "hi"));
    let err = it.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, DeserializationError::Column { index: 1, name, .. } if name == "name"),
        "{err}"
    );
    assert!(it.next().is_none());
}

#[test]
fn first_single_and_maybe_first_row() {
    let res = rows_result().into_rows_result().unwrap();
    assert_eq!(res.first_row::<(i32, Option<String>)>().unwrap().0, 42);
    assert!(matches!(
        res.single_row::<(i32, Option<String>)>(),
        Err(SingleRowError::UnexpectedRowCount(2))
    ));
    let empty = Rows::new(
        ResultMetadata::new(vec![spec("id", ColumnType::Int)]),
        0,
        Bytes::new(),
    );
    let empty = QueryResult::new(ResultBody::Rows(empty), None, None, vec![])
        .into_rows_result()
        .unwrap();
    assert_eq!(empty.maybe_first_row::<(i32,)>().unwrap(), None);
    assert!(matches!(
        empty.first_row::<(i32,)>(),
        Err(FirstRowError::RowsEmpty)
    ));
}

#[test]
fn malformed_rows_yield_an_error_not_a_panic() {
    // Two rows announced, the second cut short.
    let content: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0];
    let md = ResultMetadata::new(vec![spec("id", ColumnType::Int)]);
    let res = QueryResult::new(
        ResultBody::Rows(Rows::new(md, 2, Bytes::from_static(content))),
        None,
        None,
        vec![],
    )
    .into_rows_result()
    .unwrap();
    let out: Vec<_> = res.rows::<(i32,)>().unwrap().collect();
    assert_eq!(out.len(), 2);
    assert_eq!(*out[0].as_ref().unwrap(), (1,));
    assert!(matches!(out[1], Err(DeserializationError::Malformed(_))));
}

#[test]
fn skipped_metadata_uses_the_prepared_statements_specs() {
    let shared: Arc<[ColumnSpec]> = vec![spec("id", ColumnType::Int)].into();
    let content: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 9];
    let rows = Rows::new(
        ResultMetadata::no_metadata(1),
        1,
        Bytes::from_static(content),
    );
    let res = QueryResult::new(ResultBody::Rows(rows), Some(&shared), None, vec![])
        .into_rows_result()
        .unwrap();
    assert_eq!(res.single_row::<(i32,)>().unwrap(), (9,));
    assert_eq!(res.column_specs().len(), 1);
}

#[test]
fn non_rows_results_are_not_rows() {
    let r = QueryResult::new(ResultBody::Void, None, None, vec![]);
    assert!(!r.is_rows());
    assert!(r.result_not_rows().is_ok());
    assert!(r.into_rows_result().is_err());
}
