//! Routing as the `scylla` crate names it: [`Token`], [`Shard`], [`Sharder`], the replica
//! [`locator`] and the [`partitioner`]s.
//!
//! The mechanism lives in `cql-transport`; this module gives it the `scylla` 1.x paths, and makes
//! every [`SerializeRow`] usable as partition-key values of
//! [`ClusterState::compute_token`](crate::cluster::ClusterState::compute_token) and
//! [`ClusterState::get_endpoints`](crate::cluster::ClusterState::get_endpoints) as
//! `&row as &dyn SerializeRow` (tuples work directly).

use bytes::BytesMut;
use proto::response::ColumnSpec;
use transport::state::{PartitionKeyValues, PartitionKeyValuesError};

pub use proto::Token;
pub use transport::routing::{Shard, ShardCount, Sharder};

pub use crate::client::session_builder::{InvalidShardAwarePortRange, ShardAwarePortRange};
/// Where the default policy prefers its targets (also at `policies::load_balancing`).
pub use crate::policies::load_balancing::NodeLocationPreference;

use crate::serialize::{RowSerializationContext, RowWriter, SerializeRow};

/// Replica lookup: the token ring and the replicas of a token per strategy and table.
pub mod locator {
    pub use transport::ring::TokenRing;
    pub use transport::state::{ReplicaLocator, ReplicaSet};
}

/// Partitioners: how a serialized partition key becomes a token.
pub mod partitioner {
    use proto::{RawValue, SerializedValues, Token};
    pub use transport::state::TokenCalculationError;

    /// A partitioner the driver can compute tokens for.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum PartitionerName {
        /// `Murmur3Partitioner`, the default (Cassandra's variant of MurmurHash3).
        #[default]
        Murmur3,
        /// Scylla's `CDCPartitioner` of CDC log tables: the token is the key's first 8 bytes.
        Cdc,
    }

    impl PartitionerName {
        /// The partitioner of a class name (`...Murmur3Partitioner`, `...CDCPartitioner`).
        pub fn from_class_name(name: &str) -> Option<Self> {
            if name.ends_with("Murmur3Partitioner") {
                Some(Self::Murmur3)
            } else if name.ends_with("CDCPartitioner") {
                Some(Self::Cdc)
            } else {
                None
            }
        }
    }

    /// The token of the partition whose key columns have the serialized values
    /// `serialized_partition_key_values` (all key columns, in key order), under `partitioner`.
    pub fn calculate_token_for_partition_key(
        serialized_partition_key_values: &SerializedValues,
        partitioner: &PartitionerName,
    ) -> Result<Token, TokenCalculationError> {
        let mut components: Vec<&[u8]> = Vec::new();
        for (i, value) in serialized_partition_key_values.iter().enumerate() {
            match value {
                Ok((_, RawValue::Value(bytes))) => components.push(bytes),
                Ok((name, _)) => {
                    return Err(TokenCalculationError::NullValue {
                        column: name.map_or_else(|| format!("#{i}"), str::to_owned),
                    });
                }
                Err(_) => {
                    return Err(TokenCalculationError::WrongValueCount {
                        expected: usize::from(serialized_partition_key_values.count),
                        got: i,
                    });
                }
            }
        }
        let mut key = bytes::BytesMut::new();
        proto::token::serialize_partition_key(&components, &mut key).map_err(|e| match e {
            proto::EncodeError::TooLong { len, .. } => TokenCalculationError::ValueTooLong(len),
            _ => TokenCalculationError::ValueTooLong(0),
        })?;
        Ok(match partitioner {
            PartitionerName::Murmur3 => proto::murmur3_token(&key),
            PartitionerName::Cdc => proto::token::cdc_token(&key),
        })
    }
}

/// Any row serializes as partition-key values against the key's columns (by position, or by
/// name for named rows such as derived structs and maps).
impl PartitionKeyValues for dyn SerializeRow + '_ {
    fn write_partition_key(
        &self,
        columns: &[ColumnSpec],
        out: &mut BytesMut,
    ) -> Result<usize, PartitionKeyValuesError> {
        let ctx = RowSerializationContext::from_specs(columns);
        let mut writer = RowWriter::new(out);
        self.serialize(&ctx, &mut writer)?;
        Ok(writer.value_count())
    }
}

#[cfg(test)]
mod tests {
    use proto::SerializedValues;

    use super::partitioner::{PartitionerName, calculate_token_for_partition_key};
    use super::*;

    fn values(cells: &[&[u8]]) -> SerializedValues {
        let mut bytes = Vec::new();
        for c in cells {
            bytes.extend_from_slice(&i32::try_from(c.len()).expect("short").to_be_bytes());
            bytes.extend_from_slice(c);
        }
        SerializedValues {
            count: u16::try_from(cells.len()).expect("few"),
            names: None,
            bytes: bytes.into(),
        }
    }

    #[test]
    fn partitioners_hash_serialized_keys() {
        // token(1) of an int key as Cassandra prints it.
        let one = values(&[&1i32.to_be_bytes()]);
        let t = calculate_token_for_partition_key(&one, &PartitionerName::Murmur3).expect("t");
        assert_eq!(t, Token(-4069959284402364209));
        let cdc = values(&[&[0, 0, 0, 0, 0, 0, 1, 2]]);
        let t = calculate_token_for_partition_key(&cdc, &PartitionerName::Cdc).expect("t");
        assert_eq!(t, Token(0x0102));
        let short = calculate_token_for_partition_key(&one, &PartitionerName::Cdc).expect("t");
        assert_eq!(short, Token::MIN);
        assert_eq!(
            PartitionerName::from_class_name("org.apache.cassandra.dht.Murmur3Partitioner"),
            Some(PartitionerName::Murmur3)
        );
    }
}
