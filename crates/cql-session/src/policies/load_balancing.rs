//! Load balancing: the order in which nodes (and shards) are tried for a request.

/// Chooses the nodes to try for a request, in order.
pub trait LoadBalancingPolicy: std::fmt::Debug + Send + Sync {}

/// The default policy: token-aware, shard-aware, datacenter- and rack-aware.
#[derive(Debug, Clone, Default)]
pub struct DefaultPolicy {}

impl LoadBalancingPolicy for DefaultPolicy {}
