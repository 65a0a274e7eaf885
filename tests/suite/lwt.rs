//! Lightweight transactions: `IF NOT EXISTS`, `IF cond`, `IF EXISTS`, and the `[applied]`
//! column with the current values when a condition fails.

use cql_integration::{TestKeyspace, exec, prepare, query_rows, session};
use session::value::{CqlValue, Row};
use session::{SerialConsistency, Statement};

/// The `[applied]` flag of an LWT result and the other columns of its first row.
fn applied(result: session::QueryResult) -> (bool, Vec<Option<CqlValue>>) {
    let rows = result.into_rows_result().unwrap();
    assert_eq!(
        rows.column_specs().get_by_index(0).map(|c| c.name.as_str()),
        Some("[applied]")
    );
    let mut it = rows.rows::<Row>().unwrap();
    let mut columns = it.next().expect("an LWT result has a row").unwrap().columns;
    let flag = match columns.remove(0) {
        Some(CqlValue::Boolean(b)) => b,
        other => panic!("[applied] is {other:?}"),
    };
    (flag, columns)
}

#[tokio::test]
async fn insert_if_not_exists_applies_once() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lwtins", 3).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    let insert = prepare(
        &s,
        format!("INSERT INTO {t} (k, v) VALUES (?, ?) IF NOT EXISTS"),
    )
    .await;
    let (ok, _) = applied(s.execute_unpaged(&insert, (1, "first")).await.unwrap());
    assert!(ok);
    let (ok, current) = applied(s.execute_unpaged(&insert, (1, "second")).await.unwrap());
    assert!(!ok);
    assert_eq!(
        current,
        vec![Some(CqlValue::Int(1)), Some(CqlValue::Text("first".into()))]
    );
    let rows: Vec<(String,)> = query_rows(&s, format!("SELECT v FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows, vec![("first".to_owned(),)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn update_if_condition_reports_current_value() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lwtupd", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text, n int)")
        .await;
    exec(&s, &format!("INSERT INTO {t} (k, v, n) VALUES (1, 'a', 0)")).await;
    let mut cas = Statement::new(format!("UPDATE {t} SET v = ?, n = ? WHERE k = 1 IF v = ?"));
    cas.set_serial_consistency(Some(SerialConsistency::Serial));
    let (ok, _) = applied(s.query_unpaged(cas.clone(), ("b", 1, "a")).await.unwrap());
    assert!(ok);
    let (ok, current) = applied(s.query_unpaged(cas, ("c", 2, "a")).await.unwrap());
    assert!(!ok);
    assert_eq!(current, vec![Some(CqlValue::Text("b".into()))]);
    let rows: Vec<(String, i32)> =
        query_rows(&s, format!("SELECT v, n FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows, vec![("b".to_owned(), 1)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn delete_if_exists_and_local_serial() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lwtdel", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    exec(&s, &format!("INSERT INTO {t} (k, v) VALUES (5, 50)")).await;
    let mut del = Statement::new(format!("DELETE FROM {t} WHERE k = ? IF EXISTS"));
    del.set_serial_consistency(Some(SerialConsistency::LocalSerial));
    let (first, _) = applied(s.query_unpaged(del.clone(), (5,)).await.unwrap());
    assert!(first);
    let (again, _) = applied(s.query_unpaged(del, (5,)).await.unwrap());
    assert!(!again, "deleting a missing row IF EXISTS must not apply");
    let rows: Vec<(i32,)> = query_rows(&s, format!("SELECT k FROM {t}"), ()).await;
    assert!(rows.is_empty());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn batch_with_conditions_applies_atomically() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lwtbatch", 1).await;
    let t = ks
        .create_table(&s, "t", "(p int, c int, v int, PRIMARY KEY (p, c))")
        .await;
    let mut batch = session::Batch::new(session::BatchType::Logged);
    batch.append_statement(
        format!("INSERT INTO {t} (p, c, v) VALUES (1, 1, 1) IF NOT EXISTS").as_str(),
    );
    batch.append_statement(
        format!("INSERT INTO {t} (p, c, v) VALUES (1, 2, 2) IF NOT EXISTS").as_str(),
    );
    let result = s.batch(&batch, ((), ())).await.unwrap();
    let rows = result.into_rows_result().unwrap();
    let applied: Vec<bool> = rows
        .rows::<Row>()
        .unwrap()
        .map(|r| match r.unwrap().columns.first() {
            Some(Some(CqlValue::Boolean(b))) => *b,
            other => panic!("[applied] column: {other:?}"),
        })
        .collect();
    assert!(
        !applied.is_empty() && applied.iter().all(|a| *a),
        "{applied:?}"
    );
    // Running it again: the rows exist, nothing applies.
    let result = s.batch(&batch, ((), ())).await.unwrap();
    let rows = result.into_rows_result().unwrap();
    let first = rows.rows::<Row>().unwrap().next().unwrap().unwrap();
    assert_eq!(first.columns.first(), Some(&Some(CqlValue::Boolean(false))));
    let got: Vec<(i32, i32)> =
        query_rows(&s, format!("SELECT c, v FROM {t} WHERE p = 1"), ()).await;
    assert_eq!(got, vec![(1, 1), (2, 2)]);
    ks.drop_keyspace(&s).await;
}
