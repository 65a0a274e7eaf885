//! `cql-transport` is the tokio mechanism layer of the CQL driver: connections, handshake and
//! authentication, TLS, stream ids, coalesced writes, heartbeats, per-shard pools, the control
//! connection, metadata, the token ring and replica / tablet lookup. Policies (retries, load
//! balancing, paging, typed errors) live in `cql-session`.
//!
//! # Layers
//!
//! ```text
//!   Cluster ── control connection (events, metadata) ──► ArcSwap<ClusterState>
//!      │                                                    nodes, keyspaces, tables,
//!      │                                                    token ring, replica sets, tablets
//!      └── NodePool per node ── shard buckets ── Connection (handle) ──► driver task (socket)
//! ```
//!
//! * [`Connection`] is a cheap `Clone` handle; a spawned [`ConnectionDriver`] owns the socket,
//!   allocates stream ids (up to [`MAX_STREAMS`]), coalesces queued frames into one write, routes
//!   responses, sends OPTIONS heartbeats and fails every in-flight request at once with
//!   [`ConnectionError::Broken`] when the connection dies. Every request gets exactly one
//!   outcome: a response, [`ConnectionError::Timeout`], or the connection's error. A timed-out
//!   request's stream id stays reserved until its late response arrives (too many such orphans
//!   close the connection).
//! * [`pool::NodePool`] keeps connections per shard (Scylla) or per node, opening shard-aware
//!   connections by choosing the local source port, and reconnects with exponential backoff.
//! * [`ClusterState`] is an immutable snapshot, swapped atomically; reading it is one atomic
//!   load. Replica lookup is a binary search over precomputed replica sets.
//!
//! # For the session layer
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use cql_transport::{Cluster, ClusterConfig, PasswordAuthenticator};
//! use proto::request::{Query, Request};
//! use proto::Token;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = ClusterConfig::default();
//! config.known_nodes = vec!["127.0.0.1:9042".into()];
//! config.connection.authenticator =
//!     Some(std::sync::Arc::new(PasswordAuthenticator::new("cassandra", "cassandra")));
//! config.connection.compression = Some(proto::frame::Compression::Lz4);
//! config.connection.tuning.request_timeout = Some(Duration::from_secs(10));
//! config.pool.connections_per_shard = 1;
//! let cluster = Cluster::connect(config).await?;
//!
//! // Routing: one atomic load, then a binary search for the replicas.
//! let state = cluster.state();
//! let token = proto::murmur3_token(b"partition key bytes");
//! let replica = state.replicas_for("ks", "table", token).iter().next().map(|(n, _)| n.clone());
//! let node = replica.unwrap_or_else(|| state.nodes()[0].clone());
//! let conn = cluster.connection_for_token(&node, token).ok_or("no connection")?;
//!
//! // Encode, send and decode (the caller's task does the codec work, the driver only copies).
//! let request = Request::Query(Query { query: "SELECT * FROM ks.table".into(), params: Default::default() });
//! let response = conn.request(&request).await?;
//! println!("{:?}", response.response);
//!
//! cluster.use_keyspace("ks").await?;
//! cluster.refresh_metadata().await?;
//! cluster.close();
//! # let _ = Token(0);
//! # Ok(())
//! # }
//! ```
//!
//! Call [`Cluster::close`] when done: the control task and the pools' refill tasks run until
//! then.
//!
//! # Features
//!
//! - `tls` (off by default): TLS connections with rustls (`TlsConfig`, and the `rustls`
//!   re-export).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Chainable setters for a `#[non_exhaustive]` config struct, one per field and named after it,
/// so callers outside this crate build configs as `Config::default().field(value)`.
macro_rules! setters {
    ($ty:ident { $( $(#[$attr:meta])* $field:ident: $fty:ty, )* }) => {
        impl $ty {
            $(
                $(#[$attr])*
                #[doc = concat!("Sets `", stringify!($field), "` (see the field).")]
                #[must_use]
                pub fn $field(mut self, value: $fty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

pub mod auth;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod cql_type;
pub mod error;
pub mod health;
pub mod metadata;
pub mod pool;
pub mod routing;
/// The token ring and replica placement (defined with the cluster state, which they serve).
pub mod ring {
    pub use crate::state::ring::*;
}
pub mod state;
mod stream_ids;
mod tcp;
#[cfg(test)]
mod testing;
#[cfg(feature = "tls")]
pub mod tls;

pub use auth::{AuthenticatorProvider, AuthenticatorSession, PasswordAuthenticator};
pub use cluster::{Cluster, ClusterConfig, NewClusterError};
pub use config::{ApplicationIdentity, ConnectionConfig};
pub use connection::{
    Backpressure, Connection, ConnectionDriver, ConnectionInfo, ConnectionTuning, Deadline,
    with_timeout,
};
#[cfg(feature = "tls")]
pub use error::TlsError;
pub use error::{BrokenReason, ConnectionError};
pub use metadata::{AddressTranslator, MetadataError, NodeFilter, Peer};
pub use ring::{ReplicationStrategy, TokenRing};
pub use routing::{Shard, ShardCount, Sharder};
/// The rustls crate this build uses, so callers can build certificates and configurations
/// without pinning a matching version themselves.
#[cfg(feature = "tls")]
pub use rustls;
pub use state::{
    ClusterState, ClusterStateTokenError, Column, ColumnKind, Keyspace, Node, NodeRef,
    PartitionKeyValues, ReplicaLocator, ReplicaSet, Replicas, Table, Tablet, TokenCalculationError,
};
pub use stream_ids::MAX_STREAMS;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;
