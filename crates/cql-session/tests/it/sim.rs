//! The session against `cql-sim`'s simulated cluster (several nodes and shards on loopback):
//! paging, batches, routing, re-prepare, typed errors, schema agreement and tracing.

use std::collections::HashSet;
use std::time::Duration;

use cql_session::errors::{DbError, ExecutionError, WriteType};
use cql_session::{Batch, BatchType, Consistency, Session, SessionBuilder, Statement};
use cql_sim::server::faults;
use cql_sim::{FaultAction, FaultRule, RequestMatcher, SimCluster};
use futures::TryStreamExt;

use crate::common;

const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<F: Future>(f: F) -> F::Output {
    common::bounded(LIMIT, f).await
}

async fn start(nodes: usize, shards: u32) -> (SimCluster, Session) {
    let cluster = SimCluster::builder()
        .nodes(nodes)
        .shards(shards)
        .seed(7)
        .start()
        .await
        .expect("sim cluster");
    let session = common::connect(cluster.contact_point()).await;
    (cluster, session)
}

async fn schema(session: &Session, rf: usize) {
    common::create_ks_t(session, rf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_10000_rows_returns_each_once() {
    bounded(async {
        let (_cluster, session) = start(3, 2).await;
        schema(&session, 2).await;
        let insert = common::prepare_insert(&session).await;
        // Ten partitions of 1000 rows, written 50 at a time in unlogged batches.
        for pk in 0..10i32 {
            for chunk in 0..20i32 {
                let mut batch = Batch::new(BatchType::Unlogged);
                let mut values = Vec::new();
                for i in 0..50i32 {
                    batch.append_statement(insert.clone());
                    let ck = chunk * 50 + i;
                    values.push((pk, ck, format!("{pk}:{ck}")));
                }
                session.batch(&batch, values).await.unwrap();
            }
        }
        let stmt = Statement::new("SELECT pk, ck, v FROM ks.t").with_page_size(100);
        let rows: Vec<(i32, i32, String)> = session
            .query_iter(stmt, ())
            .await
            .unwrap()
            .rows_stream::<(i32, i32, String)>()
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows.len(), 10_000);
        let keys: HashSet<(i32, i32)> = rows.iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(keys.len(), 10_000, "no row twice");
        assert!(rows.iter().all(|(pk, ck, v)| *v == format!("{pk}:{ck}")));

        // One partition through a prepared statement with paging.
        let mut select = session
            .prepare("SELECT ck FROM ks.t WHERE pk = ?")
            .await
            .unwrap();
        select.set_page_size(64);
        let cks: Vec<(i32,)> = session
            .execute_iter(select, (3i32,))
            .await
            .unwrap()
            .rows_stream::<(i32,)>()
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(cks, (0..1000).map(|c| (c,)).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_reach_a_replica_on_the_owning_shard() {
    bounded(async {
        let (cluster, session) = start(3, 4).await;
        schema(&session, 1).await;
        let insert = common::prepare_insert(&session).await;
        let before: Vec<_> = cluster.nodes().iter().map(|n| n.routing_stats()).collect();
        for pk in 0..200i32 {
            session
                .execute_unpaged(&insert, (pk, 0i32, "x"))
                .await
                .unwrap();
        }
        let after: Vec<_> = cluster.nodes().iter().map(|n| n.routing_stats()).collect();
        let delta = |f: fn(&cql_sim::RoutingStats) -> u64| -> u64 {
            after.iter().zip(&before).map(|(a, b)| f(a) - f(b)).sum()
        };
        assert_eq!(delta(|s| s.replica), 200, "every insert went to a replica");
        assert_eq!(delta(|s| s.non_replica), 0);
        assert_eq!(
            delta(|s| s.owner_shard),
            200,
            "and to the shard owning its token"
        );
        assert_eq!(delta(|s| s.other_shard), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprepared_errors_reprepare_and_batches_apply() {
    bounded(async {
        let (cluster, session) = start(1, 1).await;
        schema(&session, 1).await;
        let insert = common::prepare_insert(&session).await;
        cluster.node(0).add_fault(FaultRule::times(
            RequestMatcher::QueryContains("INSERT INTO ks.t".into()),
            FaultAction::Error(faults::unprepared()),
            1,
        ));
        session
            .execute_unpaged(&insert, (1i32, 1i32, "after re-prepare"))
            .await
            .unwrap();

        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(insert.clone());
        batch.append_statement("UPDATE ks.t SET v = ? WHERE pk = ? AND ck = ?");
        session
            .batch(&batch, ((1i32, 2i32, "b"), ("updated", 1i32, 1i32)))
            .await
            .unwrap();
        let res = session
            .query_unpaged("SELECT ck, v FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let rows: Vec<(i32, String)> = res.rows().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows, vec![(1, "updated".into()), (2, "b".into())]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_server_errors_are_typed_and_retried_per_policy() {
    bounded(async {
        let (cluster, session) = start(2, 1).await;
        schema(&session, 2).await;
        let on_all = |action: FaultAction| {
            for n in cluster.nodes() {
                n.clear_faults();
                n.add_fault(FaultRule::times(
                    RequestMatcher::QueryContains("ks.t".into()),
                    action.clone(),
                    1,
                ));
            }
        };

        on_all(FaultAction::Error(faults::write_timeout(
            proto::Consistency::QUORUM,
            1,
            2,
            WriteType::Simple,
        )));
        let err = session
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (1, 1, 'x')", ())
            .await
            .unwrap_err();
        assert_eq!(
            err.db_error(),
            Some(&DbError::WriteTimeout {
                consistency: Ok(Consistency::Quorum),
                received: 1,
                required: 2,
                write_type: WriteType::Simple,
            }),
            "{err}"
        );
        assert_eq!(
            err.attempts().len(),
            1,
            "a non-idempotent write is not retried"
        );

        on_all(FaultAction::Error(faults::unavailable(
            proto::Consistency::ALL,
            2,
            1,
        )));
        let err = session
            .query_unpaged("SELECT * FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.db_error(),
                Some(DbError::Unavailable {
                    required: 2,
                    alive: 1,
                    ..
                })
            ),
            "{err}"
        );
        // Unavailable tries the next node once: both nodes answered with the fault.
        assert_eq!(err.attempts().len(), 2, "{err}");

        on_all(FaultAction::Error(faults::is_bootstrapping()));
        for n in cluster.nodes().iter().skip(1) {
            n.clear_faults();
        }
        // Bootstrapping means not executed: the next node is tried even for a write.
        session
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (1, 2, 'y')", ())
            .await
            .unwrap();
        for n in cluster.nodes() {
            n.clear_faults();
        }

        let err = session
            .query_unpaged("SELECT * FROM nope.t", ())
            .await
            .unwrap_err();
        assert_eq!(err.db_error(), Some(&DbError::Invalid), "{err}");
        assert!(matches!(err, ExecutionError::LastAttemptError { .. }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_waits_for_schema_agreement_and_tracing_is_read_back() {
    bounded(async {
        let cluster = SimCluster::builder()
            .nodes(3)
            .schema_agreement_delay(Duration::from_millis(400))
            .start()
            .await
            .unwrap();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .build()
            .await
            .unwrap();
        schema(&session, 3).await;
        // The DDL returned only after every node reported the same version.
        let version = session.check_schema_agreement().await.unwrap();
        assert_eq!(version, Some(cluster.schema_version()));
        assert_eq!(
            session.await_schema_agreement().await.unwrap(),
            cluster.schema_version()
        );
        assert!(session.get_cluster_state().keyspace("ks").is_some());

        session.use_keyspace("ks", false).await.unwrap();
        let mut traced = Statement::new("SELECT * FROM t WHERE pk = 1");
        traced.set_tracing(true);
        let id = session
            .query_unpaged(traced, ())
            .await
            .unwrap()
            .tracing_id()
            .expect("tracing id");
        let info = session.get_tracing_info(&id).await.unwrap();
        assert!(info.duration.is_some());
        assert!(!info.events.is_empty());
        assert!(!info.nodes().is_empty());
    })
    .await;
}
