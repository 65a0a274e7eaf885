//! Cluster bring-up, metadata parsing and event-driven refresh against fake nodes.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use cql_testkit::FakeNode;
use cql_testkit::query::{rows_result, server_error};
use proto::codes::SchemaChangeType;
use proto::frame::ProtocolVersion;
use proto::response::{Event, Response, SchemaChange, SchemaChangeTarget};
use proto::{ColumnType, CqlValue, ErrorCode, Token};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::*;
use crate::pool::Connector;
use crate::ring::ReplicationStrategy;
use crate::testing::answering;

fn cell(v: CqlValue, t: &ColumnType) -> Option<Vec<u8>> {
    let mut b = BytesMut::new();
    v.encode_bytes(t, &mut b).expect("encode");
    Some(b.to_vec())
}

fn t(s: &str) -> CqlValue {
    CqlValue::Text(s.to_owned())
}

fn set_text() -> ColumnType {
    ColumnType::Set(Box::new(ColumnType::Text))
}

fn list_text() -> ColumnType {
    ColumnType::List(Box::new(ColumnType::Text))
}

fn system_tables(query: &str) -> Response {
    let text = ColumnType::Text;
    if query.contains("system.local") {
        return rows_result(
            "system",
            "local",
            &[
                ("host_id", ColumnType::Uuid),
                ("data_center", text.clone()),
                ("rack", text.clone()),
                ("tokens", set_text()),
            ],
            &[vec![
                cell(CqlValue::Uuid(Uuid::from_u128(1)), &ColumnType::Uuid),
                cell(t("dc1"), &text),
                cell(t("r1"), &text),
                cell(CqlValue::Set(vec![t("-100"), t("100")]), &set_text()),
            ]],
        );
    }
    if query.contains("system.peers_v2") {
        return server_error(ErrorCode::INVALID, "unconfigured table peers_v2");
    }
    if query.contains("system.peers") {
        let ip = CqlValue::Inet(IpAddr::from([127, 0, 0, 2]));
        return rows_result(
            "system",
            "peers",
            &[
                ("peer", ColumnType::Inet),
                ("host_id", ColumnType::Uuid),
                ("data_center", text.clone()),
                ("rack", text.clone()),
                ("tokens", set_text()),
                ("rpc_address", ColumnType::Inet),
            ],
            &[vec![
                cell(ip.clone(), &ColumnType::Inet),
                cell(CqlValue::Uuid(Uuid::from_u128(2)), &ColumnType::Uuid),
                cell(t("dc1"), &text),
                cell(t("r1"), &text),
                cell(CqlValue::Set(vec![t("0")]), &set_text()),
                cell(ip, &ColumnType::Inet),
            ]],
        );
    }
    if query.contains("system_schema.keyspaces") {
        let map = ColumnType::Map(Box::new(text.clone()), Box::new(text.clone()));
        let repl = CqlValue::Map(vec![
            (t("class"), t("org.apache.cassandra.locator.SimpleStrategy")),
            (t("replication_factor"), t("2")),
        ]);
        return rows_result(
            "system_schema",
            "keyspaces",
            &[
                ("keyspace_name", text.clone()),
                ("durable_writes", ColumnType::Boolean),
                ("replication", map.clone()),
            ],
            &[vec![
                cell(t("ks"), &text),
                cell(CqlValue::Boolean(true), &ColumnType::Boolean),
                cell(repl, &map),
            ]],
        );
    }
    if query.contains("system_schema.types") {
        return rows_result(
            "system_schema",
            "types",
            &[
                ("keyspace_name", text.clone()),
                ("type_name", text.clone()),
                ("field_names", list_text()),
                ("field_types", list_text()),
            ],
            &[vec![
                cell(t("ks"), &text),
                cell(t("address"), &text),
                cell(CqlValue::List(vec![t("street"), t("zip")]), &list_text()),
                cell(CqlValue::List(vec![t("text"), t("int")]), &list_text()),
            ]],
        );
    }
    if query.contains("system_schema.tables") {
        return rows_result(
            "system_schema",
            "tables",
            &[
                ("keyspace_name", text.clone()),
                ("table_name", text.clone()),
            ],
            &[vec![cell(t("ks"), &text), cell(t("t"), &text)]],
        );
    }
    if query.contains("system_schema.columns") {
        let row = |name: &str, kind: &str, pos: i32, typ: &str| {
            vec![
                cell(t("ks"), &text),
                cell(t("t"), &text),
                cell(t(name), &text),
                cell(t(kind), &text),
                cell(CqlValue::Int(pos), &ColumnType::Int),
                cell(t(typ), &text),
            ]
        };
        return rows_result(
            "system_schema",
            "columns",
            &[
                ("keyspace_name", text.clone()),
                ("table_name", text.clone()),
                ("column_name", text.clone()),
                ("kind", text.clone()),
                ("position", ColumnType::Int),
                ("type", text.clone()),
            ],
            &[
                row("v", "regular", -1, "map<text, frozen<address>>"),
                row("ck", "clustering", 0, "text"),
                row("pk2", "partition_key", 1, "uuid"),
                row("pk", "partition_key", 0, "int"),
            ],
        );
    }
    // views, functions, aggregates, indexes: best effort.
    server_error(ErrorCode::INVALID, "unconfigured table")
}

struct Nodes {
    node: FakeNode,
    control_events: Mutex<Option<mpsc::Receiver<Event>>>,
    dead: Mutex<Vec<SocketAddr>>,
    control_kill: Arc<Notify>,
    control_addrs: Mutex<Vec<SocketAddr>>,
}

fn connector(nodes: Arc<Nodes>) -> Connector {
    Arc::new(
        move |addr: SocketAddr, _source: Option<u16>, config: ConnectionConfig| {
            let nodes = Arc::clone(&nodes);
            Box::pin(async move {
                if nodes.dead.lock().expect("lock").contains(&addr) {
                    return Err(ConnectionError::Connect {
                        addr,
                        source: Arc::new(std::io::Error::from(
                            std::io::ErrorKind::ConnectionRefused,
                        )),
                    });
                }
                let (client, server) = tokio::io::duplex(1 << 20);
                if config.event_sender.is_some() {
                    nodes.control_addrs.lock().expect("lock").push(addr);
                    let node = nodes
                        .node
                        .clone()
                        .with_kill(Arc::clone(&nodes.control_kill));
                    match nodes.control_events.lock().expect("lock").take() {
                        Some(events) => tokio::spawn(node.serve_with_events(server, events)),
                        None => tokio::spawn(node.serve(server)),
                    };
                } else {
                    tokio::spawn(nodes.node.clone().serve(server));
                }
                Connection::open(client, &config).await
            })
        },
    )
}

fn setup() -> (Arc<Nodes>, mpsc::Sender<Event>) {
    let (tx, rx) = mpsc::channel(8);
    let node = answering(system_tables);
    (
        Arc::new(Nodes {
            node,
            control_events: Mutex::new(Some(rx)),
            dead: Mutex::new(Vec::new()),
            control_kill: Arc::default(),
            control_addrs: Mutex::new(Vec::new()),
        }),
        tx,
    )
}

fn config() -> ClusterConfig {
    ClusterConfig {
        known_nodes: vec!["127.0.0.1:9042".into()],
        connection: crate::testing::v4(),
        ..ClusterConfig::default()
    }
}

fn ip(n: &NodeRef) -> String {
    n.address.to_string()
}

#[tokio::test(start_paused = true)]
async fn connect_reads_topology_and_schema() {
    let (nodes, _events) = setup();
    let cluster = Cluster::connect_with_connector(config(), connector(Arc::clone(&nodes)))
        .await
        .expect("connect");
    let state = cluster.state();
    let mut addrs: Vec<String> = state.nodes().iter().map(ip).collect();
    addrs.sort();
    assert_eq!(addrs, vec!["127.0.0.1:9042", "127.0.0.2:9042"]);
    let local = state
        .node("127.0.0.1:9042".parse().expect("addr"))
        .expect("local");
    assert_eq!(
        (local.host_id, local.datacenter.as_deref(), &local.tokens),
        (Some(Uuid::from_u128(1)), Some("dc1"), &vec![-100, 100])
    );
    // Ring: -100 A, 0 B, 100 A; SimpleStrategy rf 2.
    let ks = state.keyspace("ks").expect("keyspace");
    assert_eq!(
        ks.strategy,
        ReplicationStrategy::SimpleStrategy {
            replication_factor: 2
        }
    );
    assert_eq!(
        state
            .replicas("ks", Token(10))
            .iter()
            .map(ip)
            .collect::<Vec<_>>(),
        vec!["127.0.0.1:9042", "127.0.0.2:9042"]
    );
    assert_eq!(
        state
            .replicas("ks", Token(-50))
            .iter()
            .map(ip)
            .collect::<Vec<_>>(),
        vec!["127.0.0.2:9042", "127.0.0.1:9042"]
    );
    let table = state.table("ks", "t").expect("table");
    assert_eq!(table.partition_key, vec!["pk", "pk2"]);
    assert_eq!(table.clustering_key, vec!["ck"]);
    let address = ColumnType::Udt {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), ColumnType::Text),
            ("zip".into(), ColumnType::Int),
        ],
    };
    assert_eq!(
        table.column("v").expect("v").typ,
        ColumnType::Map(Box::new(ColumnType::Text), Box::new(address.clone()))
    );
    assert_eq!(ks.user_types.get("address"), Some(&address));
    // Every node has a pool with a connection.
    for n in state.nodes() {
        assert!(cluster.connection_for(n, None).is_some(), "{}", ip(n));
    }
    let log = nodes.node.log();
    assert!(log.iter().any(|q| q.contains("system.peers_v2")));
    assert!(
        log.iter()
            .any(|q| q.contains("FROM system.peers ") || q.ends_with("FROM system.peers")),
        "falls back to system.peers"
    );
    cluster.close();
}

#[tokio::test(start_paused = true)]
async fn schema_change_event_refreshes_only_that_keyspace_after_debounce() {
    let (nodes, events) = setup();
    let cluster = Cluster::connect_with_connector(config(), connector(Arc::clone(&nodes)))
        .await
        .expect("connect");
    let before = nodes.node.log().len();
    let ev = |ks: &str| {
        Event::SchemaChange(SchemaChange {
            change_type: SchemaChangeType::Updated,
            target: SchemaChangeTarget::Table {
                keyspace: ks.into(),
                name: "t".into(),
            },
        })
    };
    // Three events for the same keyspace within the debounce window: one refresh.
    for _ in 0..3 {
        events.send(ev("ks")).await.expect("send");
    }
    let mut refreshed = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        refreshed = nodes.node.log()[before..].to_vec();
        if refreshed
            .iter()
            .any(|q| q.contains("system_schema.columns"))
        {
            break;
        }
    }
    let keyspace_queries: Vec<_> = refreshed
        .iter()
        .filter(|q| q.contains("system_schema.keyspaces"))
        .collect();
    assert_eq!(keyspace_queries.len(), 1, "{refreshed:?}");
    assert!(keyspace_queries[0].contains("WHERE keyspace_name = 'ks'"));
    assert!(
        !refreshed.iter().any(|q| q.contains("system.local")),
        "no topology refresh for a schema change"
    );
    assert!(cluster.state().table("ks", "t").is_some());
    cluster.close();
}

#[tokio::test(start_paused = true)]
async fn refresh_metadata_and_use_keyspace() {
    let (nodes, _events) = setup();
    let cluster = Cluster::connect_with_connector(config(), connector(Arc::clone(&nodes)))
        .await
        .expect("connect");
    let old = cluster.state();
    cluster.refresh_metadata().await.expect("refresh");
    assert!(
        !Arc::ptr_eq(&old, &cluster.state()),
        "a new snapshot was swapped in"
    );
    cluster.use_keyspace("ks").await.expect("use");
    assert_eq!(cluster.keyspace().as_deref(), Some("ks"));
    let uses = nodes
        .node
        .log()
        .iter()
        .filter(|q| q.as_str() == "QUERY USE ks")
        .count();
    assert_eq!(
        uses, 3,
        "one USE to validate, then one per pooled connection (2 nodes x 1 each)"
    );
    let err = cluster
        .use_keyspace("missing")
        .await
        .expect_err("unknown keyspace");
    assert!(
        matches!(err, ConnectionError::Server { during: "USE", .. }),
        "{err:?}"
    );
    assert_eq!(
        cluster.keyspace().as_deref(),
        Some("ks"),
        "a rejected keyspace is not remembered"
    );
    cluster.close();
}

#[tokio::test(start_paused = true)]
async fn connect_fails_when_no_node_answers() {
    let (nodes, _events) = setup();
    nodes
        .dead
        .lock()
        .expect("lock")
        .push("127.0.0.1:9042".parse().expect("addr"));
    let err = Cluster::connect_with_connector(config(), connector(nodes))
        .await
        .expect_err("fails");
    assert!(
        matches!(&err, NewClusterError::AllNodesFailed(v) if v.len() == 1),
        "{err:?}"
    );
    let err = Cluster::connect_with_connector(ClusterConfig::default(), connector(setup().0))
        .await
        .expect_err("no nodes");
    assert!(matches!(err, NewClusterError::NoKnownNodes));
}

#[tokio::test(start_paused = true)]
async fn tablet_payload_updates_the_snapshot() {
    let (nodes, _events) = setup();
    let cluster = Cluster::connect_with_connector(config(), connector(nodes))
        .await
        .expect("connect");
    let info = TabletRoutingInfo {
        first_token: -10,
        last_token: 10,
        replicas: vec![(Uuid::from_u128(2), 3)],
    };
    let mut value = BytesMut::new();
    info.encode(&mut value).expect("encode");
    let mut payload = HashMap::new();
    payload.insert(
        proto::scylla::TABLETS_ROUTING_V1_PAYLOAD_KEY.to_owned(),
        Some(value.freeze()),
    );
    assert!(cluster.add_tablet_from_payload("ks", "t", &payload));
    let state = cluster.state();
    let replicas: Vec<(String, Option<u32>)> = state
        .replicas_for("ks", "t", Token(0))
        .iter()
        .map(|(n, s)| (ip(n), s))
        .collect();
    assert_eq!(replicas, vec![("127.0.0.2:9042".to_owned(), Some(3))]);
    assert!(!cluster.add_tablet_from_payload("ks", "t", &HashMap::new()));
    cluster.close();
}

#[tokio::test(start_paused = true)]
async fn control_connection_moves_to_another_node_when_its_node_dies() {
    let (nodes, _events) = setup();
    let cluster = Cluster::connect_with_connector(config(), connector(Arc::clone(&nodes)))
        .await
        .expect("connect");
    let first: SocketAddr = "127.0.0.1:9042".parse().expect("addr");
    assert_eq!(*nodes.control_addrs.lock().expect("lock"), vec![first]);
    let local_queries = || {
        nodes
            .node
            .log()
            .iter()
            .filter(|q| q.contains("system.local"))
            .count()
    };
    let before = local_queries();
    nodes.dead.lock().expect("lock").push(first);
    nodes.control_kill.notify_one();
    for _ in 0..100 {
        if nodes.control_addrs.lock().expect("lock").len() == 2 && local_queries() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let addrs = nodes.control_addrs.lock().expect("lock").clone();
    assert_eq!(
        addrs,
        vec![first, "127.0.0.2:9042".parse().expect("addr")],
        "reconnected to the other node"
    );
    assert!(
        local_queries() > before,
        "metadata re-read after the reconnect"
    );
    cluster.close();
}

#[tokio::test(start_paused = true)]
async fn topology_event_rereads_peers_and_events_are_forwarded() {
    let (nodes, events) = setup();
    let (fwd_tx, mut fwd_rx) = mpsc::channel(8);
    let cfg = ClusterConfig {
        event_sender: Some(fwd_tx),
        ..config()
    };
    let cluster = Cluster::connect_with_connector(cfg, connector(Arc::clone(&nodes)))
        .await
        .expect("connect");
    let peers_queries = || {
        nodes
            .node
            .log()
            .iter()
            .filter(|q| q.contains("FROM system.peers"))
            .count()
    };
    let before = peers_queries();
    let log_len = nodes.node.log().len();
    let addr: SocketAddr = "127.0.0.3:9042".parse().expect("addr");
    let ev = Event::TopologyChange {
        change: proto::codes::TopologyChangeType::NewNode,
        addr,
    };
    events.send(ev.clone()).await.expect("send");
    let got = tokio::time::timeout(Duration::from_secs(1), fwd_rx.recv())
        .await
        .expect("forwarded")
        .expect("open");
    assert_eq!(got, ev);
    // Nothing happens before the debounce delay (1 s by default)...
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(peers_queries(), before);
    // ...and the peers are read again after it.
    for _ in 0..50 {
        if peers_queries() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(peers_queries() > before, "topology refreshed");
    assert!(
        !nodes
            .node
            .log()
            .iter()
            .skip(log_len)
            .any(|q| q.contains("system_schema")),
        "no schema refresh"
    );
    cluster.close();
}

#[derive(Debug)]
struct ShiftPort;

impl AddressTranslator for ShiftPort {
    fn translate<'a>(
        &'a self,
        untranslated: SocketAddr,
        host_id: Option<Uuid>,
    ) -> futures::future::BoxFuture<'a, Result<SocketAddr, String>> {
        Box::pin(async move {
            assert_eq!(
                host_id,
                Some(Uuid::from_u128(2)),
                "only peers are translated"
            );
            Ok(SocketAddr::new(untranslated.ip(), 19_999))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn peer_addresses_go_through_the_translator() {
    let (nodes, _events) = setup();
    let cfg = ClusterConfig {
        address_translator: Some(Arc::new(ShiftPort)),
        ..config()
    };
    let cluster = Cluster::connect_with_connector(cfg, connector(nodes))
        .await
        .expect("connect");
    let mut addrs: Vec<String> = cluster.state().nodes().iter().map(ip).collect();
    addrs.sort();
    assert_eq!(addrs, vec!["127.0.0.1:9042", "127.0.0.2:19999"]);
    assert!(
        cluster
            .pool("127.0.0.2:19999".parse().expect("addr"))
            .is_some()
    );
    cluster.close();
}

#[tokio::test]
async fn v5_offered_to_v4_nodes_falls_back_through_the_connector() {
    let (nodes, _events) = setup();
    let cfg = ClusterConfig {
        known_nodes: vec!["127.0.0.1:9042".into()],
        ..ClusterConfig::default()
    };
    assert_eq!(cfg.connection.protocol_version, ProtocolVersion::V5);
    let cluster = Cluster::connect_with_connector(cfg, connector(Arc::clone(&nodes)))
        .await
        .expect("connects at v4");
    let state = cluster.state();
    assert!(!state.nodes().is_empty());
    for node in state.nodes() {
        let conn = cluster
            .connection_for(node, None)
            .expect("every node has a connection");
        assert_eq!(conn.version(), ProtocolVersion::V4, "{}", ip(node));
    }
    cluster.close();
}
