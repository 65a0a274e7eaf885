//! Paging as the `scylla` docs show it: `query_iter` / `execute_iter` with `rows_stream`, and
//! manual paging with `execute_single_page` / `query_single_page` and `PagingState`.

use std::error::Error;
use std::ops::ControlFlow;

use futures::StreamExt;
use futures::stream::TryStreamExt;
use scylla::DeserializeRow;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::statement::unprepared::Statement;

use crate::cluster;

const ROWS: i32 = 95;

async fn setup(session: &Session, ks: &str) -> Result<(), Box<dyn Error>> {
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH REPLICATION = \
                 {{'class' : 'SimpleStrategy', 'replication_factor' : 1}}"
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
    let insert = session
        .prepare(format!("INSERT INTO {ks}.t (a, b, c) VALUES (?, ?, 'abc')"))
        .await?;
    for i in 0..ROWS {
        session.execute_unpaged(&insert, (i % 3, i)).await?;
    }
    Ok(())
}

#[derive(DeserializeRow, Debug)]
struct Ab {
    a: i32,
    b: i32,
}

#[tokio::test]
async fn iterators_and_streams() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(2).await;
    let ks = cluster::unique_keyspace("paging_iter");
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .build()
        .await?;
    setup(&session, &ks).await?;

    // query_iter with a small page size: many pages, every row once.
    let mut statement = Statement::new(format!("SELECT a, b FROM {ks}.t"));
    statement.set_page_size(10);
    let mut rows_stream = session
        .query_iter(statement, &[])
        .await?
        .rows_stream::<(i32, i32)>()?;
    let mut bs = Vec::new();
    while let Some(next_row_res) = rows_stream.next().await {
        let (a, b): (i32, i32) = next_row_res?;
        assert_eq!(a, b % 3);
        bs.push(b);
    }
    bs.sort_unstable();
    assert_eq!(bs, (0..ROWS).collect::<Vec<_>>());

    // execute_iter with a prepared statement and a derived row type; collect with try_collect.
    let prepared = session
        .prepare(Statement::new(format!("SELECT a, b FROM {ks}.t WHERE a = ?")).with_page_size(7))
        .await?;
    let rows: Vec<Ab> = session
        .execute_iter(prepared.clone(), (1,))
        .await?
        .rows_stream::<Ab>()?
        .try_collect()
        .await?;
    assert_eq!(rows.len(), (0..ROWS).filter(|b| b % 3 == 1).count());
    assert!(rows.iter().all(|r| r.a == 1));
    // Rows of one partition come in clustering order.
    assert!(rows.windows(2).all(|w| w[0].b < w[1].b));

    // A type that does not match the columns fails before the first row.
    let wrong = session
        .execute_iter(prepared, (1,))
        .await?
        .rows_stream::<(String, i32)>();
    assert!(wrong.is_err());
    Ok(())
}

#[tokio::test]
async fn single_pages_with_paging_state() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("paging_single");
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    setup(&session, &ks).await?;

    // Manual paging of a prepared statement, the loop the scylla docs show.
    let paged_prepared = session
        .prepare(Statement::new(format!("SELECT a, b, c FROM {ks}.t")).with_page_size(7))
        .await?;
    let mut paging_state = PagingState::start();
    let (mut pages, mut rows) = (0, 0);
    loop {
        let (res, paging_state_response) = session
            .execute_single_page(&paged_prepared, &[], paging_state)
            .await?;
        let res = res.into_rows_result()?;
        assert!(res.rows_num() <= 7);
        rows += res.rows::<(i32, i32, String)>()?.count();
        pages += 1;
        match paging_state_response.into_paging_control_flow() {
            ControlFlow::Break(()) => break,
            ControlFlow::Continue(new_paging_state) => paging_state = new_paging_state,
        }
    }
    assert_eq!(rows, ROWS as usize);
    assert!(pages >= (ROWS as usize).div_ceil(7), "{pages} pages");

    // The same with an unprepared statement and a match on PagingStateResponse.
    let paged_query = Statement::new(format!("SELECT a, b, c FROM {ks}.t")).with_page_size(50);
    let mut paging_state = PagingState::start();
    let mut total = 0;
    loop {
        let (res, paging_state_response) = session
            .query_single_page(paged_query.clone(), &[], paging_state)
            .await?;
        total += res.into_rows_result()?.rows_num();
        match paging_state_response {
            PagingStateResponse::HasMorePages { state } => paging_state = state,
            PagingStateResponse::NoMorePages => break,
        }
    }
    assert_eq!(total, ROWS as usize);
    Ok(())
}
