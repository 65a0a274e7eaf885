//! Prepared statements across schema changes: after ALTER ADD, ALTER DROP, and DROP and
//! re-CREATE with other types, a prepared `SELECT *` either decodes its rows with the new
//! columns or fails with a typed error, never with the specs cached before the change.
//!
//! Four setups: a Scylla-like sim with `SCYLLA_USE_METADATA_ID` on protocol v4 and a Cassandra
//! 4-like sim on protocol v5 (result metadata ids: the metadata is skipped and a stale id gets
//! METADATA_CHANGED), a Cassandra-like sim capped at v4 (no ids: the metadata is asked for), and
//! the same with `set_use_cached_result_metadata(true)` (no ids, metadata skipped on the user's
//! word).

use std::time::Duration;

use cql_session::errors::ExecutionError;
use cql_session::{CachingSession, PreparedStatement, Session};
use cql_sim::SimCluster;
use proto::ColumnType;
use proto::frame::ProtocolVersion;

use crate::common::{self, bounded, connect};

const LIMIT: Duration = Duration::from_secs(60);
const SELECT: &str = "SELECT * FROM ks.t WHERE k = ?";

/// How the cluster and the statement handle result metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Scylla with `SCYLLA_USE_METADATA_ID`, protocol v4.
    MetadataIds,
    /// Cassandra 4+, protocol v5 (ids are part of the protocol).
    V5,
    /// Cassandra-like, skip-metadata off (the default).
    NoIds,
    /// Cassandra-like, `use_cached_result_metadata` on.
    NoIdsCached,
}

const MODES: [Mode; 4] = [Mode::MetadataIds, Mode::V5, Mode::NoIds, Mode::NoIdsCached];

impl Mode {
    /// Whether PREPARED and EXECUTE carry result metadata ids.
    fn has_ids(self) -> bool {
        matches!(self, Self::MetadataIds | Self::V5)
    }

    /// The protocol version the session must negotiate.
    fn version(self) -> ProtocolVersion {
        match self {
            Self::V5 => ProtocolVersion::V5,
            _ => ProtocolVersion::V4,
        }
    }
}

async fn cluster(mode: Mode) -> (SimCluster, Session) {
    let builder = SimCluster::builder().nodes(1);
    let builder = match mode {
        Mode::MetadataIds => builder,
        Mode::V5 => builder.without_scylla_extensions(),
        Mode::NoIds | Mode::NoIdsCached => builder
            .without_scylla_extensions()
            .max_protocol_version(ProtocolVersion::V4),
    };
    let cluster = builder.start().await.expect("sim cluster");
    let session = connect(cluster.contact_point()).await;
    assert_eq!(session.protocol_version(), Some(mode.version()), "{mode:?}");
    common::run(
        &session,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    common::run(&session, "CREATE TABLE ks.t (k int PRIMARY KEY, a int)").await;
    common::run(&session, "INSERT INTO ks.t (k, a) VALUES (1, 10)").await;
    (cluster, session)
}

async fn prepare(session: &Session, mode: Mode) -> PreparedStatement {
    let mut p = session.prepare(SELECT).await.expect("prepare");
    p.set_use_cached_result_metadata(mode == Mode::NoIdsCached);
    assert_eq!(
        p.get_result_metadata_id().is_some(),
        mode.has_ids(),
        "{mode:?}"
    );
    p
}

/// The prepared statement's cached result columns, as `name type`.
fn cached(p: &PreparedStatement) -> Vec<String> {
    p.get_result_set_col_specs()
        .iter()
        .map(|c| format!("{} {}", c.name, c.typ))
        .collect()
}

/// Executes `p` for key 1 and returns the result's columns, as `name type`, and its rows.
async fn execute<R>(session: &Session, p: &PreparedStatement) -> (Vec<String>, Vec<R>)
where
    R: cql_session::deserialize::DeserializeOwnedRow,
{
    let rows = session
        .execute_unpaged(p, (1i32,))
        .await
        .expect("execute")
        .into_rows_result()
        .expect("rows");
    let columns = rows
        .column_specs()
        .iter()
        .map(|c| format!("{} {}", c.name, c.typ))
        .collect();
    let values = rows
        .rows::<R>()
        .expect("the row type fits the columns")
        .collect::<Result<Vec<R>, _>>()
        .expect("rows decode");
    (columns, values)
}

#[tokio::test]
async fn prepared_select_follows_add_drop_and_recreate() {
    for mode in MODES {
        bounded(LIMIT, scenario(mode)).await;
    }
}

async fn scenario(mode: Mode) {
    let (_cluster, session) = cluster(mode).await;
    let p = prepare(&session, mode).await;
    let clone = p.clone();
    let before = p.get_result_metadata_id();
    let (cols, rows) = execute::<(i32, i32)>(&session, &p).await;
    assert_eq!(cols, ["k int", "a int"], "{mode:?}");
    assert_eq!(rows, [(1, 10)]);

    // ALTER ADD: the new column is decoded.
    common::run(&session, "ALTER TABLE ks.t ADD b text").await;
    common::run(&session, "UPDATE ks.t SET b = 'x' WHERE k = 1").await;
    let (cols, rows) = execute::<(i32, i32, Option<String>)>(&session, &p).await;
    assert_eq!(cols, ["k int", "a int", "b text"], "{mode:?}");
    assert_eq!(rows, [(1, 10, Some("x".to_owned()))]);
    // Re-preparing refreshed the specs (and the id) for every clone.
    assert_eq!(cached(&clone), ["k int", "a int", "b text"], "{mode:?}");
    if mode.has_ids() {
        assert_ne!(clone.get_result_metadata_id(), before);
    }

    // ALTER DROP: the dropped column is gone.
    common::run(&session, "ALTER TABLE ks.t DROP a").await;
    let (cols, rows) = execute::<(i32, Option<String>)>(&session, &clone).await;
    assert_eq!(cols, ["k int", "b text"], "{mode:?}");
    assert_eq!(rows, [(1, Some("x".to_owned()))]);

    // DROP and re-CREATE with the same column count and another type: only the current
    // specs decode `b` as a bigint.
    common::run(&session, "DROP TABLE ks.t").await;
    common::run(&session, "CREATE TABLE ks.t (k int PRIMARY KEY, b bigint)").await;
    common::run(&session, "INSERT INTO ks.t (k, b) VALUES (1, 7)").await;
    let (cols, rows) = execute::<(i32, Option<i64>)>(&session, &p).await;
    assert_eq!(cols, ["k int", "b bigint"], "{mode:?}");
    assert_eq!(rows, [(1, Some(7))]);
    assert_eq!(cached(&p), ["k int", "b bigint"], "{mode:?}");
}

/// Another client prepared the statement again after the change, so the server knows it and
/// answers this client's stale statement without UNPREPARED.
#[tokio::test]
async fn a_statement_another_client_reprepared_is_not_decoded_stale() {
    for mode in MODES {
        bounded(LIMIT, another_client(mode)).await;
    }
}

async fn another_client(mode: Mode) {
    let (cluster, session) = cluster(mode).await;
    let p = prepare(&session, mode).await;
    execute::<(i32, i32)>(&session, &p).await;
    let other = connect(cluster.contact_point()).await;
    common::run(&other, "ALTER TABLE ks.t ADD b text").await;
    let theirs = other.prepare(SELECT).await.expect("prepare");
    assert_eq!(cached(&theirs), ["k int", "a int", "b text"]);

    let result = session.execute_unpaged(&p, (1i32,)).await;
    match mode {
        // The stale id gets METADATA_CHANGED: the new columns, adopted by the statement.
        Mode::MetadataIds | Mode::V5 => {
            let rows = result.expect("execute").into_rows_result().expect("rows");
            let row = rows
                .single_row::<(i32, i32, Option<String>)>()
                .expect("the new columns");
            assert_eq!(row, (1, 10, None));
            assert_eq!(cached(&p), ["k int", "a int", "b text"]);
            assert_eq!(p.get_result_metadata_id(), theirs.get_result_metadata_id());
        }
        // The metadata comes with the rows.
        Mode::NoIds => {
            let rows = result.expect("execute").into_rows_result().expect("rows");
            let row = rows
                .single_row::<(i32, i32, Option<String>)>()
                .expect("the new columns");
            assert_eq!(row, (1, 10, None));
        }
        // Nothing tells the client; the column count gives it away: a typed error.
        Mode::NoIdsCached => {
            let err = result.expect_err("stale cached specs");
            assert!(
                matches!(
                    err,
                    ExecutionError::ResultMetadataMismatch {
                        cached: 2,
                        received: 3
                    }
                ),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn caching_session_statements_follow_the_schema() {
    for mode in [Mode::MetadataIds, Mode::V5, Mode::NoIds] {
        bounded(LIMIT, caching(mode)).await;
    }
}

async fn caching(mode: Mode) {
    let (_cluster, session) = cluster(mode).await;
    let caching = CachingSession::from(session, 16);
    let row = |r: cql_session::QueryResult| r.into_rows_result().expect("rows");
    let r = row(caching.execute_unpaged(SELECT, (1i32,)).await.expect("run"));
    assert_eq!(r.single_row::<(i32, i32)>().expect("row"), (1, 10));
    common::run(caching.get_session(), "ALTER TABLE ks.t ADD b text").await;
    for _ in 0..2 {
        let r = row(caching.execute_unpaged(SELECT, (1i32,)).await.expect("run"));
        let got = r.single_row::<(i32, i32, Option<String>)>().expect("row");
        assert_eq!(got, (1, 10, None), "{mode:?}");
    }
    assert_eq!(caching.cached_statements(), 1);
    let cached_stmt = caching
        .add_prepared_statement(&SELECT.into())
        .await
        .expect("cached");
    assert_eq!(cached(&cached_stmt), ["k int", "a int", "b text"]);
    assert_eq!(
        cached_stmt.get_result_set_col_specs()[2].typ,
        ColumnType::Text
    );
}

#[tokio::test]
async fn a_batch_reprepares_its_statements_after_a_schema_change() {
    for mode in [Mode::MetadataIds, Mode::V5] {
        bounded(LIMIT, batch_reprepares(mode)).await;
    }
}

async fn batch_reprepares(mode: Mode) {
    let (_cluster, session) = cluster(mode).await;
    let insert = session
        .prepare("INSERT INTO ks.t (k, a) VALUES (?, ?)")
        .await
        .expect("prepare");
    let mut batch = cql_session::Batch::new(cql_session::BatchType::Logged);
    batch.append_statement(insert.clone());
    batch.append_statement(insert);
    common::run(&session, "ALTER TABLE ks.t ADD b text").await;
    session
        .batch(&batch, ((2i32, 20i32), (3i32, 30i32)))
        .await
        .expect("re-prepared and applied");
    let p = prepare(&session, mode).await;
    let (_, rows) = execute::<(i32, i32, Option<String>)>(&session, &p).await;
    assert_eq!(rows, [(1, 10, None)]);
}
