//! The version strings each flavour reports, and Cassandra's `system_virtual_schema`: the
//! virtual keyspaces, their tables (with Cassandra's comments) and columns, absent from
//! `system_schema` and from the Scylla flavour.

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::*;
use proto::{CqlValue, ErrorCode};

async fn connect(cassandra: bool) -> (SimCluster, RawClient) {
    let mut b = SimCluster::builder().nodes(2);
    if cassandra {
        b = b.without_scylla_extensions();
    }
    let cluster = b.start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    c.startup(None).await;
    (cluster, c)
}

fn text(s: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(s.into()))
}

/// The text values of column `name`, sorted.
async fn texts(c: &mut RawClient, q: &str, name: &str) -> Vec<String> {
    let r = c.query(q).await;
    let mut out: Vec<String> = column(&r, name)
        .into_iter()
        .map(|v| match v {
            Some(CqlValue::Text(s)) => s,
            other => panic!("{name}: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn cassandra_reports_4_1_and_scylla_3_0_8() {
    for (cassandra, release, cql, native) in [
        (true, "4.1.7", "3.4.6", "5"),
        (false, "3.0.8", "3.3.1", "4"),
    ] {
        let (_cluster, mut c) = connect(cassandra).await;
        let r = c
            .query("SELECT release_version, cql_version, native_protocol_version FROM system.local")
            .await;
        assert_eq!(
            values(&r),
            vec![vec![text(release), text(cql), text(native)]],
            "cassandra: {cassandra}"
        );
        let r = c.query("SELECT release_version FROM system.peers").await;
        assert_eq!(values(&r), vec![vec![text(release)]]);
        assert_eq!(c.supported().await["CQL_VERSION"], vec![cql]);
    }
}

#[tokio::test]
async fn cassandra_describes_its_virtual_keyspaces() {
    let (_cluster, mut c) = connect(true).await;
    let keyspaces = texts(
        &mut c,
        "SELECT keyspace_name FROM system_virtual_schema.keyspaces",
        "keyspace_name",
    )
    .await;
    assert_eq!(keyspaces, ["system_views", "system_virtual_schema"]);

    let r = c
        .query(
            "SELECT table_name, comment FROM system_virtual_schema.tables \
             WHERE keyspace_name = 'system_virtual_schema'",
        )
        .await;
    let mut tables = values(&r);
    tables.sort_by_key(|row| format!("{:?}", row[0]));
    assert_eq!(
        tables,
        vec![
            vec![text("columns"), text("virtual column definitions")],
            vec![text("keyspaces"), text("virtual keyspace definitions")],
            vec![text("tables"), text("virtual table definitions")],
        ]
    );
    let r = c
        .query(
            "SELECT comment FROM system_virtual_schema.tables \
             WHERE keyspace_name = 'system_views' AND table_name = 'clients'",
        )
        .await;
    assert_eq!(values(&r), vec![vec![text("currently connected clients")]]);

    let r = c
        .query(
            "SELECT column_name, kind, position, type, clustering_order \
             FROM system_virtual_schema.columns \
             WHERE keyspace_name = 'system_views' AND table_name = 'clients'",
        )
        .await;
    let rows = values(&r);
    let find = |name: &str| {
        rows.iter()
            .find(|row| row[0] == text(name))
            .unwrap_or_else(|| panic!("no column {name}: {rows:?}"))
            .clone()
    };
    assert_eq!(
        find("address"),
        vec![
            text("address"),
            text("partition_key"),
            Some(CqlValue::Int(0)),
            text("inet"),
            text("none"),
        ]
    );
    assert_eq!(
        find("port"),
        vec![
            text("port"),
            text("clustering"),
            Some(CqlValue::Int(0)),
            text("int"),
            text("asc"),
        ]
    );
    assert_eq!(
        find("request_count")[1..4],
        [text("regular"), Some(CqlValue::Int(-1)), text("bigint")]
    );

    // Like Cassandra's virtual keyspaces, neither is in system_schema.
    let listed = texts(
        &mut c,
        "SELECT keyspace_name FROM system_schema.keyspaces",
        "keyspace_name",
    )
    .await;
    assert!(
        !listed.iter().any(|k| k.starts_with("system_v")),
        "{listed:?}"
    );
    let r = c
        .query("SELECT table_name FROM system_schema.columns WHERE keyspace_name = 'system_virtual_schema'")
        .await;
    assert!(values(&r).is_empty());
}

#[tokio::test]
async fn scylla_has_no_virtual_schema() {
    let (_cluster, mut c) = connect(false).await;
    let r = c
        .query("SELECT keyspace_name FROM system_virtual_schema.keyspaces")
        .await;
    assert_eq!(error_code(&r), ErrorCode::INVALID);
}
