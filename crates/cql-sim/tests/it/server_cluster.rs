//! Multi-DC placement and consistency, LWT serial consistency, protocol v3, custom payloads,
//! pipelining and counters.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use cql_sim::SimCluster;
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::codes::Consistency;
use proto::frame::{ProtocolVersion, RequestOptions, encode_request};
use proto::request::{Request, SerializedValues};
use proto::response::{Response, ResultBody};
use proto::{CqlValue, ErrorCode};

#[tokio::test]
async fn network_topology_strategy_and_local_consistency() {
    let cluster = SimCluster::builder()
        .datacenter("dc1", 3)
        .rack("r1")
        .rack("r2")
        .datacenter("dc2", 2)
        .start()
        .await
        .unwrap();
    assert_eq!(cluster.node(0).datacenter(), "dc1");
    assert_eq!(cluster.node(1).rack(), "r2");
    assert_eq!(cluster.node(4).datacenter(), "dc2");
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE m WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}").await;
    c.ok("CREATE TABLE m.t (k int PRIMARY KEY, v int)").await;
    c.ok("INSERT INTO m.t (k, v) VALUES (1, 1)").await;
    let r = c.ok("SELECT data_center, rack FROM system.peers").await;
    let mut dcs: Vec<_> = column(&r, "data_center");
    dcs.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(
        dcs.iter()
            .filter(|d| **d == Some(CqlValue::Text("dc2".into())))
            .count(),
        2
    );

    cluster.node(1).stop();
    cluster.node(2).stop();
    let q = "SELECT v FROM m.t WHERE k = 1";
    assert_eq!(
        unavailable(&c.query_cl(q, Consistency::LOCAL_QUORUM).await),
        (Consistency::LOCAL_QUORUM, 2, 1)
    );
    assert_eq!(
        unavailable(&c.query_cl(q, Consistency::EACH_QUORUM).await),
        (Consistency::EACH_QUORUM, 2, 1)
    );
    assert_eq!(
        unavailable(&c.query_cl(q, Consistency::ALL).await),
        (Consistency::ALL, 5, 3)
    );
    let r = c.query_cl(q, Consistency::QUORUM).await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(1))]]);
    let r = c.query_cl(q, Consistency::LOCAL_ONE).await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(1))]]);
    // from dc2 both local replicas are alive
    let mut d = RawClient::ready(cluster.node(3).addr()).await;
    let r = d.query_cl(q, Consistency::LOCAL_QUORUM).await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(1))]]);
    let r = d.ok("SELECT data_center FROM system.local").await;
    assert_eq!(
        column(&r, "data_center"),
        vec![Some(CqlValue::Text("dc2".into()))]
    );
}

#[tokio::test]
async fn lwt_is_checked_at_the_serial_consistency() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok(
        "CREATE KEYSPACE l WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    )
    .await;
    c.ok("CREATE TABLE l.t (k int PRIMARY KEY, v int)").await;
    let r = c
        .ok("INSERT INTO l.t (k, v) VALUES (1, 1) IF NOT EXISTS")
        .await;
    assert_eq!(column(&r, "[applied]"), vec![Some(CqlValue::Boolean(true))]);
    cluster.node(1).stop();
    cluster.node(2).stop();
    // a plain write at ONE works, the LWT needs a serial quorum
    c.ok("INSERT INTO l.t (k, v) VALUES (2, 2)").await;
    let r = c
        .query("INSERT INTO l.t (k, v) VALUES (3, 3) IF NOT EXISTS")
        .await;
    assert_eq!(unavailable(&r), (Consistency::SERIAL, 2, 1));
    let mut p = params(Consistency::ONE, SerializedValues::new());
    p.serial_consistency = Some(Consistency::LOCAL_SERIAL);
    let r = c
        .request(&Request::Query(proto::request::Query {
            query: "UPDATE l.t SET v = 5 WHERE k = 1 IF v = 1".into(),
            params: p,
        }))
        .await
        .response;
    assert_eq!(unavailable(&r), (Consistency::LOCAL_SERIAL, 2, 1));
}

#[tokio::test]
async fn protocol_v3_and_custom_payloads_are_served() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    c.version = ProtocolVersion::V3;
    assert!(matches!(c.startup(None).await, Response::Ready));
    let s = c
        .send(&query_req(
            "SELECT key FROM system.local",
            Consistency::ONE,
            SerializedValues::new(),
        ))
        .await;
    let f = c.read_frame_timeout(TIMEOUT).await.unwrap().expect("frame");
    assert_eq!(f.header.version, ProtocolVersion::V3);
    assert_eq!(f.header.stream, s);
    let env = proto::frame::decode_response(&f, None).unwrap();
    assert_eq!(
        column(&env.response, "key"),
        vec![Some(CqlValue::Text("local".into()))]
    );

    let mut c = RawClient::ready(cluster.contact_point()).await;
    let mut payload = HashMap::new();
    payload.insert(
        "tablets-routing-v1".to_owned(),
        Some(Bytes::from_static(b"\x01\x02")),
    );
    payload.insert("nothing".to_owned(), None);
    let mut buf = BytesMut::new();
    let req = query_req(
        "SELECT key FROM system.local",
        Consistency::ONE,
        SerializedValues::new(),
    );
    let opts = RequestOptions {
        tracing: false,
        custom_payload: Some(&payload),
        compression: None,
    };
    encode_request(&mut buf, ProtocolVersion::V4, 77, &req, &opts).unwrap();
    c.send_raw(&buf).await;
    let r = c.response(77).await;
    assert_eq!(
        column(&r.response, "key"),
        vec![Some(CqlValue::Text("local".into()))]
    );
}

#[tokio::test]
async fn pipelined_requests_all_answered_by_stream() {
    let cluster = SimCluster::builder()
        .nodes(2)
        .shards(2)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE pp WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
    c.ok("CREATE TABLE pp.t (k int PRIMARY KEY, v int)").await;
    let Response::Result(ResultBody::Prepared(ins)) =
        c.prepare("INSERT INTO pp.t (k, v) VALUES (?, ?)").await
    else {
        panic!()
    };
    let before = cluster.node(0).request_count();
    let mut streams = Vec::new();
    for i in 0..300 {
        let s = c
            .send(&Request::Execute(proto::request::Execute {
                id: ins.id.clone(),
                result_metadata_id: None,
                params: params(Consistency::ONE, int_values(&[i, i * 2])),
            }))
            .await;
        streams.push(s);
    }
    for s in streams {
        let r = c.response(s).await;
        assert!(
            matches!(r.response, Response::Result(ResultBody::Void)),
            "{:?}",
            r.response
        );
    }
    assert_eq!(cluster.node(0).request_count() - before, 300);
    assert_eq!(
        cluster
            .node(0)
            .request_count_of(proto::codes::Opcode::EXECUTE),
        300
    );
    assert_eq!(
        cluster
            .node(0)
            .request_count_of(proto::codes::Opcode::PREPARE),
        1
    );
    assert_eq!(
        cluster
            .node(1)
            .request_count_of(proto::codes::Opcode::EXECUTE),
        0
    );
    let r = c.ok("SELECT count(*) FROM pp.t").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::BigInt(300))]]);
    let r = c.ok("SELECT v FROM pp.t WHERE k = 123").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(246))]]);
    // USE changes the connection's keyspace
    let r = c.ok("USE pp").await;
    assert!(matches!(r, Response::Result(ResultBody::SetKeyspace(ref k)) if k == "pp"));
    let r = c.ok("SELECT v FROM t WHERE k = 5").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(10))]]);
    let bad = c.query("SELECT v FROM nope.t").await;
    assert_eq!(error_code(&bad), ErrorCode::INVALID);
}

#[tokio::test]
async fn many_clusters_run_side_by_side() {
    let a = SimCluster::builder().nodes(2).start().await.unwrap();
    let b = SimCluster::builder().nodes(2).start().await.unwrap();
    assert_ne!(a.contact_point().ip(), b.contact_point().ip());
    assert_eq!(a.contact_point().port(), 9042);
    let mut ca = RawClient::ready(a.contact_point()).await;
    let mut cb = RawClient::ready(b.contact_point()).await;
    ca.ok("CREATE KEYSPACE only_a WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    let r = cb
        .ok("SELECT keyspace_name FROM system_schema.keyspaces")
        .await;
    assert!(!column(&r, "keyspace_name").contains(&Some(CqlValue::Text("only_a".into()))));
    let r = ca
        .ok("SELECT keyspace_name FROM system_schema.keyspaces")
        .await;
    assert!(column(&r, "keyspace_name").contains(&Some(CqlValue::Text("only_a".into()))));
}

fn int_token(k: i32) -> i64 {
    proto::murmur3_token(&k.to_be_bytes()).0
}

#[tokio::test]
async fn routing_stats_show_token_and_shard_placement() {
    let cluster = SimCluster::builder()
        .nodes(3)
        .shards(4)
        .start()
        .await
        .unwrap();
    let n0 = cluster.node(0);
    let mut c = RawClient::ready(n0.addr()).await;
    let options = c.supported().await;
    let shard: u32 = options["SCYLLA_SHARD"][0].parse().unwrap();
    c.ok(
        "CREATE KEYSPACE r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    c.ok("CREATE TABLE r.t (k int PRIMARY KEY, v int)").await;
    assert_eq!(n0.routing_stats(), cql_sim::RoutingStats::default());
    let (mut replica, mut owner) = (0, 0);
    for k in 0..40 {
        c.ok(&format!("INSERT INTO r.t (k, v) VALUES ({k}, {k})"))
            .await;
        let t = int_token(k);
        replica += u64::from(n0.is_replica("r", t));
        owner += u64::from(n0.shard_of_token(t) == shard);
        // exactly one node replicates each token
        assert_eq!(
            cluster
                .nodes()
                .iter()
                .filter(|n| n.is_replica("r", t))
                .count(),
            1
        );
    }
    let stats = n0.routing_stats();
    assert_eq!(stats.replica + stats.non_replica, 40);
    assert_eq!(stats.replica, replica);
    assert_eq!(stats.owner_shard, owner);
    assert_eq!(stats.other_shard, 40 - owner);
    assert!(
        replica > 0 && replica < 40,
        "tokens spread over the ring: {replica}"
    );
    assert_eq!(n0.token_requests_per_shard()[shard as usize], 40);
}

#[tokio::test]
async fn a_batch_that_cannot_reach_its_consistency_writes_nothing() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok(
        "CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    c.ok("CREATE TABLE b.t (k int PRIMARY KEY, v int)").await;
    cluster.node(2).stop();
    let down = cluster.node(2);
    let keys: Vec<i32> = (0..30).collect();
    assert!(keys.iter().any(|k| down.is_replica("b", int_token(*k))));
    let r = c
        .request(&query_batch(
            proto::BatchType::LOGGED,
            keys.iter()
                .map(|k| format!("INSERT INTO b.t (k, v) VALUES ({k}, 1)")),
        ))
        .await
        .response;
    assert_eq!(unavailable(&r), (Consistency::ONE, 1, 0));
    for k in keys
        .iter()
        .filter(|k| !down.is_replica("b", int_token(**k)))
    {
        let r = c.ok(&format!("SELECT v FROM b.t WHERE k = {k}")).await;
        assert_eq!(rows(&r).rows_count, 0, "key {k} must not be written");
    }
}
