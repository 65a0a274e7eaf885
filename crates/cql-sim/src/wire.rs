//! Conversions between the engine's values and `cql-proto`'s message bodies, for the server.

use bytes::Bytes;
use md5::{Digest, Md5};
use proto::response::{
    ErrorBody, ErrorDetails, Prepared, PreparedMetadata, ResultMetadata, Rows, RowsWriter,
    SchemaChange, SchemaChangeTarget as WireTarget,
};
use proto::{Consistency, EncodeError, ErrorCode, RawValue, SerializedValues};

use crate::error::CqlError;
use crate::exec::{BoundValue, ColumnSpec, PreparedInfo, RowsResult};
use crate::schema::{SchemaChangeInfo, SchemaChangeTarget, SchemaChangeType};

/// The result metadata id of `specs`: MD5 over each column's keyspace, table, name and type,
/// as Cassandra computes it, so it changes whenever the result columns change.
pub fn result_metadata_id(specs: &[ColumnSpec]) -> [u8; 16] {
    /// Feeds formatted text to the digest, so a type's CQL name is hashed without a `String`
    /// (this runs for every EXECUTE that carries an id).
    struct Feed<'a>(&'a mut Md5);
    impl std::fmt::Write for Feed<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut h = Md5::new();
    for c in specs {
        h.update(c.keyspace.as_bytes());
        h.update([0]);
        h.update(c.table.as_bytes());
        h.update([0]);
        h.update(c.name.as_bytes());
        h.update([0]);
        // Writing to the digest cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut Feed(&mut h), format_args!("{}", c.typ));
        h.update([0]);
    }
    h.finalize().into()
}

impl RowsResult {
    /// The RESULT Rows body, with the paging state in the metadata; `skip_metadata` sends
    /// NO_METADATA (when the client asked for it on EXECUTE).
    pub fn to_rows(&self, skip_metadata: bool) -> Result<Rows, EncodeError> {
        let metadata = if skip_metadata {
            ResultMetadata::no_metadata(self.columns.len())
        } else {
            ResultMetadata::new(self.columns.clone())
        };
        self.rows_with(metadata)
    }

    /// The RESULT Rows body answering an EXECUTE that carried `client_id`, a result metadata
    /// id (v5, or Scylla's `SCYLLA_USE_METADATA_ID`): when it is not the id of these columns,
    /// the full metadata goes with METADATA_CHANGED and the new id, whatever `skip_metadata`
    /// asked; otherwise as [`Self::to_rows`].
    pub fn to_rows_checked(
        &self,
        client_id: &[u8],
        skip_metadata: bool,
    ) -> Result<Rows, EncodeError> {
        let current = result_metadata_id(&self.columns);
        if client_id == current {
            return self.to_rows(skip_metadata);
        }
        let mut metadata = ResultMetadata::new(self.columns.clone());
        metadata.new_metadata_id = Some(Bytes::copy_from_slice(&current));
        self.rows_with(metadata)
    }

    fn rows_with(&self, mut metadata: ResultMetadata) -> Result<Rows, EncodeError> {
        metadata.paging_state = self.paging_state.clone();
        let mut w = RowsWriter::new(metadata);
        for row in &self.rows {
            w.push_row(row.iter().map(|c| c.as_deref()))?;
        }
        w.finish()
    }
}

impl CqlError {
    /// The ERROR body a server sends for this error (`consistency` fills Unavailable).
    pub fn to_error_body(&self, consistency: Consistency) -> ErrorBody {
        let details = match self {
            Self::AlreadyExists {
                keyspace, table, ..
            } => ErrorDetails::AlreadyExists {
                keyspace: keyspace.clone(),
                table: table.clone(),
            },
            Self::Unprepared { id } => ErrorDetails::Unprepared {
                id: Bytes::copy_from_slice(id),
            },
            Self::FunctionFailure {
                keyspace,
                function,
                arg_types,
                ..
            } => ErrorDetails::FunctionFailure {
                keyspace: keyspace.clone(),
                function: function.clone(),
                arg_types: arg_types.clone(),
            },
            Self::Unavailable { required, alive } => ErrorDetails::Unavailable {
                consistency,
                required: *required,
                alive: *alive,
            },
            _ => ErrorDetails::None,
        };
        ErrorBody {
            code: ErrorCode(self.code()),
            message: self.to_string(),
            details,
        }
    }
}

impl SchemaChangeInfo {
    /// The RESULT Schema_change / SCHEMA_CHANGE event body.
    pub fn to_schema_change(&self) -> SchemaChange {
        let change_type = match self.change_type {
            SchemaChangeType::Created => proto::codes::SchemaChangeType::Created,
            SchemaChangeType::Updated => proto::codes::SchemaChangeType::Updated,
            SchemaChangeType::Dropped => proto::codes::SchemaChangeType::Dropped,
        };
        let keyspace = self.keyspace.clone();
        let target = match self.target {
            SchemaChangeTarget::Keyspace => WireTarget::Keyspace { keyspace },
            SchemaChangeTarget::Table => WireTarget::Table {
                keyspace,
                name: self.name.clone(),
            },
            SchemaChangeTarget::Type => WireTarget::Type {
                keyspace,
                name: self.name.clone(),
            },
            SchemaChangeTarget::Function => WireTarget::Function {
                keyspace,
                name: self.name.clone(),
                args: self.args.clone(),
            },
            SchemaChangeTarget::Aggregate => WireTarget::Aggregate {
                keyspace,
                name: self.name.clone(),
                args: self.args.clone(),
            },
        };
        SchemaChange {
            change_type,
            target,
        }
    }
}

impl PreparedInfo {
    /// An id of the result metadata (MD5 of the result column specs), for v5 and Scylla's
    /// metadata-id extension.
    pub fn result_metadata_id(&self) -> [u8; 16] {
        result_metadata_id(&self.result_specs)
    }

    /// The RESULT Prepared body; `with_metadata_id` adds [`Self::result_metadata_id`].
    pub fn to_prepared(&self, with_metadata_id: bool) -> Prepared {
        self.to_prepared_marked(with_metadata_id, None)
    }

    /// The RESULT Prepared body, with `lwt_mark` (the bit negotiated with Scylla's
    /// `SCYLLA_LWT_ADD_METADATA_MARK`, if any) set in the metadata flags when the statement is
    /// a lightweight transaction.
    pub fn to_prepared_marked(&self, with_metadata_id: bool, lwt_mark: Option<u32>) -> Prepared {
        let extra_flags = match lwt_mark {
            Some(mask) if self.is_lwt => i32::from_be_bytes(mask.to_be_bytes()),
            _ => 0,
        };
        Prepared {
            id: Bytes::copy_from_slice(&self.id),
            result_metadata_id: with_metadata_id
                .then(|| Bytes::copy_from_slice(&self.result_metadata_id())),
            metadata: PreparedMetadata {
                extra_flags,
                pk_indexes: self.pk_indexes.clone(),
                col_specs: self.bind_specs.clone(),
            },
            result_metadata: ResultMetadata::new(self.result_specs.clone()),
        }
    }
}

/// The bound values of a QUERY/EXECUTE/BATCH statement, zero-copy, with their names when sent
/// by name.
pub fn bound_values(
    values: &SerializedValues,
) -> Result<(Vec<BoundValue>, Option<Vec<String>>), CqlError> {
    let mut out = Vec::with_capacity(usize::from(values.count));
    let mut names = values.has_names().then(Vec::new);
    for v in values.iter() {
        let (name, raw) = v.map_err(|e| CqlError::Protocol(e.to_string()))?;
        if let (Some(ns), Some(n)) = (names.as_mut(), name) {
            ns.push(n.to_owned());
        }
        out.push(match raw {
            RawValue::Value(b) => BoundValue::Value(values.bytes.slice_ref(b)),
            RawValue::Null => BoundValue::Null,
            RawValue::Unset => BoundValue::Unset,
        });
    }
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Outcome, QueryOptions, Store};

    #[test]
    fn rows_and_errors_convert() {
        let mut e = Engine::new();
        let mut s = Store::new();
        let o = QueryOptions {
            now_micros: 1,
            ..QueryOptions::default()
        };
        e.query(
            &mut s,
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            &o,
        )
        .unwrap();
        e.query(&mut s, "CREATE TABLE ks.t (k int PRIMARY KEY, v text)", &o)
            .unwrap();
        e.query(&mut s, "INSERT INTO ks.t (k, v) VALUES (1, null)", &o)
            .unwrap();
        let Outcome::Rows(r) = e.query(&mut s, "SELECT k, v FROM ks.t", &o).unwrap() else {
            panic!()
        };
        let rows = r.to_rows(false).unwrap();
        let cells: Vec<Vec<Option<Vec<u8>>>> = rows
            .rows()
            .map(|row| {
                row.unwrap()
                    .cells()
                    .map(|c| c.map(<[u8]>::to_vec))
                    .collect()
            })
            .collect();
        assert_eq!(cells, vec![vec![Some(vec![0, 0, 0, 1]), None]]);
        let err = e
            .query(&mut s, "CREATE TABLE ks.t (k int PRIMARY KEY)", &o)
            .unwrap_err();
        let body = err.to_error_body(Consistency::ONE);
        assert_eq!(body.code, ErrorCode::ALREADY_EXISTS);
        assert_eq!(
            body.details,
            ErrorDetails::AlreadyExists {
                keyspace: "ks".into(),
                table: "t".into()
            }
        );
        let mut b = proto::request::SerializedValuesBuilder::new();
        b.push(RawValue::Value(&[0, 0, 0, 1])).unwrap();
        b.push(RawValue::Null).unwrap();
        b.push(RawValue::Unset).unwrap();
        let (vals, names) = bound_values(&b.finish()).unwrap();
        assert_eq!(
            vals,
            vec![
                BoundValue::Value(Bytes::from_static(&[0, 0, 0, 1])),
                BoundValue::Null,
                BoundValue::Unset
            ]
        );
        assert!(names.is_none());
    }
}
