//! Error handling as `scylla` 1.x programs match it: `ExecutionError`, `RequestAttemptError`
//! and `DbError` variants, and the errors of preparing, paging and reading rows.

use std::error::Error;

use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{
    DbError, ExecutionError, IntoRowsResultError, PagerExecutionError, PrepareError,
    RequestAttemptError, UseKeyspaceError,
};

use crate::cluster;

#[tokio::test]
async fn error_matching() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("errors");
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    let create = format!(
        "CREATE KEYSPACE {ks} WITH REPLICATION = \
         {{'class' : 'SimpleStrategy', 'replication_factor' : 1}}"
    );
    session.query_unpaged(create.as_str(), &[]).await?;

    // The keyspace exists already.
    match session.query_unpaged(create.as_str(), &[]).await {
        Err(ExecutionError::LastAttemptError {
            error: RequestAttemptError::DbError(DbError::AlreadyExists { keyspace, table }, _),
            ..
        }) => {
            assert_eq!(keyspace, ks);
            assert_eq!(table, "");
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    // A syntax error, seen through the error's accessors as well.
    let err = session
        .query_unpaged("SELEC * FROM system.local", &[])
        .await
        .expect_err("not CQL");
    assert!(
        matches!(err.db_error(), Some(DbError::SyntaxError)),
        "{err:?}"
    );
    if let ExecutionError::LastAttemptError {
        error: RequestAttemptError::DbError(db, message),
        ..
    } = &err
    {
        assert_eq!(*db, DbError::SyntaxError);
        assert!(!message.is_empty());
    } else {
        panic!("expected a server error, got {err:?}");
    }
    assert!(!err.to_string().is_empty());

    // Preparing an invalid statement.
    match session
        .prepare(format!("SELECT nope FROM {ks}.missing"))
        .await
    {
        Err(PrepareError::AllAttemptsFailed {
            first_attempt: RequestAttemptError::DbError(DbError::Invalid, _),
        }) => {}
        other => panic!("expected Invalid on prepare, got {other:?}"),
    }

    // Paging a query that fails.
    match session
        .query_iter(format!("SELECT * FROM {ks}.missing"), &[])
        .await
    {
        Err(PagerExecutionError::NextPageError(_)) | Err(PagerExecutionError::PrepareError(_)) => {}
        Err(other) => panic!("unexpected pager error {other:?}"),
        Ok(_) => panic!("a missing table pages nothing"),
    }

    // Rows asked of a result that has none.
    let insert_result = session
        .query_unpaged(format!("CREATE TABLE {ks}.t (k int PRIMARY KEY)"), &[])
        .await?;
    assert!(matches!(
        insert_result.into_rows_result(),
        Err(IntoRowsResultError::ResultNotRows(_))
    ));

    // A keyspace that does not exist.
    match session.use_keyspace("no_such_keyspace_here", false).await {
        Err(UseKeyspaceError::RequestError(RequestAttemptError::DbError(DbError::Invalid, _))) => {}
        Err(other) => panic!("unexpected USE error {other:?}"),
        Ok(()) => panic!("the keyspace does not exist"),
    }

    // Values that do not fit the prepared statement are refused before sending.
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.kv (k int PRIMARY KEY, v text)"),
            &[],
        )
        .await?;
    let prepared = session
        .prepare(format!("INSERT INTO {ks}.kv (k, v) VALUES (?, ?)"))
        .await?;
    match session.execute_unpaged(&prepared, ("not an int", 1)).await {
        Err(ExecutionError::BadQuery(_)) => {}
        other => panic!("expected a serialization error, got {other:?}"),
    }
    Ok(())
}
