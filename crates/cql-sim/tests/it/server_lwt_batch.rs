//! Conditional BATCHes over raw frames: the `[applied]` column and the rows each personality
//! answers with (Cassandra: the rows the conditions read, when not applied; Scylla: the old
//! row of every conditional statement, applied or not).

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::{rows, values};
use proto::CqlValue;
use proto::response::Response;

fn names(r: &Response) -> Vec<String> {
    rows(r)
        .metadata
        .col_specs
        .iter()
        .map(|c| c.name.to_string())
        .collect()
}

fn row(applied: bool, cells: [Option<i32>; 4]) -> Vec<Option<CqlValue>> {
    std::iter::once(Some(CqlValue::Boolean(applied)))
        .chain(cells.into_iter().map(|c| c.map(CqlValue::Int)))
        .collect()
}

async fn client(cluster: &SimCluster) -> RawClient {
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE ks.t (k int, c int, v int, w int, PRIMARY KEY (k, c))")
        .await;
    c.ok("INSERT INTO ks.t (k, c, v, w) VALUES (0, 1, 10, 100)")
        .await;
    c.ok("INSERT INTO ks.t (k, c, v, w) VALUES (0, 2, 20, 200)")
        .await;
    c
}

/// Both conditions fail; the statements name c = 2 first.
const FAILING: &str = "BEGIN BATCH \
    UPDATE ks.t SET v = 11 WHERE k = 0 AND c = 2 IF v = 99; \
    UPDATE ks.t SET w = 1 WHERE k = 0 AND c = 1 IF w = 100; \
    APPLY BATCH";

#[tokio::test]
async fn cassandra_conditional_batches_answer_the_rows_they_read() {
    let cluster = SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut c = client(&cluster).await;
    // Column conditions: the primary key, then the conditions' columns; rows in clustering
    // order.
    let r = c.ok(FAILING).await;
    assert_eq!(names(&r), ["[applied]", "k", "c", "v", "w"]);
    assert_eq!(
        values(&r),
        [
            row(false, [Some(0), Some(1), Some(10), Some(100)]),
            row(false, [Some(0), Some(2), Some(20), Some(200)])
        ]
    );
    // IF NOT EXISTS shows every column; a row that does not exist shows no row.
    let r = c
        .ok("BEGIN BATCH \
             INSERT INTO ks.t (k, c, v) VALUES (0, 3, 30) IF NOT EXISTS; \
             UPDATE ks.t SET v = 12 WHERE k = 0 AND c = 1 IF v = 5; \
             APPLY BATCH")
        .await;
    assert_eq!(names(&r), ["[applied]", "k", "c", "v", "w"]);
    assert_eq!(
        values(&r),
        [row(false, [Some(0), Some(1), Some(10), Some(100)])]
    );
    // No row read exists: `[applied]` alone.
    let r = c
        .ok("BEGIN BATCH UPDATE ks.t SET v = 1 WHERE k = 0 AND c = 9 IF v = 1; APPLY BATCH")
        .await;
    assert_eq!(names(&r), ["[applied]"]);
    assert_eq!(values(&r), [vec![Some(CqlValue::Boolean(false))]]);
    // Applied: `[applied]` alone, and the writes landed.
    let r = c
        .ok("BEGIN BATCH \
             UPDATE ks.t SET v = 11 WHERE k = 0 AND c = 2 IF v = 20; \
             UPDATE ks.t SET w = 1 WHERE k = 0 AND c = 1 IF w = 100; \
             APPLY BATCH")
        .await;
    assert_eq!(names(&r), ["[applied]"]);
    assert_eq!(values(&r), [vec![Some(CqlValue::Boolean(true))]]);
    let r = c.ok("SELECT v, w FROM ks.t WHERE k = 0").await;
    assert_eq!(
        values(&r),
        [
            vec![Some(CqlValue::Int(10)), Some(CqlValue::Int(1))],
            vec![Some(CqlValue::Int(11)), Some(CqlValue::Int(200))]
        ]
    );
    // A lone conditional statement keeps its own form: the condition's column only.
    let r = c
        .ok("UPDATE ks.t SET v = 1 WHERE k = 0 AND c = 1 IF v = 5")
        .await;
    assert_eq!(names(&r), ["[applied]", "v"]);
}

#[tokio::test]
async fn scylla_conditional_batches_answer_a_row_per_statement() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = client(&cluster).await;
    let r = c.ok(FAILING).await;
    assert_eq!(names(&r), ["[applied]", "k", "c", "v", "w"]);
    assert_eq!(
        values(&r),
        [
            row(false, [Some(0), Some(2), Some(20), Some(200)]),
            row(false, [Some(0), Some(1), Some(10), Some(100)])
        ]
    );
    // Applied, with a statement on a row that did not exist: the old rows all the same.
    let r = c
        .ok("BEGIN BATCH \
             INSERT INTO ks.t (k, c, v) VALUES (0, 3, 30) IF NOT EXISTS; \
             UPDATE ks.t SET v = 11 WHERE k = 0 AND c = 2 IF v = 20; \
             APPLY BATCH")
        .await;
    assert_eq!(names(&r), ["[applied]", "k", "c", "v", "w"]);
    assert_eq!(
        values(&r),
        [
            row(true, [None, None, None, None]),
            row(true, [Some(0), Some(2), Some(20), Some(200)])
        ]
    );
    let r = c.ok("SELECT v FROM ks.t WHERE k = 0 AND c = 3").await;
    assert_eq!(values(&r), [vec![Some(CqlValue::Int(30))]]);
}
