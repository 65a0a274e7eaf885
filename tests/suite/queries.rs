//! Unprepared statements: `query_unpaged` with and without values, restrictions, ordering,
//! updates and deletes, TTL and timestamps, consistency levels.

use std::collections::HashMap;

use cql_integration::{TestKeyspace, exec, prepare, query_rows, session};
use session::{Consistency, Statement};

#[tokio::test]
async fn query_unpaged_binds_positional_values() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qvalues", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text, n bigint)")
        .await;
    for k in 0..5 {
        s.query_unpaged(
            format!("INSERT INTO {t} (k, v, n) VALUES (?, ?, ?)"),
            (k, format!("value {k}"), i64::from(k) * 1_000_000_000_000),
        )
        .await
        .unwrap();
    }
    let rows: Vec<(String, i64)> =
        query_rows(&s, format!("SELECT v, n FROM {t} WHERE k = ?"), (3,)).await;
    assert_eq!(rows, vec![("value 3".to_owned(), 3_000_000_000_000)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn named_bind_markers_take_a_map() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qnamed", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let mut values = HashMap::new();
    values.insert("key", 9);
    values.insert("val", 81);
    s.query_unpaged(
        format!("INSERT INTO {t} (k, v) VALUES (:key, :val)"),
        &values,
    )
    .await
    .unwrap();
    let rows: Vec<(i32, i32)> = query_rows(&s, format!("SELECT k, v FROM {t}"), ()).await;
    assert_eq!(rows, vec![(9, 81)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn clustering_order_limit_and_in() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qorder", 1).await;
    let t = ks
        .create_table(
            &s,
            "t",
            "(p int, c int, v text, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c ASC)",
        )
        .await;
    let insert = prepare(&s, format!("INSERT INTO {t} (p, c, v) VALUES (?, ?, ?)")).await;
    for p in 0..4 {
        for c in 0..10 {
            s.execute_unpaged(&insert, (p, c, format!("{p}/{c}")))
                .await
                .unwrap();
        }
    }
    let desc: Vec<(i32,)> = query_rows(
        &s,
        format!("SELECT c FROM {t} WHERE p = 2 ORDER BY c DESC LIMIT 3"),
        (),
    )
    .await;
    assert_eq!(desc, vec![(9,), (8,), (7,)]);
    let range: Vec<(i32, String)> = query_rows(
        &s,
        format!("SELECT c, v FROM {t} WHERE p = 1 AND c >= 3 AND c < 6"),
        (),
    )
    .await;
    assert_eq!(
        range,
        vec![(3, "1/3".into()), (4, "1/4".into()), (5, "1/5".into())]
    );
    let mut multi: Vec<(i32, i32)> = query_rows(
        &s,
        format!("SELECT p, c FROM {t} WHERE p IN (0, 3) AND c = 4"),
        (),
    )
    .await;
    multi.sort();
    assert_eq!(multi, vec![(0, 4), (3, 4)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn update_and_delete_change_what_select_returns() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qupdate", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, a text, b int)")
        .await;
    exec(&s, &format!("INSERT INTO {t} (k, a, b) VALUES (1, 'x', 1)")).await;
    exec(&s, &format!("UPDATE {t} SET a = 'y', b = 2 WHERE k = 1")).await;
    // UPDATE of a missing row is an upsert.
    exec(&s, &format!("UPDATE {t} SET a = 'z' WHERE k = 2")).await;
    let mut rows: Vec<(i32, String, Option<i32>)> =
        query_rows(&s, format!("SELECT k, a, b FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(rows, vec![(1, "y".into(), Some(2)), (2, "z".into(), None)]);
    exec(&s, &format!("DELETE b FROM {t} WHERE k = 1")).await;
    exec(&s, &format!("DELETE FROM {t} WHERE k = 2")).await;
    let rows: Vec<(i32, String, Option<i32>)> =
        query_rows(&s, format!("SELECT k, a, b FROM {t}"), ()).await;
    assert_eq!(rows, vec![(1, "y".into(), None)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn ttl_and_writetime_are_readable() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qttl", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    exec(
        &s,
        &format!("INSERT INTO {t} (k, v) VALUES (1, 'a') USING TTL 1000 AND TIMESTAMP 1234567"),
    )
    .await;
    let rows: Vec<(Option<i32>, Option<i64>)> = query_rows(
        &s,
        format!("SELECT TTL(v), WRITETIME(v) FROM {t} WHERE k = 1"),
        (),
    )
    .await;
    assert_eq!(rows.len(), 1);
    let (ttl, writetime) = rows[0];
    assert_eq!(writetime, Some(1_234_567));
    let ttl = ttl.expect("a TTL was set");
    assert!((900..=1000).contains(&ttl), "ttl {ttl}");
    // A statement-level timestamp works the same way.
    let mut st = Statement::new(format!("UPDATE {t} SET v = 'b' WHERE k = 1"));
    st.set_timestamp(Some(2_000_000));
    s.query_unpaged(st, ()).await.unwrap();
    let rows: Vec<(String, i64)> = query_rows(
        &s,
        format!("SELECT v, WRITETIME(v) FROM {t} WHERE k = 1"),
        (),
    )
    .await;
    assert_eq!(rows, vec![("b".to_owned(), 2_000_000)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn consistency_all_reads_back_on_rf3() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qcl", 3).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let mut write = Statement::new(format!("INSERT INTO {t} (k, v) VALUES (?, ?)"));
    write.set_consistency(Consistency::All);
    for k in 0..10 {
        s.query_unpaged(write.clone(), (k, -k)).await.unwrap();
    }
    let mut read = Statement::new(format!("SELECT k, v FROM {t} WHERE k = ?"));
    read.set_consistency(Consistency::Quorum);
    for k in 0..10 {
        let rows: Vec<(i32, i32)> = query_rows(&s, read.clone(), (k,)).await;
        assert_eq!(rows, vec![(k, -k)]);
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn static_columns_are_shared_by_a_partition() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "qstatic", 1).await;
    let t = ks
        .create_table(
            &s,
            "t",
            "(p int, c int, s text STATIC, v int, PRIMARY KEY (p, c))",
        )
        .await;
    exec(
        &s,
        &format!("INSERT INTO {t} (p, c, s, v) VALUES (1, 1, 'first', 10)"),
    )
    .await;
    exec(
        &s,
        &format!("INSERT INTO {t} (p, c, s, v) VALUES (1, 2, 'second', 20)"),
    )
    .await;
    let rows: Vec<(i32, String, i32)> =
        query_rows(&s, format!("SELECT c, s, v FROM {t} WHERE p = 1"), ()).await;
    assert_eq!(
        rows,
        vec![(1, "second".into(), 10), (2, "second".into(), 20)]
    );
    ks.drop_keyspace(&s).await;
}
