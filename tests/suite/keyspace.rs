//! Keyspace and table life cycle.

use cql_integration::{TestKeyspace, exec, session};

#[tokio::test]
async fn create_insert_select_drop() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "lifecycle", 1).await;
    let t = ks.table("t");
    exec(&s, &format!("CREATE TABLE {t} (k int PRIMARY KEY, v text)")).await;
    exec(&s, &format!("INSERT INTO {t} (k, v) VALUES (1, 'one')")).await;
    let rows: Vec<(i32, String)> = exec(&s, &format!("SELECT k, v FROM {t}"))
        .await
        .into_rows_result()
        .unwrap()
        .rows::<(i32, String)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![(1, "one".to_owned())]);
    let name = ks.name.clone();
    ks.drop_keyspace(&s).await;
    let err = s
        .query_unpaged(format!("SELECT k FROM {name}.t"), ())
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("keyspace") || err.to_string().contains(&name),
        "{err}"
    );
}
