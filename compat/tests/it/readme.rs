//! The program of the `scylla` README and docs.rs front page: connect, create a schema, insert
//! with a prepared statement, read typed rows back.

use std::error::Error;

use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::query_result::QueryRowsResult;
use scylla::statement::Consistency;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::unprepared::Statement;
use scylla::value::{CqlValue, Row};

use crate::cluster;

#[tokio::test]
async fn readme_program() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("readme");

    let session: Session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;

    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE IF NOT EXISTS {ks} WITH REPLICATION = \
                 {{'class' : 'SimpleStrategy', 'replication_factor' : 1}}"
            ),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("CREATE TABLE IF NOT EXISTS {ks}.t (a int, b int, c text, primary key (a, b))"),
            &[],
        )
        .await?;

    // Unprepared, with values.
    session
        .query_unpaged(
            format!("INSERT INTO {ks}.t (a, b, c) VALUES (?, ?, ?)"),
            (3, 4, "def"),
        )
        .await?;
    session
        .query_unpaged(
            format!("INSERT INTO {ks}.t (a, b, c) VALUES (1, 2, 'abc')"),
            &[],
        )
        .await?;

    // Prepared, with a consistency set on the statement.
    let mut prepared: PreparedStatement = session
        .prepare(format!("INSERT INTO {ks}.t (a, b, c) VALUES (?, 7, ?)"))
        .await?;
    prepared.set_consistency(Consistency::One);
    session
        .execute_unpaged(&prepared, (42_i32, "I'm prepared!"))
        .await?;
    session
        .execute_unpaged(&prepared, (43_i32, "I'm prepared 2!"))
        .await?;
    session
        .execute_unpaged(&prepared, (44_i32, "I'm prepared 3!"))
        .await?;

    // A Statement built by hand.
    let mut select = Statement::new(format!("SELECT a, b, c FROM {ks}.t"));
    select.set_consistency(Consistency::One);
    let rows_result: QueryRowsResult = session
        .query_unpaged(select, &[])
        .await?
        .into_rows_result()?;
    assert_eq!(rows_result.rows_num(), 5);
    let mut seen = Vec::new();
    for row in rows_result.rows::<(i32, i32, String)>()? {
        let (a, b, c) = row?;
        seen.push((a, b, c));
    }
    seen.sort();
    assert_eq!(seen[0], (1, 2, "abc".to_owned()));
    assert_eq!(seen[1], (3, 4, "def".to_owned()));
    assert_eq!(seen[2], (42, 7, "I'm prepared!".to_owned()));

    // Borrowed rows: `&str` points into the response frame.
    let result = session
        .query_unpaged(format!("SELECT a, c FROM {ks}.t WHERE a = ?"), (1,))
        .await?
        .into_rows_result()?;
    let (a, c): (i32, &str) = result.single_row()?;
    assert_eq!((a, c), (1, "abc"));
    let specs = result.column_specs();
    assert_eq!(specs.get_by_index(1).map(|s| s.name()), Some("c"));
    assert_eq!(specs.iter().count(), 2);

    // first_row, maybe_first_row.
    let (count,): (i64,) = session
        .query_unpaged(format!("SELECT COUNT(*) FROM {ks}.t"), &[])
        .await?
        .into_rows_result()?
        .first_row()?;
    assert_eq!(count, 5);
    let none = session
        .query_unpaged(format!("SELECT a FROM {ks}.t WHERE a = 1000"), &[])
        .await?
        .into_rows_result()?
        .maybe_first_row::<(i32,)>()?;
    assert_eq!(none, None);

    // A non-rows result says so.
    let insert = session
        .query_unpaged(
            format!("INSERT INTO {ks}.t (a, b, c) VALUES (5, 5, 'x')"),
            &[],
        )
        .await?;
    assert!(!insert.is_rows());
    assert!(insert.into_rows_result().is_err());

    // Every row as a stream of typed rows.
    let mut stream = session
        .query_iter(format!("SELECT a, b, c FROM {ks}.t"), &[])
        .await?
        .rows_stream::<(i32, i32, String)>()?;
    let mut streamed = 0;
    while let Some((a, b, c)) = stream.try_next().await? {
        assert!(a > 0 && b > 0 && !c.is_empty());
        streamed += 1;
    }
    assert_eq!(streamed, 6);

    // Untyped rows: `Row` of `CqlValue`s, for columns known only at run time.
    let result = session
        .query_unpaged(format!("SELECT a, b, c FROM {ks}.t WHERE a = 3"), &[])
        .await?
        .into_rows_result()?;
    let row: Row = result.single_row()?;
    assert_eq!(row.columns.len(), 3);
    assert_eq!(row.columns[0].as_ref().and_then(CqlValue::as_int), Some(3));
    match &row.columns[2] {
        Some(CqlValue::Text(text)) => assert_eq!(text, "def"),
        other => panic!("expected text, got {other:?}"),
    }
    Ok(())
}
