//! `cql-session` is the user API of the CQL driver: sessions, statements, execution policies,
//! typed results and typed errors. Names and signatures follow the `scylla` crate 1.x, so code
//! written for it moves over with few edits.
//!
//! ```no_run
//! use cql_session::client::session_builder::SessionBuilder;
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let session = SessionBuilder::new().known_node("127.0.0.1:9042").build().await?;
//! session
//!     .query_unpaged(
//!         "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = \
//!          {'class': 'SimpleStrategy', 'replication_factor': 1}",
//!         (),
//!     )
//!     .await?;
//! session
//!     .query_unpaged("CREATE TABLE IF NOT EXISTS ks.t (id int PRIMARY KEY, name text)", ())
//!     .await?;
//!
//! let insert = session.prepare("INSERT INTO ks.t (id, name) VALUES (?, ?)").await?;
//! session.execute_unpaged(&insert, (1i32, "one")).await?;
//!
//! let result = session.query_unpaged("SELECT id, name FROM ks.t", ()).await?;
//! for row in result.into_rows_result()?.rows::<(i32, &str)>()? {
//!     let (id, name) = row?;
//!     println!("{id}: {name}");
//! }
//!
//! let mut rows = session
//!     .query_iter("SELECT id, name FROM ks.t", ())
//!     .await?
//!     .rows_stream::<(i32, String)>()?;
//! while let Some((id, name)) = rows.try_next().await? {
//!     println!("{id}: {name}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Differences from the `scylla` crate
//!
//! - Row traits have one lifetime: `DeserializeRow<'frame>` (column specs live as long as the
//!   frame). Value traits are `cql-proto`'s `SerializeValue` / `DeserializeValue<'frame>`.
//! - `ExecutionError::LastAttemptError { error, attempts }` and `RequestTimeout { timeout,
//!   attempts }` carry every failed attempt's node and error ([`errors::ExecutionError::attempts`]).
//! - [`QueryPager`] is itself a `Stream` of dynamic [`value::Row`]s; it prefetches the next page
//!   without spawning a task.
//! - [`Session::close`] shuts down gracefully; execution profiles have an extra per-attempt
//!   timeout ([`client::execution_profile::ExecutionProfileBuilder::attempt_timeout`]).
//! - Metrics are always collected.
//!
//! # Features
//!
//! - `derive` (default): `#[derive(SerializeRow, DeserializeRow, SerializeValue,
//!   DeserializeValue)]` from `cql-macros`; see [`serialize::row`] and [`deserialize::row`] for
//!   what the row derives generate. Attributes are `#[cql(...)]` or, as in the `scylla` crate,
//!   `#[scylla(...)]`; beyond it, C-like enums (`repr = "int"` / `"text"`) and `transparent`
//!   newtypes derive the value traits (the `cql-macros` docs list every attribute).
//! - `chrono-04`, `time-03`, `num-bigint-03`, `num-bigint-04`, `bigdecimal-04`, `secrecy-08`
//!   (the `scylla` crate's names): value impls and conversions for those crates' types, such as
//!   `chrono::DateTime<Utc>` as `timestamp` and `num_bigint::BigInt` as `varint`.
//! - `tls`: TLS connections through rustls ([`SessionBuilder::tls_context`](client::session_builder::SessionBuilder)).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod consistency;
pub mod deserialize;
pub mod errors;
pub mod observability;
pub mod policies;
pub mod response;
pub mod routing;
pub mod serialize;
pub mod statement;
pub mod value;

/// The cluster as the driver sees it: nodes, keyspaces, token ring.
pub mod cluster {
    pub use transport::ReplicationStrategy;
    pub use transport::state::{ClusterState, Keyspace, Node, Table};

    /// A node borrowed from a [`ClusterState`], as the `scylla` crate names it: what
    /// [`LoadBalancingPolicy`](crate::policies::load_balancing::LoadBalancingPolicy) methods take
    /// and return, so a policy written with `NodeRef<'a>` compiles unchanged.
    pub type NodeRef<'a> = &'a std::sync::Arc<Node>;

    /// Schema metadata types, at the `scylla` crate's path.
    pub mod metadata {
        pub use proto::ColumnType;
        /// A node as read from `system.local` / `system.peers`, what a
        /// [`HostFilter`](crate::policies::host_filter::HostFilter) decides on.
        pub use transport::Peer;
        /// A keyspace's replication strategy by the `scylla` crate's name: the same enum as
        /// [`ReplicationStrategy`](super::ReplicationStrategy), with its variant names.
        pub use transport::ReplicationStrategy as Strategy;
        pub use transport::{Column, ColumnKind, Keyspace, Table};
    }
}

/// Result metadata at the `scylla` crate's `frame::response::result` path, where programs
/// written for it import `TableSpec`, `ColumnSpec` and `ColumnType` from.
pub mod frame {
    /// Responses.
    pub mod response {
        /// `RESULT` metadata.
        pub mod result {
            pub use proto::ColumnType;
            pub use proto::response::{ColumnSpec, TableSpec};
        }
    }
}

/// TLS for connections (feature `tls`): build a [`tls::TlsConfig`] and pass it to
/// [`SessionBuilder::tls_context`].
#[cfg(feature = "tls")]
pub mod tls {
    pub use transport::TlsConfig;
    /// The `scylla` crate's name for the TLS settings
    /// [`SessionBuilder::tls_context`](crate::SessionBuilder::tls_context) takes.
    pub use transport::TlsConfig as TlsContext;
    pub use transport::rustls;
}

pub use client::caching_session::{CachingSession, CachingSessionBuilder};
pub use client::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
pub use client::pager::{QueryPager, TypedRowStream};
pub use client::session::Session;
pub use client::session_builder::{SessionBuilder, SessionConfig};
pub use response::{PagingState, PagingStateResponse, QueryResult, QueryRowsResult};
pub use statement::{
    Batch, BatchType, Consistency, PreparedStatement, SerialConsistency, Statement,
};

#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use cql_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

/// Paths for the code `cql-macros` generates (`::cql_session::_macro_internal::...`), so derived
/// impls compile without the user depending on `cql-proto` or `bytes`. Not a stable API.
#[doc(hidden)]
pub mod _macro_internal {
    pub use bytes::BytesMut;
    pub use proto;
    pub use proto::response::ColumnSpec;
    pub use proto::value::{DeserializeValue, SerializeValue};
    pub use proto::{ColumnType, DecodeError, EncodeError};

    pub use crate::deserialize::derive_support::DeserializeRowByName;
    pub use crate::deserialize::row::{
        deserialize_column, mk_missing_column_deser_err, mk_missing_column_typck_err,
        mk_unexpected_column_err, mk_wrong_count_typck_err, next_column, next_value,
        type_check_column,
    };
    pub use crate::deserialize::{
        ColumnIterator, DeserializationError, DeserializeRow, RawColumn, TypeCheckError,
    };
    pub use crate::serialize::derive_support::SerializeRowByName;
    pub use crate::serialize::row::{mk_no_column_err, mk_value_missing_err, mk_wrong_count_err};
    pub use crate::serialize::{
        RowSerializationContext, RowWriter, SerializationError, SerializeRow,
    };
}

/// The migration guide's snippets (`docs/migrating-from-scylla.md`), compiled and run as
/// doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/migrating-from-scylla.md")]
pub struct MigrationGuide;

#[cfg(doctest)]
mod book_doctests;
