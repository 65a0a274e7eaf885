//! Handshake, SUPPORTED, shards, CRUD, prepared statements and system tables over the wire.

use std::time::Duration;

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::*;
use proto::codes::Consistency;
use proto::frame::Compression;
use proto::request::{AuthResponse, Request};
use proto::response::{Response, ResultBody};
use proto::{ColumnType, CqlValue, ErrorCode};

const KS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}";

#[tokio::test]
async fn without_scylla_extensions_supported_is_cassandras() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .shards(4)
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let node = cluster.node(0);
    assert_eq!(node.shard_count(), 1, "a Cassandra-like node is one shard");
    assert_eq!(node.shard_aware_addr(), None);
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let options = c.supported().await;
    let mut keys: Vec<&str> = options.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["COMPRESSION", "CQL_VERSION", "PROTOCOL_VERSIONS"]);
    assert!(matches!(c.startup(None).await, Response::Ready));
    assert!(matches!(
        c.query("SELECT key FROM system.local").await,
        Response::Result(ResultBody::Rows(_))
    ));
}

#[tokio::test]
async fn options_then_startup_and_supported_keys() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .shards(3)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let options = c.supported().await;
    assert_eq!(options["CQL_VERSION"], vec!["3.3.1"]);
    assert_eq!(options["COMPRESSION"], vec!["lz4", "snappy"]);
    assert_eq!(options["PROTOCOL_VERSIONS"], vec!["3/v3", "4/v4"]);
    assert_eq!(options["SCYLLA_NR_SHARDS"], vec!["3"]);
    assert_eq!(
        options["SCYLLA_PARTITIONER"],
        vec!["org.apache.cassandra.dht.Murmur3Partitioner"]
    );
    assert_eq!(
        options["SCYLLA_SHARDING_ALGORITHM"],
        vec!["biased-token-round-robin"]
    );
    assert_eq!(options["SCYLLA_SHARDING_IGNORE_MSB"], vec!["12"]);
    assert_eq!(options["SCYLLA_SHARD_AWARE_PORT"], vec!["19042"]);
    let shard: u32 = options["SCYLLA_SHARD"][0].parse().unwrap();
    assert!(shard < 3);
    assert!(matches!(c.startup(None).await, Response::Ready));
    assert!(matches!(
        c.query("SELECT key FROM system.local").await,
        Response::Result(_)
    ));
}

#[tokio::test]
async fn requests_before_startup_are_protocol_errors() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let r = c.query("SELECT * FROM system.local").await;
    let Response::Error(e) = r else {
        panic!("{r:?}")
    };
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert!(
        e.message.contains("expecting STARTUP or OPTIONS"),
        "{}",
        e.message
    );
    // the connection is still usable
    assert!(matches!(c.startup(None).await, Response::Ready));
    let r = c.startup(None).await;
    assert_eq!(error_code(&r), ErrorCode::PROTOCOL_ERROR);
}

#[tokio::test]
async fn normal_port_round_robins_and_shard_aware_port_uses_source_port() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .shards(4)
        .start()
        .await
        .unwrap();
    let node = cluster.node(0);
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(RawClient::ready(node.addr()).await);
    }
    assert_eq!(node.connections_per_shard(), vec![1, 1, 1, 1]);
    let sa = node.shard_aware_addr().unwrap();
    // pick free local ports with chosen residues modulo 4
    let mut got = Vec::new();
    for want in [2u16, 3u16] {
        let mut connected = None;
        for base in (40_000u16..60_000).step_by(97) {
            let port = base - base % 4 + want;
            if let Ok(c) = RawClient::connect_from_port(sa, port).await {
                connected = Some(c);
                break;
            }
        }
        let mut c = connected.expect("a free local port");
        let options = c.supported().await;
        got.push(options["SCYLLA_SHARD"][0].clone());
        clients.push(c);
    }
    assert_eq!(got, vec!["2", "3"]);
    assert_eq!(node.connections_per_shard(), vec![1, 1, 2, 2]);
}

#[tokio::test]
async fn password_authentication() {
    let cluster = SimCluster::builder()
        .auth("cassandra", "secret")
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let r = c.startup(None).await;
    let Response::Authenticate { authenticator } = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        authenticator,
        "org.apache.cassandra.auth.PasswordAuthenticator"
    );
    // a query before authenticating is refused
    let q = c.query("SELECT * FROM system.local").await;
    assert_eq!(error_code(&q), ErrorCode::PROTOCOL_ERROR);
    let bad = c
        .request(&Request::AuthResponse(AuthResponse {
            token: Some(bytes::Bytes::from_static(b"\0cassandra\0wrong")),
        }))
        .await;
    let Response::Error(e) = bad.response else {
        panic!()
    };
    assert_eq!(e.code, ErrorCode::BAD_CREDENTIALS);
    assert_eq!(
        e.message,
        "Provided username cassandra and/or password are incorrect"
    );
    let good = c
        .request(&Request::AuthResponse(AuthResponse {
            token: Some(bytes::Bytes::from_static(b"\0cassandra\0secret")),
        }))
        .await;
    assert!(
        matches!(good.response, Response::AuthSuccess { .. }),
        "{:?}",
        good.response
    );
    assert!(matches!(
        c.query("SELECT * FROM system.local").await,
        Response::Result(_)
    ));
}

async fn crud_roundtrip(compression: Option<Compression>) {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    assert!(matches!(c.startup(compression).await, Response::Ready));
    let r = c.ok(KS).await;
    let Response::Result(ResultBody::SchemaChange(sc)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(sc.target.keyspace(), "ks");
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v text)").await;
    let long = "x".repeat(5000);
    c.ok(&format!("INSERT INTO ks.t (k, v) VALUES (1, '{long}')"))
        .await;
    c.ok("INSERT INTO ks.t (k, v) VALUES (2, 'two')").await;
    let r = c.ok("SELECT v FROM ks.t WHERE k = 1").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Text(long))]]);
    let r = c.ok("SELECT k, v FROM ks.t").await;
    assert_eq!(rows(&r).rows_count, 2);
    // every node sees the data (RF 3)
    for addr in cluster.node_addrs() {
        let mut d = RawClient::ready(addr).await;
        let r = d.ok("SELECT v FROM ks.t WHERE k = 2").await;
        assert_eq!(values(&r), vec![vec![Some(CqlValue::Text("two".into()))]]);
    }
}

#[tokio::test]
async fn crud_plain() {
    crud_roundtrip(None).await;
}

#[tokio::test]
async fn crud_lz4() {
    crud_roundtrip(Some(Compression::Lz4)).await;
}

#[tokio::test]
async fn crud_snappy() {
    crud_roundtrip(Some(Compression::Snappy)).await;
}

#[tokio::test]
async fn prepared_ids_are_stable_across_nodes_and_eviction_gives_unprepared() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut a = RawClient::ready(cluster.node(0).addr()).await;
    let mut b = RawClient::ready(cluster.node(1).addr()).await;
    a.ok(KS).await;
    a.ok("CREATE TABLE ks.p (k int PRIMARY KEY, v int)").await;
    let q = "INSERT INTO ks.p (k, v) VALUES (?, ?)";
    let Response::Result(ResultBody::Prepared(pa)) = a.prepare(q).await else {
        panic!()
    };
    assert_eq!(pa.metadata.pk_indexes, vec![0]);
    assert_eq!(pa.metadata.col_specs.len(), 2);
    assert_eq!(pa.metadata.col_specs[1].typ, ColumnType::Int);
    // node 1 never saw this statement
    let r = b.execute(pa.id.clone(), int_values(&[1, 10])).await;
    let Response::Error(e) = r else {
        panic!("{r:?}")
    };
    assert_eq!(e.code, ErrorCode::UNPREPARED);
    assert!(matches!(e.details, proto::ErrorDetails::Unprepared { ref id } if *id == pa.id));
    let Response::Result(ResultBody::Prepared(pb)) = b.prepare(q).await else {
        panic!()
    };
    assert_eq!(pa.id, pb.id);
    assert!(matches!(
        a.execute(pa.id.clone(), int_values(&[1, 10])).await,
        Response::Result(ResultBody::Void)
    ));
    assert!(matches!(
        b.execute(pb.id.clone(), int_values(&[2, 20])).await,
        Response::Result(ResultBody::Void)
    ));
    let r = a.ok("SELECT v FROM ks.p WHERE k = 2").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(20))]]);
    assert_eq!(cluster.node(0).evict_prepared(), 1);
    let r = a.execute(pa.id.clone(), int_values(&[3, 30])).await;
    assert_eq!(error_code(&r), ErrorCode::UNPREPARED);
    // re-prepare and it works again
    assert!(matches!(
        a.prepare(q).await,
        Response::Result(ResultBody::Prepared(_))
    ));
    assert!(matches!(
        a.execute(pa.id.clone(), int_values(&[3, 30])).await,
        Response::Result(ResultBody::Void)
    ));
}

#[tokio::test]
async fn system_local_and_peers_rows_and_types() {
    let cluster = SimCluster::builder()
        .nodes(3)
        .seed(42)
        .start()
        .await
        .unwrap();
    let n1 = cluster.node(1);
    let mut c = RawClient::ready(n1.addr()).await;
    let r = c.ok("SELECT * FROM system.local WHERE key = 'local'").await;
    let specs = &rows(&r).metadata.col_specs;
    let typ = |name: &str| specs.iter().find(|s| s.name == name).map(|s| s.typ.clone());
    assert_eq!(
        typ("tokens"),
        Some(ColumnType::Set(Box::new(ColumnType::Text)))
    );
    assert_eq!(typ("host_id"), Some(ColumnType::Uuid));
    assert_eq!(typ("rpc_address"), Some(ColumnType::Inet));
    assert_eq!(typ("schema_version"), Some(ColumnType::Uuid));
    assert_eq!(typ("data_center"), Some(ColumnType::Text));
    assert_eq!(
        column(&r, "key"),
        vec![Some(CqlValue::Text("local".into()))]
    );
    assert_eq!(
        column(&r, "host_id"),
        vec![Some(CqlValue::Uuid(n1.host_id()))]
    );
    assert_eq!(
        column(&r, "rpc_address"),
        vec![Some(CqlValue::Inet(n1.ip()))]
    );
    assert_eq!(
        column(&r, "data_center"),
        vec![Some(CqlValue::Text("datacenter1".into()))]
    );
    assert_eq!(
        column(&r, "partitioner"),
        vec![Some(CqlValue::Text(
            "org.apache.cassandra.dht.Murmur3Partitioner".into()
        ))]
    );
    assert_eq!(
        column(&r, "schema_version"),
        vec![Some(CqlValue::Uuid(n1.schema_version()))]
    );
    let Some(CqlValue::Set(tokens)) = column(&r, "tokens").remove(0) else {
        panic!()
    };
    assert_eq!(tokens.len(), 16);
    let mut parsed: Vec<i64> = tokens
        .iter()
        .map(|t| match t {
            CqlValue::Text(s) => s.parse().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    parsed.sort_unstable();
    assert_eq!(parsed, n1.tokens());

    let r = c
        .ok("SELECT peer, rpc_address, host_id, data_center, rack, tokens FROM system.peers")
        .await;
    let mut peers: Vec<_> = column(&r, "rpc_address");
    peers.sort_by_key(|p| format!("{p:?}"));
    let mut want = vec![
        Some(CqlValue::Inet(cluster.node(0).ip())),
        Some(CqlValue::Inet(cluster.node(2).ip())),
    ];
    want.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(peers, want);
    // Scylla has no peers_v2 (drivers fall back to peers); Cassandra 4 has it.
    let r = c
        .query("SELECT native_address, native_port, host_id FROM system.peers_v2")
        .await;
    match &r {
        Response::Error(e) => assert_eq!(e.message, "unconfigured table peers_v2"),
        other => panic!("peers_v2 on a Scylla node: {other:?}"),
    }
    let cassandra = SimCluster::builder()
        .nodes(3)
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut cc = RawClient::ready(cassandra.node(1).addr()).await;
    let r = cc
        .ok("SELECT native_address, native_port, host_id FROM system.peers_v2")
        .await;
    assert_eq!(rows(&r).rows_count, 2);
    assert!(
        column(&r, "native_port")
            .iter()
            .all(|p| *p == Some(CqlValue::Int(9042)))
    );
    // host ids are deterministic from the seed
    let again = SimCluster::builder()
        .nodes(3)
        .seed(42)
        .start()
        .await
        .unwrap();
    assert_eq!(again.node(1).host_id(), n1.host_id());
    assert_eq!(again.node(1).tokens(), n1.tokens());
}

#[tokio::test]
async fn paging_over_the_wire() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = RawClient::ready(cluster.contact_point()).await;
    c.ok("CREATE KEYSPACE pg WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE pg.t (p int, c int, PRIMARY KEY (p, c))")
        .await;
    for i in 0..25 {
        c.ok(&format!("INSERT INTO pg.t (p, c) VALUES (1, {i})"))
            .await;
    }
    let mut seen = Vec::new();
    let mut paging_state = None;
    for _ in 0..10 {
        let mut p = params(Consistency::ONE, proto::request::SerializedValues::new());
        p.page_size = Some(10);
        p.paging_state = paging_state.take();
        let r = c
            .request(&Request::Query(proto::request::Query {
                query: "SELECT c FROM pg.t WHERE p = 1".into(),
                params: p,
            }))
            .await
            .response;
        let page = rows(&r);
        assert!(page.rows_count <= 10);
        for v in column(&r, "c") {
            seen.push(v);
        }
        paging_state = page.metadata.paging_state.clone();
        if paging_state.is_none() {
            break;
        }
    }
    let want: Vec<_> = (0..25).map(|i| Some(CqlValue::Int(i))).collect();
    assert_eq!(seen, want);
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn using_timeout_is_scylla_syntax_and_a_syntax_error_on_cassandra() {
    let q = "SELECT key FROM system.local WHERE key = 'local' USING TIMEOUT 2000ms";
    let scylla = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = RawClient::ready(scylla.node(0).addr()).await;
    assert_eq!(rows(&c.ok(q).await).rows_count, 1);
    let cassandra = SimCluster::builder()
        .nodes(1)
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut cc = RawClient::ready(cassandra.node(0).addr()).await;
    for r in [cc.query(q).await, cc.prepare(q).await] {
        match &r {
            Response::Error(e) => {
                assert_eq!(e.code, ErrorCode::SYNTAX_ERROR, "{r:?}");
                assert!(e.message.contains("mismatched input 'USING'"), "{r:?}");
            }
            other => panic!("USING TIMEOUT on a Cassandra node: {other:?}"),
        }
    }
    // Without the clause, the same read works there.
    assert_eq!(
        rows(
            &cc.ok("SELECT key FROM system.local WHERE key = 'local'")
                .await
        )
        .rows_count,
        1
    );
}
