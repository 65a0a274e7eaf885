//! [`PreparedStatement`]: a statement parsed once by the servers and executed by id.

use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::{Bytes, BytesMut};
use proto::request::raw_values;
use proto::response::{ColumnSpec, Prepared, PreparedMetadata};
use proto::token::Token;
use proto::token::push_composite_key_component;
use proto::{RawValue, SerializedValues};

use super::{StatementConfig, impl_page_size, impl_statement_config};
use crate::serialize::{RowSerializationContext, RowWriter, SerializationError, SerializeRow};

/// The position of one partition-key component among a prepared statement's bind markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionKeyIndex {
    /// The bind marker's index.
    pub index: u16,
    /// The component's position in the partition key.
    pub sequence: u16,
}

/// What the servers returned when the statement was prepared; shared by all clones.
#[derive(Debug)]
pub(crate) struct PreparedShared {
    pub(crate) id: Bytes,
    pub(crate) statement: proto::Text,
    pub(crate) metadata: PreparedMetadata,
    /// The result columns as the servers last described them. Replaced whole (specs and id
    /// together) when a response reports METADATA_CHANGED or the statement is prepared again,
    /// so every clone sees the change and no reader sees an id with another id's specs.
    pub(crate) result: ArcSwap<ResultColumns>,
    pub(crate) pk_indexes: Vec<PartitionKeyIndex>,
    pub(crate) is_lwt: bool,
}

/// A prepared statement's result columns and the id the server gave their metadata.
#[derive(Debug)]
pub(crate) struct ResultColumns {
    /// The result metadata id (protocol v5, or Scylla's `SCYLLA_USE_METADATA_ID`); `None` when
    /// the statement was prepared on a connection without metadata ids.
    pub(crate) metadata_id: Option<Bytes>,
    /// The column specs, owned (they do not pin a response frame).
    pub(crate) specs: Arc<[ColumnSpec]>,
}

impl PreparedShared {
    /// Adopts the result columns a response or a new PREPARE described: `specs` are copied out
    /// of the frame that holds them, so the statement does not pin it.
    pub(crate) fn update_result(&self, metadata_id: Option<&Bytes>, specs: &[ColumnSpec]) {
        let specs: Arc<[ColumnSpec]> = specs
            .iter()
            .map(|c| ColumnSpec {
                keyspace: proto::Text::copy_from_str(&c.keyspace),
                table: proto::Text::copy_from_str(&c.table),
                name: proto::Text::copy_from_str(&c.name),
                typ: c.typ.clone(),
            })
            .collect();
        self.result.store(Arc::new(ResultColumns {
            metadata_id: metadata_id.map(|id| Bytes::copy_from_slice(id)),
            specs,
        }));
    }

    /// Adopts the result columns of this statement prepared again (after UNPREPARED).
    pub(crate) fn adopt_reprepared(&self, prepared: &Prepared) {
        if prepared.id == self.id {
            self.update_result(
                prepared.result_metadata_id.as_ref(),
                &prepared.result_metadata.col_specs,
            );
        }
    }
}

/// A statement prepared on the cluster: executed by id, with typed bind markers, and routed to a
/// replica of the partition its values address.
///
/// Cloning is cheap (the prepared metadata is shared); each clone has its own options.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    pub(crate) shared: Arc<PreparedShared>,
    pub(crate) config: StatementConfig,
    pub(crate) page_size: i32,
    pub(crate) use_cached_result_metadata: bool,
}

impl PreparedStatement {
    pub(crate) fn new(
        prepared: Prepared,
        statement: proto::Text,
        is_lwt: bool,
        config: StatementConfig,
        page_size: i32,
    ) -> Self {
        let Prepared {
            id,
            result_metadata_id,
            metadata,
            result_metadata,
        } = prepared;
        // A PREPARED body is already a copy of its own (see `Prepared::read`).
        let result = ResultColumns {
            metadata_id: result_metadata_id,
            specs: result_metadata.col_specs.into(),
        };
        let mut pk_indexes: Vec<PartitionKeyIndex> = metadata
            .pk_indexes
            .iter()
            .enumerate()
            .map(|(sequence, &index)| PartitionKeyIndex {
                index,
                // The count of pk indexes comes from a [short], so it fits in u16.
                sequence: u16::try_from(sequence).unwrap_or(u16::MAX),
            })
            .collect();
        pk_indexes.sort_by_key(|p| p.index);
        Self {
            shared: Arc::new(PreparedShared {
                id,
                statement,
                metadata,
                result: ArcSwap::from_pointee(result),
                pk_indexes,
                is_lwt,
            }),
            config,
            page_size,
            use_cached_result_metadata: false,
        }
    }

    /// The statement's id on the servers.
    pub fn get_id(&self) -> &Bytes {
        &self.shared.id
    }

    /// The CQL text.
    pub fn get_statement(&self) -> &str {
        &self.shared.statement
    }

    /// The bind markers' metadata (names, types, partition-key indexes).
    pub fn get_prepared_metadata(&self) -> &PreparedMetadata {
        &self.shared.metadata
    }

    /// The bind markers' column specs.
    pub fn get_variable_col_specs(&self) -> &[ColumnSpec] {
        &self.shared.metadata.col_specs
    }

    /// The columns of the rows the statement returns (empty for statements returning none), as
    /// the servers last described them: refreshed, for every clone, when a response reports
    /// changed result metadata or the statement is prepared again after a schema change.
    pub fn get_result_set_col_specs(&self) -> Arc<[ColumnSpec]> {
        Arc::clone(&self.shared.result.load().specs)
    }

    /// The id the server gave the result metadata (protocol v5, or Scylla's
    /// `SCYLLA_USE_METADATA_ID`), as last reported; `None` without metadata ids.
    pub fn get_result_metadata_id(&self) -> Option<Bytes> {
        self.shared.result.load().metadata_id.clone()
    }

    /// Whether to ask the server to leave the result metadata out of the rows and decode them
    /// with the cached result specs, on connections without result metadata ids. Off by
    /// default.
    ///
    /// Connections with result metadata ids (protocol v5, or Scylla's `SCYLLA_USE_METADATA_ID`)
    /// always skip the metadata safely: the server compares the statement's metadata id and
    /// sends the new columns when they changed, whatever this option says. Without ids the
    /// server cannot tell whether the cached specs are current: a schema change makes it
    /// forget the statement (the driver then prepares it again and refreshes the specs), but a
    /// statement another client prepared again after the change is executed with this client's
    /// old specs. Turn this on only for tables whose columns do not change; a result whose
    /// column count differs from the cached specs fails with
    /// [`ExecutionError::ResultMetadataMismatch`](crate::errors::ExecutionError::ResultMetadataMismatch).
    pub fn set_use_cached_result_metadata(&mut self, use_cached_metadata: bool) {
        self.use_cached_result_metadata = use_cached_metadata;
    }

    /// Whether the cached result specs are used on connections without result metadata ids;
    /// see [`Self::set_use_cached_result_metadata`].
    pub fn get_use_cached_result_metadata(&self) -> bool {
        self.use_cached_result_metadata
    }

    /// The partition-key components among the bind markers, sorted by marker index.
    pub fn get_variable_pk_indexes(&self) -> &[PartitionKeyIndex] {
        &self.shared.pk_indexes
    }

    /// The keyspace of the statement's table, if the statement has bind markers.
    pub fn get_keyspace_name(&self) -> Option<&str> {
        self.shared
            .metadata
            .col_specs
            .first()
            .map(|c| c.keyspace.as_str())
    }

    /// The statement's table, if the statement has bind markers.
    pub fn get_table_name(&self) -> Option<&str> {
        self.shared
            .metadata
            .col_specs
            .first()
            .map(|c| c.table.as_str())
    }

    /// Whether the server marked the statement as a lightweight transaction (Scylla).
    pub fn is_confirmed_lwt(&self) -> bool {
        self.shared.is_lwt
    }

    /// The serialization context of the bind markers.
    pub fn serialization_context(&self) -> RowSerializationContext<'_> {
        RowSerializationContext::from_specs(&self.shared.metadata.col_specs)
    }

    /// Serializes `values` for this statement, checking them against the bind markers.
    pub(crate) fn serialize_values(
        &self,
        values: &(impl SerializeRow + ?Sized),
        buf: &mut BytesMut,
    ) -> Result<u16, SerializationError> {
        serialize_row(&self.serialization_context(), values, buf)
    }

    /// Serializes `values` (one exact-size allocation) and computes the token they address.
    pub(crate) fn serialize_with_token(
        &self,
        values: &(impl SerializeRow + ?Sized),
    ) -> Result<(SerializedValues, Option<Token>), PartitionKeyError> {
        proto::scratch::with_scratch(|buf| {
            let count = self.serialize_values(values, buf)?;
            let token = self.token_from_serialized(buf, count)?;
            let values = SerializedValues {
                count,
                names: None,
                bytes: Bytes::copy_from_slice(buf),
            };
            Ok((values, token))
        })
    }

    /// The serialized partition key addressed by `values`.
    ///
    /// A single-component key is the component's bytes; a composite key is each component as
    /// `[short length][bytes][0x00]`.
    pub fn compute_partition_key(
        &self,
        values: &impl SerializeRow,
    ) -> Result<Bytes, PartitionKeyError> {
        let mut buf = BytesMut::new();
        let count = self.serialize_values(values, &mut buf)?;
        let mut key = BytesMut::new();
        self.partition_key_from_serialized(&buf, count, &mut key)?;
        Ok(key.freeze())
    }

    /// The token of the partition addressed by `values`, or `None` when the statement has no
    /// partition-key bind markers.
    pub fn calculate_token(
        &self,
        values: &impl SerializeRow,
    ) -> Result<Option<Token>, PartitionKeyError> {
        if self.shared.pk_indexes.is_empty() {
            return Ok(None);
        }
        let key = self.compute_partition_key(values)?;
        Ok(Some(proto::token::murmur3_token(&key)))
    }

    /// The token addressed by already serialized values, or `None` without partition-key
    /// markers. A single-component key is hashed in place, without copying.
    pub(crate) fn token_from_serialized(
        &self,
        values: &[u8],
        count: u16,
    ) -> Result<Option<Token>, PartitionKeyError> {
        match self.shared.metadata.pk_indexes.as_slice() {
            [] => Ok(None),
            [index] => match raw_values(values).nth(usize::from(*index)) {
                Some(RawValue::Value(bytes)) => Ok(Some(proto::token::murmur3_token(bytes))),
                Some(RawValue::Null | RawValue::Unset) => {
                    Err(PartitionKeyError::NullValue { index: *index })
                }
                None => Err(PartitionKeyError::NoPkIndexValue {
                    index: *index,
                    count,
                }),
            },
            _ => {
                let mut key = BytesMut::new();
                self.partition_key_from_serialized(values, count, &mut key)?;
                Ok(Some(proto::token::murmur3_token(&key)))
            }
        }
    }

    /// Writes the partition key from already serialized values into `key`.
    pub(crate) fn partition_key_from_serialized(
        &self,
        values: &[u8],
        count: u16,
        key: &mut BytesMut,
    ) -> Result<(), PartitionKeyError> {
        // Components in partition-key order; the metadata lists marker indexes in that order.
        let order = &self.shared.metadata.pk_indexes;
        let Some(&first) = order.first() else {
            return Err(PartitionKeyError::NoPkIndexValue { index: 0, count });
        };
        let component = |index: u16| -> Result<&[u8], PartitionKeyError> {
            match raw_values(values).nth(usize::from(index)) {
                Some(RawValue::Value(bytes)) => Ok(bytes),
                Some(RawValue::Null | RawValue::Unset) => {
                    Err(PartitionKeyError::NullValue { index })
                }
                None => Err(PartitionKeyError::NoPkIndexValue { index, count }),
            }
        };
        if order.len() == 1 {
            key.extend_from_slice(component(first)?);
            return Ok(());
        }
        for &index in order {
            let bytes = component(index)?;
            push_composite_key_component(key, bytes)
                .map_err(|_| PartitionKeyError::ValueTooLong { len: bytes.len() })?;
        }
        Ok(())
    }
}

impl_statement_config!(PreparedStatement);
impl_page_size!(PreparedStatement);

/// Serializes `values` for the bind markers of `ctx` into `buf`; returns the value count.
pub(crate) fn serialize_row(
    ctx: &RowSerializationContext<'_>,
    values: &(impl SerializeRow + ?Sized),
    buf: &mut BytesMut,
) -> Result<u16, SerializationError> {
    let mut writer = RowWriter::new(buf);
    values.serialize(ctx, &mut writer)?;
    let n = writer.value_count();
    if n != ctx.columns().len() {
        return Err(SerializationError::WrongColumnCount {
            rust_type: std::any::type_name_of_val(values),
            expected: ctx.columns().len(),
            got: n,
        });
    }
    u16::try_from(n).map_err(|_| SerializationError::TooManyValues { got: n })
}

/// The partition key (and so the token) could not be computed from bound values.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionKeyError {
    /// The values could not be serialized.
    #[error(transparent)]
    Serialization(#[from] SerializationError),
    /// A partition-key bind marker has no value.
    #[error("partition-key bind marker {index} has no value among the {count} values given")]
    NoPkIndexValue {
        /// The bind marker's index.
        index: u16,
        /// The number of values.
        count: u16,
    },
    /// A partition-key component is null; partition keys cannot be null.
    #[error("partition-key bind marker {index} is null; partition-key columns cannot be null")]
    NullValue {
        /// The bind marker's index.
        index: u16,
    },
    /// A component of a composite partition key is longer than 65535 bytes.
    #[error("partition-key component of {len} bytes exceeds the 65535-byte limit")]
    ValueTooLong {
        /// Its length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use proto::ColumnType;
    use proto::response::ResultMetadata;

    use super::*;

    fn spec(name: &'static str, typ: ColumnType) -> ColumnSpec {
        ColumnSpec {
            keyspace: "ks".into(),
            table: "t".into(),
            name: name.into(),
            typ,
        }
    }

    fn prepared(pk_indexes: Vec<u16>) -> PreparedStatement {
        let metadata = PreparedMetadata {
            extra_flags: 0,
            pk_indexes,
            col_specs: vec![
                spec("v", ColumnType::Text),
                spec("a", ColumnType::Int),
                spec("b", ColumnType::Text),
            ],
        };
        PreparedStatement::new(
            Prepared {
                id: Bytes::from_static(b"id"),
                result_metadata_id: None,
                metadata,
                result_metadata: ResultMetadata::default(),
            },
            "INSERT ...".into(),
            false,
            StatementConfig::default(),
            100,
        )
    }

    #[test]
    fn single_component_key_is_the_raw_value() {
        let p = prepared(vec![1]);
        let key = p.compute_partition_key(&("x", 7i32, "y")).unwrap();
        assert_eq!(&key[..], [0, 0, 0, 7]);
        let token = p.calculate_token(&("x", 7i32, "y")).unwrap();
        assert_eq!(token, Some(proto::token::murmur3_token(&[0, 0, 0, 7])));
    }

    #[test]
    fn composite_key_follows_partition_key_order() {
        // Partition key (b, a): marker 2 first, then marker 1.
        let p = prepared(vec![2, 1]);
        let key = p.compute_partition_key(&("x", 7i32, "yz")).unwrap();
        assert_eq!(
            &key[..],
            [0, 2, b'y', b'z', 0, 0, 4, 0, 0, 0, 7, 0],
            "[short len][bytes][0x00] per component"
        );
        assert_eq!(
            p.get_variable_pk_indexes(),
            [
                PartitionKeyIndex {
                    index: 1,
                    sequence: 1
                },
                PartitionKeyIndex {
                    index: 2,
                    sequence: 0
                }
            ]
        );
    }

    #[test]
    fn null_key_component_is_an_error() {
        let p = prepared(vec![1]);
        let err = p
            .compute_partition_key(&("x", None::<i32>, "y"))
            .unwrap_err();
        assert!(
            matches!(err, PartitionKeyError::NullValue { index: 1 }),
            "{err}"
        );
        let err = p.compute_partition_key(&("x", 1i32)).unwrap_err();
        assert!(matches!(err, PartitionKeyError::Serialization(_)), "{err}");
        assert_eq!(
            prepared(vec![]).calculate_token(&("x", 1i32, "y")).unwrap(),
            None
        );
    }
}
