//! `CachingSession`, `USE` keyspace, schema agreement and server-side tracing, written as
//! `scylla` 1.x programs use them.

use std::error::Error;

use scylla::client::caching_session::{CachingSession, CachingSessionBuilder};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::observability::tracing::TracingInfo;
use scylla::statement::batch::Batch;
use scylla::statement::unprepared::Statement;

use crate::cluster;

async fn keyspace(session: &Session, ks: &str) -> Result<(), Box<dyn Error>> {
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
            format!("CREATE TABLE {ks}.kv (k int PRIMARY KEY, v text)"),
            &[],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn caching_session() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("caching");
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    keyspace(&session, &ks).await?;

    let caching: CachingSession = CachingSession::from(session, 2);
    assert_eq!(caching.get_max_capacity(), 2);
    let insert = format!("INSERT INTO {ks}.kv (k, v) VALUES (?, ?)");
    for k in 0..10 {
        caching
            .execute_unpaged(insert.as_str(), (k, format!("v{k}")))
            .await?;
    }
    let (v,): (String,) = caching
        .execute_unpaged(format!("SELECT v FROM {ks}.kv WHERE k = ?"), (7,))
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(v, "v7");

    let mut batch = Batch::default();
    batch.append_statement(insert.as_str());
    batch.append_statement(insert.as_str());
    caching.batch(&batch, ((100, "a"), (101, "b"))).await?;
    let (count,): (i64,) = caching
        .get_session()
        .query_unpaged(format!("SELECT COUNT(*) FROM {ks}.kv"), &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(count, 12);

    // The builder form.
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    let caching: CachingSession = CachingSessionBuilder::new(session).max_capacity(8).build();
    assert_eq!(caching.get_max_capacity(), 8);
    let prepared = caching
        .add_prepared_statement(&Statement::new(format!(
            "SELECT v FROM {ks}.kv WHERE k = ?"
        )))
        .await?;
    let rows = caching
        .get_session()
        .execute_unpaged(&prepared, (100,))
        .await?
        .into_rows_result()?;
    assert_eq!(rows.single_row::<(String,)>()?.0, "a");
    Ok(())
}

#[tokio::test]
async fn use_keyspace_schema_agreement_and_tracing() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(3).await;
    let ks = cluster::unique_keyspace("use_ks");
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .build()
        .await?;
    keyspace(&session, &ks).await?;

    // Schema agreement after DDL.
    let schema_version = session.await_schema_agreement().await?;
    assert_eq!(
        session.check_schema_agreement().await?,
        Some(schema_version)
    );

    // USE: unqualified table names resolve in the keyspace, on every connection.
    session.use_keyspace(&ks, false).await?;
    assert_eq!(
        session.get_keyspace().as_deref().map(String::as_str),
        Some(ks.as_str())
    );
    for k in 0..5 {
        session
            .query_unpaged("INSERT INTO kv (k, v) VALUES (?, 'x')", (k,))
            .await?;
    }
    let (n,): (i64,) = session
        .query_unpaged("SELECT COUNT(*) FROM kv", &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(n, 5);

    // A USE statement sent as a query switches the session's keyspace too.
    session.query_unpaged("USE system", &[]).await?;
    assert_eq!(
        session.get_keyspace().as_deref().map(String::as_str),
        Some("system")
    );

    // Tracing: the traced request's session, read from system_traces.
    let mut traced = Statement::new(format!("SELECT v FROM {ks}.kv WHERE k = 1"));
    traced.set_tracing(true);
    let result = session.query_unpaged(traced, &[]).await?;
    let tracing_id = result
        .tracing_id()
        .expect("a traced request has a tracing id");
    let info: TracingInfo = session.get_tracing_info(&tracing_id).await?;
    assert!(info.command.is_some());
    assert!(info.coordinator.is_some());
    assert!(!info.events.is_empty());
    let prepared = session
        .prepare(format!("SELECT v FROM {ks}.kv WHERE k = ?"))
        .await?;
    let untraced = session.execute_unpaged(&prepared, (1,)).await?;
    assert_eq!(untraced.tracing_id(), None);
    Ok(())
}
