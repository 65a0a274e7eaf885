//! Fidelity fixes found by running third-party drivers (Python `cassandra-driver`,
//! `scylla-driver`) against the simulator; each test replays what the driver sent.

mod common;

use common::*;
use cql_sim::SimCluster;
use proto::response::Response;

/// `scylla-driver` 3.29 appends `USING TIMEOUT <n>ms` to its control-connection queries
/// (`maybe_add_timeout_to_query`) when the server advertises sharding; the connect fails if the
/// server rejects it.
#[tokio::test]
async fn select_accepts_scylla_using_timeout() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut c = RawClient::ready(cluster.contact_point()).await;
    let r = c
        .query(
            "SELECT peer, data_center, host_id, rack, release_version, rpc_address, \
             schema_version, tokens FROM system.peers USING TIMEOUT 10000ms",
        )
        .await;
    assert_eq!(rows(&r).rows_count, 1, "{r:?}");
    let r = c
        .query("SELECT key FROM system.local WHERE key='local' BYPASS CACHE USING TIMEOUT 5s")
        .await;
    assert_eq!(rows(&r).rows_count, 1, "{r:?}");
    // Writes already took `USING TIMEOUT`; a SELECT with a bad one is still a syntax error.
    let r = c.query("SELECT key FROM system.local USING TTL 5").await;
    assert!(matches!(r, Response::Error(_)), "{r:?}");
}
