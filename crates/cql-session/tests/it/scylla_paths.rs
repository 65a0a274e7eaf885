//! The `scylla` 1.x names the compatibility package (`compat/`) needed beyond what cql-session
//! had: each is used here the way a `scylla` program uses it, and its behaviour checked.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use cql_session::cluster::metadata::{ColumnKind, Peer, Strategy, Table};
use cql_session::cluster::{ClusterState, NodeRef};
use cql_session::errors::{
    FirstRowError, IntoRowsResultError, MaybeFirstRowError, RowsError, SerializationError,
    SingleRowError, TypeCheckError,
};
use cql_session::frame::response::result::{ColumnSpec, ColumnType, TableSpec};
use cql_session::policies::host_filter::HostFilter;
use cql_session::policies::load_balancing::{FallbackPlan, LoadBalancingPolicy, RoutingInfo};
use cql_session::response::{PagingState, PagingStateResponse};
use cql_session::routing::{NodeLocationPreference, Shard};
use cql_session::statement::batch::{Batch, BatchStatement};
use cql_session::value::Counter;
use cql_session::{ExecutionProfile, SessionBuilder};

use crate::common::{bounded, create_ks_t, sim};

const LIMIT: Duration = Duration::from_secs(30);

/// A policy written with `scylla`'s `NodeRef<'a>`: the last node only.
#[derive(Debug)]
struct LastNode;

impl LoadBalancingPolicy for LastNode {
    fn pick<'a>(
        &'a self,
        _: &'a RoutingInfo<'_>,
        cluster: &'a ClusterState,
    ) -> Option<(NodeRef<'a>, Option<Shard>)> {
        cluster
            .get_nodes_info()
            .iter()
            .max_by_key(|n| n.address)
            .map(|n| (n, None))
    }

    fn fallback<'a>(&'a self, r: &'a RoutingInfo<'_>, c: &'a ClusterState) -> FallbackPlan<'a> {
        Box::new(self.pick(r, c).into_iter())
    }

    fn on_request_success(&self, _: &RoutingInfo<'_>, _: Duration, node: NodeRef<'_>) {
        assert!(node.is_enabled());
    }

    fn name(&self) -> String {
        "LastNode".into()
    }
}

#[tokio::test]
async fn node_ref_with_a_lifetime_routes_requests() {
    bounded(LIMIT, async {
        let cluster = sim(3, 1).await;
        let last = cluster.node_addrs().into_iter().max().expect("nodes");
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(Arc::new(LastNode))
            .build();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .default_execution_profile_handle(profile.into_handle())
            .build()
            .await
            .expect("connect");
        for _ in 0..3 {
            let r = session
                .query_unpaged("SELECT key FROM system.local", ())
                .await
                .expect("query");
            assert_eq!(r.request_coordinator().node().address, last);
        }
    })
    .await;
}

#[test]
fn peer_at_the_metadata_path_feeds_host_filters() {
    struct OnlyPort(u16);
    impl HostFilter for OnlyPort {
        fn accept(&self, peer: &Peer) -> bool {
            peer.address.port() == self.0
        }
    }
    let peer = Peer::new("127.0.0.1:9042".parse().expect("address"));
    assert!(OnlyPort(9042).accept(&peer));
    assert!(!OnlyPort(9043).accept(&peer));
}

#[test]
fn batch_statements_is_a_public_field() {
    let mut batch = Batch::default();
    batch.append_statement("INSERT INTO ks.t (k) VALUES (1)");
    batch
        .statements
        .push(BatchStatement::from("INSERT INTO ks.t (k) VALUES (2)"));
    assert_eq!(batch.statements().len(), 2);
    batch.statements.clear();
    assert!(batch.statements().is_empty());
}

#[test]
fn paging_state_response_matches_exhaustively() {
    // No `_` arm: the enum is exhaustive, as in `scylla`.
    let more = |r: PagingStateResponse| match r {
        PagingStateResponse::HasMorePages { .. } => true,
        PagingStateResponse::NoMorePages => false,
    };
    assert!(!more(PagingStateResponse::NoMorePages));
    let next = PagingStateResponse::HasMorePages {
        state: PagingState::start(),
    };
    assert!(matches!(
        next.clone().into_paging_control_flow(),
        ControlFlow::Continue(_)
    ));
    assert!(more(next));
}

#[test]
fn scylla_paths_name_the_same_types() {
    let spec = ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: "v".into(),
        typ: ColumnType::Int,
    };
    assert_eq!((spec.name(), spec.typ()), ("v", &ColumnType::Int));
    assert_eq!(spec.table_spec(), TableSpec::borrowed("ks", "t"));
    // `scylla`'s constructors build the same spec.
    let table_spec = TableSpec::borrowed("ks", "t");
    assert_eq!(ColumnSpec::borrowed("v", ColumnType::Int, table_spec), spec);
    assert_eq!(
        ColumnSpec::owned("v".to_owned(), ColumnType::Int, table_spec),
        spec
    );
    assert_ne!(ColumnSpec::borrowed("w", ColumnType::Int, table_spec), spec);
    assert_ne!(
        ColumnSpec::borrowed("v", ColumnType::Int, TableSpec::borrowed("ks", "u")),
        spec
    );
    let _ = NodeLocationPreference::Any;
    // The result and row errors are reachable from `errors`, as `scylla` programs import them.
    fn is_error<E: std::error::Error>() {}
    is_error::<IntoRowsResultError>();
    is_error::<RowsError>();
    is_error::<FirstRowError>();
    is_error::<MaybeFirstRowError>();
    is_error::<SingleRowError>();
    is_error::<TypeCheckError>();
    is_error::<SerializationError>();
}

#[tokio::test]
async fn counter_binds_and_reads_counter_columns_only() {
    bounded(LIMIT, async {
        let cluster = sim(1, 1).await;
        let session = crate::common::connect(cluster.contact_point()).await;
        create_ks_t(&session, 1).await;
        session
            .query_unpaged("CREATE TABLE ks.c (k int PRIMARY KEY, n counter)", ())
            .await
            .expect("table");
        let add = session
            .prepare("UPDATE ks.c SET n = n + ? WHERE k = ?")
            .await
            .expect("prepare");
        session
            .execute_unpaged(&add, (Counter(5), 1))
            .await
            .expect("add");
        session
            .execute_unpaged(&add, (Counter(-2), 1))
            .await
            .expect("add");
        let rows = session
            .query_unpaged("SELECT n, k FROM ks.c WHERE k = 1", ())
            .await
            .expect("select")
            .into_rows_result()
            .expect("rows");
        assert_eq!(
            rows.single_row::<(Counter, i32)>().expect("row"),
            (Counter(3), 1)
        );
        // An int column is no counter.
        assert!(rows.single_row::<(Counter, Counter)>().is_err());
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, ?)")
            .await
            .expect("prepare");
        assert!(
            session
                .execute_unpaged(&insert, (Counter(1), "x"))
                .await
                .is_err()
        );
    })
    .await;
}

#[tokio::test]
async fn tables_and_strategies_have_scylla_shapes() {
    bounded(LIMIT, async {
        let cluster = sim(1, 1).await;
        let session = crate::common::connect(cluster.contact_point()).await;
        create_ks_t(&session, 1).await;
        session
            .query_unpaged(
                "CREATE KEYSPACE nts WITH replication = \
                 {'class': 'NetworkTopologyStrategy', 'replication_factor': 1}",
                (),
            )
            .await
            .expect("keyspace nts");
        session.refresh_metadata().await.expect("refresh");
        let state = session.get_cluster_state();

        let ks = state.get_keyspace("ks").expect("ks");
        match &ks.strategy {
            Strategy::SimpleStrategy { replication_factor } => assert_eq!(*replication_factor, 1),
            other => panic!("SimpleStrategy expected, got {other:?}"),
        }
        let dc = cluster.node(0).datacenter().to_owned();
        match &state.get_keyspace("nts").expect("nts").strategy {
            Strategy::NetworkTopologyStrategy {
                datacenter_repfactors,
            } => assert_eq!(datacenter_repfactors.get(&dc), Some(&1)),
            other => panic!("NetworkTopologyStrategy expected, got {other:?}"),
        }
        let system = state.get_keyspace("system").expect("system");
        assert_eq!(system.strategy, Strategy::LocalStrategy);

        // Columns by name, as in `scylla`; the schema order in `column_order`.
        let table: &Table = &ks.tables["t"];
        assert_eq!(table.columns.len(), 3);
        assert_eq!(table.columns["pk"].kind, ColumnKind::PartitionKey);
        assert_eq!(table.columns["ck"].kind, ColumnKind::Clustering);
        assert_eq!(table.columns["v"].kind, ColumnKind::Regular);
        assert_eq!(table.columns["v"].typ, ColumnType::Text);
        assert_eq!(table.column_order, ["pk", "ck", "v"]);
        let kinds: Vec<ColumnKind> = table.columns_in_order().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ColumnKind::PartitionKey,
                ColumnKind::Clustering,
                ColumnKind::Regular
            ]
        );
    })
    .await;
}
