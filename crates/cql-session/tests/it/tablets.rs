//! Tablet routing end to end: the session against a multi-shard `cql-sim` cluster whose keyspace
//! uses Scylla tablets. The driver starts with no tablet known, learns each tablet from the
//! `tablets-routing-v1` payload of its first misrouted request, and from then on sends prepared
//! statements to a tablet replica on the tablet's shard, as the sim's routing counters show.

use std::collections::HashSet;
use std::time::Duration;

use cql_session::Session;
use cql_sim::{RoutingStats, SimCluster};
use cql_testkit::wait_until;

use crate::common;

const LIMIT: Duration = Duration::from_secs(120);
const TABLETS: usize = 16;
const KEYS: i32 = 2000;

/// The sum over every node of a counter's growth since `before`.
fn delta(cluster: &SimCluster, before: &[RoutingStats], f: fn(&RoutingStats) -> u64) -> u64 {
    cluster
        .nodes()
        .iter()
        .zip(before)
        .map(|(n, b)| f(&n.routing_stats()) - f(b))
        .sum()
}

fn stats(cluster: &SimCluster) -> Vec<RoutingStats> {
    cluster.nodes().iter().map(|n| n.routing_stats()).collect()
}

async fn setup(rf: usize) -> (SimCluster, Session) {
    let cluster = SimCluster::builder()
        .nodes(3)
        .shards(4)
        .seed(23)
        .start()
        .await
        .expect("sim cluster");
    let session = common::connect(cluster.contact_point()).await;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE tk WITH replication = {{'class': 'NetworkTopologyStrategy', 'replication_factor': {rf}}} AND tablets = {{'initial': {TABLETS}}}"
            ),
            (),
        )
        .await
        .expect("create keyspace");
    session
        .query_unpaged(
            "CREATE TABLE tk.t (pk int, ck int, v int, PRIMARY KEY (pk, ck))",
            (),
        )
        .await
        .expect("create table");
    (cluster, session)
}

async fn prepared_requests_reach_the_tablet_replica_shard(rf: usize) {
    let (cluster, session) = setup(rf).await;
    assert_eq!(cluster.tablets("tk", "t").len(), TABLETS);
    let insert = session
        .prepare("INSERT INTO tk.t (pk, ck, v) VALUES (?, ?, ?)")
        .await
        .unwrap();
    let select = session
        .prepare("SELECT v FROM tk.t WHERE pk = ? AND ck = 0")
        .await
        .unwrap();

    // Inserts: each tablet may be missed once, until its payload arrives.
    let before = stats(&cluster);
    for pk in 0..KEYS {
        session
            .execute_unpaged(&insert, (pk, 0i32, pk))
            .await
            .unwrap();
    }
    let hits = delta(&cluster, &before, |s| s.owner_shard);
    let routed = delta(&cluster, &before, |s| s.owner_shard + s.other_shard);
    assert_eq!(routed, KEYS as u64, "every insert was token-routed");
    let misses = routed - hits;
    let tablets_touched: HashSet<i64> = (0..KEYS)
        .map(|pk| {
            let tok = proto::token::murmur3_token(&pk.to_be_bytes()).0;
            cluster
                .tablet_of("tk", "t", tok)
                .expect("a tablet")
                .last_token
        })
        .collect();
    assert!(
        misses <= tablets_touched.len() as u64,
        "{misses} misses: more than one per tablet ({})",
        tablets_touched.len()
    );
    let after_first = routed - misses;
    let ratio = hits as f64 / after_first as f64;
    eprintln!(
        "rf {rf}: inserts {routed}, misses {misses} ({} tablets), hit ratio after the first miss per tablet {ratio:.4}",
        tablets_touched.len()
    );
    assert!(
        ratio >= 0.99,
        "{hits} of {after_first} inserts after the first miss per tablet hit"
    );

    // Another table in the keyspace: the driver refreshes the keyspace's schema and must keep
    // what it learned of tk.t's tablets.
    session
        .query_unpaged("CREATE TABLE tk.other (k int PRIMARY KEY)", ())
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), "the driver sees tk.other", || {
        session
            .get_cluster_state()
            .keyspace("tk")
            .is_some_and(|k| k.tables.contains_key("other"))
    })
    .await;

    // Selects: every tablet is known now; they all land on a replica's shard, and see the rows.
    let before = stats(&cluster);
    for pk in 0..KEYS {
        let rows = session
            .execute_unpaged(&select, (pk,))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let got: Vec<(i32,)> = rows
            .rows::<(i32,)>()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, vec![(pk,)]);
    }
    let hits = delta(&cluster, &before, |s| s.owner_shard);
    let replica = delta(&cluster, &before, |s| s.replica);
    eprintln!("rf {rf}: selects {KEYS}, on a replica {replica}, on its shard {hits}");
    assert!(
        hits as f64 >= 0.99 * f64::from(KEYS),
        "{hits} of {KEYS} selects reached the tablet's replica shard"
    );
    assert_eq!(
        replica, KEYS as u64,
        "every select went to a tablet replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_requests_reach_the_tablet_replica_shard_rf2() {
    common::bounded(LIMIT, prepared_requests_reach_the_tablet_replica_shard(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_requests_reach_the_tablet_replica_shard_rf3() {
    common::bounded(LIMIT, prepared_requests_reach_the_tablet_replica_shard(3)).await;
}
