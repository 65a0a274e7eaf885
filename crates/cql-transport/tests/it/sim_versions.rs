//! Protocol version negotiation against `cql-sim` nodes of each personality: the highest
//! version offered, the server's refusal, the retry one version lower, and a pinned version.

use cql_sim::SimCluster;
use cql_transport::{Connection, ConnectionConfig, ConnectionError};
use proto::frame::ProtocolVersion;
use proto::response::ResultBody;

use crate::sim_common::{WAIT, config, connect, run};

async fn sim(builder: cql_sim::SimClusterBuilder) -> SimCluster {
    builder
        .isolated()
        .start()
        .await
        .expect("sim cluster starts")
}

async fn open(sim: &SimCluster, config: &ConnectionConfig) -> Result<Connection, ConnectionError> {
    tokio::time::timeout(WAIT, Connection::connect(sim.contact_point(), config))
        .await
        .expect("connects or fails in time")
}

#[tokio::test]
async fn v5_offered_to_a_scylla_node_settles_on_v4() {
    let sim = sim(SimCluster::builder()).await;
    let config = ConnectionConfig::default().protocol_version(ProtocolVersion::V5);
    let conn = open(&sim, &config).await.expect("falls back to v4");
    assert_eq!(conn.version(), ProtocolVersion::V4);
    run(&conn, "SELECT release_version FROM system.local")
        .await
        .expect("v4 requests work");
}

#[tokio::test]
async fn v5_offered_to_a_cassandra_3_node_settles_on_v4() {
    // Cassandra 3.11 answers v5 with "Beta version of the protocol used", in a v5 frame.
    let sim = sim(SimCluster::builder()
        .without_scylla_extensions()
        .max_protocol_version(ProtocolVersion::V4))
    .await;
    let config = ConnectionConfig::default().protocol_version(ProtocolVersion::V5);
    let conn = open(&sim, &config).await.expect("falls back to v4");
    assert_eq!(conn.version(), ProtocolVersion::V4);
}

#[tokio::test]
async fn v4_offered_to_a_v3_node_settles_on_v3() {
    let sim = sim(SimCluster::builder().max_protocol_version(ProtocolVersion::V3)).await;
    let conn = open(&sim, &ConnectionConfig::default())
        .await
        .expect("falls back to v3");
    assert_eq!(conn.version(), ProtocolVersion::V3);
    run(&conn, "SELECT release_version FROM system.local")
        .await
        .expect("v3 requests work");
}

#[tokio::test]
async fn a_pinned_version_the_node_refuses_is_a_typed_error() {
    let sim = sim(SimCluster::builder()).await;
    let config = ConnectionConfig::default()
        .protocol_version(ProtocolVersion::V5)
        .protocol_version_fallback(false);
    let err = open(&sim, &config).await.expect_err("v5 is pinned");
    match err {
        ConnectionError::UnsupportedProtocolVersion { offered, message } => {
            assert_eq!(offered, ProtocolVersion::V5);
            assert_eq!(message, "Invalid or unsupported protocol version: 5");
        }
        other => panic!("expected UnsupportedProtocolVersion, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cluster_starts_its_pools_at_the_version_the_control_connection_found() {
    let sim = sim(SimCluster::builder().nodes(3)).await;
    let mut cfg = config(&sim, 1);
    cfg.connection = cfg.connection.protocol_version(ProtocolVersion::V5);
    let cluster = connect(cfg).await;
    let state = cluster.state();
    let mut seen = 0;
    for node in state.nodes() {
        if let Some(conn) = cluster.connection_for(node, None) {
            assert_eq!(conn.version(), ProtocolVersion::V4, "node {}", node.address);
            seen += 1;
        }
    }
    assert_eq!(seen, 3, "every node has a connection");
    cluster.close();
}

/// A v5 connection to a Cassandra-like node, in segments compressed as `compression` says:
/// requests and responses far larger than one segment's 128 KiB payload, many concurrent
/// requests sharing segments, and a heartbeat.
async fn v5_round_trips(compression: Option<proto::frame::Compression>) {
    let sim = sim(SimCluster::builder().without_scylla_extensions()).await;
    let config = ConnectionConfig::default()
        .protocol_version(ProtocolVersion::V5)
        .protocol_version_fallback(false)
        .compression(compression);
    let conn = open(&sim, &config).await.expect("v5 connects");
    assert_eq!(conn.version(), ProtocolVersion::V5);
    let expected = match compression {
        Some(_) => proto::segment::SegmentCompression::Lz4,
        None => proto::segment::SegmentCompression::None,
    };
    assert_eq!(conn.info().segments, Some(expected));
    crate::sim_common::ok(
        &conn,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    crate::sim_common::ok(&conn, "CREATE TABLE ks.t (k int PRIMARY KEY, v text)").await;
    // 300 KiB of text: the INSERT and the row each span three segments.
    let big: String = (0..300 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    crate::sim_common::ok(
        &conn,
        &format!("INSERT INTO ks.t (k, v) VALUES (1, '{big}')"),
    )
    .await;
    let ResultBody::Rows(rows) =
        crate::sim_common::ok(&conn, "SELECT v FROM ks.t WHERE k = 1").await
    else {
        panic!("expected rows");
    };
    assert_eq!(rows.rows_count, 1);
    let cell = rows.rows_content.len();
    assert!(cell > big.len(), "the row holds the text ({cell} bytes)");
    // Many small requests at once: they are coalesced into shared segments.
    let many = (0..200).map(|k| {
        let conn = conn.clone();
        async move {
            crate::sim_common::ok(&conn, &format!("INSERT INTO ks.t (k, v) VALUES ({k}, 'x')"))
                .await
        }
    });
    futures::future::join_all(many).await;
    let ResultBody::Rows(rows) = crate::sim_common::ok(&conn, "SELECT k FROM ks.t").await else {
        panic!("expected rows");
    };
    assert_eq!(rows.rows_count, 200);
}

#[tokio::test]
async fn v5_segments_carry_large_and_coalesced_frames() {
    v5_round_trips(None).await;
}

#[tokio::test]
async fn v5_lz4_segments_carry_large_and_coalesced_frames() {
    v5_round_trips(Some(proto::frame::Compression::Lz4)).await;
}
