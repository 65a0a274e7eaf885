//! The network side of the simulated cluster: nodes listening on loopback addresses, shards,
//! the CQL handshake, request dispatch through the engine, system tables, events and faults.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cql_sim::SimError> {
//! let cluster = cql_sim::SimCluster::builder().nodes(3).shards(2).start().await?;
//! let contact = cluster.contact_point();
//! cluster.node(1).stop();
//! # let _ = contact;
//! # Ok(())
//! # }
//! ```

mod clients;
mod cluster;
mod conn;
pub mod control;
mod coordinator;
mod error;
pub mod faults;
mod listener;
mod node;
mod state;
pub mod tls;
mod topology;

pub use clients::{ClientInfo, ConnectionStage, TlsFacts};
pub use cluster::{LWT_MARK, NodeHandle, RoutingStats, SimCluster, SimClusterBuilder};
pub use control::ControlServer;
pub use error::SimError;
pub use faults::{FaultAction, FaultRule, RequestMatcher};
pub use tls::SimTls;
