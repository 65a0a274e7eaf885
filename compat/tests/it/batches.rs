//! Batches the way the `scylla` docs build them: `Batch::default()` / `Batch::new`,
//! `append_statement` with text and prepared statements, a tuple of per-statement values,
//! `prepare_batch`, and batch options.

use std::error::Error;

use scylla::client::session_builder::SessionBuilder;
use scylla::statement::Consistency;
use scylla::statement::batch::{Batch, BatchStatement, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::unprepared::Statement;

use crate::cluster;

#[tokio::test]
async fn batches() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(3).await;
    let ks = cluster::unique_keyspace("batches");
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .build()
        .await?;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH REPLICATION = \
                 {{'class' : 'NetworkTopologyStrategy', 'replication_factor' : 2}}"
            ),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.t (a int, b int, c text, primary key (a, b))"),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.counters (k int primary key, n counter)"),
            &[],
        )
        .await?;

    // A logged batch of a simple statement, a Statement and a prepared statement.
    let mut batch: Batch = Default::default();
    batch.append_statement(format!("INSERT INTO {ks}.t (a, b, c) VALUES (?, ?, 'text')").as_str());
    batch.append_statement(Statement::new(format!(
        "INSERT INTO {ks}.t (a, b, c) VALUES (7, 11, '')"
    )));
    let prepared: PreparedStatement = session
        .prepare(format!("INSERT INTO {ks}.t (a, b, c) VALUES (?, 7, ?)"))
        .await?;
    batch.append_statement(prepared);
    batch.set_consistency(Consistency::Quorum);
    assert_eq!(batch.statements.len(), 3);
    // One tuple of values per statement; `()` for a statement without bind markers.
    let batch_values = ((1_i32, 2_i32), (), (5_i32, "prepared"));
    session.batch(&batch, batch_values).await?;

    let rows = session
        .query_unpaged(format!("SELECT a, b, c FROM {ks}.t"), &[])
        .await?
        .into_rows_result()?;
    let mut got: Vec<(i32, i32, String)> = rows
        .rows::<(i32, i32, String)>()?
        .collect::<Result<_, _>>()?;
    got.sort();
    assert_eq!(
        got,
        vec![
            (1, 2, "text".to_owned()),
            (5, 7, "prepared".to_owned()),
            (7, 11, String::new()),
        ]
    );

    // An unlogged batch with a vector of equally typed values, prepared up front.
    let mut unlogged = Batch::new(BatchType::Unlogged);
    for _ in 0..4 {
        unlogged
            .append_statement(format!("UPDATE {ks}.t SET c = ? WHERE a = ? AND b = ?").as_str());
    }
    let unlogged = session.prepare_batch(&unlogged).await?;
    assert!(
        unlogged
            .statements
            .iter()
            .all(|s| matches!(s, BatchStatement::PreparedStatement(_)))
    );
    let values: Vec<(&str, i32, i32)> = (0..4).map(|i| ("updated", 100 + i, i)).collect();
    session.batch(&unlogged, values).await?;
    let (updated,): (i64,) = session
        .query_unpaged(
            format!("SELECT COUNT(*) FROM {ks}.t WHERE a IN (100, 101, 102, 103)"),
            &[],
        )
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(updated, 4);

    // A counter batch.
    let mut counters = Batch::new(BatchType::Counter);
    counters.append_statement(format!("UPDATE {ks}.counters SET n = n + ? WHERE k = ?").as_str());
    counters.append_statement(format!("UPDATE {ks}.counters SET n = n + ? WHERE k = ?").as_str());
    session
        .batch(
            &counters,
            (
                (scylla::value::Counter(3), 1),
                (scylla::value::Counter(4), 1),
            ),
        )
        .await?;
    let (n,): (scylla::value::Counter,) = session
        .query_unpaged(format!("SELECT n FROM {ks}.counters WHERE k = 1"), &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(n.0, 7);
    Ok(())
}
