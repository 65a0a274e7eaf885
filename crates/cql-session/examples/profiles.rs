//! Execution profiles, retries and speculative execution: one profile for interactive reads
//! (LOCAL_ONE, a short timeout, a speculative attempt on a second replica after 20 ms) and one
//! for writes (QUORUM, a longer timeout, the default retry policy), chosen per statement; and a
//! statement with a retry policy of its own.
//!
//! ```sh
//! cargo run --example profiles
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use cql_session::policies::retry::FallthroughRetryPolicy;
use cql_session::policies::speculative_execution::SimpleSpeculativeExecutionPolicy;
use cql_session::statement::Consistency;
use cql_session::{ExecutionProfile, SessionBuilder};

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let writes = ExecutionProfile::builder()
        .consistency(Consistency::Quorum)
        .request_timeout(Some(Duration::from_secs(10)))
        .build()
        .into_handle();
    let reads = ExecutionProfile::builder()
        .consistency(Consistency::LocalOne)
        .request_timeout(Some(Duration::from_secs(2)))
        .speculative_execution_policy(Some(Arc::new(SimpleSpeculativeExecutionPolicy {
            max_retry_count: 1,
            retry_interval: Duration::from_millis(20),
        })))
        .build()
        .into_handle();
    // The session's default profile is the writes'.
    let session = SessionBuilder::new()
        .known_nodes(&nodes)
        .default_execution_profile_handle(writes)
        .build()
        .await?;
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS profiles_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 3}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS profiles_example.kv (k int PRIMARY KEY, v text)",
            (),
        )
        .await?;

    let insert = session
        .prepare("INSERT INTO profiles_example.kv (k, v) VALUES (?, ?)")
        .await?;
    for k in 0..20 {
        session
            .execute_unpaged(&insert, (k, format!("v{k}")))
            .await?;
    }
    println!("20 writes at {}", Consistency::Quorum);

    let mut read = session
        .prepare("SELECT v FROM profiles_example.kv WHERE k = ?")
        .await?;
    // Speculative attempts run for idempotent statements only.
    read.set_is_idempotent(true);
    read.set_execution_profile_handle(Some(reads));
    let mut found = 0;
    for k in 0..20 {
        let rows = session
            .execute_unpaged(&read, (k,))
            .await?
            .into_rows_result()?;
        found += rows.rows_num();
    }
    println!("20 reads at LOCAL_ONE with speculation: {found} rows");

    // A statement that must not be retried anywhere else, whatever its profile says.
    let mut once = session
        .prepare("UPDATE profiles_example.kv SET v = ? WHERE k = ?")
        .await?;
    once.set_retry_policy(Some(Arc::new(FallthroughRetryPolicy)));
    session.execute_unpaged(&once, ("changed", 1)).await?;
    println!(
        "retries so far: {}, speculative attempts: {}",
        session.get_metrics().get_retries_num(),
        session.get_metrics().get_speculative_executions_num()
    );
    Ok(())
}
