//! The code `#[derive(SerializeRow, DeserializeRow)]` is documented to generate, written by hand
//! through `_macro_internal` only: it must compile, borrow from the frame, and behave as the
//! module docs of `serialize::row` and `deserialize::row` say.

use bytes::Bytes;
use cql_session::_macro_internal as m;
use cql_session::response::QueryResult;
use proto::response::{ResultBody, ResultMetadata, Rows};

#[derive(Debug)]
struct User<'a> {
    id: i32,
    name: &'a str,
}

impl m::SerializeRow for User<'_> {
    fn serialize(
        &self,
        ctx: &m::RowSerializationContext<'_>,
        writer: &mut m::RowWriter<'_>,
    ) -> Result<(), m::SerializationError> {
        let mut used = [false; 2];
        for (index, spec) in ctx.columns().iter().enumerate() {
            match spec.name.as_str() {
                "id" => {
                    writer.write_value(index, spec, &self.id)?;
                    used[0] = true;
                }
                "name" => {
                    writer.write_value(index, spec, &self.name)?;
                    used[1] = true;
                }
                other => return Err(m::mk_value_missing_err::<Self>(other)),
            }
        }
        for (field, was_used) in ["id", "name"].iter().zip(used) {
            if !was_used {
                return Err(m::mk_no_column_err::<Self>(field));
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        false
    }
}

impl<'frame> m::DeserializeRow<'frame> for User<'frame> {
    fn type_check(specs: &[m::ColumnSpec]) -> Result<(), m::TypeCheckError> {
        let mut seen = [false; 2];
        for (index, spec) in specs.iter().enumerate() {
            match spec.name.as_str() {
                "id" => {
                    m::type_check_column::<Self, i32>(index, spec)?;
                    seen[0] = true;
                }
                "name" => {
                    m::type_check_column::<Self, &'frame str>(index, spec)?;
                    seen[1] = true;
                }
                other => return Err(m::mk_unexpected_column_err::<Self>(other)),
            }
        }
        for (field, was_seen) in ["id", "name"].iter().zip(seen) {
            if !was_seen {
                return Err(m::mk_missing_column_typck_err::<Self>(field));
            }
        }
        Ok(())
    }

    fn deserialize(row: m::ColumnIterator<'frame>) -> Result<Self, m::DeserializationError> {
        let mut id = None;
        let mut name = None;
        for col in row {
            let col = col?;
            match col.spec.name.as_str() {
                "id" => id = Some(m::deserialize_column::<Self, i32>(col)?),
                "name" => name = Some(m::deserialize_column::<Self, &'frame str>(col)?),
                _ => {}
            }
        }
        Ok(Self {
            id: id.ok_or_else(|| m::mk_missing_column_deser_err::<Self>("id"))?,
            name: name.ok_or_else(|| m::mk_missing_column_deser_err::<Self>("name"))?,
        })
    }
}

fn spec(name: &'static str, typ: m::ColumnType) -> m::ColumnSpec {
    m::ColumnSpec {
        keyspace: "ks".into(),
        table: "users".into(),
        name: name.into(),
        typ,
    }
}

#[test]
fn derived_serialize_row_binds_fields_by_marker_name() {
    // Markers in the order (name, id): fields are written in marker order, not field order.
    let specs = [
        spec("name", m::ColumnType::Text),
        spec("id", m::ColumnType::Int),
    ];
    let mut buf = m::BytesMut::new();
    let ctx = m::RowSerializationContext::from_specs(&specs);
    let mut w = m::RowWriter::new(&mut buf);
    m::SerializeRow::serialize(&User { id: 7, name: "ann" }, &ctx, &mut w).unwrap();
    assert_eq!(w.value_count(), 2);
    assert_eq!(
        &buf[..],
        [0, 0, 0, 3, b'a', b'n', b'n', 0, 0, 0, 4, 0, 0, 0, 7]
    );

    // A marker without a field, and a field without a marker, are errors.
    let specs = [spec("id", m::ColumnType::Int)];
    let ctx = m::RowSerializationContext::from_specs(&specs);
    let mut buf = m::BytesMut::new();
    let err = m::SerializeRow::serialize(
        &User { id: 7, name: "ann" },
        &ctx,
        &mut m::RowWriter::new(&mut buf),
    )
    .unwrap_err();
    assert!(err.to_string().contains("`name`"), "{err}");
}

#[test]
fn derived_deserialize_row_reads_columns_by_name_borrowing_the_frame() {
    // Columns (name, id), one row ("bob", 42), written by hand.
    let content: &[u8] = &[0, 0, 0, 3, b'b', b'o', b'b', 0, 0, 0, 4, 0, 0, 0, 42];
    let md = ResultMetadata::new(vec![
        spec("name", m::ColumnType::Text),
        spec("id", m::ColumnType::Int),
    ]);
    let rows = Rows::new(md, 1, Bytes::from_static(content));
    let res = QueryResult::from_result_body(ResultBody::Rows(rows))
        .into_rows_result()
        .unwrap();
    let user: User<'_> = res.single_row().unwrap();
    assert_eq!((user.id, user.name), (42, "bob"));

    // An extra column is a type-check error, before any row is read.
    let md = ResultMetadata::new(vec![
        spec("name", m::ColumnType::Text),
        spec("id", m::ColumnType::Int),
        spec("age", m::ColumnType::Int),
    ]);
    let res = QueryResult::from_result_body(ResultBody::Rows(Rows::new(md, 0, Bytes::new())))
        .into_rows_result()
        .unwrap();
    let err = res.rows::<User<'_>>().unwrap_err();
    assert!(err.to_string().contains("`age`"), "{err}");
}
