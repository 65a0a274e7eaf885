//! Quickstart: create a keyspace and a table, insert with a prepared statement, page through the
//! rows, run a batch, and read the results back.
//!
//! By default it starts an embedded 3-node `cql-sim` cluster on loopback. Set
//! `CQL_NODES=host:port,...` to run it against a real Scylla or Cassandra cluster instead
//! (`CQL_USER` / `CQL_PASSWORD` for PasswordAuthenticator).
//!
//! ```sh
//! cargo run --example quickstart
//! CQL_NODES=127.0.0.1:9042 cargo run --example quickstart
//! ```

use std::error::Error;

use cql_session::{Batch, SessionBuilder, Statement};
use futures::TryStreamExt;

const ROWS: i32 = 250;
const PAGE_SIZE: i32 = 100;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Keep the embedded cluster alive for the whole run; `None` when CQL_NODES names real nodes.
    let (nodes, _embedded) = match std::env::var("CQL_NODES") {
        Ok(list) if !list.trim().is_empty() => {
            let nodes: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            println!("connecting to {}", nodes.join(", "));
            (nodes, None)
        }
        _ => {
            let cluster = cql_sim::SimCluster::builder()
                .nodes(3)
                .shards(2)
                .isolated()
                .start()
                .await?;
            let nodes: Vec<String> = cluster.node_addrs().iter().map(|a| a.to_string()).collect();
            println!("started an embedded cql-sim cluster: {}", nodes.join(", "));
            (nodes, Some(cluster))
        }
    };

    let mut builder = SessionBuilder::new().known_nodes(&nodes);
    if let (Ok(user), Ok(password)) = (std::env::var("CQL_USER"), std::env::var("CQL_PASSWORD")) {
        builder = builder.user(user, password);
    }
    let session = builder.build().await?;
    let state = session.get_cluster_state();
    println!("connected: the driver sees {} nodes", state.nodes().len());

    // Schema. DDL waits for schema agreement automatically.
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS quickstart WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 3}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS quickstart.readings (\
                sensor text, seq int, value double, note text, \
                PRIMARY KEY (sensor, seq))",
            (),
        )
        .await?;
    session.use_keyspace("quickstart", false).await?;
    println!("keyspace in use: {:?}", session.get_keyspace().as_deref());

    // Insert with a prepared statement (routed to a replica by the partition key's token).
    let insert = session
        .prepare("INSERT INTO readings (sensor, seq, value, note) VALUES (?, ?, ?, ?)")
        .await?;
    for seq in 0..ROWS {
        let sensor = if seq % 2 == 0 { "north" } else { "south" };
        session
            .execute_unpaged(&insert, (sensor, seq, f64::from(seq) * 0.5, "initial"))
            .await?;
    }
    println!("inserted {ROWS} rows with a prepared statement");

    // Page through one partition, PAGE_SIZE rows at a time.
    let mut select = Statement::new("SELECT seq, value FROM readings WHERE sensor = ?");
    select.set_page_size(PAGE_SIZE);
    let mut rows = session
        .query_iter(select, ("north",))
        .await?
        .rows_stream::<(i32, f64)>()?;
    let (mut count, mut sum) = (0usize, 0.0f64);
    while let Some((_seq, value)) = rows.try_next().await? {
        count += 1;
        sum += value;
    }
    println!("paged through {count} rows of sensor 'north' (page size {PAGE_SIZE}), sum = {sum}");

    // A logged batch: two updates and a new row, applied atomically.
    let mut batch = Batch::default();
    batch.append_statement("UPDATE readings SET note = ? WHERE sensor = ? AND seq = ?");
    batch.append_statement("UPDATE readings SET note = ? WHERE sensor = ? AND seq = ?");
    batch.append_statement(insert.clone());
    session
        .batch(
            &batch,
            (
                ("checked", "north", 0),
                ("checked", "south", 1),
                ("east", ROWS, 1.5f64, "from batch"),
            ),
        )
        .await?;
    println!("ran a batch of 3 statements");

    // Read back what the batch wrote.
    let result = session
        .query_unpaged(
            "SELECT sensor, seq, note FROM readings WHERE sensor IN ('north', 'south', 'east') \
             AND seq IN (0, 1, ?)",
            (ROWS,),
        )
        .await?
        .into_rows_result()?;
    for row in result.rows::<(&str, i32, &str)>()? {
        let (sensor, seq, note) = row?;
        println!("  {sensor:>5} {seq:>4} {note}");
    }

    let total = session
        .query_unpaged("SELECT COUNT(*) FROM readings", ())
        .await?
        .into_rows_result()?
        .first_row::<(i64,)>()?
        .0;
    println!("rows in quickstart.readings: {total}");

    session
        .query_unpaged("DROP KEYSPACE IF EXISTS quickstart", ())
        .await?;
    println!("done");
    Ok(())
}
