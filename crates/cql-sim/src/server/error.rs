//! [`SimError`], the error of starting or changing a simulated cluster.

use std::net::SocketAddr;

/// An error starting or changing a simulated cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A listener could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The builder's settings are inconsistent.
    #[error("invalid cluster configuration: {0}")]
    InvalidConfig(String),
    /// No node has this index.
    #[error("no node with index {0}")]
    NoSuchNode(usize),
    /// The node is stopped; start it first.
    #[error("node {0} is down; start it before connecting")]
    NodeDown(usize),
    /// The cluster was shut down (or dropped) and its data freed; start a new one.
    #[error("the cluster was shut down; build a new one with SimCluster::builder()")]
    ShutDown,
}
