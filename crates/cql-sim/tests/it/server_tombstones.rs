//! Cassandra's tombstone thresholds over raw frames: a read scanning more tombstones than
//! `tombstone_warn_threshold` carries a client warning, more than
//! `tombstone_failure_threshold` fails with READ_FAILURE (`READ_TOMBSTONE_OVERWHELM`).

use cql_sim::{SimCluster, SimClusterBuilder};
use cql_testkit::RawClient;
use cql_testkit::query::{query, values};
use proto::codes::ErrorCode;
use proto::response::{ErrorDetails, Response};

const SELECT: &str = "SELECT * FROM ks.t WHERE k = 0";

/// A cluster with thresholds 5 and 20, and partition 0 of `ks.t` holding 30 rows.
async fn setup(builder: SimClusterBuilder) -> (SimCluster, RawClient) {
    let cluster = builder.tombstone_thresholds(5, 20).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE ks.t (k int, c int, v int, PRIMARY KEY (k, c))")
        .await;
    for i in 0..30 {
        c.ok(&format!("INSERT INTO ks.t (k, c, v) VALUES (0, {i}, {i})"))
            .await;
    }
    (cluster, c)
}

async fn delete_rows(c: &mut RawClient, rows: std::ops::Range<i32>) {
    for i in rows {
        c.ok(&format!("DELETE FROM ks.t WHERE k = 0 AND c = {i}"))
            .await;
    }
}

#[tokio::test]
async fn cassandra_warns_then_fails_past_the_tombstone_thresholds() {
    let (_cluster, mut c) = setup(SimCluster::builder().without_scylla_extensions()).await;
    delete_rows(&mut c, 0..5).await;
    let r = c.request(&query(SELECT)).await;
    assert!(r.warnings.is_empty(), "at the threshold: {:?}", r.warnings);

    // Six deleted rows and one deleted cell: seven tombstones, over the warning threshold.
    delete_rows(&mut c, 5..6).await;
    c.ok("DELETE v FROM ks.t WHERE k = 0 AND c = 29").await;
    let r = c.request(&query(SELECT)).await;
    assert_eq!(values(&r.response).len(), 24);
    assert_eq!(
        r.warnings,
        [format!(
            "Read 24 live rows and 7 tombstone cells for query {SELECT} (see tombstone_warn_threshold)"
        )]
    );

    delete_rows(&mut c, 6..21).await;
    let r = c.request(&query(SELECT)).await;
    let Response::Error(e) = &r.response else {
        panic!("expected READ_FAILURE, got {:?}", r.response);
    };
    assert_eq!(e.code, ErrorCode::READ_FAILURE);
    assert!(
        e.message.contains("READ_TOMBSTONE_OVERWHELM"),
        "{}",
        e.message
    );
    let ErrorDetails::ReadFailure {
        received,
        num_failures,
        data_present,
        ..
    } = &e.details
    else {
        panic!("details {:?}", e.details);
    };
    assert_eq!((*received, *num_failures, *data_present), (0, 1, false));
    // Other partitions read as before.
    let r = c.request(&query("SELECT * FROM ks.t WHERE k = 1")).await;
    assert!(r.warnings.is_empty() && values(&r.response).is_empty());
}

#[tokio::test]
async fn scylla_sends_no_tombstone_warning() {
    let (_cluster, mut c) = setup(SimCluster::builder()).await;
    delete_rows(&mut c, 0..25).await;
    let r = c.request(&query(SELECT)).await;
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(values(&r.response).len(), 5);
}
