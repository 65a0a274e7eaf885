//! Schema agreement and schema metadata (`refresh_metadata`, `get_cluster_state`).

use std::time::Duration;

use cql_integration::{TestKeyspace, exec, fault_injection_available, query_rows, session};
use session::SessionBuilder;

/// Other tests run DDL at the same time, so the version may move between two calls: compare
/// against what the nodes report, and retry the instant check a bounded number of times.
#[tokio::test]
async fn await_and_check_schema_agreement_agree() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "sagree", 1).await;
    let before = s.await_schema_agreement().await.unwrap();
    exec(
        &s,
        &format!("CREATE TABLE {} (k int PRIMARY KEY)", ks.table("t")),
    )
    .await;
    let after = s.await_schema_agreement().await.unwrap();
    assert_ne!(before, after, "a DDL statement changes the schema version");
    let mut agreed = None;
    for _ in 0..50 {
        agreed = s.check_schema_agreement().await.unwrap();
        if agreed.is_some() {
            break;
        }
    }
    let agreed = agreed.expect("nodes agree on the schema between DDL statements");
    // The version the driver reports is the one the nodes hold (or a newer one, if another
    // test's DDL landed in between: then it is not the `before` version).
    let local: Vec<(Option<uuid::Uuid>,)> =
        query_rows(&s, "SELECT schema_version FROM system.local", ()).await;
    assert_eq!(local.len(), 1);
    assert!(local[0].0.is_some());
    assert_ne!(agreed, before);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn refresh_metadata_shows_tables_columns_and_types() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "smeta", 1).await;
    exec(
        &s,
        &format!("CREATE TYPE {}.point (x double, y double)", ks.name),
    )
    .await;
    exec(
        &s,
        &format!(
            "CREATE TABLE {} (a int, b text, c timestamp, d bigint, v frozen<point>, \
             PRIMARY KEY ((a, b), c, d))",
            ks.table("t")
        ),
    )
    .await;
    s.refresh_metadata().await.unwrap();
    let state = s.get_cluster_state();
    let keyspace = state
        .keyspace(&ks.name)
        .unwrap_or_else(|| panic!("keyspace {} not in metadata", ks.name));
    assert!(
        keyspace.user_types.contains_key("point"),
        "{:?}",
        keyspace.user_types.keys()
    );
    let table = state.table(&ks.name, "t").expect("table t in metadata");
    assert_eq!(table.partition_key, vec!["a", "b"]);
    assert_eq!(table.clustering_key, vec!["c", "d"]);
    let mut columns: Vec<&str> = table.columns.keys().map(String::as_str).collect();
    columns.sort_unstable();
    assert_eq!(columns, vec!["a", "b", "c", "d", "v"]);
    assert_eq!(
        table.column("d").map(|c| c.typ.clone()),
        Some(proto::value::ColumnType::BigInt)
    );
    exec(&s, &format!("DROP TABLE {}", ks.table("t"))).await;
    s.refresh_metadata().await.unwrap();
    assert!(s.get_cluster_state().table(&ks.name, "t").is_none());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn schema_agreement_waits_for_slow_nodes() {
    if !fault_injection_available("schema_agreement_waits_for_slow_nodes") {
        return;
    }
    let cluster = sim::SimCluster::builder()
        .nodes(3)
        .schema_agreement_delay(Duration::from_millis(600))
        .start()
        .await
        .unwrap();
    let s = SessionBuilder::new()
        .known_nodes_addr(cluster.node_addrs())
        .auto_await_schema_agreement(false)
        .schema_agreement_interval(Duration::from_millis(20))
        .build()
        .await
        .unwrap();
    exec(
        &s,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    // Straight after the DDL the other nodes have not adopted the new version yet.
    assert_eq!(s.check_schema_agreement().await.unwrap(), None);
    assert!(!cluster.schema_in_agreement());
    let version = s.await_schema_agreement().await.unwrap();
    assert!(cluster.schema_in_agreement());
    assert_eq!(version, cluster.schema_version());
    assert_eq!(s.check_schema_agreement().await.unwrap(), Some(version));
    cluster.shutdown();
}
