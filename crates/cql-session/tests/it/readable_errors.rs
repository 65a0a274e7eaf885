//! Final errors read as one line a person can act on: the request's kind, each attempt's node
//! and error, consistency levels as the server names them, and a broken connection said once.

use std::time::Duration;

use cql_session::errors::{ExecutionError, RequestKind};
use cql_session::statement::Consistency;
use cql_sim::FaultAction;
use cql_sim::server::faults;

use crate::common::{self, bounded, create_ks_t};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_retried_failure_names_the_request_each_node_and_the_consistency() {
    bounded(LIMIT, async {
        let (cluster, session) = common::sim_session(3, 1).await;
        create_ks_t(&session, 3).await;
        let mut insert = common::prepare_insert(&session).await;
        insert.set_is_idempotent(true);
        insert.set_consistency(Consistency::Quorum);
        let unavailable =
            || FaultAction::Error(faults::unavailable(proto::Consistency::QUORUM, 2, 1));
        for node in 0..3 {
            common::on_next(&cluster, node, unavailable());
        }

        let err = session
            .execute_unpaged(&insert, (1i32, 1i32, "a"))
            .await
            .unwrap_err();
        let line = err.to_string();
        // The default policy retries Unavailable once, on the next node.
        assert_eq!(err.attempts().len(), 2, "{line}");
        assert!(matches!(&err, ExecutionError::LastAttemptError { attempts, .. } if attempts.request() == RequestKind::Execute));
        assert!(
            line.starts_with("prepared statement failed after 2 attempts: "),
            "{line}"
        );
        for a in err.attempts() {
            assert!(line.contains(&a.node.to_string()), "names {}: {line}", a.node);
        }
        assert!(
            line.contains("not enough replicas alive for consistency QUORUM: 1 alive, 2 required"),
            "{line}"
        );
        assert!(!line.contains("Ok("), "{line}");
        assert!(!line.contains('\n'), "one line: {line}");
    })
    .await;
}

#[tokio::test]
async fn a_broken_connection_is_said_once() {
    bounded(LIMIT, async {
        let (cluster, session) = common::sim_session(1, 1).await;
        create_ks_t(&session, 1).await;
        common::on_next(&cluster, 0, FaultAction::CloseMidFrame);
        // Not idempotent: the attempt is not retried, and its error is the final one.
        let err = session
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (1, 1, 'a')", ())
            .await
            .unwrap_err();
        let line = err.to_string();
        let node = cluster.node(0).addr().to_string();
        assert_eq!(
            line,
            format!("query failed on {node}: connection broken: the peer closed the connection"),
        );
        assert_eq!(line.matches("connection broken").count(), 1, "{line}");
    })
    .await;
}

#[tokio::test]
async fn a_timeout_names_the_request_and_its_limit() {
    bounded(LIMIT, async {
        let (cluster, session) = common::sim_session(1, 1).await;
        create_ks_t(&session, 1).await;
        common::on_next(&cluster, 0, FaultAction::Drop);
        let mut select = cql_session::Statement::new("SELECT * FROM ks.t WHERE pk = 1");
        select.set_request_timeout(Some(Duration::from_millis(300)));
        let err = session.query_unpaged(select, ()).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let node = cluster.node(0).addr().to_string();
        assert_eq!(
            err.to_string(),
            format!(
                "query timed out after 300ms (1 failed attempt: {node}: no response within 300ms); raise the timeout or check the cluster's load"
            )
        );
    })
    .await;
}

#[tokio::test]
async fn a_malformed_response_moves_an_idempotent_request_to_another_node() {
    bounded(LIMIT, async {
        let (cluster, session) = common::sim_session(2, 1).await;
        create_ks_t(&session, 2).await;
        let mut insert = common::prepare_insert(&session).await;
        // Not idempotent: the malformed RESULT is the final error.
        for node in 0..2 {
            common::on_next(&cluster, node, FaultAction::MalformedFrame);
        }
        let err = session
            .execute_unpaged(&insert, (1i32, 1i32, "a"))
            .await
            .unwrap_err();
        assert_eq!(err.attempts().len(), 1, "{err}");
        assert!(
            matches!(
                &err,
                ExecutionError::LastAttemptError {
                    error: cql_session::errors::RequestAttemptError::Decode(_),
                    ..
                }
            ),
            "{err:?}"
        );
        for n in cluster.nodes() {
            n.clear_faults();
        }
        // Idempotent: the attempt moves to the other node, which answers.
        insert.set_is_idempotent(true);
        for ck in 2..6i32 {
            common::on_next(&cluster, 0, FaultAction::MalformedFrame);
            session
                .execute_unpaged(&insert, (1i32, ck, "b"))
                .await
                .expect("retried on the other node");
            cluster.node(0).clear_faults();
        }
    })
    .await;
}
