//! Cluster state inspection as `scylla` 1.x users write it: nodes, keyspaces and tables,
//! tokens, replicas, the replica locator and shards.

use std::collections::HashSet;
use std::error::Error;
use std::sync::Arc;

use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::metadata::{ColumnKind, Strategy};
use scylla::cluster::{ClusterState, Node};
use scylla::frame::response::result::TableSpec;
use scylla::routing::{Shard, Token};

use crate::cluster;

#[tokio::test]
async fn cluster_state_inspection() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(3).await;
    let ks = cluster::unique_keyspace("state");
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .build()
        .await?;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH REPLICATION = \
                 {{'class' : 'SimpleStrategy', 'replication_factor' : 2}}"
            ),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))"),
            &[],
        )
        .await?;
    session.refresh_metadata().await?;

    let state: Arc<ClusterState> = session.get_cluster_state();

    // Nodes.
    let nodes: &[Arc<Node>] = state.get_nodes_info();
    assert_eq!(nodes.len(), cluster.nodes.len());
    for node in nodes {
        assert!(
            cluster.nodes.contains(&node.address.to_string()),
            "{}",
            node.address
        );
        assert!(node.datacenter.is_some());
        assert!(node.is_enabled());
    }

    // Keyspaces and tables.
    let names: HashSet<&str> = state.keyspaces_iter().map(|(name, _)| name).collect();
    assert!(names.contains(ks.as_str()));
    assert!(names.contains("system"));
    let keyspace = state
        .get_keyspace(&ks)
        .expect("the keyspace was just created");
    match &keyspace.strategy {
        Strategy::SimpleStrategy { replication_factor } => assert_eq!(*replication_factor, 2),
        other => panic!("SimpleStrategy expected, got {other:?}"),
    }
    let table = &keyspace.tables["t"];
    assert_eq!(table.partition_key, vec!["pk".to_owned()]);
    assert_eq!(table.clustering_key, vec!["ck".to_owned()]);
    assert_eq!(table.columns.len(), 3);
    assert_eq!(table.columns["pk"].kind, ColumnKind::PartitionKey);
    assert_eq!(table.columns["ck"].kind, ColumnKind::Clustering);
    assert_eq!(table.columns["v"].kind, ColumnKind::Regular);

    // Tokens and replicas.
    let token: Token = state.compute_token(&ks, "t", &(42_i32,))?;
    assert_eq!(token, Token::new(token.value()));
    let endpoints: Vec<(Arc<Node>, Shard)> = state.get_token_endpoints(&ks, "t", token);
    assert_eq!(endpoints.len(), 2, "replication_factor 2");
    let by_key = state.get_endpoints(&ks, "t", &(42_i32,))?;
    let addresses =
        |v: &[(Arc<Node>, Shard)]| v.iter().map(|(n, s)| (n.address, *s)).collect::<Vec<_>>();
    assert_eq!(addresses(&endpoints), addresses(&by_key));
    // The token is the partition's: the prepared statement computes the same one.
    let prepared = session
        .prepare(format!("SELECT v FROM {ks}.t WHERE pk = ?"))
        .await?;
    assert_eq!(prepared.calculate_token(&(42_i32,))?, Some(token));

    // The replica locator: the ring, its nodes, per-datacenter rings, replica sets.
    let locator = state.replica_locator();
    assert_eq!(locator.unique_nodes_in_global_ring().len(), nodes.len());
    let datacenters = locator.datacenter_names();
    assert_eq!(datacenters.len(), 1);
    let dc_nodes = locator
        .unique_nodes_in_datacenter_ring(&datacenters[0])
        .expect("the datacenter has a ring");
    assert_eq!(dc_nodes.len(), nodes.len());
    assert!(locator.ring().len() >= nodes.len());
    let replica_set = locator.replicas_for_token(
        token,
        &keyspace.strategy,
        None,
        &TableSpec::borrowed(&ks, "t"),
    );
    assert_eq!(replica_set.len(), 2);
    let from_locator: Vec<_> = replica_set
        .into_iter()
        .map(|(n, s)| (n.address, s))
        .collect();
    assert_eq!(from_locator, addresses(&endpoints));
    let in_dc = locator.replicas_for_token(
        token,
        &keyspace.strategy,
        Some(datacenters[0].as_str()),
        &TableSpec::borrowed(&ks, "t"),
    );
    assert_eq!(in_dc.len(), 2);

    // Shards: each replica's shard is its sharder's for the token.
    for (node, shard) in &endpoints {
        if let Some(sharder) = node.sharder() {
            assert_eq!(sharder.shard_of(token), *shard);
            assert_eq!(sharder.nr_shards.get(), 2);
        }
    }

    // The node that answered a request is one of the cluster's.
    let result = session
        .query_unpaged(format!("SELECT v FROM {ks}.t WHERE pk = 42"), &[])
        .await?;
    let coordinator = result.request_coordinator();
    assert!(nodes.iter().any(|n| Arc::ptr_eq(n, coordinator.node())));
    Ok(())
}
