//! The live client connections each node lists: Cassandra's `system_views.clients` in the
//! Cassandra flavour, Scylla's `system.clients` in the default one (and the other table
//! unknown), rows that follow each connection's STARTUP, login, USE and requests and vanish
//! when it closes, and `NodeHandle::clients`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cql_sim::{ConnectionStage, SimCluster, SimTls};
use cql_testkit::RawClient;
use cql_testkit::query::*;
use cql_testkit::wait_until;
use proto::request::{AuthResponse, Request};
use proto::response::Response;
use proto::{CqlValue, ErrorCode};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

async fn cassandra() -> SimCluster {
    SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .unwrap()
}

/// A ready connection whose STARTUP names driver `name` at `version`.
async fn driver(cluster: &SimCluster, name: &str, version: &str) -> RawClient {
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    c.startup_with(&[
        ("DRIVER_NAME", name),
        ("DRIVER_VERSION", version),
        ("APPLICATION_NAME", "clients-test"),
    ])
    .await;
    c
}

/// The column names of `r`'s rows, in order.
fn column_names(r: &Response) -> Vec<&str> {
    rows(r)
        .metadata
        .col_specs
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

/// Each row of `r` as column name to value (nulls left out).
fn named_rows(r: &Response) -> Vec<HashMap<String, CqlValue>> {
    let names = column_names(r);
    values(r)
        .into_iter()
        .map(|row| {
            names
                .iter()
                .zip(row)
                .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
                .collect()
        })
        .collect()
}

/// The row whose `driver_name` is `name`.
fn row_of<'a>(rows: &'a [HashMap<String, CqlValue>], name: &str) -> &'a HashMap<String, CqlValue> {
    let found: Vec<_> = rows
        .iter()
        .filter(|r| r.get("driver_name") == Some(&CqlValue::Text(name.into())))
        .collect();
    assert_eq!(found.len(), 1, "one row of {name} in {rows:?}");
    found[0]
}

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_owned())
}

fn request_count(row: &HashMap<String, CqlValue>) -> i64 {
    match row.get("request_count") {
        Some(CqlValue::BigInt(n)) => *n,
        other => panic!("request_count: {other:?}"),
    }
}

#[tokio::test]
async fn cassandra_lists_each_live_connection_in_system_views_clients() {
    let cluster = cassandra().await;
    let mut a = driver(&cluster, "driver-a", "1.2.3").await;
    let b = driver(&cluster, "driver-b", "4.5").await;
    let r = a.ok("SELECT * FROM system_views.clients").await;
    let names = column_names(&r);
    for col in [
        "address",
        "port",
        "client_options",
        "connection_stage",
        "driver_name",
        "driver_version",
        "hostname",
        "keyspace_name",
        "protocol_version",
        "request_count",
        "ssl_cipher_suite",
        "ssl_enabled",
        "ssl_protocol",
        "username",
    ] {
        assert!(names.contains(&col), "{col} in {names:?}");
    }
    assert_eq!(names.len(), 14, "{names:?}");
    let all = named_rows(&r);
    assert_eq!(all.len(), 2, "{all:?}");
    let row = row_of(&all, "driver-a");
    assert_eq!(row.get("driver_version"), Some(&text("1.2.3")));
    assert_eq!(row.get("connection_stage"), Some(&text("ready")));
    assert_eq!(row.get("protocol_version"), Some(&CqlValue::Int(4)));
    // Authentication is off: Cassandra's client state holds the anonymous user.
    assert_eq!(row.get("username"), Some(&text("anonymous")));
    assert_eq!(row.get("ssl_enabled"), Some(&CqlValue::Boolean(false)));
    assert_eq!(row.get("ssl_protocol"), None);
    assert_eq!(row.get("keyspace_name"), None);
    let Some(CqlValue::Map(options)) = row.get("client_options") else {
        panic!("client_options: {row:?}");
    };
    assert!(options.contains(&(text("APPLICATION_NAME"), text("clients-test"))));
    assert!(options.contains(&(text("CQL_VERSION"), text("3.0.0"))));
    let Some(CqlValue::Inet(ip)) = row.get("address") else {
        panic!("address: {row:?}");
    };
    assert_eq!(row.get("hostname"), Some(&text(&ip.to_string())));
    // STARTUP and this SELECT.
    let before = request_count(row);
    assert_eq!(before, 2);
    assert_eq!(
        row_of(&all, "driver-b").get("driver_version"),
        Some(&text("4.5"))
    );

    // The accessor has the same facts; the count grows with every request.
    let mine = cluster
        .node(0)
        .clients()
        .into_iter()
        .find(|c| c.driver_name.as_deref() == Some("driver-a"))
        .expect("driver-a listed");
    assert_eq!(mine.stage, ConnectionStage::Ready);
    assert_eq!(mine.protocol_version, Some(4));
    let port = i32::from(mine.addr.port());
    a.ok("SELECT key FROM system.local").await;
    let r = a
        .ok(&format!(
            "SELECT port, request_count, keyspace_name FROM system_views.clients WHERE address = '{}' AND port = {port}",
            mine.addr.ip()
        ))
        .await;
    let only = named_rows(&r);
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0].get("port"), Some(&CqlValue::Int(port)));
    assert_eq!(request_count(&only[0]), before + 2);

    // USE shows in keyspace_name.
    a.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .await;
    a.ok("USE ks").await;
    let r = a.ok("SELECT * FROM system_views.clients").await;
    let all = named_rows(&r);
    assert_eq!(
        row_of(&all, "driver-a").get("keyspace_name"),
        Some(&text("ks"))
    );
    assert_eq!(row_of(&all, "driver-b").get("keyspace_name"), None);

    // A closed connection is no longer listed.
    drop(b);
    let node = cluster.node(0);
    wait_until(Duration::from_secs(5), "driver-b unlisted", || {
        node.clients().len() == 1
    })
    .await;
    let r = a.ok("SELECT driver_name FROM system_views.clients").await;
    assert_eq!(column(&r, "driver_name"), vec![Some(text("driver-a"))]);
    // Virtual keyspaces are not in system_schema (Cassandra lists them apart).
    let r = a
        .ok("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = 'system_views'")
        .await;
    assert!(values(&r).is_empty());
}

#[tokio::test]
async fn each_node_lists_only_its_own_connections_and_none_once_stopped() {
    let cluster = SimCluster::builder()
        .without_scylla_extensions()
        .nodes(2)
        .start()
        .await
        .unwrap();
    let mut one = RawClient::ready(cluster.node(0).addr()).await;
    let _two = RawClient::ready(cluster.node(1).addr()).await;
    let _three = RawClient::ready(cluster.node(1).addr()).await;
    let r = one.ok("SELECT port FROM system_views.clients").await;
    assert_eq!(values(&r).len(), 1);
    assert_eq!(cluster.node(1).clients().len(), 2);
    cluster.node(1).stop();
    assert!(cluster.node(1).clients().is_empty());
    assert_eq!(cluster.node(0).clients().len(), 1);
}

#[tokio::test]
async fn scylla_lists_connections_in_system_clients() {
    let cluster = SimCluster::builder().shards(2).start().await.unwrap();
    let mut a = driver(&cluster, "driver-s", "6.0").await;
    let r = a.ok("SELECT * FROM system.clients").await;
    let names = column_names(&r);
    assert!(names.contains(&"client_type") && names.contains(&"shard_id"));
    assert!(!names.contains(&"request_count") && !names.contains(&"client_options"));
    assert_eq!(names.len(), 13, "{names:?}");
    let all = named_rows(&r);
    let row = row_of(&all, "driver-s");
    assert_eq!(row.get("client_type"), Some(&text("cql")));
    assert_eq!(row.get("driver_version"), Some(&text("6.0")));
    assert_eq!(row.get("connection_stage"), Some(&text("ready")));
    assert_eq!(row.get("username"), Some(&text("anonymous")));
    let mine = &cluster.node(0).clients()[0];
    assert_eq!(row.get("shard_id"), Some(&CqlValue::Int(mine.shard as i32)));
    // Scylla has no system_views keyspace.
    let r = a.query("SELECT * FROM system_views.clients").await;
    assert_eq!(error_code(&r), ErrorCode::INVALID, "{r:?}");
}

#[tokio::test]
async fn cassandra_has_no_system_clients() {
    let cluster = cassandra().await;
    let mut a = RawClient::ready(cluster.contact_point()).await;
    let r = a.query("SELECT * FROM system.clients").await;
    assert_eq!(error_code(&r), ErrorCode::INVALID, "{r:?}");
}

#[tokio::test]
async fn username_and_stage_follow_the_login() {
    let cluster = SimCluster::builder()
        .without_scylla_extensions()
        .auth("cassandra", "cassandra")
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let node = cluster.node(0);
    wait_until(Duration::from_secs(5), "connection listed", || {
        node.clients().len() == 1
    })
    .await;
    assert_eq!(node.clients()[0].stage, ConnectionStage::Established);
    let r = c.startup(None).await;
    assert!(matches!(r, Response::Authenticate { .. }), "{r:?}");
    let before = node.clients().remove(0);
    assert_eq!(before.stage, ConnectionStage::Authenticating);
    assert_eq!(before.username, None);
    let r = c
        .request(&Request::AuthResponse(AuthResponse {
            token: Some(Bytes::from_static(b"\0cassandra\0cassandra")),
        }))
        .await
        .response;
    assert!(matches!(r, Response::AuthSuccess { .. }), "{r:?}");
    let r = c
        .ok("SELECT username, connection_stage FROM system_views.clients")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![Some(text("cassandra")), Some(text("ready"))]]
    );
}

#[tokio::test]
async fn tls_connections_show_their_protocol_and_cipher() {
    let cluster = SimCluster::builder()
        .without_scylla_extensions()
        .tls(SimTls::generated().port(19546).shard_aware_port(None))
        .start()
        .await
        .unwrap();
    let ca = cluster.tls_ca_der().expect("a generated CA");
    let addr = cluster.node(0).ssl_addr().expect("an SSL address");
    let mut store = rustls::RootCertStore::empty();
    store.add(ca).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut c = RawClient::from_stream(tls);
    let r = c.startup(None).await;
    assert!(matches!(r, Response::Ready), "{r:?}");
    let _plain = RawClient::ready(cluster.contact_point()).await;
    let r = c
        .ok("SELECT ssl_enabled, ssl_protocol, ssl_cipher_suite FROM system_views.clients")
        .await;
    let mut got = values(&r);
    got.sort_by_key(|row| format!("{row:?}"));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&vec![Some(CqlValue::Boolean(false)), None, None]));
    let tls_row = got
        .iter()
        .find(|row| row[0] == Some(CqlValue::Boolean(true)))
        .expect("the TLS connection");
    assert_eq!(tls_row[1], Some(text("TLSv1.3")));
    match &tls_row[2] {
        Some(CqlValue::Text(s)) => assert!(
            s.starts_with("TLS_") && !s.starts_with("TLS13_"),
            "cipher named as Java names it: {s}"
        ),
        other => panic!("cipher: {other:?}"),
    }
}
