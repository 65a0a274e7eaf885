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
//! - [`system`]: the system keyspaces, with `system_schema.*` generated from the catalog.
//!
//! The engine reads no clock and draws no random numbers: callers pass `now` in.
#![forbid(unsafe_code)]

pub mod cql;
pub mod error;
pub mod exec;
mod keyenc;
pub mod schema;
pub mod server;
pub mod storage;
pub mod system;

pub use error::CqlError;
pub use exec::{
    BoundValue, CachedStatement, ColumnSpec, Engine, Outcome, PreparedInfo, QueryOptions,
    RowsResult,
};
pub use schema::{Catalog, SchemaChangeInfo, SchemaChangeTarget, SchemaChangeType};
pub use server::{
    FaultAction, FaultRule, NodeHandle, RequestMatcher, SimCluster, SimClusterBuilder, SimError,
};
pub use storage::{Replicas, Store};
