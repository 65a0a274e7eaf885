//! Proves that a failing test fails the run: with `CQL_INTEGRATION_FORCE_FAIL=1` in the
//! environment, this test fails, and `cargo xtask integration` must exit non-zero in every mode.

use cql_integration::{cluster, exec, session};

#[tokio::test]
async fn cluster_answers_and_failures_propagate() {
    let s = session().await;
    let rows = exec(&s, "SELECT release_version FROM system.local")
        .await
        .into_rows_result()
        .unwrap()
        .rows::<(Option<String>,)>()
        .unwrap()
        .count();
    assert_eq!(rows, 1, "system.local has exactly one row");
    if std::env::var_os("CQL_INTEGRATION_FORCE_FAIL").is_some() {
        panic!("CQL_INTEGRATION_FORCE_FAIL is set: failing on purpose");
    }
}

/// With `CQL_PROTOCOL_VERSION` set (`cargo xtask integration --protocol N`), the session speaks
/// exactly that version: the highest the builder offers and the cluster serves.
#[tokio::test]
async fn the_expected_protocol_version_is_negotiated() {
    let Some(expected) = cluster().protocol else {
        println!("CQL_PROTOCOL_VERSION is not set: any negotiated version is fine");
        return;
    };
    let s = session().await;
    let version = s.protocol_version().expect("an open connection");
    assert_eq!(version.0, expected, "negotiated {version}");
}
