//! Tests' window on Scylla tablets: a table's tablet map and the partitions a node holds, to
//! check routing and placement against what the cluster decided.

use proto::TabletRoutingInfo;

use super::{NodeHandle, SimCluster};
use crate::server::node::lock;

impl SimCluster {
    /// The tablets of `keyspace.table` in token order, replicas as (host id, shard); empty
    /// when the table does not exist or its keyspace uses vnodes.
    pub fn tablets(&self, keyspace: &str, table: &str) -> Vec<TabletRoutingInfo> {
        let nodes = self.inner.node_list();
        let tablets = lock(&self.inner.data).tablets_of(keyspace, table);
        tablets.iter().map(|t| t.routing_info(&nodes)).collect()
    }

    /// The tablet of `token` in `keyspace.table`, when the table has tablets.
    pub fn tablet_of(&self, keyspace: &str, table: &str, token: i64) -> Option<TabletRoutingInfo> {
        let nodes = self.inner.node_list();
        let tablet = lock(&self.inner.data).tablet(keyspace, table, token)?;
        Some(tablet.routing_info(&nodes))
    }
}

impl NodeHandle {
    /// The tokens of the partitions of `keyspace.table` this node stores, sorted (empty when
    /// the table does not exist).
    pub fn stored_tokens(&self, keyspace: &str, table: &str) -> Vec<i64> {
        let data = lock(&self.cluster.data);
        data.stored_tokens(self.node.id, keyspace, table)
    }
}
