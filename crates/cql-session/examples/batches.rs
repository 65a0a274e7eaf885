//! Batches: a logged batch of mixed prepared and unprepared statements, an unlogged batch, and a
//! counter batch, each read back.
//!
//! ```sh
//! cargo run --example batches
//! ```

use std::error::Error;

use cql_session::{Batch, BatchType, SessionBuilder};

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let session = SessionBuilder::new().known_nodes(&nodes).build().await?;
    for ddl in [
        "CREATE KEYSPACE IF NOT EXISTS batch_example WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 2}",
        "CREATE TABLE IF NOT EXISTS batch_example.accounts (id int PRIMARY KEY, owner text, \
         balance bigint)",
        "CREATE TABLE IF NOT EXISTS batch_example.visits (page text PRIMARY KEY, hits counter)",
    ] {
        session.query_unpaged(ddl, ()).await?;
    }
    session.use_keyspace("batch_example", false).await?;

    // Logged: all or nothing. Prepared and unprepared statements mix freely.
    let insert = session
        .prepare("INSERT INTO accounts (id, owner, balance) VALUES (?, ?, ?)")
        .await?;
    let mut logged = Batch::new(BatchType::Logged);
    logged.append_statement(insert.clone());
    logged.append_statement(insert.clone());
    logged.append_statement("UPDATE accounts SET balance = ? WHERE id = ?");
    session
        .batch(
            &logged,
            ((1, "ada", 100i64), (2, "grace", 250i64), (150i64, 1)),
        )
        .await?;

    // Unlogged: no batch log, for statements on one partition or when atomicity is not needed.
    let mut unlogged = Batch::new(BatchType::Unlogged);
    for _ in 0..3 {
        unlogged.append_statement(insert.clone());
    }
    let unlogged = session.prepare_batch(&unlogged).await?;
    session
        .batch(
            &unlogged,
            vec![
                (3, "alan", 10i64),
                (4, "edsger", 20i64),
                (5, "barbara", 30i64),
            ],
        )
        .await?;

    // Counter batches hold only counter updates.
    let mut counters = Batch::new(BatchType::Counter);
    counters.append_statement("UPDATE visits SET hits = hits + ? WHERE page = ?");
    counters.append_statement("UPDATE visits SET hits = hits + ? WHERE page = ?");
    session
        .batch(&counters, ((3i64, "/home"), (1i64, "/about")))
        .await?;

    let accounts = session
        .query_unpaged("SELECT id, owner, balance FROM accounts", ())
        .await?
        .into_rows_result()?;
    let mut rows: Vec<(i32, String, i64)> = accounts
        .rows::<(i32, String, i64)>()?
        .collect::<Result<_, _>>()?;
    rows.sort();
    for (id, owner, balance) in &rows {
        println!("account {id} {owner:<8} {balance}");
    }
    let hits = session
        .query_unpaged("SELECT hits FROM visits WHERE page = '/home'", ())
        .await?
        .into_rows_result()?
        .single_row::<(i64,)>()?
        .0;
    println!("/home hits: {hits}");
    session
        .query_unpaged("DROP KEYSPACE batch_example", ())
        .await?;
    Ok(())
}
