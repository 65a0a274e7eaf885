//! Replication as servers define it: the NetworkTopologyStrategy `replication_factor`
//! shorthand expanded per data centre, consistency counted against the configured replication
//! factor, unknown data centres refused, and ALTER KEYSPACE re-placing data.

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::*;
use proto::codes::Consistency;
use proto::response::Response;
use proto::{CqlValue, ErrorCode};

#[tokio::test]
async fn replication_factor_shorthand_expands_to_every_datacenter() {
    let cluster = SimCluster::builder()
        .datacenter("dc1", 2)
        .datacenter("dc2", 1)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 2}").await;
    let r = c
        .ok("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'")
        .await;
    let expected = CqlValue::Map(vec![
        (
            CqlValue::Text("class".into()),
            CqlValue::Text("org.apache.cassandra.locator.NetworkTopologyStrategy".into()),
        ),
        (CqlValue::Text("dc1".into()), CqlValue::Text("2".into())),
        (CqlValue::Text("dc2".into()), CqlValue::Text("2".into())),
    ]);
    assert_eq!(values(&r), vec![vec![Some(expected)]]);
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    // LOCAL_QUORUM counts dc1's two replicas, not a data centre named `replication_factor`.
    let r = c
        .query_cl(
            "INSERT INTO ks.t (k, v) VALUES (1, 1)",
            Consistency::LOCAL_QUORUM,
        )
        .await;
    assert!(matches!(r, Response::Result(_)), "{r:?}");
    // dc2 has one node for RF 2: EACH_QUORUM needs 2 there.
    let r = c
        .query_cl(
            "INSERT INTO ks.t (k, v) VALUES (1, 1)",
            Consistency::EACH_QUORUM,
        )
        .await;
    assert_eq!(unavailable(&r), (Consistency::EACH_QUORUM, 2, 1));

    // ALTER with the shorthand keeps the data centres already configured.
    c.ok("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1, 'dc2': 1}").await;
    let r = c
        .ok("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'")
        .await;
    let CqlValue::Map(m) = values(&r)[0][0].clone().unwrap() else {
        panic!("replication is a map")
    };
    assert!(m.contains(&(CqlValue::Text("dc1".into()), CqlValue::Text("2".into()))));
    assert!(m.contains(&(CqlValue::Text("dc2".into()), CqlValue::Text("1".into()))));

    let r = c
        .query(
            "CREATE KEYSPACE bad WITH replication = {'class': 'NetworkTopologyStrategy', 'dc9': 1}",
        )
        .await;
    assert_eq!(error_code(&r), ErrorCode::CONFIG_ERROR);
    let Response::Error(e) = &r else {
        unreachable!()
    };
    assert_eq!(
        e.message,
        "Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace bad"
    );
}

#[tokio::test]
async fn consistency_is_counted_against_the_configured_replication_factor() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 4}").await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    let w = "INSERT INTO ks.t (k, v) VALUES (1, 1)";
    assert_eq!(
        unavailable(&c.query_cl(w, Consistency::ALL).await),
        (Consistency::ALL, 4, 3)
    );
    let r = c.query_cl(w, Consistency::QUORUM).await;
    assert!(matches!(r, Response::Result(_)), "QUORUM of 4 is 3: {r:?}");
    cluster.node(2).stop();
    assert_eq!(
        unavailable(&c.query_cl(w, Consistency::QUORUM).await),
        (Consistency::QUORUM, 3, 2)
    );
    assert_eq!(
        unavailable(&c.query_cl(w, Consistency::LOCAL_QUORUM).await),
        (Consistency::LOCAL_QUORUM, 3, 2)
    );

    // A keyspace that does not replicate to the coordinator's data centre: LOCAL_* needs
    // one local replica and has none.
    c.ok("CREATE KEYSPACE other WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 0}").await;
    c.ok("CREATE TABLE other.t (k int PRIMARY KEY)").await;
    assert_eq!(
        unavailable(
            &c.query_cl("SELECT * FROM other.t WHERE k = 1", Consistency::LOCAL_ONE)
                .await
        ),
        (Consistency::LOCAL_ONE, 1, 0)
    );
    assert_eq!(
        unavailable(
            &c.query_cl(
                "SELECT * FROM other.t WHERE k = 1",
                Consistency::LOCAL_QUORUM
            )
            .await
        ),
        (Consistency::LOCAL_QUORUM, 1, 0)
    );
}

#[tokio::test]
async fn alter_keyspace_replaces_data_on_the_new_replicas() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    for k in 0..30 {
        c.ok(&format!("INSERT INTO ks.t (k, v) VALUES ({k}, {k})"))
            .await;
    }
    c.ok("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 3}").await;
    let r = c
        .ok("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'")
        .await;
    let CqlValue::Map(m) = values(&r)[0][0].clone().unwrap() else {
        panic!("replication is a map")
    };
    assert_eq!(m.len(), 2, "class and datacenter1: {m:?}");
    assert_eq!(m[1].1, CqlValue::Text("3".into()));
    cluster.node(1).stop();
    cluster.node(2).stop();
    let r = c.query_cl("SELECT k FROM ks.t", Consistency::ONE).await;
    assert_eq!(values(&r).len(), 30, "node 0 now holds every partition");
    let r = c
        .query_cl("SELECT v FROM ks.t WHERE k = 7", Consistency::ONE)
        .await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(7))]]);
}
