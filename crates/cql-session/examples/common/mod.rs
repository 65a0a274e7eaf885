//! Shared by the examples: the cluster to talk to.
//!
//! `CQL_NODES=host:port,...` names real nodes; otherwise an embedded 3-node `cql-sim` cluster is
//! started on loopback and kept alive for as long as the returned guard lives.

use std::error::Error;

/// Node addresses to connect to, and the embedded cluster when one was started.
pub(crate) async fn cluster_nodes(
    auth: Option<(&str, &str)>,
) -> Result<(Vec<String>, Option<cql_sim::SimCluster>), Box<dyn Error>> {
    if let Ok(list) = std::env::var("CQL_NODES")
        && !list.trim().is_empty()
    {
        let nodes: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
        println!("connecting to {}", nodes.join(", "));
        return Ok((nodes, None));
    }
    let mut builder = cql_sim::SimCluster::builder().nodes(3).shards(2).isolated();
    if let Some((user, password)) = auth {
        builder = builder.auth(user, password);
    }
    let cluster = builder.start().await?;
    let nodes: Vec<String> = cluster.node_addrs().iter().map(|a| a.to_string()).collect();
    println!("started an embedded cql-sim cluster: {}", nodes.join(", "));
    Ok((nodes, Some(cluster)))
}
