//! [`SingleTargetLoadBalancingPolicy`]: every request to one node (and optionally one shard),
//! as the `scylla` crate's, for requests that must reach a given node (its local tables, a
//! node-specific check).

use std::net::SocketAddr;
use std::sync::Arc;

use transport::state::{ClusterState, NodeRef};
use uuid::Uuid;

use super::{FallbackPlan, LoadBalancingPolicy, RoutingInfo, Shard};

/// How [`SingleTargetLoadBalancingPolicy`] names its node.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NodeIdentifier {
    /// This node (matched by host id, else by address, so it survives a metadata refresh).
    Node(NodeRef),
    /// The node with this host id.
    HostId(Uuid),
    /// The node with this address (as the driver knows it: after address translation).
    NodeAddress(SocketAddr),
}

/// Sends every request to one node, on `shard` when given (the token's shard, else any,
/// otherwise). The plan has that node only: when it fails, the request fails. When the node is
/// not in the cluster, the plan is empty (`ExecutionError::EmptyPlan`) and a warning is logged.
#[derive(Debug)]
pub struct SingleTargetLoadBalancingPolicy {
    node_identifier: NodeIdentifier,
    shard: Option<Shard>,
}

impl SingleTargetLoadBalancingPolicy {
    /// The policy targeting `node_identifier`'s node, on `shard` if given.
    #[allow(clippy::new_ret_no_self)] // The `scylla` crate's shape: policies are shared.
    pub fn new(node_identifier: NodeIdentifier, shard: Option<Shard>) -> Arc<Self> {
        Arc::new(Self {
            node_identifier,
            shard,
        })
    }

    fn find<'a>(&self, cluster: &'a ClusterState) -> Option<&'a NodeRef> {
        let found = cluster
            .nodes()
            .iter()
            .find(|n| match &self.node_identifier {
                NodeIdentifier::Node(node) => match (node.host_id, n.host_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => node.address == n.address,
                },
                NodeIdentifier::HostId(id) => n.host_id == Some(*id),
                NodeIdentifier::NodeAddress(addr) => n.address == *addr,
            });
        if found.is_none() {
            tracing::warn!(
                target = ?self.node_identifier,
                "SingleTargetLoadBalancingPolicy: the node is not in the cluster; the plan is empty"
            );
        }
        found
    }
}

impl LoadBalancingPolicy for SingleTargetLoadBalancingPolicy {
    fn pick<'a>(
        &'a self,
        _request: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> Option<(&'a NodeRef, Option<Shard>)> {
        self.find(cluster).map(|n| (n, self.shard))
    }

    fn fallback<'a>(
        &'a self,
        request: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> FallbackPlan<'a> {
        Box::new(self.pick(request, cluster).into_iter())
    }

    fn name(&self) -> String {
        "SingleTargetLoadBalancingPolicy".to_owned()
    }
}
