//! Topology: the cluster state lists every node with its tokens, replica sets follow the
//! replication factor, and a stopped node is seen as down.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use cql_integration::{
    TestKeyspace, cluster, fault_injection_available, query_rows, session, sim_cluster,
};
use cql_testkit::wait_until;
use proto::token::Token;

#[tokio::test]
async fn cluster_state_lists_every_contact_point() {
    let s = session().await;
    let state = s.get_cluster_state();
    let known: HashSet<SocketAddr> = state.nodes().iter().map(|n| n.address).collect();
    for node in &cluster().nodes {
        let addr: SocketAddr = node.parse().expect("CQL_NODES entries are ip:port");
        assert!(known.contains(&addr), "{addr} missing from {known:?}");
    }
    for node in state.nodes() {
        assert!(!node.tokens.is_empty(), "{} has no tokens", node.address);
        assert!(
            node.datacenter.is_some(),
            "{} has no datacenter",
            node.address
        );
        assert!(node.host_id.is_some(), "{} has no host id", node.address);
    }
}

#[tokio::test]
async fn system_local_and_peers_describe_the_same_cluster() {
    let s = session().await;
    let nodes = s.get_cluster_state().nodes().len();
    let local: Vec<(Option<String>,)> =
        query_rows(&s, "SELECT cluster_name FROM system.local", ()).await;
    assert_eq!(local.len(), 1);
    assert!(local[0].0.is_some());
    let peers: Vec<(std::net::IpAddr,)> = query_rows(&s, "SELECT peer FROM system.peers", ()).await;
    assert_eq!(peers.len(), nodes - 1, "peers: {peers:?}");
}

#[tokio::test]
async fn replica_sets_follow_the_replication_factor() {
    let s = session().await;
    let nodes = s.get_cluster_state().nodes().len();
    let rf = nodes.min(3);
    let ks = TestKeyspace::create(&s, "toporf", rf as u32).await;
    s.refresh_metadata().await.unwrap();
    let state = s.get_cluster_state();
    for t in [i64::MIN + 1, -1_000_000, 0, 42, i64::MAX] {
        let replicas = state.replicas(&ks.name, Token(t));
        let distinct: HashSet<SocketAddr> = replicas.iter().map(|n| n.address).collect();
        assert_eq!(replicas.len(), rf, "token {t}");
        assert_eq!(distinct.len(), rf, "token {t}: repeated replica");
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn stopped_node_is_marked_down_and_back_up() {
    if !fault_injection_available("stopped_node_is_marked_down_and_back_up") {
        return;
    }
    let (cluster, s) = sim_cluster(3).await;
    let victim = cluster.node(2);
    let addr = victim.addr();
    victim.stop();
    wait_until(
        Duration::from_secs(20),
        &format!("{addr} marked down after it stopped"),
        || s.get_cluster_state().node(addr).is_some_and(|n| !n.is_up()),
    )
    .await;
    // Requests keep working through the other nodes.
    let rows: Vec<(Option<String>,)> =
        query_rows(&s, "SELECT release_version FROM system.local", ()).await;
    assert_eq!(rows.len(), 1);
    victim.start().await.unwrap();
    wait_until(
        Duration::from_secs(30),
        &format!("{addr} marked up after it restarted"),
        || s.get_cluster_state().node(addr).is_some_and(|n| n.is_up()),
    )
    .await;
    cluster.shutdown();
}
