//! Done-when 2: the replicas `ClusterState` computes for a token are the nodes the simulator
//! stores the partition on, for SimpleStrategy and NetworkTopologyStrategy.
//!
//! Two independent checks against the simulator: its placement (`NodeHandle::is_replica`) for
//! many tokens, and its observable behaviour: with one node stopped, a CL ALL read of a key
//! succeeds exactly when that node is not one of the key's replicas (the sim answers
//! UNAVAILABLE otherwise). Stopping each node in turn determines every key's replica set.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use crate::sim_common::*;
use cql_sim::SimCluster;
use cql_transport::{Cluster, Connection};
use proto::response::Response;
use proto::{Consistency, ErrorCode, murmur3_token};

/// Replica addresses per the driver's snapshot.
fn driver_replicas(cluster: &Cluster, ks: &str, token: proto::Token) -> BTreeSet<SocketAddr> {
    cluster
        .state()
        .replicas(ks, token)
        .iter()
        .map(|n| n.address)
        .collect()
}

/// Replica addresses per the simulator's placement.
fn sim_replicas(sim: &SimCluster, ks: &str, token: proto::Token) -> BTreeSet<SocketAddr> {
    sim.nodes()
        .iter()
        .filter(|n| n.is_replica(ks, token.0))
        .map(cql_sim::server::NodeHandle::addr)
        .collect()
}

/// A connection to a node other than `avoid` that is up.
async fn conn_avoiding(cluster: &Cluster, avoid: SocketAddr) -> Connection {
    let mut found = None;
    wait_until(WAIT, "a usable connection to another node", || {
        found = cluster
            .pools()
            .iter()
            .filter(|p| p.address() != avoid)
            .find_map(|p| p.any_connection());
        found.is_some()
    })
    .await;
    found.expect("checked")
}

async fn check_keyspace(
    sim: &SimCluster,
    cluster: &Cluster,
    ks: &str,
    replication: &str,
    rf: usize,
) {
    let conn = conn_avoiding(cluster, SocketAddr::from(([0, 0, 0, 0], 0))).await;
    ok(
        &conn,
        &format!("CREATE KEYSPACE {ks} WITH replication = {replication}"),
    )
    .await;
    ok(
        &conn,
        &format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
    )
    .await;
    // Picked up through the SCHEMA_CHANGE event (bounded wait), then replica sets are computed.
    wait_until(WAIT, "keyspace in the driver's snapshot", || {
        cluster.state().table(ks, "t").is_some()
    })
    .await;

    // 1. Placement for many tokens (keys and raw token values spread over the ring).
    let mut tokens: Vec<proto::Token> = (0..2000).map(int_token).collect();
    tokens.extend(
        (0..500i64)
            .map(|i| proto::Token(i64::MIN.wrapping_add(i.wrapping_mul((u64::MAX / 500) as i64)))),
    );
    tokens.push(proto::Token(i64::MIN));
    tokens.push(proto::Token(i64::MAX));
    for node in sim.nodes() {
        // Exact ring tokens and their neighbours (boundaries are the classic off-by-one).
        for t in node.tokens() {
            tokens.push(proto::Token(*t));
            tokens.push(proto::Token(t.wrapping_add(1)));
            tokens.push(proto::Token(t.wrapping_sub(1)));
        }
    }
    for token in &tokens {
        let d = driver_replicas(cluster, ks, *token);
        let s = sim_replicas(sim, ks, *token);
        assert_eq!(d.len(), rf, "{ks} token {}: driver gave {d:?}", token.0);
        assert_eq!(d, s, "{ks} token {}", token.0);
    }

    // 2. Behaviour: write keys at ALL, then stop each node in turn and read at ALL.
    const KEYS: i32 = 60;
    for k in 0..KEYS {
        let r = run_cl(
            &conn,
            &format!("INSERT INTO {ks}.t (k, v) VALUES ({k}, {k})"),
            Consistency::ALL,
        )
        .await
        .expect("insert");
        assert!(matches!(r, Response::Result(_)), "{r:?}");
    }
    for stopped in sim.nodes() {
        stopped.stop();
        let conn = conn_avoiding(cluster, stopped.addr()).await;
        for k in 0..KEYS {
            let token = murmur3_token(&k.to_be_bytes());
            let expect_replica = driver_replicas(cluster, ks, token).contains(&stopped.addr());
            let r = run_cl(
                &conn,
                &format!("SELECT v FROM {ks}.t WHERE k = {k}"),
                Consistency::ALL,
            )
            .await
            .expect("a response");
            match r {
                Response::Error(e) if expect_replica => {
                    assert_eq!(e.code, ErrorCode::UNAVAILABLE, "{ks} key {k}: {e:?}")
                }
                Response::Result(proto::ResultBody::Rows(rows)) if !expect_replica => {
                    assert_eq!(rows.rows_count, 1, "{ks} key {k}")
                }
                other => panic!(
                    "{ks} key {k}, node {} stopped, driver says replica={expect_replica}: {other:?}",
                    stopped.index()
                ),
            }
        }
        restart(&stopped).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_strategy_rf2_replicas_match_the_sim() {
    let sim = sim3().await;
    let cluster = connect(config(&sim, 1)).await;
    check_keyspace(
        &sim,
        &cluster,
        "simple2",
        "{'class': 'SimpleStrategy', 'replication_factor': 2}",
        2,
    )
    .await;
    cluster.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_topology_two_dcs_replicas_match_the_sim() {
    let sim = SimCluster::builder()
        .datacenter("dc1", 3)
        .rack("r1")
        .rack("r2")
        .datacenter("dc2", 2)
        .shards(SHARDS)
        .isolated()
        .start()
        .await
        .expect("sim starts");
    let cluster = connect(config(&sim, 1)).await;
    let dcs: BTreeSet<_> = cluster
        .state()
        .nodes()
        .iter()
        .filter_map(|n| n.datacenter.clone())
        .collect();
    assert_eq!(dcs, ["dc1".to_owned(), "dc2".to_owned()].into());
    check_keyspace(
        &sim,
        &cluster,
        "nts",
        "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}",
        3,
    )
    .await;
    cluster.close();
}
