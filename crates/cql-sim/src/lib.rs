//! `cql-sim` is an in-process simulated CQL cluster; this part is its CQL engine: a parser,
//! a schema catalog, a per-node store and an executor, with no networking.
//!
//! ```no_run
//! use cql_sim::{Engine, QueryOptions, Store};
//!
//! let mut engine = Engine::new();
//! let mut node = Store::new();
//! let opts = QueryOptions { now_micros: 1_700_000_000_000_000, ..QueryOptions::default() };
//! engine.query(&mut node, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", &opts)?;
//! engine.query(&mut node, "CREATE TABLE ks.t (k int PRIMARY KEY, v text)", &opts)?;
//! engine.query(&mut node, "INSERT INTO ks.t (k, v) VALUES (1, 'one')", &opts)?;
//! let rows = engine.query(&mut node, "SELECT v FROM ks.t WHERE k = 1", &opts)?;
//! # Ok::<(), cql_sim::CqlError>(())
//! ```
//!
//! The layers:
//! - [`cql`]: the `nom` lexer and the parser producing [`cql::ast::Statement`]s.
//! - [`schema`]: the [`Catalog`] of keyspaces, tables, columns and user types, shared by all
//!   nodes, with a schema version that changes on every DDL.
//! - [`storage`]: a [`Store`] per node, and the [`Replicas`] trait through which the cluster
//!   layer decides replica placement.
//! - [`exec`]: the [`Engine`] running statements, with parsed and prepared statement caches.
//! - [`auth`]: roles and permissions (`system_auth`), the login check.
//! - [`system`]: the system keyspaces, with `system_schema.*` generated from the catalog.
//! - [`wire`]: conversions to and from `cql-proto` bodies (rows, errors, prepared, schema change).
//!
//! The engine reads no clock and draws no random numbers: callers pass `now` in.
//!
//! On top of the engine, [`server`] runs the cluster on the network: [`SimCluster`] starts N
//! nodes (each with S shards and a shard-aware port) on loopback addresses, speaks protocol v3
//! and v4 (as Scylla) or up to v5 with its segments (as Cassandra 4+; see
//! [`SimClusterBuilder::max_protocol_version`]) with compression and PasswordAuthenticator, places data by token on replicas with
//! consistency checks, serves `system.local`/`peers`/`peers_v2`/`system_traces` and each node's
//! live connections (`system.clients` as Scylla, `system_views.clients` as Cassandra), pushes events,
//! and injects faults through [`NodeHandle`]s. The `cql-sim` binary runs one standalone.
//!
//! # How a cluster layer drives the engine
//!
//! - One [`Engine`] holds the [`Catalog`] (the schema every node shares) and the statement
//!   caches; each simulated node owns a [`Store`]. The server keeps them behind its own lock.
//! - QUERY: [`Engine::query`] (parses once per distinct text, cached). PREPARE:
//!   [`Engine::prepare`] returns a [`PreparedInfo`] (id = MD5 of keyspace + text, bind specs,
//!   `pk_indexes`, result specs, LWT flag; [`PreparedInfo::to_prepared`] makes the wire body,
//!   [`PreparedInfo::to_prepared_marked`] with Scylla's LWT mark bit for conditional statements
//!   when the connection enabled `SCYLLA_LWT_ADD_METADATA_MARK`).
//!   EXECUTE: [`Engine::prepared`] (Unprepared error when unknown) then [`Engine::execute`].
//!   BATCH: [`Engine::batch`] with one `(statement, values)` per entry.
//! - Values come in as [`BoundValue`]s ([`wire::bound_values`] converts a request's
//!   `SerializedValues` without copying); `now_micros`, the default timestamp, the page size
//!   and the paging state go in [`QueryOptions`].
//! - Placement: the server implements [`Replicas`] over its nodes. Every write calls
//!   `Replicas::write(keyspace, token, f)`, which must run `f` on each live replica's store
//!   (by the keyspace's replication); a read by key calls `Replicas::read` for one live replica;
//!   a range scan merges the stores of `Replicas::scan`, dropping duplicate partitions; schema
//!   drops and TRUNCATE reach all stores via `Replicas::for_each_store`. LWT conditions are
//!   read from one replica, then the mutation is applied to all. `Replicas::system_rows`
//!   supplies `system.local` / `system.peers` / `system.peers_v2` / `clients` rows as the
//!   coordinator sees them; `system_schema.*` is generated from the catalog.
//! - Results: an [`Outcome`] per statement: `Void`, `Rows` ([`RowsResult::to_rows`]),
//!   `SetKeyspace` (USE) or `SchemaChange` ([`SchemaChangeInfo::to_schema_change`] for both the
//!   RESULT and the SCHEMA_CHANGE event; the catalog's [`Catalog::version`] changes with
//!   every DDL). Errors are [`CqlError`]s with the server's codes
//!   ([`CqlError::to_error_body`]).
//! - [`Engine::partition_tokens`] gives the tokens a statement touches, for routing checks.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cql;
pub mod error;
pub mod exec;
mod key_encoding;
pub mod schema;
pub mod server;
pub mod storage;
pub mod system;
pub mod wire;

pub use cql::ast::BatchKind;
pub use error::CqlError;
pub use exec::{
    BoundValue, CachedStatement, ColumnSpec, Engine, Outcome, PreparedInfo, QueryOptions,
    RowsResult,
};
pub use schema::{Catalog, SchemaChangeInfo, SchemaChangeTarget, SchemaChangeType};
pub use server::{
    ClientInfo, ConnectionStage, ControlServer, FaultAction, FaultRule, NodeHandle, RequestMatcher,
    RoutingStats, SimCluster, SimClusterBuilder, SimError, SimTls, TlsFacts,
};
pub use storage::{Replicas, Store};
