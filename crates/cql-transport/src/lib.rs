//! cql-transport
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod connection;
pub mod cql_type;
pub mod error;
mod frame;
pub mod pool;
pub mod ring;
pub mod state;
mod stream_ids;
mod tcp;
#[cfg(test)]
mod testing;
#[cfg(feature = "tls")]
pub mod tls;

pub use auth::{AuthenticatorProvider, AuthenticatorSession, PasswordAuthenticator};
pub use config::ConnectionConfig;
pub use connection::{
    Backpressure, Connection, ConnectionDriver, ConnectionInfo, ConnectionTuning,
};
pub use error::{BrokenReason, ConnectionError};
pub use ring::{ReplicationStrategy, TokenRing};
pub use state::{
    ClusterState, Column, ColumnKind, Keyspace, Node, NodeRef, Replicas, Table, Tablet,
};
pub use stream_ids::MAX_STREAMS;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;
