//! Keyspace and table life cycle, `USE` and `get_keyspace`.

use cql_integration::{TestKeyspace, exec, prepare, query_rows, session, unique_keyspace};
use session::errors::DbError;

#[tokio::test]
async fn create_insert_select_drop() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lifecycle", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    exec(&s, &format!("INSERT INTO {t} (k, v) VALUES (1, 'one')")).await;
    let rows: Vec<(i32, String)> = query_rows(&s, format!("SELECT k, v FROM {t}"), ()).await;
    assert_eq!(rows, vec![(1, "one".to_owned())]);
    let name = ks.name.clone();
    ks.drop_keyspace(&s).await;
    let err = s
        .query_unpaged(format!("SELECT k FROM {name}.t"), ())
        .await
        .unwrap_err();
    assert!(
        matches!(err.db_error(), Some(DbError::Invalid)),
        "selecting from a dropped keyspace: {err:?}"
    );
}

#[tokio::test]
async fn create_keyspace_reports_schema_change_and_lands_in_system_schema() {
    let s = session().await;
    let name = unique_keyspace("ksmeta");
    let cql = format!(
        "CREATE KEYSPACE {name} WITH replication = \
         {{'class': 'SimpleStrategy', 'replication_factor': 2}} AND durable_writes = false"
    );
    let result = exec(&s, &cql).await;
    assert!(
        result.schema_change().is_some(),
        "CREATE KEYSPACE returns SCHEMA_CHANGE"
    );
    // IF NOT EXISTS on an existing keyspace succeeds and changes nothing.
    exec(
        &s,
        &format!(
            "CREATE KEYSPACE IF NOT EXISTS {name} WITH replication = \
             {{'class': 'SimpleStrategy', 'replication_factor': 3}}"
        ),
    )
    .await;
    let rows: Vec<(bool, std::collections::HashMap<String, String>)> = query_rows(
        &s,
        "SELECT durable_writes, replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
        (name.as_str(),),
    )
    .await;
    assert_eq!(rows.len(), 1);
    let (durable, replication) = &rows[0];
    assert!(!durable);
    assert_eq!(
        replication.get("replication_factor").map(String::as_str),
        Some("2")
    );
    assert!(
        replication
            .get("class")
            .is_some_and(|c| c.ends_with("SimpleStrategy")),
        "{replication:?}"
    );
    exec(&s, &format!("DROP KEYSPACE {name}")).await;
    let rows: Vec<(String,)> = query_rows(
        &s,
        "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
        (name.as_str(),),
    )
    .await;
    assert!(rows.is_empty(), "dropped keyspace still listed: {rows:?}");
}

#[tokio::test]
async fn alter_table_add_column_keeps_old_rows() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "alter", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    exec(&s, &format!("INSERT INTO {t} (k, v) VALUES (1, 'old')")).await;
    exec(&s, &format!("ALTER TABLE {t} ADD n int")).await;
    exec(
        &s,
        &format!("INSERT INTO {t} (k, v, n) VALUES (2, 'new', 42)"),
    )
    .await;
    let mut rows: Vec<(i32, String, Option<i32>)> =
        query_rows(&s, format!("SELECT k, v, n FROM {t}"), ()).await;
    rows.sort();
    assert_eq!(
        rows,
        vec![(1, "old".to_owned(), None), (2, "new".to_owned(), Some(42))]
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn truncate_and_drop_table() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "truncate", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    for k in 0..10 {
        s.execute_unpaged(&insert, (k, k * 10)).await.unwrap();
    }
    let count: Vec<(i64,)> = query_rows(&s, format!("SELECT COUNT(*) FROM {t}"), ()).await;
    assert_eq!(count, vec![(10,)]);
    exec(&s, &format!("TRUNCATE {t}")).await;
    let rows: Vec<(i32,)> = query_rows(&s, format!("SELECT k FROM {t}"), ()).await;
    assert!(rows.is_empty(), "rows after TRUNCATE: {rows:?}");
    exec(&s, &format!("DROP TABLE {t}")).await;
    let err = s
        .query_unpaged(format!("SELECT k FROM {t}"), ())
        .await
        .unwrap_err();
    assert!(matches!(err.db_error(), Some(DbError::Invalid)), "{err:?}");
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn use_keyspace_sets_get_keyspace_and_unqualified_names() {
    let s = session().await;
    assert_eq!(s.get_keyspace(), None);
    let ks = TestKeyspace::create(&s, "use", 1).await;
    exec(
        &s,
        &format!("CREATE TABLE {} (k int PRIMARY KEY, v text)", ks.table("t")),
    )
    .await;
    s.use_keyspace(ks.name.to_uppercase(), false).await.unwrap();
    assert_eq!(
        s.get_keyspace().as_deref().map(String::as_str),
        Some(ks.name.as_str())
    );
    // Unqualified names now resolve in the keyspace, on every connection.
    for k in 0..20 {
        s.query_unpaged("INSERT INTO t (k, v) VALUES (?, ?)", (k, format!("v{k}")))
            .await
            .unwrap();
    }
    let rows: Vec<(i32, String)> = query_rows(&s, "SELECT k, v FROM t WHERE k = 7", ()).await;
    assert_eq!(rows, vec![(7, "v7".to_owned())]);
    // A keyspace that does not exist is refused and leaves the current one in place.
    assert!(s.use_keyspace("it_no_such_keyspace", false).await.is_err());
    assert!(s.use_keyspace("bad-name!", false).await.is_err());
    assert_eq!(
        s.get_keyspace().as_deref().map(String::as_str),
        Some(ks.name.as_str())
    );
    ks.drop_keyspace(&s).await;
}
