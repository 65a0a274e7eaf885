//! `ClusterState`'s `scylla` 1.x names checked against the server's own answers: the token the
//! driver computes equals the one `token(...)` returns, the replicas it names are the nodes
//! `cql-sim` stores the partition on, the shard it names is the shard the node routes the token
//! to, and `QueryResult::request_coordinator()` is the node and shard that received the request.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use cql_session::Session;
use cql_session::errors::ClusterStateTokenError;
use cql_session::routing::Token;
use cql_sim::SimCluster;

use crate::common::{self, bounded, executes};

const KEYS: i32 = 40;

async fn cluster_and_session() -> (SimCluster, Session) {
    let cluster = common::sim(3, 2).await;
    let session = common::connect(cluster.contact_point()).await;
    for ddl in [
        "CREATE KEYSPACE cs WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}",
        "CREATE TABLE cs.t (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))",
    ] {
        session.query_unpaged(ddl, ()).await.expect("schema");
    }
    session
        .await_schema_agreement()
        .await
        .expect("schema agreement");
    session.refresh_metadata().await.expect("refresh metadata");
    (cluster, session)
}

/// The server's token of `(a, b)`: `SELECT token(a, b)`.
async fn server_token(session: &Session, a: i32, b: &str) -> i64 {
    let rows = session
        .query_unpaged("SELECT token(a, b) FROM cs.t WHERE a = ? AND b = ?", (a, b))
        .await
        .expect("select token")
        .into_rows_result()
        .expect("rows");
    let (token,): (i64,) = rows.single_row().expect("one row");
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_replicas_and_shards_match_what_the_server_says() {
    bounded(Duration::from_secs(60), async {
        let (cluster, session) = cluster_and_session().await;
        for a in 0..KEYS {
            let b = format!("k{a}");
            session
                .query_unpaged(
                    "INSERT INTO cs.t (a, b, c, v) VALUES (?, ?, 0, 1)",
                    (a, b.as_str()),
                )
                .await
                .expect("insert");
        }
        let state = session.get_cluster_state();
        assert_eq!(state.get_nodes_info().len(), 3);
        assert!(state.keyspaces_iter().any(|(name, _)| name == "cs"));
        assert!(state.get_keyspace("cs").is_some());
        let locator = state.replica_locator();
        assert_eq!(locator.unique_nodes_in_global_ring().len(), 3);
        let dcs = locator.datacenter_names();
        let sim_dc = cluster.node(0).datacenter().to_owned();
        assert_eq!(dcs, std::slice::from_ref(&sim_dc), "datacenters");
        assert_eq!(
            locator
                .unique_nodes_in_datacenter_ring(&sim_dc)
                .map(<[_]>::len),
            Some(3)
        );

        for a in 0..KEYS {
            let b = format!("k{a}");
            let token = state
                .compute_token("cs", "t", &(a, b.as_str()))
                .expect("compute token");
            assert_eq!(
                token.value(),
                server_token(&session, a, &b).await,
                "token of ({a}, {b})"
            );

            // The nodes that store the partition, as the sim knows them.
            let stored: BTreeSet<SocketAddr> = cluster
                .nodes()
                .iter()
                .filter(|n| n.stored_tokens("cs", "t").contains(&token.value()))
                .map(|n| n.addr())
                .collect();
            assert_eq!(stored.len(), 2, "RF 2 stores ({a}, {b}) on two nodes");

            let endpoints = state
                .get_endpoints("cs", "t", &(a, b.as_str()))
                .expect("endpoints");
            let named: BTreeSet<SocketAddr> = endpoints.iter().map(|(n, _)| n.address).collect();
            assert_eq!(named, stored, "replicas of ({a}, {b})");
            for (node, shard) in &endpoints {
                let sim_node = cluster
                    .nodes()
                    .into_iter()
                    .find(|n| n.addr() == node.address)
                    .expect("a sim node");
                assert_eq!(
                    *shard,
                    sim_node.shard_of_token(token.value()),
                    "shard of {token:?} on {}",
                    node.address
                );
                let sharder = node.sharder().expect("sharding info from the node");
                assert_eq!(sharder.shard_of(token), *shard);
            }
            let by_token: Vec<(SocketAddr, u32)> = state
                .get_token_endpoints("cs", "t", Token::new(token.value()))
                .iter()
                .map(|(n, s)| (n.address, *s))
                .collect();
            let by_key: Vec<(SocketAddr, u32)> =
                endpoints.iter().map(|(n, s)| (n.address, *s)).collect();
            assert_eq!(by_token, by_key);
        }

        let err = state
            .compute_token("cs", "missing", &(1, "x"))
            .expect_err("unknown table");
        assert!(
            matches!(&err, ClusterStateTokenError::UnknownTable { table, .. } if table == "missing"),
            "{err}"
        );
        let err = state
            .compute_token("cs", "t", &(1,))
            .expect_err("a partition key value short");
        assert!(
            // As in the `scylla` crate: the values do not serialize as the key's columns.
            matches!(err, ClusterStateTokenError::Serialization(_))
                && err.to_string().contains("2 columns"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_coordinator_is_the_node_and_shard_that_answered() {
    bounded(Duration::from_secs(60), async {
        let (cluster, session) = cluster_and_session().await;
        let insert = session
            .prepare("INSERT INTO cs.t (a, b, c, v) VALUES (?, ?, 0, 1)")
            .await
            .expect("prepare");
        let state = session.get_cluster_state();
        for a in 0..KEYS {
            let b = format!("k{a}");
            let before = executes(&cluster);
            let result = session
                .execute_unpaged(&insert, (a, b.as_str()))
                .await
                .expect("execute");
            let after = executes(&cluster);
            let received: Vec<usize> = (0..before.len())
                .filter(|&i| after[i] > before[i])
                .collect();
            assert_eq!(received.len(), 1, "one node received the EXECUTE");
            let sim_node = cluster.node(received[0]);

            let coordinator = result.request_coordinator();
            assert_eq!(coordinator.node().address, sim_node.addr());
            assert_eq!(coordinator.connection_address().ip(), sim_node.addr().ip());
            let token = state
                .compute_token("cs", "t", &(a, b.as_str()))
                .expect("token");
            // Token-aware and shard-aware: a replica, on the shard owning the token.
            assert!(
                sim_node.is_replica("cs", token.value()),
                "coordinator is a replica"
            );
            assert_eq!(
                coordinator.shard(),
                Some(sim_node.shard_of_token(token.value()))
            );
        }
    })
    .await;
}
