//! Helpers the derive tests (`derive`, `derive_features`) share: column specs, rows built from
//! hand-written cell bytes, and the trait calls in one step.

use bytes::{Bytes, BytesMut};
use cql_session::deserialize::{DeserializationError, DeserializeRow};
use cql_session::serialize::{
    RowSerializationContext, RowWriter, SerializationError, SerializeRow,
};
use cql_session::{QueryResult, QueryRowsResult};
use proto::ColumnType;
use proto::response::{ColumnSpec, ResultBody, ResultMetadata, Rows};

/// The spec of column `name` of `ks.t`.
pub(crate) fn spec(name: &'static str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

/// Serializes `row` for `specs`, returning the bytes and the number of values written.
pub(crate) fn ser_row<R: SerializeRow>(
    row: &R,
    specs: &[ColumnSpec],
) -> Result<(Vec<u8>, usize), SerializationError> {
    let mut buf = BytesMut::new();
    let mut writer = RowWriter::new(&mut buf);
    row.serialize(&RowSerializationContext::from_specs(specs), &mut writer)?;
    let n = writer.value_count();
    Ok((buf.to_vec(), n))
}

/// A rows result holding one row with `content` as its cells.
pub(crate) fn one_row(specs: &[ColumnSpec], content: &[u8]) -> QueryRowsResult {
    rows_over(specs, Bytes::copy_from_slice(content))
}

/// A rows result of one row over `content` (shared, not copied).
pub(crate) fn rows_over(specs: &[ColumnSpec], content: Bytes) -> QueryRowsResult {
    let rows = Rows::new(ResultMetadata::new(specs.to_vec()), 1, content);
    QueryResult::from_result_body(ResultBody::Rows(rows))
        .into_rows_result()
        .expect("a rows result")
}

/// Type-checks `R` against the rows' specs, then deserializes the first row.
pub(crate) fn de_row<'f, R: DeserializeRow<'f>>(
    rows: &'f QueryRowsResult,
) -> Result<R, DeserializationError> {
    R::type_check(rows.column_specs().as_slice()).expect("type check");
    rows.rows::<R>()
        .expect("type check")
        .next()
        .expect("one row")
}

/// The UDT `ks.<name>` with `fields`.
pub(crate) fn udt_named(name: &str, fields: &[(&str, ColumnType)]) -> ColumnType {
    ColumnType::Udt {
        keyspace: "ks".to_owned(),
        name: name.to_owned(),
        fields: fields
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
    }
}
