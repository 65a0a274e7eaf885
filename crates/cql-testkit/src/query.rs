//! Request builders and response readers for tests that speak CQL frames directly.

use proto::codes::{BatchType, Consistency, ErrorCode};
use proto::request::{
    Batch, BatchStatement, BatchStatementKind, Query, QueryParameters, Request, SerializedValues,
    SerializedValuesBuilder,
};
use proto::response::{
    ColumnSpec, ErrorBody, ErrorDetails, Response, ResultBody, ResultMetadata, Rows, RowsWriter,
};
use proto::{ColumnType, CqlValue, RawValue, Text};

/// Query parameters at consistency `cl` with `values` and every option left unset.
pub fn params(cl: Consistency, values: SerializedValues) -> QueryParameters {
    QueryParameters {
        consistency: cl,
        values,
        skip_metadata: false,
        page_size: None,
        paging_state: None,
        serial_consistency: None,
        timestamp: None,
        keyspace: None,
        now_in_seconds: None,
    }
}

/// A QUERY request for `q` at consistency `cl` with `values`.
pub fn query_req(q: &str, cl: Consistency, values: SerializedValues) -> Request {
    Request::Query(Query {
        query: q.to_owned().into(),
        params: params(cl, values),
    })
}

/// A QUERY request for `q` at consistency `cl`, without values.
pub fn query_cl(q: &str, cl: Consistency) -> Request {
    query_req(q, cl, SerializedValues::new())
}

/// A QUERY request for `q` with the default parameters (consistency ONE, no values).
pub fn query(q: &str) -> Request {
    Request::Query(Query {
        query: q.to_owned().into(),
        params: QueryParameters::default(),
    })
}

/// A BATCH of `batch_type` at consistency ONE of the statements `queries`, without values.
pub fn query_batch(batch_type: BatchType, queries: impl IntoIterator<Item = String>) -> Request {
    Request::Batch(Batch {
        batch_type,
        statements: queries
            .into_iter()
            .map(|q| BatchStatement {
                kind: BatchStatementKind::Query(q.into()),
                values: SerializedValues::new(),
            })
            .collect(),
        consistency: Consistency::ONE,
        ..Batch::default()
    })
}

/// The Rows of a RESULT, or a panic naming what came instead.
pub fn rows(r: &Response) -> &Rows {
    match r {
        Response::Result(ResultBody::Rows(rows)) => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

/// Every cell of every row of a RESULT, decoded with the column types.
pub fn values(r: &Response) -> Vec<Vec<Option<CqlValue>>> {
    let rows = rows(r);
    let types: Vec<ColumnType> = rows
        .metadata
        .col_specs
        .iter()
        .map(|c| c.typ.clone())
        .collect();
    rows.rows()
        .map(|row| {
            let row = row.expect("row");
            row.cells()
                .zip(&types)
                .map(|(cell, t)| cell.map(|b| CqlValue::decode_bytes(t, b).expect("value")))
                .collect()
        })
        .collect()
}

/// The values of the column `name` of a RESULT, one per row.
pub fn column(r: &Response, name: &str) -> Vec<Option<CqlValue>> {
    let rows = rows(r);
    let i = rows
        .metadata
        .col_specs
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    values(r)
        .into_iter()
        .map(|mut row| row.swap_remove(i))
        .collect()
}

/// Positional values of `int` bind markers.
pub fn int_values(vals: &[i32]) -> SerializedValues {
    let mut b = SerializedValuesBuilder::new();
    for v in vals {
        b.push(RawValue::Value(&v.to_be_bytes())).expect("push");
    }
    b.finish()
}

/// The code of an ERROR response, or a panic naming what came instead.
pub fn error_code(r: &Response) -> ErrorCode {
    match r {
        Response::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The `(consistency, required, alive)` of an Unavailable error; panics on anything else.
pub fn unavailable(r: &Response) -> (Consistency, i32, i32) {
    match r {
        Response::Error(e) => match e.details {
            ErrorDetails::Unavailable {
                consistency,
                required,
                alive,
            } => (consistency, required, alive),
            ref other => panic!("expected Unavailable details, got {other:?}"),
        },
        other => panic!("expected an error, got {other:?}"),
    }
}

/// An ERROR response with `code`, `message` and no details.
pub fn server_error(code: ErrorCode, message: &str) -> Response {
    Response::Error(ErrorBody {
        code,
        message: message.to_owned(),
        details: ErrorDetails::None,
    })
}

/// A Rows RESULT of the table `keyspace.table` with `columns` and the raw cells of `rows`
/// (`None` is a null cell); panics when a row does not fit the columns.
pub fn rows_result(
    keyspace: &str,
    table: &str,
    columns: &[(&str, ColumnType)],
    rows: &[Vec<Option<Vec<u8>>>],
) -> Response {
    let specs = columns
        .iter()
        .map(|(name, typ)| ColumnSpec {
            keyspace: Text::copy_from_str(keyspace),
            table: Text::copy_from_str(table),
            name: Text::copy_from_str(name),
            typ: typ.clone(),
        })
        .collect();
    let mut w = RowsWriter::new(ResultMetadata::new(specs));
    for row in rows {
        w.push_row(row.iter().map(|c| c.as_deref()))
            .expect("row shape");
    }
    Response::Result(ResultBody::Rows(w.finish().expect("rows")))
}

/// The cell bytes of a `text` value.
pub fn text_cell(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}
