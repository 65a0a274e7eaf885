//! Load balancing: token-aware routing to a replica (and its shard) with the default policy,
//! a datacenter preference, a host filter that keeps a node out of the pools, and a profile
//! that sends everything to one node. Each request prints the node and shard that answered.
//!
//! ```sh
//! cargo run --example load_balancing
//! ```

use std::error::Error;
use std::sync::Arc;

use cql_session::policies::host_filter::AllowListHostFilter;
use cql_session::policies::load_balancing::{
    DefaultPolicy, NodeIdentifier, SingleTargetLoadBalancingPolicy,
};
use cql_session::{ExecutionProfile, SessionBuilder};

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    // The first datacenter of the cluster (the embedded one has one, `datacenter1`).
    let probe = SessionBuilder::new().known_nodes(&nodes).build().await?;
    let state = probe.get_cluster_state();
    let dc = state
        .get_nodes_info()
        .iter()
        .find_map(|n| n.datacenter.clone())
        .unwrap_or_else(|| "datacenter1".to_owned());
    let addresses: Vec<_> = state.get_nodes_info().iter().map(|n| n.address).collect();
    drop(probe);

    let policy = DefaultPolicy::builder()
        .prefer_datacenter(dc.clone())
        .token_aware(true)
        .build();
    let profile = ExecutionProfile::builder()
        .load_balancing_policy(policy)
        .build()
        .into_handle();
    // Every node but the last gets a pool; the last stays in the cluster state, disabled.
    let allowed = &addresses[..addresses.len().saturating_sub(1).max(1)];
    let session = SessionBuilder::new()
        .known_nodes(&nodes)
        .default_execution_profile_handle(profile)
        .host_filter(Arc::new(AllowListHostFilter::new(allowed.iter().copied())?))
        .build()
        .await?;
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS lb_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 2}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS lb_example.t (k int PRIMARY KEY, v int)",
            (),
        )
        .await?;
    let insert = session
        .prepare("INSERT INTO lb_example.t (k, v) VALUES (?, ?)")
        .await?;
    println!("preferring {dc}; token-aware routing:");
    for k in 0..6 {
        let token = insert.calculate_token(&(k, 0))?;
        let result = session.execute_unpaged(&insert, (k, k)).await?;
        let c = result.request_coordinator();
        println!(
            "  k={k} token={:?} -> {} shard {:?}",
            token.map(|t| t.value()),
            c.node().address,
            c.shard()
        );
    }
    for n in session.get_cluster_state().get_nodes_info() {
        println!("  node {} enabled: {}", n.address, n.is_enabled());
    }

    // Everything of this statement to the first node, shard 0.
    let single = ExecutionProfile::builder()
        .load_balancing_policy(SingleTargetLoadBalancingPolicy::new(
            NodeIdentifier::NodeAddress(addresses[0]),
            Some(0),
        ))
        .build()
        .into_handle();
    let mut pinned = insert.clone();
    pinned.set_execution_profile_handle(Some(single));
    let result = session.execute_unpaged(&pinned, (100, 100)).await?;
    println!(
        "pinned: {} shard {:?}",
        result.request_coordinator().node().address,
        result.request_coordinator().shard()
    );
    Ok(())
}
