//! User policies as `scylla` 1.x users write them: a `LoadBalancingPolicy`, a `RetryPolicy`
//! with its `RetrySession`, a `SpeculativeExecutionPolicy`, a `HostFilter`, and execution
//! profiles with handles.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use scylla::client::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::metadata::Peer;
use scylla::cluster::{ClusterState, NodeRef};
use scylla::errors::{DbError, RequestAttemptError};
use scylla::policies::host_filter::HostFilter;
use scylla::policies::load_balancing::{FallbackPlan, LoadBalancingPolicy, RoutingInfo};
use scylla::policies::retry::{RequestInfo, RetryDecision, RetryPolicy, RetrySession};
use scylla::policies::speculative_execution::{Context, SpeculativeExecutionPolicy};
use scylla::routing::Shard;
use scylla::statement::Consistency;
use scylla::statement::unprepared::Statement;

use crate::cluster;

/// Always the same node first (the one with the lowest address), then the others.
#[derive(Debug, Default)]
struct LowestAddressFirst {
    picks: AtomicUsize,
    successes: AtomicUsize,
}

impl LoadBalancingPolicy for LowestAddressFirst {
    fn pick<'a>(
        &'a self,
        _request: &'a RoutingInfo,
        cluster: &'a ClusterState,
    ) -> Option<(NodeRef<'a>, Option<Shard>)> {
        self.picks.fetch_add(1, Ordering::Relaxed);
        cluster
            .get_nodes_info()
            .iter()
            .min_by_key(|node| node.address)
            .map(|node| (node, None))
    }

    fn fallback<'a>(
        &'a self,
        _request: &'a RoutingInfo,
        cluster: &'a ClusterState,
    ) -> FallbackPlan<'a> {
        let mut nodes: Vec<NodeRef<'a>> = cluster.get_nodes_info().iter().collect();
        nodes.sort_by_key(|node| node.address);
        Box::new(nodes.into_iter().map(|node| (node, None)))
    }

    fn on_request_success(&self, _request: &RoutingInfo, _latency: Duration, _node: NodeRef<'_>) {
        self.successes.fetch_add(1, Ordering::Relaxed);
    }

    fn name(&self) -> String {
        "LowestAddressFirst".to_owned()
    }
}

/// Retries a server's `Invalid` answer once on the next node, and counts its decisions.
#[derive(Debug, Default)]
struct RetryInvalidOnce {
    decisions: Arc<AtomicUsize>,
}

struct RetryInvalidOnceSession {
    retried: bool,
    decisions: Arc<AtomicUsize>,
}

impl RetryPolicy for RetryInvalidOnce {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(RetryInvalidOnceSession {
            retried: false,
            decisions: Arc::clone(&self.decisions),
        })
    }
}

impl RetrySession for RetryInvalidOnceSession {
    fn decide_should_retry(&mut self, request_info: RequestInfo) -> RetryDecision {
        self.decisions.fetch_add(1, Ordering::Relaxed);
        match request_info.error {
            RequestAttemptError::DbError(DbError::Invalid, _) if !self.retried => {
                self.retried = true;
                RetryDecision::RetryNextTarget(Some(Consistency::One))
            }
            _ => RetryDecision::DontRetry,
        }
    }

    fn reset(&mut self) {
        self.retried = false;
    }
}

/// Never speculates, but counts how often it is asked.
#[derive(Debug, Default)]
struct CountingSpeculation {
    asked: AtomicUsize,
}

impl SpeculativeExecutionPolicy for CountingSpeculation {
    fn max_retry_count(&self, _context: &Context) -> usize {
        self.asked.fetch_add(1, Ordering::Relaxed);
        0
    }

    fn retry_interval(&self, _context: &Context) -> Duration {
        Duration::from_millis(100)
    }
}

/// Connects to every node but one.
struct AllBut(String);

impl HostFilter for AllBut {
    fn accept(&self, peer: &Peer) -> bool {
        peer.address.to_string() != self.0
    }
}

#[tokio::test]
async fn load_balancing_and_profiles() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(3).await;
    let lowest = Arc::new(LowestAddressFirst::default());
    let profile = ExecutionProfile::builder()
        .consistency(Consistency::One)
        .request_timeout(Some(Duration::from_secs(10)))
        .load_balancing_policy(lowest.clone())
        .build();
    let handle: ExecutionProfileHandle = profile.into_handle();
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .default_execution_profile_handle(handle.clone())
        .build()
        .await?;

    let state = session.get_cluster_state();
    let expected = state.get_nodes_info().iter().map(|n| n.address).min();
    for _ in 0..5 {
        let result = session
            .query_unpaged("SELECT key FROM system.local", &[])
            .await?;
        assert_eq!(Some(result.request_coordinator().node().address), expected);
    }
    assert!(lowest.picks.load(Ordering::Relaxed) >= 5);
    assert!(lowest.successes.load(Ordering::Relaxed) >= 5);

    // A statement with its own profile; then the handle is remapped to another profile.
    let other = Arc::new(LowestAddressFirst::default());
    let mut own_handle = ExecutionProfile::builder()
        .load_balancing_policy(other.clone())
        .build()
        .into_handle();
    let mut statement = Statement::new("SELECT key FROM system.local");
    statement.set_execution_profile_handle(Some(own_handle.clone()));
    session.query_unpaged(statement.clone(), &[]).await?;
    assert_eq!(other.picks.load(Ordering::Relaxed), 1);

    let third = Arc::new(LowestAddressFirst::default());
    own_handle.map_to_another_profile(
        own_handle
            .pointee_to_builder()
            .load_balancing_policy(third.clone())
            .build(),
    );
    session.query_unpaged(statement, &[]).await?;
    assert_eq!(
        other.picks.load(Ordering::Relaxed),
        1,
        "remapped handles use the new profile"
    );
    assert_eq!(third.picks.load(Ordering::Relaxed), 1);
    assert_eq!(
        session
            .get_default_execution_profile_handle()
            .to_profile()
            .get_consistency(),
        Consistency::One
    );
    Ok(())
}

#[tokio::test]
async fn retry_speculation_and_host_filter() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(3).await;
    let excluded = cluster.nodes[2].clone();
    let retry = RetryInvalidOnce::default();
    let decisions = Arc::clone(&retry.decisions);
    let speculation = Arc::new(CountingSpeculation::default());
    let profile = ExecutionProfile::builder()
        .retry_policy(Arc::new(retry))
        .speculative_execution_policy(Some(speculation.clone()))
        .build();
    let session = SessionBuilder::new()
        .known_nodes(&cluster.nodes)
        .host_filter(Arc::new(AllBut(excluded.clone())))
        .default_execution_profile_handle(profile.into_handle())
        .build()
        .await?;

    // A query of a table that does not exist: Invalid, retried once, then returned.
    let err = session
        .query_unpaged("SELECT * FROM system.no_such_table", &[])
        .await
        .expect_err("the table does not exist");
    // (`errors` matches the error itself: its shape is one of the documented differences.)
    assert!(!err.to_string().is_empty());
    assert_eq!(
        decisions.load(Ordering::Relaxed),
        2,
        "one retry, then give up"
    );

    // Idempotent statements consult the speculative policy.
    let mut statement = Statement::new("SELECT key FROM system.local");
    statement.set_is_idempotent(true);
    for _ in 0..6 {
        let result = session.query_unpaged(statement.clone(), &[]).await?;
        // The filtered-out node never coordinates.
        assert_ne!(
            result.request_coordinator().node().address.to_string(),
            excluded
        );
    }
    assert!(speculation.asked.load(Ordering::Relaxed) >= 6);
    let state = session.get_cluster_state();
    let disabled: Vec<_> = state
        .get_nodes_info()
        .iter()
        .filter(|n| !n.is_enabled())
        .map(|n| n.address.to_string())
        .collect();
    assert_eq!(disabled, vec![excluded]);
    Ok(())
}
