//! Paging: a stream over all rows (`query_iter` / `execute_iter`, the next page fetched while
//! the current one is consumed), and manual paging with `execute_single_page` and `PagingState`
//! (as a web service does between requests).
//!
//! ```sh
//! cargo run --example paging
//! ```

use std::error::Error;
use std::ops::ControlFlow;

use cql_session::{PagingState, SessionBuilder, Statement};
use futures::TryStreamExt;

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let session = SessionBuilder::new().known_nodes(&nodes).build().await?;
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS paging_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS paging_example.events (day text, seq int, body text, \
             PRIMARY KEY (day, seq))",
            (),
        )
        .await?;
    let insert = session
        .prepare("INSERT INTO paging_example.events (day, seq, body) VALUES (?, ?, ?)")
        .await?;
    for seq in 0..1_000 {
        session
            .execute_unpaged(&insert, ("2026-11-25", seq, format!("event {seq}")))
            .await?;
    }

    // 1. A stream over every row; pages of 128 are fetched as needed.
    let mut select = session
        .prepare("SELECT seq, body FROM paging_example.events WHERE day = ?")
        .await?;
    select.set_page_size(128);
    let mut stream = session
        .execute_iter(select.clone(), ("2026-11-25",))
        .await?
        .rows_stream::<(i32, String)>()?;
    let mut seen = 0;
    while let Some((seq, _body)) = stream.try_next().await? {
        assert_eq!(seq, seen, "rows come in clustering order");
        seen += 1;
    }
    println!("streamed {seen} rows");

    // 2. Manual paging: keep the paging state between calls.
    let mut state = PagingState::start();
    let mut pages = 0;
    loop {
        let (result, response) = session
            .execute_single_page(&select, ("2026-11-25",), state)
            .await?;
        let rows = result.into_rows_result()?;
        pages += 1;
        println!("page {pages}: {} rows", rows.rows_num());
        match response.into_paging_control_flow() {
            ControlFlow::Continue(next) => state = next,
            ControlFlow::Break(()) => break,
        }
    }

    // 3. An unprepared statement with a page size.
    let statement =
        Statement::new("SELECT seq FROM paging_example.events WHERE day = '2026-11-25'")
            .with_page_size(300);
    let count = session
        .query_iter(statement, ())
        .await?
        .rows_stream::<(i32,)>()?
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;
    println!("query_iter saw {count} rows in {pages} pages of up to 128 and pages of 300");
    session
        .query_unpaged("DROP KEYSPACE paging_example", ())
        .await?;
    Ok(())
}
