//! Tokens of partition keys given as values: [`PartitionKeyValues`] and the errors of
//! [`ClusterState::compute_token`](super::ClusterState::compute_token).
//!
//! The values are serialized against the table's partition-key columns (names and CQL types
//! from the schema metadata), then joined into the partition key and hashed with Murmur3, as
//! the server does.

use std::error::Error;
use std::sync::Arc;

use bytes::BytesMut;
use proto::response::ColumnSpec;
use proto::value::SerializeValue;
use proto::{RawValue, SerializedValues, Text, Token};

use super::Table;

/// The error a [`PartitionKeyValues`] implementation reports (the session's serialization
/// error, or an [`proto::EncodeError`]).
pub type PartitionKeyValuesError = Box<dyn Error + Send + Sync + 'static>;

/// The values of a table's partition-key columns, as
/// [`ClusterState::compute_token`](super::ClusterState::compute_token) and
/// [`ClusterState::get_endpoints`](super::ClusterState::get_endpoints) take them.
///
/// Implemented here for tuples of up to 16 values (positional, in partition-key order), slices
/// and `Vec`s of one value type, already [`SerializedValues`], and references to any of them;
/// `cql-session` implements it for `dyn SerializeRow`, which covers named rows (derived structs
/// and maps): pass `&row as &dyn SerializeRow`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the values of a partition key",
    note = "pass a tuple of the key's values in key order, e.g. `&(1, \"a\")`, or a named row as \
            `&row as &dyn SerializeRow`"
)]
pub trait PartitionKeyValues {
    /// Appends one `[value]` (an `[int]` length and the bytes) per column of `columns`, in
    /// order, to `out`, and returns how many it wrote.
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError>;
}

/// Why a token could not be computed from the values given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenCalculationError {
    /// A different number of values than the table has partition-key columns.
    #[error(
        "{got} values given for a partition key of {expected} columns; pass exactly one value \
         per partition-key column, in key order"
    )]
    WrongValueCount {
        /// The partition-key column count.
        expected: usize,
        /// The values given.
        got: usize,
    },
    /// A partition-key value was null or unset.
    #[error("partition-key column `{column}` is null or unset; every key column needs a value")]
    NullValue {
        /// The column's name.
        column: String,
    },
    /// A component of a composite key is longer than its `[short]` length allows.
    #[error(
        "a partition-key component of {0} bytes exceeds the 65535-byte limit of composite keys"
    )]
    ValueTooLong(usize),
    /// The schema metadata names a partition-key column it does not describe.
    #[error(
        "the schema metadata lists partition-key column `{column}` without its type; refresh the \
         metadata and try again"
    )]
    IncompleteMetadata {
        /// The column's name.
        column: String,
    },
}

/// An error of [`ClusterState`](super::ClusterState)'s token and endpoint lookups by partition
/// key (the `scylla` crate's `ClusterStateTokenError`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterStateTokenError {
    /// The values do not make a partition key of the table.
    #[error("cannot compute the token: {0}")]
    TokenCalculation(#[from] TokenCalculationError),
    /// A value could not be serialized as its column's type.
    #[error("cannot serialize the partition-key values as the table's key columns: {0}")]
    Serialization(#[source] Arc<dyn Error + Send + Sync + 'static>),
    /// The cluster state has no metadata for the table.
    #[error(
        "no schema metadata for table {keyspace}.{table}; check the names (they are \
         case-sensitive) or refresh the metadata after creating the table"
    )]
    UnknownTable {
        /// The keyspace name asked for.
        keyspace: String,
        /// The table name asked for.
        table: String,
    },
}

/// The Murmur3 token of the partition of `table` whose key columns have the values `key`.
pub(super) fn token_of<K: PartitionKeyValues + ?Sized>(
    table: &Table,
    key: &K,
) -> Result<Token, ClusterStateTokenError> {
    let keyspace = Text::from(table.keyspace.as_str().to_owned());
    let table_name = Text::from(table.name.as_str().to_owned());
    let columns = table
        .partition_key
        .iter()
        .map(|name| {
            let column =
                table
                    .column(name)
                    .ok_or_else(|| TokenCalculationError::IncompleteMetadata {
                        column: name.clone(),
                    })?;
            Ok(ColumnSpec {
                keyspace: keyspace.clone(),
                table: table_name.clone(),
                name: Text::from(name.clone()),
                typ: column.typ.clone(),
            })
        })
        .collect::<Result<Vec<_>, TokenCalculationError>>()?;
    let mut buf = BytesMut::new();
    let written = key
        .write_partition_key(&columns, &mut buf)
        .map_err(|e| ClusterStateTokenError::Serialization(Arc::from(e)))?;
    let count = u16::try_from(written)
        .ok()
        .filter(|_| written == columns.len());
    let Some(count) = count else {
        return Err(TokenCalculationError::WrongValueCount {
            expected: columns.len(),
            got: written,
        }
        .into());
    };
    let values = SerializedValues {
        count,
        names: None,
        bytes: buf.freeze(),
    };
    Ok(token_of_values(&values, &columns)?)
}

/// The token of serialized partition-key values (one per column of `columns`).
fn token_of_values(
    values: &SerializedValues,
    columns: &[ColumnSpec],
) -> Result<Token, TokenCalculationError> {
    let mut components: Vec<&[u8]> = Vec::with_capacity(columns.len());
    for (value, column) in values.iter().zip(columns) {
        match value {
            Ok((_, RawValue::Value(bytes))) => components.push(bytes),
            // The writer produced these bytes; a malformed or null cell is no key component.
            Ok(_) | Err(_) => {
                return Err(TokenCalculationError::NullValue {
                    column: column.name.to_string(),
                });
            }
        }
    }
    if components.len() != columns.len() {
        return Err(TokenCalculationError::WrongValueCount {
            expected: columns.len(),
            got: components.len(),
        });
    }
    let mut key = BytesMut::new();
    proto::token::serialize_partition_key(&components, &mut key).map_err(|e| match e {
        proto::EncodeError::TooLong { len, .. } => TokenCalculationError::ValueTooLong(len),
        _ => TokenCalculationError::ValueTooLong(0),
    })?;
    Ok(proto::murmur3_token(&key))
}

/// Checks a value count against the key's columns, before writing anything.
fn check_count(columns: &[ColumnSpec], got: usize) -> Result<(), PartitionKeyValuesError> {
    if got == columns.len() {
        Ok(())
    } else {
        Err(Box::new(TokenCalculationError::WrongValueCount {
            expected: columns.len(),
            got,
        }))
    }
}

fn write_values<'v, V: SerializeValue + ?Sized + 'v>(
    values: impl ExactSizeIterator<Item = &'v V>,
    columns: &[ColumnSpec],
    out: &mut BytesMut,
) -> Result<usize, PartitionKeyValuesError> {
    check_count(columns, values.len())?;
    for (v, c) in values.zip(columns) {
        v.serialize_cell(&c.typ, out)?;
    }
    Ok(columns.len())
}

impl<T: PartitionKeyValues + ?Sized> PartitionKeyValues for &T {
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError> {
        (**self).write_partition_key(columns, out)
    }
}

impl<V: SerializeValue> PartitionKeyValues for [V] {
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError> {
        write_values(self.iter(), columns, out)
    }
}

impl<V: SerializeValue> PartitionKeyValues for Vec<V> {
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError> {
        write_values(self.iter(), columns, out)
    }
}

/// Values serialized already (the `scylla` crate's older `&SerializedValues` argument): copied
/// as they are, so they must be in partition-key order.
impl PartitionKeyValues for SerializedValues {
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError> {
        check_count(columns, usize::from(self.count))?;
        out.extend_from_slice(&self.bytes);
        Ok(usize::from(self.count))
    }
}

macro_rules! tuple_partition_key {
    ($len:literal: $($t:ident $i:tt),+) => {
        impl<$($t: SerializeValue),+> PartitionKeyValues for ($($t,)+) {
            fn write_partition_key(
                &self,
                columns: &[ColumnSpec],
                out: &mut BytesMut,
            ) -> Result<usize, PartitionKeyValuesError> {
                check_count(columns, $len)?;
                $( self.$i.serialize_cell(&columns[$i].typ, out)?; )+
                Ok($len)
            }
        }
    };
}

tuple_partition_key!(1: A 0);
tuple_partition_key!(2: A 0, B 1);
tuple_partition_key!(3: A 0, B 1, C 2);
tuple_partition_key!(4: A 0, B 1, C 2, D 3);
tuple_partition_key!(5: A 0, B 1, C 2, D 3, E 4);
tuple_partition_key!(6: A 0, B 1, C 2, D 3, E 4, F 5);
tuple_partition_key!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_partition_key!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_partition_key!(9: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_partition_key!(10: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_partition_key!(11: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_partition_key!(12: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_partition_key!(13: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_partition_key!(14: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_partition_key!(15: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_partition_key!(16: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
