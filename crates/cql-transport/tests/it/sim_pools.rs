//! Done-when 1: one pool per shard, filled through the shard-aware port, checked against the
//! simulator's per-shard connection counters.

use crate::sim_common::*;

const PER_SHARD: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shard_of_every_node_gets_its_connections_through_the_shard_aware_port() {
    let sim = sim3().await;
    let cluster = connect(config(&sim, PER_SHARD)).await;
    let state = cluster.state();
    assert_eq!(state.nodes().len(), 3);

    // Pools fill in the background after `connect` (which waits for one connection per pool).
    wait_until(
        WAIT,
        "every pool holds PER_SHARD connections per shard",
        || {
            cluster.pools().iter().all(|p| {
                (0..SHARDS).all(|s| {
                    p.connections()
                        .iter()
                        .filter(|c| c.shard() == Some(s))
                        .count()
                        == PER_SHARD
                })
            })
        },
    )
    .await;

    for handle in sim.nodes() {
        let pool = cluster.pool(handle.addr()).expect("a pool per sim node");
        let sharding = pool.sharding().expect("Scylla sharding info learned");
        assert_eq!(sharding.nr_shards, SHARDS);
        assert_eq!(
            sharding.shard_aware_port,
            handle.shard_aware_addr().map(|a| a.port())
        );
        let conns = pool.connections();
        assert_eq!(conns.len(), PER_SHARD * SHARDS as usize);
        for s in 0..SHARDS {
            let c = pool
                .connection_for_shard(s)
                .expect("a connection for every shard");
            assert_eq!(c.shard(), Some(s));
        }
        // The first connection (before sharding is known) uses the normal port; every other one
        // goes to the shard-aware port with a source port chosen for its shard.
        let via_shard_port = conns
            .iter()
            .filter(|c| c.info().peer == handle.shard_aware_addr())
            .count();
        let via_normal_port = conns
            .iter()
            .filter(|c| c.info().peer == Some(handle.addr()))
            .count();
        assert_eq!(via_shard_port + via_normal_port, conns.len());
        assert!(
            via_normal_port <= 1,
            "node {}: {via_normal_port} pool connections on the normal port",
            handle.index()
        );
        assert!(via_shard_port >= conns.len() - 1);
    }

    // The simulator sees the same distribution: PER_SHARD per shard on every node, plus the
    // control connection (to the contact point, node 0) on one shard of node 0.
    let control_node = sim
        .nodes()
        .into_iter()
        .find(|n| n.addr() == sim.contact_point())
        .expect("contact point is a node")
        .index();
    wait_until(WAIT, "sim per-shard counters match the pools", || {
        sim.nodes().iter().all(|h| {
            let counts = h.connections_per_shard();
            let extra: usize = counts.iter().map(|c| c.saturating_sub(PER_SHARD)).sum();
            counts.len() == SHARDS as usize
                && counts.iter().all(|c| *c >= PER_SHARD)
                && extra == usize::from(h.index() == control_node)
        })
    })
    .await;
    for h in sim.nodes() {
        let counts = h.connections_per_shard();
        assert_eq!(
            h.open_connections(),
            PER_SHARD * SHARDS as usize + usize::from(h.index() == control_node),
            "node {}: {counts:?}",
            h.index()
        );
    }

    // Every pool connection works and lands on the shard it claims: a token-routed statement
    // sent on the owner shard's connection is counted by the sim on that shard.
    let conn = cluster
        .pool(sim.node(1).addr())
        .expect("pool")
        .any_connection()
        .expect("conn");
    ok(&conn, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
    ok(&conn, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    let node = sim.node(2);
    let pool = cluster.pool(node.addr()).expect("pool");
    let before = node.routing_stats();
    for k in 0..40 {
        let c = pool
            .connection_for_token(int_token(k))
            .expect("conn for token");
        assert_eq!(c.shard(), Some(node.shard_of_token(int_token(k).0)));
        ok(&c, &format!("INSERT INTO ks.t (k, v) VALUES ({k}, {k})")).await;
    }
    let after = node.routing_stats();
    assert_eq!(after.owner_shard - before.owner_shard, 40);
    assert_eq!(after.other_shard, before.other_shard);
    cluster.close();
}
