//! The hot path's future sizes, pinned: a request's future is moved whole into every layer
//! above it when it starts, so a future that grows costs every request a larger copy. The tricks
//! that keep them small (an untimed `Connection::send`, boxed rare follow-ups, `run_prepared`
//! returning `run_serialized`'s own future) are only honest while these budgets hold.
//!
//! A budget is today's size with a little room; raise one only with a benchmark that shows the
//! new size costs nothing measurable.

use std::mem::size_of_val;
use std::time::Duration;

use cql_sim::SimCluster;

use crate::{Session, SessionBuilder};

/// `Session::execute_unpaged` (prepared statement, two values). Raised from 2,048 when the
/// attempt's deadline moved into the connection driver: the deadline passed down adds 32 bytes,
/// the per-attempt tokio timer it replaced cost about 780 instructions per request (callgrind,
/// `docs/benchmarks.md`).
const EXECUTE_UNPAGED_BUDGET: usize = 2_080;
/// `Session::query_unpaged` without values.
const QUERY_UNPAGED_BUDGET: usize = 2_304;
/// `Session::batch`.
const BATCH_BUDGET: usize = 2_112;

async fn session() -> (SimCluster, Session) {
    let cluster = SimCluster::builder()
        .nodes(1)
        .shards(1)
        .start()
        .await
        .expect("sim cluster");
    let session = SessionBuilder::new()
        .known_node(cluster.contact_point().to_string())
        .build()
        .await
        .expect("connect");
    (cluster, session)
}

#[tokio::test]
async fn hot_path_futures_stay_within_their_budgets() {
    let work = async {
        let (_cluster, session) = session().await;
        session
            .query_unpaged(
                "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
                (),
            )
            .await
            .expect("keyspace");
        session
            .query_unpaged("CREATE TABLE ks.t (k int PRIMARY KEY, v text)", ())
            .await
            .expect("table");
        let insert = session
            .prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
            .await
            .expect("prepare");

        let execute = session.execute_unpaged(&insert, (1i32, "a"));
        let execute_size = size_of_val(&execute);
        // The measured future still runs: it is a real request, not a stand-in.
        execute.await.expect("execute");

        let query = session.query_unpaged("SELECT k, v FROM ks.t WHERE k = 1", ());
        let query_size = size_of_val(&query);
        query.await.expect("query");

        let mut batch = crate::Batch::new(crate::BatchType::Unlogged);
        batch.append_statement(insert.clone());
        let values = ((2i32, "b"),);
        let run_batch = session.batch(&batch, values);
        let batch_size = size_of_val(&run_batch);
        run_batch.await.expect("batch");

        eprintln!(
            "future sizes: execute_unpaged {execute_size}, query_unpaged {query_size}, batch {batch_size}"
        );
        assert!(
            execute_size <= EXECUTE_UNPAGED_BUDGET,
            "execute_unpaged's future is {execute_size} bytes, over its {EXECUTE_UNPAGED_BUDGET}-byte budget"
        );
        assert!(
            query_size <= QUERY_UNPAGED_BUDGET,
            "query_unpaged's future is {query_size} bytes, over its {QUERY_UNPAGED_BUDGET}-byte budget"
        );
        assert!(
            batch_size <= BATCH_BUDGET,
            "batch's future is {batch_size} bytes, over its {BATCH_BUDGET}-byte budget"
        );
    };
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("test timed out");
}
