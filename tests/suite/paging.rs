//! Paging: `query_iter`/`execute_iter` streams and `query_single_page`/`execute_single_page`
//! continuation over 2,000 rows with pages of 100.

use std::collections::BTreeSet;

use cql_integration::{TestKeyspace, exec, prepare, rows_of, session};
use futures::TryStreamExt;
use session::{PagingState, Session, Statement};

const PARTITIONS: i32 = 20;
const PER_PARTITION: i32 = 100;
const ROWS: usize = (PARTITIONS * PER_PARTITION) as usize;
const PAGE: i32 = 100;
/// More pages than the data can have: a bound for continuation loops.
const MAX_PAGES: usize = ROWS / PAGE as usize + 5;

/// A keyspace with table `t (p int, c int, v text, PRIMARY KEY (p, c))` holding 2,000 rows.
async fn populated(s: &Session, area: &str) -> (TestKeyspace, String) {
    let ks = TestKeyspace::create(s, area, 1).await;
    let t = ks.table("t");
    exec(
        s,
        &format!("CREATE TABLE {t} (p int, c int, v text, PRIMARY KEY (p, c))"),
    )
    .await;
    let insert = prepare(s, format!("INSERT INTO {t} (p, c, v) VALUES (?, ?, ?)")).await;
    for p in 0..PARTITIONS {
        let writes =
            (0..PER_PARTITION).map(|c| s.execute_unpaged(&insert, (p, c, format!("{p}:{c}"))));
        for r in futures::future::join_all(writes).await {
            r.unwrap();
        }
    }
    (ks, t)
}

fn check_all_rows_once(rows: &[(i32, i32, String)]) {
    assert_eq!(rows.len(), ROWS, "row count");
    let distinct: BTreeSet<(i32, i32)> = rows.iter().map(|(p, c, _)| (*p, *c)).collect();
    assert_eq!(distinct.len(), ROWS, "a row came twice");
    for (p, c, v) in rows {
        assert_eq!(v, &format!("{p}:{c}"));
        assert!((0..PARTITIONS).contains(p) && (0..PER_PARTITION).contains(c));
    }
}

#[tokio::test]
async fn query_iter_yields_every_row_once() {
    let s = session().await;
    let (ks, t) = populated(&s, "pgiter").await;
    let st = Statement::new(format!("SELECT p, c, v FROM {t}")).with_page_size(PAGE);
    let rows: Vec<(i32, i32, String)> = s
        .query_iter(st, ())
        .await
        .unwrap()
        .rows_stream::<(i32, i32, String)>()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    check_all_rows_once(&rows);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn query_single_page_continues_to_the_end() {
    let s = session().await;
    let (ks, t) = populated(&s, "pgsingle").await;
    let st = Statement::new(format!("SELECT p, c, v FROM {t}")).with_page_size(PAGE);
    let mut state = PagingState::start();
    let mut rows = Vec::new();
    let mut pages = 0;
    loop {
        assert!(
            pages < MAX_PAGES,
            "paging did not finish after {pages} pages"
        );
        let (result, next) = s.query_single_page(st.clone(), (), state).await.unwrap();
        let page: Vec<(i32, i32, String)> = rows_of(result);
        assert!(page.len() <= PAGE as usize, "page of {} rows", page.len());
        pages += 1;
        rows.extend(page);
        match next.into_paging_control_flow() {
            std::ops::ControlFlow::Break(()) => break,
            std::ops::ControlFlow::Continue(s) => state = s,
        }
    }
    check_all_rows_once(&rows);
    assert!(
        pages >= ROWS / PAGE as usize,
        "{pages} pages for {ROWS} rows"
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn execute_iter_pages_one_partition_in_clustering_order() {
    let s = session().await;
    let (ks, t) = populated(&s, "pgexec").await;
    let mut p = prepare(&s, format!("SELECT c, v FROM {t} WHERE p = ?")).await;
    p.set_page_size(7);
    let rows: Vec<(i32, String)> = s
        .execute_iter(p, (13,))
        .await
        .unwrap()
        .rows_stream::<(i32, String)>()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<(i32, String)> = (0..PER_PARTITION).map(|c| (c, format!("13:{c}"))).collect();
    assert_eq!(rows, expected);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn execute_single_page_state_is_reusable() {
    let s = session().await;
    let (ks, t) = populated(&s, "pgreuse").await;
    let mut p = prepare(&s, format!("SELECT c FROM {t} WHERE p = ?")).await;
    p.set_page_size(30);
    let (first, next) = s
        .execute_single_page(&p, (4,), PagingState::start())
        .await
        .unwrap();
    let first: Vec<(i32,)> = rows_of(first);
    assert_eq!(first, (0..30).map(|c| (c,)).collect::<Vec<_>>());
    let std::ops::ControlFlow::Continue(state) = next.into_paging_control_flow() else {
        panic!("100 rows in pages of 30 cannot end after the first page");
    };
    // The same paging state gives the same next page twice: it is a value, not a cursor.
    let (a, _) = s
        .execute_single_page(&p, (4,), state.clone())
        .await
        .unwrap();
    let (b, _) = s.execute_single_page(&p, (4,), state).await.unwrap();
    let a: Vec<(i32,)> = rows_of(a);
    let b: Vec<(i32,)> = rows_of(b);
    assert_eq!(a, (30..60).map(|c| (c,)).collect::<Vec<_>>());
    assert_eq!(a, b);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn empty_result_pages_finish_at_once() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "pgempty", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY)").await;
    let st = Statement::new(format!("SELECT k FROM {t}")).with_page_size(10);
    let rows: Vec<(i32,)> = s
        .query_iter(st.clone(), ())
        .await
        .unwrap()
        .rows_stream::<(i32,)>()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(rows.is_empty());
    let (result, next) = s
        .query_single_page(st, (), PagingState::start())
        .await
        .unwrap();
    assert!(rows_of::<(i32,)>(result).is_empty());
    assert!(next.finished());
    ks.drop_keyspace(&s).await;
}
