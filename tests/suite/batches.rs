//! Batches: logged, unlogged and counter, with prepared and unprepared statements, and
//! `prepare_batch`.

use cql_integration::{TestKeyspace, exec, prepare, query_rows, session};
use session::errors::ExecutionError;
use session::statement::batch::BatchStatement;
use session::{Batch, BatchType};

#[tokio::test]
async fn logged_batch_of_prepared_inserts() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "blogged", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    let mut batch = Batch::new(BatchType::Logged);
    let mut values = Vec::new();
    for k in 0..10 {
        batch.append_statement(insert.clone());
        values.push((k, format!("b{k}")));
    }
    s.batch(&batch, &values).await.unwrap();
    let mut rows: Vec<(i32, String)> = query_rows(&s, format!("SELECT k, v FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(rows, values);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn unlogged_batch_mixes_simple_and_prepared_statements() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "bunlogged", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    exec(
        &s,
        &format!("INSERT INTO {t} (k, v) VALUES (100, 'doomed')"),
    )
    .await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    let mut batch = Batch::new(BatchType::Unlogged);
    batch.append_statement(format!("INSERT INTO {t} (k, v) VALUES (1, 'literal')").as_str());
    batch.append_statement(format!("INSERT INTO {t} (k, v) VALUES (?, ?)").as_str());
    batch.append_statement(insert);
    batch.append_statement(format!("DELETE FROM {t} WHERE k = ?").as_str());
    s.batch(&batch, ((), (2, "simple bound"), (3, "prepared"), (100,)))
        .await
        .unwrap();
    let mut rows: Vec<(i32, String)> = query_rows(&s, format!("SELECT k, v FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (1, "literal".into()),
            (2, "simple bound".into()),
            (3, "prepared".into())
        ]
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn counter_batch_adds_up() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "bcounter", 1).await;
    let t = ks
        .create_table(&s, "c", "(k text PRIMARY KEY, n counter)")
        .await;
    let incr = prepare(&s, format!("UPDATE {t} SET n = n + ? WHERE k = ?")).await;
    let mut batch = Batch::new(BatchType::Counter);
    batch.append_statement(incr.clone());
    batch.append_statement(incr.clone());
    batch.append_statement(incr);
    batch.append_statement(format!("UPDATE {t} SET n = n - 1 WHERE k = 'b'").as_str());
    for _ in 0..2 {
        s.batch(&batch, ((5i64, "a"), (7i64, "a"), (3i64, "b"), ()))
            .await
            .unwrap();
    }
    let mut rows: Vec<(String, i64)> = query_rows(&s, format!("SELECT k, n FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(rows, vec![("a".into(), 24), ("b".into(), 4)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn prepare_batch_prepares_every_statement() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "bprepare", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let mut batch = Batch::new(BatchType::Logged);
    batch.append_statement(format!("INSERT INTO {t} (k, v) VALUES (?, ?)").as_str());
    batch.append_statement(format!("UPDATE {t} SET v = ? WHERE k = ?").as_str());
    let prepared = s.prepare_batch(&batch).await.unwrap();
    assert_eq!(prepared.statements().len(), 2);
    assert!(
        prepared
            .statements()
            .iter()
            .all(|st| matches!(st, BatchStatement::PreparedStatement(_))),
        "prepare_batch left an unprepared statement"
    );
    s.batch(&prepared, ((1, 10), (20, 2))).await.unwrap();
    let mut rows: Vec<(i32, i32)> = query_rows(&s, format!("SELECT k, v FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(rows, vec![(1, 10), (2, 20)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn batch_with_too_few_value_rows_is_refused() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "bbad", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    let mut batch = Batch::new(BatchType::Logged);
    batch.append_statement(insert.clone());
    batch.append_statement(insert);
    let err = s.batch(&batch, vec![(1, 1)]).await.unwrap_err();
    assert!(matches!(err, ExecutionError::BadQuery(_)), "{err:?}");
    let rows: Vec<(i32,)> = query_rows(&s, format!("SELECT k FROM {t}"), ()).await;
    assert!(rows.is_empty(), "a refused batch wrote {rows:?}");
    ks.drop_keyspace(&s).await;
}
