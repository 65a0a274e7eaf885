//! Latency awareness: with `DefaultPolicy::builder().latency_awareness(..)`, a node that answers
//! far slower than the others stops coordinating requests (it goes to the end of every plan),
//! and without it the same slow node keeps its share.

use std::time::Duration;

use cql_session::ExecutionProfile;
use cql_session::policies::load_balancing::{DefaultPolicy, LatencyAwarenessBuilder};

use crate::common::{self, bounded, create_ks_t, executes};

/// EXECUTEs each node received over 300 inserts with `policy`, node 2 answering 15 ms late, after
/// 100 inserts of warm-up.
async fn shares_with_a_slow_node(
    policy: std::sync::Arc<dyn cql_session::policies::load_balancing::LoadBalancingPolicy>,
) -> Vec<u64> {
    let (cluster, session) = common::sim_session(3, 1).await;
    create_ks_t(&session, 3).await;
    let mut insert = common::prepare_insert(&session).await;
    let profile = ExecutionProfile::builder()
        .load_balancing_policy(policy)
        .build()
        .into_handle();
    insert.set_execution_profile_handle(Some(profile));
    cluster.node(2).set_delay(Some(Duration::from_millis(15)));
    for pk in 0..100i32 {
        session
            .execute_unpaged(&insert, (pk, 0i32, "warm-up"))
            .await
            .unwrap();
    }
    let before = executes(&cluster);
    for pk in 100..400i32 {
        session
            .execute_unpaged(&insert, (pk, 0i32, "measured"))
            .await
            .unwrap();
    }
    let after = executes(&cluster);
    after.iter().zip(&before).map(|(a, b)| a - b).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_node_stops_coordinating_with_latency_awareness_and_not_without() {
    bounded(Duration::from_secs(60), async {
        let aware = DefaultPolicy::builder()
            .latency_awareness(
                LatencyAwarenessBuilder::new()
                    .minimum_measurements(10)
                    .update_rate(Duration::from_millis(10)),
            )
            .build();
        let shares = shares_with_a_slow_node(aware).await;
        assert_eq!(shares.iter().sum::<u64>(), 300, "{shares:?}");
        assert!(
            shares[2] <= 3,
            "the slow node coordinated {} of 300 inserts: {shares:?}",
            shares[2]
        );

        let plain = DefaultPolicy::builder().build();
        let shares = shares_with_a_slow_node(plain).await;
        assert!(
            shares[2] >= 60,
            "without latency awareness it keeps about a third: {shares:?}"
        );
    })
    .await;
}
