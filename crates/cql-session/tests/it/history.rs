//! Request history: a `HistoryCollector` set on a statement hears each request and attempt,
//! with the node, the error and the retry decision, and speculative fibers.

use std::sync::Arc;
use std::time::Duration;

use cql_session::ExecutionProfile;
use cql_session::observability::history::{AttemptResult, HistoryCollector, RequestResult};
use cql_session::policies::load_balancing::DefaultPolicy;
use cql_session::policies::retry::RetryDecision;
use cql_session::policies::speculative_execution::SimpleSpeculativeExecutionPolicy;
use cql_sim::FaultAction;
use cql_sim::server::faults;

use crate::common::{self, bounded, create_ks_t};

#[tokio::test]
async fn a_collector_hears_each_attempt_its_error_and_the_retry_decision() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session) = common::sim_session(2, 1).await;
        create_ks_t(&session, 2).await;
        let mut insert = common::prepare_insert(&session).await;
        insert.set_is_idempotent(true);
        let collector = Arc::new(HistoryCollector::new());
        insert.set_history_listener(collector.clone());

        session
            .execute_unpaged(&insert, (1i32, 1i32, "a"))
            .await
            .unwrap();
        // Both nodes answer the next one with Overloaded once: one node fails, the other
        // is tried next and fails too, and the request fails after two attempts.
        common::on_next(&cluster, 0, FaultAction::Error(faults::overloaded()));
        common::on_next(&cluster, 1, FaultAction::Error(faults::overloaded()));
        let err = session
            .execute_unpaged(&insert, (1i32, 2i32, "b"))
            .await
            .unwrap_err();

        let history = collector.clone_structured_history();
        assert_eq!(history.requests.len(), 2, "{history}");
        let ok = &history.requests[0];
        assert!(matches!(ok.result, Some(RequestResult::Success(_))));
        assert_eq!(ok.non_speculative_fiber.attempts.len(), 1);
        assert!(matches!(
            ok.non_speculative_fiber.attempts[0].result,
            Some(AttemptResult::Success(_))
        ));

        let failed = &history.requests[1];
        assert!(matches!(&failed.result, Some(RequestResult::Error(_, e)) if e.to_string() == err.to_string()));
        let attempts = &failed.non_speculative_fiber.attempts;
        assert_eq!(attempts.len(), 2, "{history}");
        let nodes: Vec<_> = err.attempts().iter().map(|a| a.node).collect();
        assert_eq!(
            attempts.iter().map(|a| a.node_addr).collect::<Vec<_>>(),
            nodes
        );
        assert!(matches!(
            &attempts[0].result,
            Some(AttemptResult::Error(_, e, RetryDecision::RetryNextTarget(None)))
                if e.to_string().contains("overloaded")
        ));
        assert!(matches!(
            &attempts[1].result,
            Some(AttemptResult::Error(_, _, RetryDecision::RetryNextTarget(None)))
        ));
        assert!(failed.speculative_fibers.is_empty());
        let shown = history.to_string();
        assert!(shown.contains("request 1: error: prepared statement failed after 2 attempts"), "{shown}");

        // Removed: the next request is not heard.
        assert!(insert.remove_history_listener().is_some());
        session
            .execute_unpaged(&insert, (1i32, 3i32, "c"))
            .await
            .unwrap();
        assert_eq!(collector.clone_structured_history().requests.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn speculative_fibers_are_heard_with_their_own_attempts() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session) = common::sim_session(2, 1).await;
        create_ks_t(&session, 2).await;
        // Replicas in ring order, so the first attempt's node is known: it answers late.
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(
                DefaultPolicy::builder()
                    .enable_shuffling_replicas(false)
                    .build(),
            )
            .speculative_execution_policy(Some(Arc::new(SimpleSpeculativeExecutionPolicy {
                max_retry_count: 1,
                retry_interval: Duration::from_millis(50),
            })))
            .build()
            .into_handle();
        let mut insert = common::prepare_insert(&session).await;
        insert.set_is_idempotent(true);
        insert.set_execution_profile_handle(Some(profile));
        let collector = Arc::new(HistoryCollector::new());
        insert.set_history_listener(collector.clone());
        for node in 0..2 {
            common::on_next(
                &cluster,
                node,
                FaultAction::Delay(Duration::from_millis(1000)),
            );
        }
        session
            .execute_unpaged(&insert, (5i32, 1i32, "s"))
            .await
            .unwrap();
        let history = collector.clone_structured_history();
        let request = &history.requests[0];
        assert!(
            matches!(request.result, Some(RequestResult::Success(_))),
            "{history}"
        );
        assert_eq!(request.non_speculative_fiber.attempts.len(), 1, "{history}");
        assert_eq!(request.speculative_fibers.len(), 1, "{history}");
        let first = &request.non_speculative_fiber.attempts[0];
        let second = &request.speculative_fibers[0].attempts[0];
        assert_ne!(
            first.node_addr, second.node_addr,
            "the fiber tried the other node"
        );
        // One of the two answered (both were delayed by the same amount); the loser was
        // dropped without a result.
        let results = [first.result.is_some(), second.result.is_some()];
        assert_eq!(results.iter().filter(|r| **r).count(), 1, "{history}");
    })
    .await;
}
