//! Done-when 5: schema changes reach `ClusterState` through SCHEMA_CHANGE events (debounced,
//! per keyspace), with no explicit `refresh_metadata()`.

use crate::sim_common::*;
use cql_transport::ColumnKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_alter_table_are_reflected_without_a_full_refresh() {
    let sim = sim3().await;
    let cluster = connect(config(&sim, 1)).await;
    assert!(cluster.state().keyspace("shop").is_none());
    // DDL on node 1; the control connection is on node 0 and learns of it by event.
    let conn = cluster
        .pool(sim.node(1).addr())
        .and_then(|p| p.any_connection())
        .expect("conn");
    ok(&conn, "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
    ok(
        &conn,
        "CREATE TABLE shop.orders (id int, line int, item text, PRIMARY KEY (id, line))",
    )
    .await;
    wait_until(WAIT, "table shop.orders in the snapshot", || {
        cluster.state().table("shop", "orders").is_some()
    })
    .await;
    let state = cluster.state();
    let ks = state.keyspace("shop").expect("keyspace");
    assert!(
        matches!(
            ks.strategy,
            cql_transport::ReplicationStrategy::SimpleStrategy {
                replication_factor: 2
            }
        ),
        "{:?}",
        ks.strategy
    );
    let t = state.table("shop", "orders").expect("table");
    assert_eq!(t.partition_key, ["id"]);
    assert_eq!(t.clustering_key, ["line"]);
    let kinds: Vec<_> = ["id", "line", "item"]
        .iter()
        .map(|c| t.column(c).map(|c| c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            Some(ColumnKind::PartitionKey),
            Some(ColumnKind::Clustering),
            Some(ColumnKind::Regular)
        ]
    );
    assert!(t.column("note").is_none());
    // Replica lookup works for the new keyspace right away.
    assert_eq!(state.replicas("shop", int_token(1)).len(), 2);

    ok(&conn, "ALTER TABLE shop.orders ADD note text").await;
    wait_until(WAIT, "column note in the snapshot", || {
        cluster
            .state()
            .table("shop", "orders")
            .is_some_and(|t| t.column("note").is_some())
    })
    .await;
    let state = cluster.state();
    let t = state.table("shop", "orders").expect("table");
    assert_eq!(t.column("note").map(|c| c.kind), Some(ColumnKind::Regular));
    assert_eq!(t.columns.len(), 4);

    // Another table in the keyspace, then drops.
    ok(
        &conn,
        "CREATE TABLE shop.items (sku text PRIMARY KEY, price int)",
    )
    .await;
    wait_until(WAIT, "table shop.items", || {
        cluster.state().table("shop", "items").is_some()
    })
    .await;
    assert!(
        cluster
            .state()
            .table("shop", "orders")
            .is_some_and(|t| t.column("note").is_some())
    );
    ok(&conn, "DROP TABLE shop.orders").await;
    wait_until(WAIT, "shop.orders dropped", || {
        let s = cluster.state();
        s.table("shop", "orders").is_none() && s.table("shop", "items").is_some()
    })
    .await;
    ok(&conn, "DROP KEYSPACE shop").await;
    wait_until(WAIT, "keyspace dropped", || {
        cluster.state().keyspace("shop").is_none()
    })
    .await;
    assert!(cluster.state().replicas("shop", int_token(1)).is_empty());
    cluster.close();
}
