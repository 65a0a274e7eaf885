//! A connection to `cql-sim` over its in-process (duplex) mode, under a paused clock: no socket,
//! and timeouts fire as soon as every task waits instead of after wall-clock seconds.

use std::time::Duration;

use cql_sim::SimCluster;
use proto::request::{Query, Request};
use proto::response::ResultBody;

use super::*;

fn query(cql: &'static str) -> Request {
    Request::Query(Query {
        query: cql.into(),
        params: Default::default(),
    })
}

#[tokio::test(start_paused = true)]
async fn in_process_connection_times_out_on_a_slow_node_and_recovers() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .shards(2)
        .start()
        .await
        .expect("sim cluster");
    let node = cluster.node(0);
    let stream = node.connect_in_process().expect("node is up");
    let config = crate::testing::v4()
        .tuning(ConnectionTuning::default().request_timeout(Some(Duration::from_secs(2))));
    let (conn, driver) = Connection::open(stream, &config).await.expect("handshake");
    tokio::spawn(driver);
    // The shard is reported through SUPPORTED like on TCP.
    assert_eq!(conn.info().sharding.as_ref().map(|s| s.nr_shards), Some(2));

    let local = conn
        .request(&query("SELECT release_version FROM system.local"))
        .await
        .expect("response")
        .response
        .into_result()
        .expect("a result");
    assert!(matches!(local, ResultBody::Rows(_)), "{local:?}");

    // A node slower than the timeout: the request times out after 2 s of (paused) time.
    node.set_delay(Some(Duration::from_secs(10)));
    let started = tokio::time::Instant::now();
    let err = conn
        .request(&query("SELECT release_version FROM system.local"))
        .await
        .expect_err("times out");
    assert!(
        matches!(err, ConnectionError::Timeout(d) if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(conn.orphans(), 1, "the timed-out stream id stays reserved");

    // Back to normal: the late answer frees the orphaned id and new requests succeed.
    node.set_delay(None);
    tokio::time::sleep(Duration::from_secs(10)).await;
    conn.request(&query("SELECT release_version FROM system.local"))
        .await
        .expect("answered again");
    assert_eq!(conn.orphans(), 0);

    // A stopped node refuses in-process connections, as its listener refuses TCP.
    node.stop();
    assert!(node.connect_in_process().is_err());
}

#[tokio::test(start_paused = true)]
async fn result_metadata_ids_are_negotiated_with_a_scylla_sim_only() {
    use proto::request::{Execute, Prepare};

    for scylla in [true, false] {
        let builder = SimCluster::builder().nodes(1);
        let builder = if scylla {
            builder
        } else {
            builder.without_scylla_extensions()
        };
        let cluster = builder.start().await.expect("sim cluster");
        let stream = cluster.node(0).connect_in_process().expect("node is up");
        let (conn, driver) = Connection::open(stream, &crate::testing::v4())
            .await
            .expect("handshake");
        tokio::spawn(driver);
        assert_eq!(conn.info().scylla_metadata_id, scylla);
        assert_eq!(conn.info().has_result_metadata_id(), scylla);

        let prepare = Request::Prepare(Prepare {
            query: "SELECT release_version FROM system.local".into(),
            keyspace: None,
        });
        let reply = conn.request(&prepare).await.expect("response").response;
        // The PREPARED body is decoded with the negotiated layout: with the extension it has
        // a metadata id between the statement id and the metadata.
        let Ok(ResultBody::Prepared(p)) = reply.into_result() else {
            panic!("not prepared")
        };
        assert_eq!(p.result_metadata_id.is_some(), scylla, "scylla: {scylla}");
        assert_eq!(p.result_metadata.col_specs.len(), 1);

        let execute = Request::Execute(Execute {
            id: p.id.clone(),
            result_metadata_id: p.result_metadata_id.clone(),
            params: Default::default(),
        });
        let rows = conn.request(&execute).await.expect("response").response;
        let Ok(ResultBody::Rows(rows)) = rows.into_result() else {
            panic!("no rows")
        };
        assert_eq!(rows.metadata.new_metadata_id, None, "the id is current");
        assert_eq!(rows.rows_count, 1);
    }
}
