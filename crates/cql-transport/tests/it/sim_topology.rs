//! Done-when 3 and 4: a stopped node is marked down and requests fail over to other nodes; it
//! is used again after it restarts; a node added to the cluster is discovered through
//! TOPOLOGY_CHANGE (and a decommissioned one forgotten).

use std::net::SocketAddr;

use crate::sim_common::*;
use cql_sim::SimCluster;
use cql_transport::{Cluster, ConnectionError};
use proto::codes::{StatusChangeType, TopologyChangeType};
use proto::response::{Event, Response};
use tokio::sync::mpsc;

fn pool_full(cluster: &Cluster, addr: SocketAddr, per_shard: usize) -> bool {
    cluster.pool(addr).is_some_and(|p| {
        (0..SHARDS).all(|s| {
            p.connections()
                .iter()
                .filter(|c| c.shard() == Some(s))
                .count()
                == per_shard
        })
    })
}

/// Waits for an event matching `pred`, bounded by [`WAIT`].
async fn expect_event(rx: &mut mpsc::Receiver<Event>, what: &str, pred: impl Fn(&Event) -> bool) {
    let r = tokio::time::timeout(WAIT, async {
        while let Some(ev) = rx.recv().await {
            if pred(&ev) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(r, Ok(true), "event: {what}");
}

async fn setup(sim: &SimCluster) -> (Cluster, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(256);
    let mut cfg = config(sim, 1);
    cfg.event_sender = Some(tx);
    let cluster = connect(cfg).await;
    let addrs = sim.node_addrs();
    wait_until(WAIT, "all pools full", || {
        addrs.iter().all(|a| pool_full(&cluster, *a, 1))
    })
    .await;
    (cluster, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_node_is_marked_down_requests_fail_over_and_it_is_used_after_restart() {
    let sim = sim3().await;
    let (cluster, mut events) = setup(&sim).await;
    let any = cluster
        .pool(sim.node(0).addr())
        .and_then(|p| p.any_connection())
        .expect("conn");
    ok(&any, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
    ok(&any, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    ok(&any, "INSERT INTO ks.t (k, v) VALUES (7, 70)").await;
    wait_until(WAIT, "keyspace known", || {
        cluster.state().keyspace("ks").is_some()
    })
    .await;

    // Node 2 is not the control connection's node (the contact point is node 0).
    let victim = sim.node(2);
    let addr = victim.addr();
    let old_conn = cluster
        .pool(addr)
        .and_then(|p| p.any_connection())
        .expect("conn to victim");
    victim.stop();

    // Marked down: STATUS_CHANGE DOWN reaches the control connection, the pool loses its
    // connections and fails to reconnect.
    expect_event(&mut events, "STATUS_CHANGE DOWN", |e| {
        matches!(e, Event::StatusChange { change: StatusChangeType::Down, addr: a } if *a == addr)
    })
    .await;
    wait_until(WAIT, "victim marked down", || {
        let state = cluster.state();
        let node = state.node(addr).expect("still a member");
        !node.is_up() && node.pool().is_some_and(|p| p.connection_count() == 0)
    })
    .await;
    // A connection to the stopped node fails its request with a retryable broken error.
    let r = tokio::time::timeout(
        WAIT,
        old_conn.request(&query_cl(
            "SELECT v FROM ks.t WHERE k = 7",
            proto::Consistency::ONE,
        )),
    )
    .await
    .expect("in time");
    match r {
        Err(e @ ConnectionError::Broken(_)) => assert!(e.is_retryable()),
        other => panic!("request on a stopped node's connection: {other:?}"),
    }

    // Fail over: the first up replica with a connection serves the request.
    let token = int_token(7);
    let state = cluster.state();
    let replicas = state.replicas("ks", token);
    assert_eq!(replicas.len(), 3);
    let down = replicas
        .iter()
        .find(|n| n.address == addr)
        .expect("victim is a replica");
    assert!(cluster.connection_for_token(down, token).is_none());
    let (node, conn) = replicas
        .iter()
        .filter(|n| n.is_up())
        .find_map(|n| {
            cluster
                .connection_for_token(n, token)
                .map(|c| (n.clone(), c))
        })
        .expect("another replica has a connection");
    assert_ne!(node.address, addr);
    let served_by = sim
        .nodes()
        .into_iter()
        .find(|h| h.addr() == node.address)
        .expect("sim node");
    let before = served_by.request_count();
    match run(&conn, "SELECT v FROM ks.t WHERE k = 7").await {
        Ok(Response::Result(proto::ResultBody::Rows(rows))) => assert_eq!(rows.rows_count, 1),
        other => panic!("{other:?}"),
    }
    assert!(served_by.request_count() > before);

    // Restart: STATUS_CHANGE UP, pool refilled, node used again.
    restart(&victim).await;
    expect_event(&mut events, "STATUS_CHANGE UP", |e| {
        matches!(e, Event::StatusChange { change: StatusChangeType::Up, addr: a } if *a == addr)
    })
    .await;
    wait_until(WAIT, "victim up with a full pool", || {
        cluster.state().node(addr).is_some_and(|n| n.is_up()) && pool_full(&cluster, addr, 1)
    })
    .await;
    wait_until(WAIT, "sim sees the victim's pool again", || {
        victim.connections_per_shard().iter().all(|c| *c == 1)
    })
    .await;
    let state = cluster.state();
    let node = state.node(addr).expect("node");
    let conn = cluster
        .connection_for_token(node, token)
        .expect("conn after restart");
    let before = victim.request_count();
    match run(&conn, "SELECT v FROM ks.t WHERE k = 7").await {
        Ok(Response::Result(proto::ResultBody::Rows(rows))) => assert_eq!(rows.rows_count, 1),
        other => panic!("{other:?}"),
    }
    assert!(victim.request_count() > before);
    cluster.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_node_stopped_control_connection_moves_and_node_comes_back() {
    let sim = sim3().await;
    let (cluster, _events) = setup(&sim).await;
    let victim = sim.node(0);
    let addr = victim.addr();
    victim.stop();
    wait_until(WAIT, "control node marked down", || {
        cluster.state().node(addr).is_some_and(|n| !n.is_up())
    })
    .await;
    // Events still arrive (the control connection moved): a schema change shows up.
    let conn = cluster
        .pool(sim.node(1).addr())
        .and_then(|p| p.any_connection())
        .expect("conn");
    ok(&conn, "CREATE KEYSPACE moved WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    wait_until(WAIT, "schema event after control moved", || {
        cluster.state().keyspace("moved").is_some()
    })
    .await;
    restart(&victim).await;
    wait_until(WAIT, "node 0 back", || {
        cluster.state().node(addr).is_some_and(|n| n.is_up()) && pool_full(&cluster, addr, 1)
    })
    .await;
    cluster.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_node_is_discovered_and_decommissioned_node_is_removed() {
    let sim = sim3().await;
    let (cluster, mut events) = setup(&sim).await;
    let conn = cluster
        .pool(sim.node(0).addr())
        .and_then(|p| p.any_connection())
        .expect("conn");
    ok(&conn, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
    wait_until(WAIT, "keyspace known", || {
        cluster.state().keyspace("ks").is_some()
    })
    .await;

    let new = tokio::time::timeout(WAIT, sim.add_node(None))
        .await
        .expect("in time")
        .expect("add");
    let addr = new.addr();
    expect_event(&mut events, "TOPOLOGY_CHANGE NEW_NODE", |e| {
        matches!(e, Event::TopologyChange { change: TopologyChangeType::NewNode, addr: a } if *a == addr)
    })
    .await;
    wait_until(WAIT, "new node in the snapshot with a full pool", || {
        cluster.state().nodes().len() == 4 && pool_full(&cluster, addr, 1)
    })
    .await;
    let state = cluster.state();
    let node = state.node(addr).expect("new node");
    assert_eq!(node.host_id, Some(new.host_id()));
    assert_eq!(node.tokens, new.tokens().to_vec());
    assert!(node.is_up());
    wait_until(WAIT, "sim sees the new node's pool", || {
        new.connections_per_shard().iter().all(|c| *c == 1)
    })
    .await;
    // The ring includes the new node: replica sets match the sim's new placement.
    let mut owned = 0;
    for k in 0..500 {
        let token = int_token(k);
        let mut d: Vec<_> = state
            .replicas("ks", token)
            .iter()
            .map(|n| n.address)
            .collect();
        let mut s: Vec<_> = sim
            .nodes()
            .iter()
            .filter(|h| h.is_replica("ks", token.0))
            .map(|h| h.addr())
            .collect();
        d.sort();
        s.sort();
        assert_eq!(d, s, "key {k}");
        owned += usize::from(d.contains(&addr));
    }
    assert!(owned > 0, "the new node replicates some keys");

    // Decommission node 1: removed from the snapshot, its pool closed.
    let gone = sim.node(1);
    let gone_pool = cluster.pool(gone.addr()).expect("pool");
    sim.decommission(1).expect("decommission");
    expect_event(&mut events, "TOPOLOGY_CHANGE REMOVED_NODE", |e| {
        matches!(e, Event::TopologyChange { change: TopologyChangeType::RemovedNode, addr: a } if *a == gone.addr())
    })
    .await;
    wait_until(WAIT, "decommissioned node forgotten", || {
        let s = cluster.state();
        s.nodes().len() == 3 && s.node(gone.addr()).is_none() && cluster.pool(gone.addr()).is_none()
    })
    .await;
    wait_until(WAIT, "its pool emptied", || {
        gone_pool.connection_count() == 0
    })
    .await;
    cluster.close();
}
