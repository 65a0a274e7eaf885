//! The one place the programs learn where the cluster is: `CQL_NODES=host:port,...` names real
//! nodes; otherwise an embedded `cql-sim` cluster is started on its own loopback subnet and kept
//! for as long as the returned [`TestCluster`] lives. Everything after this is `scylla` 1.x code.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The nodes a program connects to, and the embedded cluster when one was started.
pub(crate) struct TestCluster {
    /// `host:port` of every node, for `SessionBuilder::known_nodes`.
    pub(crate) nodes: Vec<String>,
    /// The embedded cluster (`None` with `CQL_NODES`); dropping it stops the nodes.
    _sim: Option<cql_sim::SimCluster>,
}

impl TestCluster {
    /// The first node's address.
    pub(crate) fn uri(&self) -> &str {
        &self.nodes[0]
    }
}

/// Connects to `CQL_NODES`, or starts an embedded cluster of `nodes` nodes with 2 shards each.
pub(crate) async fn start(nodes: usize) -> TestCluster {
    if let Ok(list) = std::env::var("CQL_NODES")
        && !list.trim().is_empty()
    {
        let nodes = list.split(',').map(|s| s.trim().to_owned()).collect();
        return TestCluster { nodes, _sim: None };
    }
    let sim = cql_sim::SimCluster::builder()
        .nodes(nodes)
        .shards(2)
        .isolated()
        .start()
        .await
        .expect("starting the embedded cql-sim cluster");
    let nodes = sim.node_addrs().iter().map(|a| a.to_string()).collect();
    TestCluster {
        nodes,
        _sim: Some(sim),
    }
}

/// A keyspace name no other program of this run uses (they may share one real cluster).
pub(crate) fn unique_keyspace(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
