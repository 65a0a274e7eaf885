//! The cluster: builder, handles, topology changes and events.
//!
//! This file holds [`SimCluster`] (the running cluster: node handles, schema agreement,
//! adding and decommissioning nodes); the parts:
//! - [`builder`]: [`SimClusterBuilder`], the nodes, data centres and settings of a cluster;
//! - [`handle`]: [`NodeHandle`], one node's identity, counters and fault injection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use proto::codes::TopologyChangeType;
use proto::response::Event;
use uuid::Uuid;

use crate::server::error::SimError;
use crate::server::listener;
use crate::server::node::{NodeShared, NodeSpec, lock};
use crate::server::state::ClusterInner;
use crate::server::topology;

mod builder;
mod handle;
mod tablets;

pub use builder::{LWT_MARK, SimClusterBuilder};
pub use handle::{NodeHandle, RoutingStats};

/// A running simulated cluster. Dropping it shuts it down ([`SimCluster::shutdown`]).
#[derive(Debug)]
pub struct SimCluster {
    inner: Arc<ClusterInner>,
}

impl SimCluster {
    /// A builder (see [`SimClusterBuilder`]).
    pub fn builder() -> SimClusterBuilder {
        SimClusterBuilder::new()
    }

    /// Handles of every node, by index (decommissioned ones included).
    pub fn nodes(&self) -> Vec<NodeHandle> {
        self.inner
            .node_list()
            .into_iter()
            .map(|node| NodeHandle {
                cluster: Arc::clone(&self.inner),
                node,
            })
            .collect()
    }

    /// The handle of node `i`.
    ///
    /// # Panics
    /// When there is no node `i` (like slice indexing); see [`SimCluster::try_node`].
    pub fn node(&self, i: usize) -> NodeHandle {
        match self.try_node(i) {
            Some(n) => n,
            None => panic!("cql-sim cluster has no node {i}"),
        }
    }

    /// The handle of node `i`, if it exists.
    pub fn try_node(&self, i: usize) -> Option<NodeHandle> {
        self.inner.node(i).map(|node| NodeHandle {
            cluster: Arc::clone(&self.inner),
            node,
        })
    }

    /// The native transport address of every node, by index.
    pub fn node_addrs(&self) -> Vec<SocketAddr> {
        self.inner.node_list().iter().map(|n| n.addr()).collect()
    }

    /// The address of the first live node.
    pub fn contact_point(&self) -> SocketAddr {
        let nodes = self.inner.node_list();
        nodes
            .iter()
            .find(|n| n.is_up())
            .or_else(|| nodes.first())
            .map_or_else(
                || SocketAddr::new(self.inner.config.node_ip(0), self.inner.config.port),
                |n| n.addr(),
            )
    }

    /// The seed every random choice was drawn from.
    pub fn seed(&self) -> u64 {
        self.inner.config.seed
    }

    /// The cluster name.
    pub fn cluster_name(&self) -> &str {
        &self.inner.config.cluster_name
    }

    /// The cluster-wide schema version (what every node converges to).
    pub fn schema_version(&self) -> Uuid {
        lock(&self.inner.data).schema_version()
    }

    /// Whether every live node reports the cluster-wide schema version.
    pub fn schema_in_agreement(&self) -> bool {
        let v = self.schema_version();
        self.inner
            .node_list()
            .iter()
            .filter(|n| n.is_up())
            .all(|n| n.schema_version() == v)
    }

    /// Waits until every live node reports the same schema version; false after `timeout`.
    pub async fn await_schema_agreement(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.schema_in_agreement() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Adds a node to data centre `dc` (the first data centre when `None`), streams it the
    /// partitions it now replicates, starts it and announces it with TOPOLOGY_CHANGE NEW_NODE.
    ///
    /// The stream runs in bounded steps that yield to the runtime, so requests (and every
    /// other task) keep running while it moves a large data set; writes made meanwhile reach
    /// the new node as well, and reads use the old replicas until the stream is done.
    pub async fn add_node(&self, dc: Option<&str>) -> Result<NodeHandle, SimError> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(SimError::ShutDown);
        }
        let nodes = self.inner.node_list();
        let id = nodes.len();
        if id >= 250 {
            return Err(SimError::InvalidConfig("too many nodes".into()));
        }
        let dc = dc
            .map(str::to_owned)
            .or_else(|| nodes.first().map(|n| n.dc.clone()))
            .unwrap_or_else(|| "datacenter1".into());
        let rack = nodes
            .iter()
            .find(|n| n.dc == dc)
            .map_or_else(|| "rack1".to_owned(), |n| n.rack.clone());
        let taken: HashSet<i64> = nodes
            .iter()
            .flat_map(|n| n.tokens.iter().copied())
            .collect();
        let c = &self.inner.config;
        let node = Arc::new(NodeShared::new(NodeSpec {
            id,
            ip: c.node_ip(id),
            port: c.port,
            shard_aware_port: c.shard_aware_port,
            dc,
            rack,
            host_id: topology::host_id(c.seed, id),
            tokens: topology::node_tokens(c.seed, id, c.vnodes, &taken),
            shards: c.shards,
            schema_version: self.schema_version(),
        }));
        lock(&self.inner.data).ensure_stores(id + 1);
        self.inner
            .nodes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::clone(&node));
        self.inner.stream_to(self.inner.ring_members()).await;
        if let Err(e) = listener::start(&node, &self.inner).await {
            // Leave the failed node in the list (indices stay stable) but out of the ring.
            node.member.store(false, Ordering::Release);
            self.inner.rebuild_ring();
            return Err(e);
        }
        let addr = node.addr();
        self.inner.publish(
            Some(id),
            Event::TopologyChange {
                change: TopologyChangeType::NewNode,
                addr,
            },
        );
        Ok(NodeHandle {
            cluster: Arc::clone(&self.inner),
            node,
        })
    }

    /// Removes node `i` from the ring (its partitions are streamed to their new replicas),
    /// stops it and announces TOPOLOGY_CHANGE REMOVED_NODE.
    ///
    /// The stream runs on the calling thread in bounded steps that release the data lock in
    /// between, so other threads keep serving requests (on a multi-threaded runtime this
    /// worker's other tasks move to the other workers first); node `i` takes writes until
    /// its data is on its successors.
    pub fn decommission(&self, i: usize) -> Result<(), SimError> {
        let node = self.inner.node(i).ok_or(SimError::NoSuchNode(i))?;
        // The node serves (and takes writes) until its data is on its successors.
        let members = self.inner.ring_members();
        self.inner
            .stream_to_blocking(members.into_iter().filter(|m| m.id != i).collect());
        node.member.store(false, Ordering::Release);
        node.stop();
        self.inner.publish(
            Some(i),
            Event::TopologyChange {
                change: TopologyChangeType::RemovedNode,
                addr: node.addr(),
            },
        );
        Ok(())
    }

    /// The generated test CA the nodes' TLS certificate is signed by (DER), when the cluster
    /// serves TLS with a generated certificate ([`crate::SimTls::generated`]).
    pub fn tls_ca_der(&self) -> Option<rustls::pki_types::CertificateDer<'static>> {
        let (der, _) = self.inner.config.tls.as_ref()?.ca.as_ref()?;
        Some(der.clone())
    }

    /// [`SimCluster::tls_ca_der`] in PEM, for clients that read a CA file.
    pub fn tls_ca_pem(&self) -> Option<String> {
        let (_, pem) = self.inner.config.tls.as_ref()?.ca.as_ref()?;
        Some(pem.to_string())
    }

    /// Shuts the cluster down: stops every node, which closes its listeners and connections and
    /// ends its tasks, and frees every node's data. The cluster cannot be started again
    /// ([`SimError::ShutDown`]); [`NodeHandle`]s kept past it hold no rows.
    pub fn shutdown(&self) {
        self.inner.shut_down.store(true, Ordering::Release);
        for n in self.inner.node_list() {
            n.stop();
        }
        lock(&self.inner.data).release();
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests;
