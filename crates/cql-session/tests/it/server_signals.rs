//! What a server tells the driver besides rows, end to end against `cql-sim`: client warnings
//! on `QueryResult` (Cassandra's batch size and aggregation warnings), and Scylla's
//! per-partition rate limit typed as `DbError::RateLimitReached` through the negotiated error
//! code, not retried.

use std::time::Duration;

use cql_session::errors::{DbError, OperationType};
use cql_session::{Batch, BatchType, Statement};
use cql_sim::SimCluster;

use crate::common;

async fn bounded<F: Future>(f: F) -> F::Output {
    common::bounded(Duration::from_secs(60), f).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_warnings_reach_the_query_result() {
    bounded(async {
        let cluster = SimCluster::builder().start().await.unwrap();
        let session = common::connect(cluster.contact_point()).await;
        common::create_ks_t(&session, 1).await;
        let r = session
            .query_unpaged("SELECT count(*) FROM ks.t", ())
            .await
            .unwrap();
        assert_eq!(
            r.warnings().collect::<Vec<_>>(),
            ["Aggregation query used without partition key"]
        );
        let r = session
            .query_unpaged("SELECT count(*) FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap();
        assert_eq!(r.warnings().count(), 0);

        // A logged batch over two partitions with 2 × 3,000 bytes of text: over 5 KiB.
        let insert = common::prepare_insert(&session).await;
        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(insert.clone());
        batch.append_statement(insert);
        let big = "x".repeat(3000);
        let r = session
            .batch(&batch, ((1, 1, big.as_str()), (2, 1, big.as_str())))
            .await
            .unwrap();
        let warnings: Vec<_> = r.warnings().collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "Batch for [ks.t] is of size 5.875KiB, exceeding specified threshold of 5.000KiB"
            ),
            "{warnings:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_writes_are_typed_and_not_retried() {
    bounded(async {
        let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
        let session = common::connect(cluster.contact_point()).await;
        session
            .query_unpaged(
                "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}",
                (),
            )
            .await
            .unwrap();
        session
            .query_unpaged(
                "CREATE TABLE ks.t (pk int PRIMARY KEY, v int) WITH per_partition_rate_limit = {'max_writes_per_second': 2}",
                (),
            )
            .await
            .unwrap();
        let mut insert = session
            .prepare("INSERT INTO ks.t (pk, v) VALUES (?, ?)")
            .await
            .unwrap();
        // Idempotent, so a retry policy would be free to retry it: the error must still not be.
        insert.set_is_idempotent(true);
        let before = common::executes(&cluster).iter().sum::<u64>();
        let mut error = None;
        for v in 0..10 {
            if let Err(e) = session.execute_unpaged(&insert, (7, v)).await {
                error = Some(e);
                break;
            }
        }
        let err = error.expect("a third write to one partition within a second is rejected");
        assert!(
            matches!(
                err.db_error(),
                Some(DbError::RateLimitReached {
                    op_type: OperationType::Write,
                    ..
                })
            ),
            "{err}"
        );
        assert_eq!(err.attempts().len(), 1, "rate-limit errors are not retried: {err}");
        let sent = common::executes(&cluster).iter().sum::<u64>() - before;
        assert!(sent <= 10, "{sent} EXECUTEs for at most 10 writes");
        // Another partition is not limited, and unprepared statements are typed the same way.
        session.execute_unpaged(&insert, (8, 1)).await.unwrap();
        let plain = Statement::new("INSERT INTO ks.t (pk, v) VALUES (9, 1)");
        let mut last = Ok(());
        for _ in 0..10 {
            last = session.query_unpaged(plain.clone(), ()).await.map(|_| ());
            if last.is_err() {
                break;
            }
        }
        let err = last.expect_err("unprepared writes are limited too");
        assert!(
            matches!(err.db_error(), Some(DbError::RateLimitReached { .. })),
            "{err}"
        );
    })
    .await;
}
