//! End-to-end tests of the session against `cql-sim` clusters: every seed method, checking the
//! data that comes back, with faults injected through the sim's fault rules. Requests a test
//! counts are EXECUTEs (`request_count_of(Opcode::EXECUTE)`): the driver's own background
//! traffic (control connection, heartbeats) is QUERY and OPTIONS only, so the counts are exact.

use std::collections::HashSet;
use std::time::Duration;

use cql_session::errors::{BadKeyspaceName, BadQuery, DbError, ExecutionError, UseKeyspaceError};
use cql_session::policies::retry::FallthroughRetryPolicy;
use cql_session::statement::batch::BatchStatement;
use cql_session::value::Row;
use cql_session::{
    Batch, BatchType, CachingSession, CachingSessionBuilder, ExecutionProfile, PagingState,
    Session, Statement,
};
use cql_sim::server::faults;
use cql_sim::{FaultAction, SimCluster};
use cql_testkit::wait_until;

use crate::common::{self, create_ks_t, executes};
use futures::TryStreamExt;
use proto::codes::Opcode;

/// Every test is bounded: a hung request fails the test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(20);

/// A simulated cluster of `nodes` nodes (one shard each).
async fn start(nodes: usize) -> SimCluster {
    common::sim(nodes, 1).await
}

async fn connect(cluster: &SimCluster) -> Session {
    common::connect(cluster.contact_point()).await
}

/// [`start`], a session connected to it, and `ks.t` with one replica.
async fn start_with_ks_t(nodes: usize) -> (SimCluster, Session) {
    let (cluster, session) = common::sim_session(nodes, 1).await;
    create_ks_t(&session, 1).await;
    (cluster, session)
}

/// The PREPARE requests all nodes received so far.
fn prepares(cluster: &SimCluster) -> u64 {
    cluster
        .nodes()
        .iter()
        .map(|n| n.request_count_of(Opcode::PREPARE))
        .sum()
}

async fn bounded<F: Future>(f: F) -> F::Output {
    common::bounded(LIMIT, f).await
}

#[tokio::test]
async fn unprepared_and_prepared_statements_round_trip_data() {
    bounded(async {
        let (_cluster, session) = start_with_ks_t(1).await;

        // Unprepared with values: prepared under the hood, values type-checked.
        session
            .query_unpaged(
                "INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)",
                (1i32, 1i32, "a"),
            )
            .await
            .unwrap();
        let insert = common::prepare_insert(&session).await;
        assert_eq!(insert.get_variable_pk_indexes().len(), 1);
        session
            .execute_unpaged(&insert, (1i32, 2i32, "b"))
            .await
            .unwrap();
        session
            .execute_unpaged(&insert, (2i32, 1i32, None::<&str>))
            .await
            .unwrap();

        let res = session
            .query_unpaged("SELECT pk, ck, v FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let rows: Vec<(i32, i32, String)> = res
            .rows::<(i32, i32, String)>()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![(1, 1, "a".into()), (1, 2, "b".into())]);

        let select = session
            .prepare("SELECT v FROM ks.t WHERE pk = ? AND ck = ?")
            .await
            .unwrap();
        let res = session
            .execute_unpaged(&select, (2i32, 1i32))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        // Borrowed row types read straight from the frame.
        assert_eq!(res.single_row::<(Option<&str>,)>().unwrap(), (None,));
        let res = session
            .execute_unpaged(&select, (1i32, 2i32))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(res.single_row::<(&str,)>().unwrap(), ("b",));
        let dynamic: Row = res.first_row().unwrap();
        assert_eq!(
            dynamic.columns,
            vec![Some(cql_session::value::CqlValue::Text("b".into()))]
        );

        // DDL results are not rows.
        let ddl = session
            .query_unpaged("CREATE TABLE ks.other (k int PRIMARY KEY)", ())
            .await
            .unwrap();
        assert!(!ddl.is_rows());
        assert!(ddl.schema_change().is_some());
    })
    .await;
}

async fn fill(session: &Session, n: i32) {
    let insert = common::prepare_insert(session).await;
    for i in 0..n {
        session
            .execute_unpaged(&insert, (7i32, i, i.to_string()))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn paging_returns_every_row_exactly_once() {
    bounded(async {
        let (_cluster, session) = start_with_ks_t(1).await;
        fill(&session, 10_000).await;

        let before = session.get_metrics().get_queries_iter_num();
        let stmt = Statement::new("SELECT ck, v FROM ks.t WHERE pk = 7").with_page_size(100);
        let rows: Vec<(i32, String)> = session
            .query_iter(stmt, ())
            .await
            .unwrap()
            .rows_stream::<(i32, String)>()
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows.len(), 10_000);
        let distinct: HashSet<i32> = rows.iter().map(|r| r.0).collect();
        assert_eq!(distinct.len(), 10_000);
        assert!(rows.iter().all(|(ck, v)| *v == ck.to_string()));
        assert!(
            rows.windows(2).all(|w| w[0].0 < w[1].0),
            "clustering order kept"
        );
        // 100 pages of 100 rows, plus possibly one empty last page.
        let pages = session.get_metrics().get_queries_iter_num() - before;
        assert!((100..=101).contains(&pages), "{pages} pages");

        // Prepared, with values serialized once for all pages; dynamic rows.
        let mut select = session
            .prepare("SELECT ck FROM ks.t WHERE pk = ?")
            .await
            .unwrap();
        select.set_page_size(333);
        let mut pager = session.execute_iter(select.clone(), (7i32,)).await.unwrap();
        let mut seen = HashSet::new();
        while let Some(row) = pager.try_next().await.unwrap() {
            let Some(Some(cql_session::value::CqlValue::Int(ck))) = row.columns.first().cloned()
            else {
                panic!("unexpected row {row:?}");
            };
            assert!(seen.insert(ck), "row {ck} twice");
        }
        assert_eq!(seen.len(), 10_000);

        // Manual paging with execute_single_page.
        let mut state = PagingState::start();
        let mut total = 0;
        let mut pages = 0;
        loop {
            let (res, next) = session
                .execute_single_page(&select, (7i32,), state)
                .await
                .unwrap();
            total += res.into_rows_result().unwrap().rows_num();
            pages += 1;
            match next.into_paging_control_flow() {
                std::ops::ControlFlow::Continue(s) => state = s,
                std::ops::ControlFlow::Break(()) => break,
            }
            assert!(pages <= 100, "paging does not end");
        }
        assert_eq!(total, 10_000);
        assert!((31..=32).contains(&pages), "{pages} pages of 333");

        // query_single_page: the first page only.
        let (res, next) = session
            .query_single_page(
                Statement::new("SELECT ck FROM ks.t WHERE pk = 7").with_page_size(10),
                (),
                PagingState::start(),
            )
            .await
            .unwrap();
        let first: Vec<(i32,)> = res
            .into_rows_result()
            .unwrap()
            .rows()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(first, (0..10).map(|i| (i,)).collect::<Vec<_>>());
        assert!(!next.finished());
    })
    .await;
}

#[tokio::test]
async fn batches_apply_every_statement() {
    bounded(async {
        let (_cluster, session) = start_with_ks_t(1).await;
        let insert = common::prepare_insert(&session).await;
        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(insert.clone());
        batch.append_statement("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)");
        batch.append_statement("INSERT INTO ks.t (pk, ck, v) VALUES (3, 3, 'literal')");
        session
            .batch(&batch, ((3i32, 1i32, "x"), (3i32, 2i32, "y"), ()))
            .await
            .unwrap();
        let res = session
            .query_unpaged("SELECT ck, v FROM ks.t WHERE pk = 3", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let rows: Vec<(i32, String)> = res.rows().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            rows,
            vec![(1, "x".into()), (2, "y".into()), (3, "literal".into())]
        );

        // prepare_batch prepares every statement.
        let prepared = session.prepare_batch(&batch).await.unwrap();
        assert!(
            prepared
                .statements()
                .iter()
                .all(|s| matches!(s, BatchStatement::PreparedStatement(_)))
        );
        session
            .batch(&prepared, ((4i32, 1i32, "p"), (4i32, 2i32, "q"), ()))
            .await
            .unwrap();
        let n = session
            .query_unpaged("SELECT ck FROM ks.t WHERE pk = 4", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .rows_num();
        assert_eq!(n, 2);

        // A row count that does not match the statements is caught before sending.
        let err = session
            .batch(&batch, ((1i32, 1i32, "x"),))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ExecutionError::BadQuery(BadQuery::BatchValuesCountMismatch {
                    statements: 3,
                    values: 1
                })
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn unprepared_statements_are_reprepared_transparently() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        let insert = common::prepare_insert(&session).await;
        let before = prepares(&cluster);
        assert!(cluster.node(0).evict_prepared() >= 1);
        session
            .execute_unpaged(&insert, (5i32, 5i32, "again"))
            .await
            .unwrap();
        assert_eq!(prepares(&cluster), before + 1);
        let res = session
            .query_unpaged("SELECT v FROM ks.t WHERE pk = 5 AND ck = 5", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(res.single_row::<(String,)>().unwrap().0, "again");
    })
    .await;
}

#[tokio::test]
async fn server_errors_are_typed() {
    bounded(async {
        let (_cluster, session) = start_with_ks_t(1).await;

        let err = session
            .query_unpaged("SELEKT * FROM ks.t", ())
            .await
            .unwrap_err();
        assert_eq!(err.db_error(), Some(&DbError::SyntaxError), "{err}");

        let err = session
            .query_unpaged("SELECT * FROM ks.nope", ())
            .await
            .unwrap_err();
        assert_eq!(err.db_error(), Some(&DbError::Invalid), "{err}");

        let err = session
            .query_unpaged("CREATE TABLE ks.t (k int PRIMARY KEY)", ())
            .await
            .unwrap_err();
        assert_eq!(
            err.db_error(),
            Some(&DbError::AlreadyExists {
                keyspace: "ks".into(),
                table: "t".into()
            }),
            "{err}"
        );

        let err = session.prepare("SELECT * FROM ks.nope").await.unwrap_err();
        assert!(err.to_string().contains("first error"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn bad_values_fail_before_a_round_trip() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        let insert = common::prepare_insert(&session).await;
        let before = executes(&cluster);
        let err = session
            .execute_unpaged(&insert, (1i32, 2i32))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ExecutionError::BadQuery(BadQuery::SerializationError(_))
            ),
            "{err}"
        );
        let err = session
            .execute_unpaged(&insert, ("not an int", 2i32, "v"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("bind marker 0"), "{err}");
        let err = session
            .execute_unpaged(&insert, (None::<i32>, 2i32, "v"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ExecutionError::BadQuery(BadQuery::PartitionKey(_))),
            "{err}"
        );
        assert_eq!(executes(&cluster), before, "nothing was sent");
    })
    .await;
}

#[tokio::test]
async fn retries_follow_idempotence_and_record_attempts() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(2).await;
        let mut insert = common::prepare_insert(&session).await;

        let overloaded = || FaultAction::Error(faults::overloaded());
        // Overloaded on both nodes: a non-idempotent write is not retried.
        common::on_next(&cluster, 0, overloaded());
        common::on_next(&cluster, 1, overloaded());
        let before: u64 = executes(&cluster).iter().sum();
        let err = session
            .execute_unpaged(&insert, (9i32, 1i32, "v"))
            .await
            .unwrap_err();
        assert_eq!(err.db_error(), Some(&DbError::Overloaded));
        assert_eq!(err.attempts().len(), 1, "{err}");
        // Only one node saw the write; drop the rule the other node did not consume.
        assert_eq!(executes(&cluster).iter().sum::<u64>(), before + 1);
        for n in cluster.nodes() {
            n.clear_faults();
        }

        // The same on an idempotent statement moves to the other node and succeeds.
        insert.set_is_idempotent(true);
        common::on_next(&cluster, 0, overloaded());
        common::on_next(&cluster, 1, overloaded());
        let before = session.get_metrics().get_retries_num();
        let err = session
            .execute_unpaged(&insert, (9i32, 2i32, "v"))
            .await
            .unwrap_err();
        // Both nodes were overloaded: two attempts, one per node.
        assert_eq!(err.attempts().len(), 2, "{err}");
        let nodes: HashSet<_> = err.attempts().iter().map(|a| a.node).collect();
        assert_eq!(nodes.len(), 2);
        assert_eq!(session.get_metrics().get_retries_num(), before + 1);

        // Only node 0 overloaded: whichever node goes first, the write succeeds.
        for ck in 3..7i32 {
            for n in cluster.nodes() {
                n.clear_faults();
            }
            common::on_next(&cluster, 0, overloaded());
            session
                .execute_unpaged(&insert, (9i32, ck, "ok"))
                .await
                .unwrap();
        }
        cluster.node(0).clear_faults();
        let n = session
            .query_unpaged("SELECT ck FROM ks.t WHERE pk = 9", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .rows_num();
        // ck 3..7 written, plus ck 2 which both nodes rejected is absent; ck 1 likewise.
        assert_eq!(n, 4);

        // The statement's own retry policy wins over the profile's: with the fall-through
        // policy the idempotent write is not retried on the other node.
        insert.set_retry_policy(Some(std::sync::Arc::new(FallthroughRetryPolicy)));
        assert!(insert.get_retry_policy().is_some());
        common::on_next(&cluster, 0, overloaded());
        common::on_next(&cluster, 1, overloaded());
        let err = session
            .execute_unpaged(&insert, (9i32, 8i32, "v"))
            .await
            .unwrap_err();
        assert_eq!(err.attempts().len(), 1, "{err}");
        assert_eq!(err.db_error(), Some(&DbError::Overloaded));
        insert.set_retry_policy(None);
        for n in cluster.nodes() {
            n.clear_faults();
        }
        common::on_next(&cluster, 0, overloaded());
        session
            .execute_unpaged(&insert, (9i32, 9i32, "v"))
            .await
            .expect("the profile's policy retries again");
    })
    .await;
}

#[tokio::test]
async fn request_timeout_is_typed_and_bounded() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        let mut stmt = Statement::new("SELECT * FROM ks.t WHERE pk = 1");
        stmt.set_request_timeout(Some(Duration::from_millis(200)));
        common::on_next(&cluster, 0, FaultAction::Drop);
        let start = std::time::Instant::now();
        let err = session.query_unpaged(stmt, ()).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(
            matches!(err, ExecutionError::RequestTimeout { .. }),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        // The connection still works afterwards.
        session
            .query_unpaged("SELECT * FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn speculative_execution_answers_from_the_faster_node() {
    bounded(async {
        let cluster = start(2).await;
        let profile = ExecutionProfile::builder()
            .speculative_execution_policy(Some(std::sync::Arc::new(
                cql_session::policies::speculative_execution::SimpleSpeculativeExecutionPolicy {
                    max_retry_count: 1,
                    retry_interval: Duration::from_millis(50),
                },
            )))
            .build()
            .into_handle();
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.default_execution_profile_handle(profile)
        })
        .await;
        create_ks_t(&session, 1).await;
        let mut stmt = Statement::new("SELECT * FROM ks.t WHERE pk = 1");
        stmt.set_is_idempotent(true);
        // Node 0 never answers its next request; when it goes first, the speculative attempt
        // on node 1 answers after the interval.
        let mut ok = 0;
        for _ in 0..4 {
            cluster.node(0).clear_faults();
            common::on_next(&cluster, 0, FaultAction::Drop);
            if session.query_unpaged(stmt.clone(), ()).await.is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 4);
        assert!(session.get_metrics().get_speculative_executions_num() >= 1);
    })
    .await;
}

#[tokio::test]
async fn keyspaces_schema_agreement_and_caching() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(2).await;
        assert_eq!(session.get_keyspace(), None);
        session.use_keyspace("ks", false).await.unwrap();
        assert_eq!(
            session.get_keyspace().as_deref().map(String::as_str),
            Some("ks")
        );
        // Unqualified names now resolve in ks, on every connection.
        for _ in 0..4 {
            session
                .query_unpaged("INSERT INTO t (pk, ck, v) VALUES (11, 1, 'k')", ())
                .await
                .unwrap();
        }
        let err = session.use_keyspace("bad-name", false).await.unwrap_err();
        assert!(
            matches!(
                err,
                UseKeyspaceError::BadKeyspaceName(BadKeyspaceName::IllegalCharacter(_, '-'))
            ),
            "{err}"
        );
        let err = session.use_keyspace("nope", false).await.unwrap_err();
        assert!(matches!(err, UseKeyspaceError::RequestError(_)), "{err}");

        let version = session.await_schema_agreement().await.unwrap();
        assert_eq!(
            session.check_schema_agreement().await.unwrap(),
            Some(version)
        );

        // Metadata: two nodes, and the keyspace after the automatic refresh.
        let state = session.get_cluster_state();
        assert_eq!(state.nodes().len(), 2);
        assert!(state.keyspace("ks").is_some());
        session.refresh_metadata().await.unwrap();

        let caching = CachingSession::from(session, 2);
        for i in 0..3 {
            caching
                .execute_unpaged("SELECT v FROM ks.t WHERE pk = ?", (i,))
                .await
                .unwrap();
        }
        assert_eq!(caching.cached_statements(), 1);
        let before = prepares(&cluster);
        caching
            .execute_unpaged("SELECT v FROM ks.t WHERE pk = ?", (1i32,))
            .await
            .unwrap();
        assert_eq!(
            prepares(&cluster),
            before,
            "cached statement not prepared again"
        );
        assert_eq!(caching.get_max_capacity(), 2);
    })
    .await;
}

#[tokio::test]
async fn caching_session_builder_shares_the_session_and_prepares_batches() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        let session = std::sync::Arc::new(session);
        let caching = CachingSessionBuilder::new_shared(session.clone())
            .max_capacity(8)
            .use_cached_result_metadata(true)
            .build();
        assert_eq!(caching.get_max_capacity(), 8);
        let mut batch = Batch::new(BatchType::Unlogged);
        batch.append_statement("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)");
        batch.append_statement("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, 'b')");
        let prepared = caching.prepare_batch(&batch).await.unwrap();
        assert!(
            prepared
                .statements()
                .iter()
                .all(|s| matches!(s, BatchStatement::PreparedStatement(_)))
        );
        assert_eq!(caching.cached_statements(), 2);
        let before = prepares(&cluster);
        caching
            .batch(&batch, ((1i32, 1i32, "a"), (1i32, 2i32)))
            .await
            .unwrap();
        assert_eq!(
            prepares(&cluster),
            before,
            "the batch's statements were cached"
        );
        // The shared session still works on its own, and sees the rows.
        let rows = session
            .query_unpaged("SELECT ck FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(rows.rows_num(), 2);
        // Cached statements skip the result metadata: their rows still decode.
        let select = caching
            .execute_unpaged("SELECT v FROM ks.t WHERE pk = ? AND ck = ?", (1i32, 2i32))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let (v,): (String,) = select.first_row().unwrap();
        assert_eq!(v, "b");
    })
    .await;
}

#[tokio::test]
async fn prepared_statements_are_routed_to_their_replica() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(3).await;
        let insert = common::prepare_insert(&session).await;
        let state = session.get_cluster_state();
        for pk in 0..20i32 {
            let token = insert.calculate_token(&(pk, 0i32, "x")).unwrap().unwrap();
            let replica = state.replicas("ks", token)[0].address;
            let before = executes(&cluster);
            session
                .execute_unpaged(&insert, (pk, 0i32, "x"))
                .await
                .unwrap();
            let after = executes(&cluster);
            let hit: Vec<usize> = (0..3).filter(|i| after[*i] > before[*i]).collect();
            assert_eq!(hit.len(), 1);
            assert_eq!(
                cluster.node(hit[0]).addr(),
                replica,
                "pk {pk} not routed to its replica"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn tracing_metrics_and_close() {
    bounded(async {
        let cluster = start(1).await;
        let session = common::connect_with(cluster.contact_point(), |b| {
b.tracing_info_fetch_attempts(std::num::NonZeroU32::new(2).unwrap())
})
.await;
        create_ks_t(&session, 1).await;
        let mut stmt = Statement::new("SELECT * FROM ks.t WHERE pk = 1");
        stmt.set_tracing(true);
        let res = session.query_unpaged(stmt, ()).await.unwrap();
        let traced = res.tracing_id().expect("traced");
        // The sim writes the trace of a traced request: it is read back.
        let info = session.get_tracing_info(&traced).await.unwrap();
        assert!(info.duration.is_some());
        assert!(!info.events.is_empty());
        // A session id nobody wrote a trace for: the lookup gives up with a typed error.
        let id = uuid::Uuid::new_v4();
        let err = session.get_tracing_info(&id).await.unwrap_err();
        assert!(
            matches!(err, cql_session::errors::TracingError::EmptyResults(got) if got == id),
            "{err}"
        );
        // A trace written to system_traces is read back.
        for cql in [
            format!(
                "INSERT INTO system_traces.sessions (session_id, command, duration, request) VALUES ({id}, 'QUERY', 42, 'select')"
            ),
            format!(
                "INSERT INTO system_traces.events (session_id, event_id, activity, source_elapsed) VALUES ({id}, now(), 'parsing', 7)"
            ),
        ] {
            // system_traces has RF 2: on one node only ONE can be met, as on a server.
            let mut st = Statement::new(cql);
            st.set_consistency(cql_session::Consistency::One);
            session.query_unpaged(st, ()).await.unwrap();
        }
        let info = session.get_tracing_info(&id).await.unwrap();
        assert_eq!(info.duration, Some(42));
        assert_eq!(info.command.as_deref(), Some("QUERY"));
        assert_eq!(info.events.len(), 1);
        assert_eq!(info.events[0].activity.as_deref(), Some("parsing"));

        let m = session.get_metrics();
        let (queries, errors) = (m.get_queries_num(), m.get_errors_num());
        assert!(session.query_unpaged("SELEKT", ()).await.is_err());
        assert_eq!(m.get_queries_num(), queries + 1);
        assert_eq!(m.get_errors_num(), errors + 1);
        assert!(m.get_latency_avg_ms().is_ok());

        session.close(Duration::from_secs(1)).await;
        let err = session
            .query_unpaged("SELECT * FROM ks.t", ())
            .await
            .unwrap_err();
        assert!(matches!(err, ExecutionError::SessionClosed), "{err}");
    })
    .await;
}

#[tokio::test]
async fn a_pager_outlives_its_session() {
    bounded(async {
        let (_cluster, session) = start_with_ks_t(1).await;
        fill(&session, 50).await;
        let pager = session
            .query_iter(
                Statement::new("SELECT ck FROM ks.t WHERE pk = 7").with_page_size(7),
                (),
            )
            .await
            .unwrap();
        drop(session);
        let rows: Vec<(i32,)> = pager
            .rows_stream::<(i32,)>()
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows, (0..50).map(|i| (i,)).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn the_pager_requests_the_next_page_before_the_current_one_is_consumed() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        fill(&session, 50).await;
        let node = cluster.node(0);
        // Prepared, so that every page is an EXECUTE, counted apart from background QUERYs.
        let mut select = session
            .prepare("SELECT ck FROM ks.t WHERE pk = 7")
            .await
            .unwrap();
        select.set_page_size(10);
        let before = node.request_count_of(Opcode::EXECUTE);
        let mut rows = session
            .execute_iter(select, ())
            .await
            .unwrap()
            .rows_stream::<(i32,)>()
            .unwrap();
        assert_eq!(
            node.request_count_of(Opcode::EXECUTE),
            before + 1,
            "first page"
        );
        // Taking one row of the first page sends the request for the second.
        assert_eq!(rows.try_next().await.unwrap(), Some((0,)));
        wait_until(
            Duration::from_secs(5),
            "second page requested while 9 rows of the first remain",
            || node.request_count_of(Opcode::EXECUTE) >= before + 2,
        )
        .await;
        let rest: Vec<(i32,)> = rows.try_collect().await.unwrap();
        assert_eq!(rest.len(), 49);
    })
    .await;
}

#[tokio::test]
async fn close_lets_requests_in_flight_finish() {
    bounded(async {
        let (cluster, session) = start_with_ks_t(1).await;
        let session = std::sync::Arc::new(session);
        // Prepared, so that the slow request is the one EXECUTE the node receives.
        let select = session
            .prepare("SELECT * FROM ks.t WHERE pk = 1")
            .await
            .unwrap();
        let node = cluster.node(0);
        let before = node.request_count_of(Opcode::EXECUTE);
        common::on_next(&cluster, 0, FaultAction::Delay(Duration::from_millis(300)));
        let slow = {
            let session = std::sync::Arc::clone(&session);
            tokio::spawn(async move { session.execute_unpaged(&select, ()).await })
        };
        // Close once the slow request reached the server.
        wait_until(
            Duration::from_secs(5),
            "the slow request reached the node",
            || node.request_count_of(Opcode::EXECUTE) > before,
        )
        .await;
        session.close(Duration::from_secs(5)).await;
        assert!(
            slow.await.unwrap().is_ok(),
            "the request in flight finished"
        );
        assert!(session.is_closed());
        let err = session
            .query_unpaged("SELECT * FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap_err();
        assert!(matches!(err, ExecutionError::SessionClosed), "{err}");
        assert!(session.prepare("SELECT * FROM ks.t").await.is_err());
    })
    .await;
}

/// Every session future can be spawned on a multi-threaded runtime.
#[test]
fn session_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn check(s: &Session, p: &cql_session::PreparedStatement, b: &Batch, c: &CachingSession) {
        assert_send(&s.query_unpaged("", ()));
        assert_send(&s.query_single_page("", (1i32,), PagingState::start()));
        assert_send(&s.query_iter("", ()));
        assert_send(&s.prepare(""));
        assert_send(&s.execute_unpaged(p, (1i32, "x")));
        assert_send(&s.execute_single_page(p, (), PagingState::start()));
        assert_send(&s.execute_iter(p.clone(), ()));
        assert_send(&s.batch(b, ((1i32,), ())));
        assert_send(&s.prepare_batch(b));
        assert_send(&s.use_keyspace("ks", false));
        assert_send(&s.await_schema_agreement());
        assert_send(&s.check_schema_agreement());
        assert_send(&s.refresh_metadata());
        assert_send(&s.get_tracing_info(&uuid::Uuid::nil()));
        assert_send(&s.close(Duration::ZERO));
        assert_send(&c.execute_unpaged("", ()));
        assert_send(&c.batch(b, ()));
    }
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Session>();
    assert_sync::<CachingSession>();
    fn assert_send_type<T: Send>() {}
    assert_send_type::<cql_session::QueryPager>();
    assert_send_type::<cql_session::TypedRowStream<(i32, String)>>();
    let _ = check;
}

#[tokio::test]
async fn a_stopped_node_is_routed_around() {
    bounded(async {
        let cluster = start(2).await;
        let session = connect(&cluster).await;
        // Both nodes hold every row, so node 0 alone can answer.
        create_ks_t(&session, 2).await;
        // Prepared, so that the reads are the EXECUTEs node 0 counts.
        let mut select = session
            .prepare("SELECT * FROM ks.t WHERE pk = 1")
            .await
            .unwrap();
        select.set_is_idempotent(true);
        // At ONE, the live replica alone answers (the default LOCAL_QUORUM needs both).
        select.set_consistency(cql_session::Consistency::One);
        let served = cluster.node(0).request_count_of(Opcode::EXECUTE);
        cluster.node(1).stop();
        // Idempotent reads succeed whichever node the plan starts with; node 0 serves all.
        for _ in 0..6 {
            session.execute_unpaged(&select, ()).await.unwrap();
        }
        assert_eq!(
            cluster.node(0).request_count_of(Opcode::EXECUTE),
            served + 6
        );
    })
    .await;
}
