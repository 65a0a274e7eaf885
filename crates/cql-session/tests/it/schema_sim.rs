//! Schema the driver reads from `cql-sim` as it would from a server: NetworkTopologyStrategy's
//! `replication_factor` shorthand expanded per data centre (so LOCAL_QUORUM works), consistency
//! counted against the configured replication factor, counter tables read as CQL tables (not
//! COMPACT STORAGE, which would hide the counter column), and secondary indexes.

use std::collections::HashMap;
use std::time::Duration;

use cql_session::Consistency;
use cql_session::cluster::ReplicationStrategy;
use cql_session::errors::DbError;
use cql_session::statement::Statement;
use cql_sim::SimCluster;

use crate::common;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn replication_factor_shorthand_and_local_quorum() {
    common::bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .datacenter("dc1", 2)
            .datacenter("dc2", 1)
            .start()
            .await
            .expect("sim cluster");
        let session = common::connect(cluster.contact_point()).await;
        common::run(&session, "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 2}").await;
        common::run(&session, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
        session.refresh_metadata().await.unwrap();
        let state = session.get_cluster_state();
        let ks = state.keyspace("ks").expect("keyspace ks");
        assert_eq!(
            ks.strategy,
            ReplicationStrategy::NetworkTopologyStrategy {
                datacenter_repfactors: HashMap::from([("dc1".into(), 2), ("dc2".into(), 2)]),
            }
        );

        let mut insert = Statement::new("INSERT INTO ks.t (k, v) VALUES (1, 1)");
        insert.set_consistency(Consistency::LocalQuorum);
        session.query_unpaged(insert, ()).await.unwrap();

        // RF 4 in total, three nodes: ALL cannot be met.
        let mut all = Statement::new("INSERT INTO ks.t (k, v) VALUES (2, 2)");
        all.set_consistency(Consistency::All);
        let err = session.query_unpaged(all, ()).await.unwrap_err();
        assert!(
            matches!(
                err.db_error(),
                Some(DbError::Unavailable {
                    required: 4,
                    alive: 3,
                    ..
                })
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn counter_tables_and_indexes_in_metadata() {
    common::bounded(LIMIT, async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        let session = common::connect(cluster.contact_point()).await;
        common::run(&session, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
        common::run(&session, "CREATE TABLE ks.c (k int PRIMARY KEY, n counter)").await;
        common::run(&session, "CREATE TABLE ks.t (k int PRIMARY KEY, v int, tags set<text>)").await;
        common::run(&session, "CREATE INDEX tags_idx ON ks.t (tags)").await;
        session.refresh_metadata().await.unwrap();
        let state = session.get_cluster_state();
        let ks = state.keyspace("ks").expect("keyspace ks");
        let c = ks.tables.get("c").expect("table c");
        let n = c.column("n").expect("the counter column is not hidden");
        assert_eq!(n.typ, proto::ColumnType::Counter);
        assert_eq!(ks.indexes, vec!["tags_idx".to_owned()]);

        common::run(&session, "INSERT INTO ks.t (k, v, tags) VALUES (1, 1, {'a'})").await;
        let rows = common::rows::<(i32,)>(&session, "SELECT k FROM ks.t WHERE tags CONTAINS 'a'").await;
        assert_eq!(rows, vec![(1,)]);
    })
    .await;
}

#[tokio::test]
async fn materialized_views_in_metadata_and_queries() {
    common::bounded(LIMIT, async {
        let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
        let session = common::connect(cluster.contact_point()).await;
        common::run(&session, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
        common::run(&session, "CREATE TABLE ks.t (k int PRIMARY KEY, g text, v int)").await;
        common::run(&session, "CREATE MATERIALIZED VIEW ks.by_g AS SELECT k, g, v FROM ks.t WHERE g IS NOT NULL AND k IS NOT NULL PRIMARY KEY (g, k)").await;
        session.refresh_metadata().await.unwrap();
        let state = session.get_cluster_state();
        let ks = state.keyspace("ks").expect("keyspace ks");
        let view = ks.views.get("by_g").expect("view by_g in metadata");
        assert_eq!(view.base_table.as_deref(), Some("t"));
        assert_eq!(view.partition_key, vec!["g".to_owned()]);
        assert_eq!(view.clustering_key, vec!["k".to_owned()]);
        assert!(!ks.tables.contains_key("by_g"), "a view is not a table");

        let insert = session
            .prepare("INSERT INTO ks.t (k, g, v) VALUES (?, ?, ?)")
            .await
            .unwrap();
        for (k, g) in [(1, "a"), (2, "b"), (3, "a")] {
            session.execute_unpaged(&insert, (k, g, k * 10)).await.unwrap();
        }
        let rows = common::rows::<(i32, i32)>(&session, "SELECT k, v FROM ks.by_g WHERE g = 'a'").await;
        assert_eq!(rows, vec![(1, 10), (3, 30)]);
    })
    .await;
}
