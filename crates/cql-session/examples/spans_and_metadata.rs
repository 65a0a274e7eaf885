//! Observability and metadata: the driver's `tracing` spans per request and attempt printed by a
//! `tracing-subscriber` (`cql_session::request=debug`), the session's metrics, a
//! `CachingSession` that prepares each text once, and the schema the driver read: keyspaces,
//! tables, columns and their types.
//!
//! ```sh
//! cargo run --example spans_and_metadata
//! ```

use std::error::Error;

use cql_session::{CachingSession, SessionBuilder};
use tracing_subscriber::EnvFilter;

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // One line per span event: the request and attempt spans close with their fields.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("cql_session::request=debug"))
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let session = SessionBuilder::new().known_nodes(&nodes).build().await?;
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS meta_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS meta_example.readings (sensor text, at timestamp, \
             value double, PRIMARY KEY (sensor, at))",
            (),
        )
        .await?;

    let caching = CachingSession::from(session, 16);
    for i in 0..3 {
        caching
            .execute_unpaged(
                "INSERT INTO meta_example.readings (sensor, at, value) VALUES (?, toTimestamp(now()), ?)",
                ("north", f64::from(i)),
            )
            .await?;
    }
    println!(
        "3 inserts through the caching session, {} statement(s) prepared",
        caching.cached_statements()
    );

    let session = caching.get_session();
    let state = session.get_cluster_state();
    let ks = state
        .get_keyspace("meta_example")
        .ok_or("keyspace not in metadata")?;
    for table in ks.tables.values() {
        println!(
            "table {}.{}: partition key {:?}, clustering key {:?}",
            table.keyspace, table.name, table.partition_key, table.clustering_key
        );
        for c in table.columns_in_order() {
            println!("  {} {:?} ({:?})", c.name, c.typ, c.kind);
        }
    }
    let m = session.get_metrics();
    println!(
        "requests {}, errors {}, mean latency {} ms",
        m.get_queries_num(),
        m.get_errors_num(),
        m.get_latency_avg_ms().unwrap_or(0)
    );
    Ok(())
}
