//! Server errors arrive typed: syntax, invalid, already exists, unavailable, overloaded,
//! read timeout, bad credentials.

use std::time::Duration;

use cql_integration::{TestKeyspace, exec, fault_injection_available, session, sim_cluster};
use cql_testkit::wait_until;
use proto::{ErrorBody, ErrorCode, ErrorDetails};
use session::errors::{DbError, ExecutionError, PrepareError};
use session::{Consistency, SessionBuilder, Statement};

#[tokio::test]
async fn syntax_error_is_typed() {
    let s = session().await;
    let err = s
        .query_unpaged("SELEC * FORM nowhere", ())
        .await
        .unwrap_err();
    assert!(
        matches!(err.db_error(), Some(DbError::SyntaxError)),
        "{err:?}"
    );
    assert_eq!(err.db_error().map(DbError::code), Some(0x2000));
    let err = s.prepare("INSERT INTO").await.unwrap_err();
    match err {
        PrepareError::AllAttemptsFailed { first_attempt } => {
            assert!(
                matches!(first_attempt.db_error(), Some(DbError::SyntaxError)),
                "{first_attempt:?}"
            );
        }
        other => panic!("expected AllAttemptsFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_query_is_typed() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "einvalid", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    for cql in [
        format!("SELECT nope FROM {t}"),
        format!("SELECT v FROM {}.no_such_table", ks.name),
        format!("INSERT INTO {t} (k, v) VALUES ('text', 1)"),
    ] {
        let err = s.query_unpaged(cql.as_str(), ()).await.unwrap_err();
        assert!(
            matches!(err.db_error(), Some(DbError::Invalid)),
            "{cql}: {err:?}"
        );
        assert!(err.db_error().is_some_and(DbError::is_statement_error));
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn already_exists_names_keyspace_and_table() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "eexists", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY)").await;
    let err = s
        .query_unpaged(format!("CREATE TABLE {t} (k int PRIMARY KEY)"), ())
        .await
        .unwrap_err();
    match err.db_error() {
        Some(DbError::AlreadyExists { keyspace, table }) => {
            assert_eq!(keyspace, &ks.name);
            assert_eq!(table, "t");
        }
        other => panic!("expected AlreadyExists, got {other:?} ({err})"),
    }
    let err = s
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
                ks.name
            ),
            (),
        )
        .await
        .unwrap_err();
    match err.db_error() {
        Some(DbError::AlreadyExists { keyspace, table }) => {
            assert_eq!(keyspace, &ks.name);
            assert_eq!(table, "");
        }
        other => panic!("expected AlreadyExists, got {other:?} ({err})"),
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn unavailable_when_a_replica_is_stopped() {
    if !fault_injection_available("unavailable_when_a_replica_is_stopped") {
        return;
    }
    let (cluster, s) = sim_cluster(3).await;
    exec(
        &s,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    )
    .await;
    exec(&s, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    let victim = cluster.node(1);
    victim.stop();
    // Wait until the driver sees the node down, so the request goes to a live coordinator
    // (a write sent to the dying node would fail with a broken connection instead).
    let addr = victim.addr();
    wait_until(
        Duration::from_secs(20),
        &format!("{addr} marked down after it stopped"),
        || s.get_cluster_state().node(addr).is_some_and(|n| !n.is_up()),
    )
    .await;
    let mut st = Statement::new("INSERT INTO ks.t (k, v) VALUES (1, 1)");
    st.set_consistency(Consistency::All);
    let err = s.query_unpaged(st, ()).await.unwrap_err();
    match err.db_error() {
        Some(DbError::Unavailable {
            required, alive, ..
        }) => {
            assert_eq!(*required, 3);
            assert_eq!(*alive, 2);
        }
        other => panic!("expected Unavailable, got {other:?} ({err})"),
    }
    // QUORUM still works with two of three replicas.
    let mut st = Statement::new("INSERT INTO ks.t (k, v) VALUES (1, 1)");
    st.set_consistency(Consistency::Quorum);
    s.query_unpaged(st, ()).await.unwrap();
    cluster.shutdown();
}

#[tokio::test]
async fn injected_overloaded_and_read_timeout_are_typed() {
    if !fault_injection_available("injected_overloaded_and_read_timeout_are_typed") {
        return;
    }
    let (cluster, s) = sim_cluster(2).await;
    let overloaded = ErrorBody {
        code: ErrorCode::OVERLOADED,
        message: "injected overload".into(),
        details: ErrorDetails::None,
    };
    let read_timeout = ErrorBody {
        code: ErrorCode::READ_TIMEOUT,
        message: "injected read timeout".into(),
        details: ErrorDetails::ReadTimeout {
            consistency: proto::Consistency::QUORUM,
            received: 0,
            block_for: 2,
            data_present: false,
        },
    };
    for node in cluster.nodes() {
        node.inject_error(
            sim::RequestMatcher::QueryContains("overload_me".into()),
            overloaded.clone(),
            None,
        );
        node.inject_error(
            sim::RequestMatcher::QueryContains("time_me_out".into()),
            read_timeout.clone(),
            None,
        );
    }
    let err = s
        .query_unpaged("SELECT * FROM system.local WHERE key = 'overload_me'", ())
        .await
        .unwrap_err();
    assert!(
        matches!(err.db_error(), Some(DbError::Overloaded)),
        "{err:?}"
    );
    assert!(!err.attempts().is_empty());
    let err = s
        .query_unpaged("SELECT * FROM system.local WHERE key = 'time_me_out'", ())
        .await
        .unwrap_err();
    match err.db_error() {
        Some(DbError::ReadTimeout {
            received,
            required,
            data_present,
            ..
        }) => {
            assert_eq!((*received, *required, *data_present), (0, 2, false));
        }
        other => panic!("expected ReadTimeout, got {other:?} ({err})"),
    }
    assert!(err.is_timeout() || err.db_error().is_some_and(DbError::is_timeout));
    cluster.shutdown();
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    if !fault_injection_available("wrong_credentials_are_refused") {
        return;
    }
    let cluster = sim::SimCluster::builder()
        .nodes(1)
        .auth("cassandra", "s3cret")
        .start()
        .await
        .unwrap();
    let bad = SessionBuilder::new()
        .known_nodes_addr(cluster.node_addrs())
        .user("cassandra", "wrong")
        .connection_timeout(Duration::from_secs(5))
        .build()
        .await;
    assert!(bad.is_err(), "a wrong password must not connect");
    let good = SessionBuilder::new()
        .known_nodes_addr(cluster.node_addrs())
        .user("cassandra", "s3cret")
        .build()
        .await
        .unwrap();
    let rows: Vec<(Option<String>,)> =
        cql_integration::query_rows(&good, "SELECT release_version FROM system.local", ()).await;
    assert_eq!(rows.len(), 1);
    let err = good
        .query_unpaged("SELECT * FROM system.no_such_table", ())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecutionError::LastAttemptError { .. }),
        "{err:?}"
    );
    cluster.shutdown();
}

/// DESIGN.md invariant 4: every request gets exactly one outcome, with no hang after the
/// connections die, here with every node of the cluster gone.
#[tokio::test]
async fn requests_end_with_an_error_after_the_whole_cluster_stops() {
    if !fault_injection_available("requests_end_with_an_error_after_the_whole_cluster_stops") {
        return;
    }
    let (cluster, s) = sim_cluster(3).await;
    exec(
        &s,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    exec(&s, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    for node in cluster.nodes() {
        node.stop();
    }
    let limit = Duration::from_secs(20);
    let mut unpaged = Statement::new("SELECT k, v FROM ks.t");
    unpaged.set_request_timeout(Some(Duration::from_secs(2)));
    let outcome = tokio::time::timeout(limit, s.query_unpaged(unpaged.clone(), ())).await;
    assert!(
        matches!(outcome, Ok(Err(_))),
        "query_unpaged with every node stopped: {outcome:?}"
    );
    let outcome = tokio::time::timeout(
        limit,
        s.query_single_page(
            unpaged.with_page_size(10),
            (),
            session::PagingState::start(),
        ),
    )
    .await;
    assert!(
        matches!(outcome, Ok(Err(_))),
        "query_single_page with every node stopped: {outcome:?}"
    );
    cluster.shutdown();
}
