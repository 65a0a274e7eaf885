//! REGISTER and pushed events, schema versions, topology changes.

use std::time::Duration;

use cql_sim::SimCluster;
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::codes::{StatusChangeType, TopologyChangeType};
use proto::request::{Register, Request};
use proto::response::{Event, Response};

async fn register(c: &mut RawClient, events: &[&str]) {
    let r = c
        .request(&Request::Register(Register {
            events: events.iter().map(|s| (*s).to_owned()).collect(),
        }))
        .await;
    assert!(matches!(r.response, Response::Ready), "{:?}", r.response);
}

#[tokio::test]
async fn schema_change_event_after_ddl() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut listener = RawClient::ready(cluster.node(1).addr()).await;
    register(&mut listener, &["SCHEMA_CHANGE"]).await;
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    let ev = listener.next_event(TIMEOUT).await.expect("an event");
    let Event::SchemaChange(sc) = ev else {
        panic!("{ev:?}")
    };
    assert_eq!(sc.target.keyspace(), "ev");
    assert_eq!(sc.change_type.as_str(), "CREATED");
    c.ok("CREATE TABLE ev.t (k int PRIMARY KEY)").await;
    let Some(Event::SchemaChange(sc)) = listener.next_event(TIMEOUT).await else {
        panic!()
    };
    assert_eq!(sc.target.as_str(), "TABLE");
}

#[tokio::test]
async fn status_change_down_and_up_from_other_nodes() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut listener = RawClient::ready(cluster.node(0).addr()).await;
    register(&mut listener, &["STATUS_CHANGE", "TOPOLOGY_CHANGE"]).await;
    let victim = cluster.node(2);
    let mut on_victim = RawClient::ready(victim.addr()).await;
    victim.stop();
    assert!(!victim.is_up());
    let ev = listener.next_event(TIMEOUT).await.expect("DOWN event");
    assert_eq!(
        ev,
        Event::StatusChange {
            change: StatusChangeType::Down,
            addr: victim.addr(),
        }
    );
    // the victim's connection is closed and its port refuses connections
    assert!(matches!(
        on_victim.read_frame_timeout(TIMEOUT).await,
        Ok(None)
    ));
    assert!(RawClient::connect(victim.addr()).await.is_err());
    victim.start().await.unwrap();
    let ev = listener.next_event(TIMEOUT).await.expect("UP event");
    assert_eq!(
        ev,
        Event::StatusChange {
            change: StatusChangeType::Up,
            addr: victim.addr(),
        }
    );
    let mut again = RawClient::ready(victim.addr()).await;
    again.ok("SELECT key FROM system.local").await;
    // a restarted node forgets its prepared statements
    let id = match again.prepare("SELECT key FROM system.local").await {
        Response::Result(proto::response::ResultBody::Prepared(p)) => p.id,
        other => panic!("{other:?}"),
    };
    let r = again.execute(id.clone(), Default::default()).await;
    assert!(matches!(r, Response::Result(_)), "{r:?}");
    victim.stop();
    victim.start().await.unwrap();
    let mut fresh = RawClient::ready(victim.addr()).await;
    let r = fresh.execute(id, Default::default()).await;
    assert_eq!(error_code(&r), proto::ErrorCode::UNPREPARED);
}

#[tokio::test]
async fn unregistered_connections_get_no_events() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut quiet = RawClient::ready(cluster.node(0).addr()).await;
    register(&mut quiet, &["SCHEMA_CHANGE"]).await;
    cluster.node(1).stop();
    assert!(quiet.next_event(Duration::from_millis(200)).await.is_none());
}

#[tokio::test]
async fn schema_versions_converge_after_the_delay() {
    let cluster = SimCluster::builder()
        .nodes(3)
        .schema_agreement_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let before = cluster.node(1).schema_version();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE sv WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    let coordinator_version = cluster.node(0).schema_version();
    assert_ne!(coordinator_version, before);
    assert_eq!(
        cluster.node(1).schema_version(),
        before,
        "converges only after the delay"
    );
    assert!(!cluster.schema_in_agreement());
    // system.local on the lagging node still shows the old version
    let mut d = RawClient::ready(cluster.node(1).addr()).await;
    let r = d.ok("SELECT schema_version FROM system.local").await;
    assert_eq!(
        column(&r, "schema_version"),
        vec![Some(proto::CqlValue::Uuid(before))]
    );
    assert!(
        cluster.await_schema_agreement(TIMEOUT).await,
        "schema never agreed"
    );
    assert_eq!(cluster.node(2).schema_version(), coordinator_version);
    let r = d.ok("SELECT schema_version FROM system.peers").await;
    assert!(
        column(&r, "schema_version")
            .iter()
            .all(|v| *v == Some(proto::CqlValue::Uuid(coordinator_version)))
    );
}

#[tokio::test]
async fn add_and_decommission_emit_topology_events() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut listener = RawClient::ready(cluster.node(0).addr()).await;
    register(&mut listener, &["TOPOLOGY_CHANGE"]).await;
    let added = cluster.add_node(None).await.unwrap();
    assert_eq!(added.index(), 2);
    let ev = listener.next_event(TIMEOUT).await.expect("NEW_NODE");
    assert_eq!(
        ev,
        Event::TopologyChange {
            change: TopologyChangeType::NewNode,
            addr: added.addr(),
        }
    );
    let r = listener.ok("SELECT peer FROM system.peers").await;
    assert_eq!(rows(&r).rows_count, 2);
    cluster.decommission(1).unwrap();
    let ev = listener.next_event(TIMEOUT).await.expect("REMOVED_NODE");
    assert_eq!(
        ev,
        Event::TopologyChange {
            change: TopologyChangeType::RemovedNode,
            addr: cluster.node(1).addr(),
        }
    );
    let r = listener.ok("SELECT peer FROM system.peers").await;
    assert_eq!(
        column(&r, "peer"),
        vec![Some(proto::CqlValue::Inet(added.ip()))]
    );
}

#[tokio::test]
async fn topology_changes_stream_data_to_new_replicas() {
    let cluster = SimCluster::builder()
        .nodes(2)
        .seed(9)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE st WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE st.t (k int PRIMARY KEY, v int)").await;
    for k in 0..40 {
        c.ok(&format!("INSERT INTO st.t (k, v) VALUES ({k}, {k})"))
            .await;
    }
    let added = cluster.add_node(None).await.unwrap();
    let owned: Vec<i32> = (0..40)
        .filter(|k: &i32| added.is_replica("st", proto::murmur3_token(&k.to_be_bytes()).0))
        .collect();
    assert!(!owned.is_empty(), "the new node owns some keys");
    let mut n = RawClient::ready(added.addr()).await;
    for k in &owned {
        let r = n.ok(&format!("SELECT v FROM st.t WHERE k = {k}")).await;
        assert_eq!(
            values(&r),
            vec![vec![Some(proto::CqlValue::Int(*k))]],
            "key {k}"
        );
    }
    cluster.decommission(0).unwrap();
    let r = n.ok("SELECT count(*) FROM st.t").await;
    assert_eq!(values(&r), vec![vec![Some(proto::CqlValue::BigInt(40))]]);
}

#[tokio::test]
async fn decommission_streams_rows_a_replica_already_holding_the_partition_lacks() {
    let cluster = SimCluster::builder()
        .nodes(2)
        .seed(9)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE sr WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE sr.t (k int, c int, v int, PRIMARY KEY (k, c))")
        .await;
    for k in 0..40 {
        c.ok(&format!("INSERT INTO sr.t (k, c, v) VALUES ({k}, 0, {k})"))
            .await;
    }
    // Rows written while the added node owns the partition live there only (RF 1)...
    let added = cluster.add_node(None).await.unwrap();
    let owned: Vec<i32> = (0..40)
        .filter(|k: &i32| added.is_replica("sr", proto::murmur3_token(&k.to_be_bytes()).0))
        .collect();
    assert!(!owned.is_empty(), "the new node owns some keys");
    for k in &owned {
        c.ok(&format!("INSERT INTO sr.t (k, c, v) VALUES ({k}, 1, {k})"))
            .await;
    }
    // ...and go back to the old owner, which still holds the partition's older rows.
    cluster.decommission(added.index()).unwrap();
    for k in &owned {
        let r = c.ok(&format!("SELECT c FROM sr.t WHERE k = {k}")).await;
        assert_eq!(
            values(&r),
            vec![
                vec![Some(proto::CqlValue::Int(0))],
                vec![Some(proto::CqlValue::Int(1))]
            ],
            "key {k}"
        );
    }
}
