//! A node's liveness as the `scylla` crate reports it (`Node::is_down`, `Node::is_connected`),
//! and the reconnect policy that paces attempts to a node that is down, against `cql-sim`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cql_session::policies::reconnect::{ReconnectPolicy, ReconnectPolicySession};
use cql_session::{Session, SessionBuilder};
use cql_testkit::wait_until;

use crate::common::{bounded, sim};

const LIMIT: Duration = Duration::from_secs(60);

/// `(is_down, is_connected)` of the node at `addr` in the session's current cluster state.
fn liveness(session: &Session, addr: SocketAddr) -> (bool, bool) {
    let state = session.get_cluster_state();
    let node = state.node(addr).expect("a node of the cluster");
    (node.is_down(), node.is_connected())
}

#[tokio::test]
async fn a_stopped_node_is_down_and_unconnected_until_it_restarts() {
    bounded(LIMIT, async {
        let cluster = sim(2, 1).await;
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .build()
            .await
            .expect("connect");
        let (live, stopped) = (cluster.node(0).addr(), cluster.node(1).addr());
        wait_until(Duration::from_secs(10), "both nodes connected", || {
            liveness(&session, live) == (false, true)
                && liveness(&session, stopped) == (false, true)
        })
        .await;

        cluster.node(1).stop();
        cluster.node(1).stopped().await;
        wait_until(Duration::from_secs(10), "node 1 down, unconnected", || {
            liveness(&session, stopped) == (true, false)
        })
        .await;
        assert_eq!(liveness(&session, live), (false, true), "node 0 unaffected");

        cluster.node(1).start().await.expect("restart");
        wait_until(
            Duration::from_secs(10),
            "node 1 up, connected again",
            || liveness(&session, stopped) == (false, true),
        )
        .await;
    })
    .await;
}

/// A fixed delay, counting the fill rounds that opened nothing (one per attempt at a node
/// that refuses connections, with one shard).
#[derive(Debug)]
struct Counted {
    delay: Duration,
    failed_rounds: Arc<AtomicUsize>,
}

impl ReconnectPolicy for Counted {
    fn new_session(&self) -> Box<dyn ReconnectPolicySession> {
        Box::new(Self {
            delay: self.delay,
            failed_rounds: Arc::clone(&self.failed_rounds),
        })
    }
}

impl ReconnectPolicySession for Counted {
    fn get_delay(&self) -> Duration {
        self.delay
    }

    fn on_successful_fill(&mut self) {}

    fn on_fill_error(&mut self) {
        self.failed_rounds.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_reconnect_policy_paces_attempts_at_a_stopped_node() {
    bounded(LIMIT, async {
        let cluster = sim(2, 1).await;
        let stopped = cluster.node(1).addr();
        let mut sessions = Vec::new();
        for delay in [Duration::from_millis(40), Duration::from_millis(200)] {
            let failed_rounds = Arc::new(AtomicUsize::new(0));
            let policy = Counted {
                delay,
                failed_rounds: Arc::clone(&failed_rounds),
            };
            let session = SessionBuilder::new()
                .known_node(cluster.contact_point().to_string())
                .reconnect_policy(Arc::new(policy))
                .build()
                .await
                .expect("connect");
            wait_until(Duration::from_secs(10), "node 1 connected", || {
                liveness(&session, stopped) == (false, true)
            })
            .await;
            sessions.push((session, failed_rounds));
        }

        cluster.node(1).stop();
        cluster.node(1).stopped().await;
        for (session, _) in &sessions {
            wait_until(Duration::from_secs(10), "node 1 down", || {
                liveness(session, stopped).0
            })
            .await;
        }
        // The attempts in one second follow each session's delay: about 25 at 40 ms, 5 at
        // 200 ms. The default policy, doubling from 100 ms, would make 3 or 4 in either.
        let before: Vec<usize> = sessions
            .iter()
            .map(|(_, n)| n.load(Ordering::SeqCst))
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rounds: Vec<usize> = sessions
            .iter()
            .zip(&before)
            .map(|((_, n), b)| n.load(Ordering::SeqCst) - b)
            .collect();
        assert!((12..=26).contains(&rounds[0]), "40 ms: {rounds:?}");
        assert!((3..=6).contains(&rounds[1]), "200 ms: {rounds:?}");
    })
    .await;
}
