//! `SingleTargetLoadBalancingPolicy`: every request reaches the named node (and shard), by
//! address, host id or node; an unknown node gives an empty plan.

use std::time::Duration;

use cql_session::ExecutionProfile;
use cql_session::errors::ExecutionError;
use cql_session::policies::load_balancing::{NodeIdentifier, SingleTargetLoadBalancingPolicy};

use crate::common::{self, bounded, create_ks_t, executes};

#[tokio::test]
async fn every_request_goes_to_the_named_node_and_shard() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session) = common::sim_session(3, 2).await;
        create_ks_t(&session, 3).await;
        let insert = common::prepare_insert(&session).await;
        let state = session.get_cluster_state();
        let node2 = state
            .get_nodes_info()
            .iter()
            .find(|n| n.address == cluster.node(2).addr())
            .unwrap()
            .clone();
        let ids = [
            NodeIdentifier::NodeAddress(cluster.node(1).addr()),
            NodeIdentifier::HostId(node2.host_id.unwrap()),
            NodeIdentifier::Node(node2.clone()),
        ];
        let targets = [1usize, 2, 2];
        for (id, target) in ids.into_iter().zip(targets) {
            let profile = ExecutionProfile::builder()
                .load_balancing_policy(SingleTargetLoadBalancingPolicy::new(id, Some(1)))
                .build()
                .into_handle();
            let mut insert = insert.clone();
            insert.set_execution_profile_handle(Some(profile));
            let before = executes(&cluster);
            for pk in 0..20i32 {
                let result = session
                    .execute_unpaged(&insert, (pk, 1i32, "v"))
                    .await
                    .unwrap();
                let coordinator = result.request_coordinator();
                assert_eq!(coordinator.node().address, cluster.node(target).addr());
                assert_eq!(coordinator.shard(), Some(1), "the named shard");
            }
            let after = executes(&cluster);
            for (i, (a, b)) in after.iter().zip(&before).enumerate() {
                let expected = if i == target { 20 } else { 0 };
                assert_eq!(a - b, expected, "node {i}");
            }
        }

        let nowhere = "127.0.0.250:9042".parse().unwrap();
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(SingleTargetLoadBalancingPolicy::new(
                NodeIdentifier::NodeAddress(nowhere),
                None,
            ))
            .build()
            .into_handle();
        let mut insert = insert.clone();
        insert.set_execution_profile_handle(Some(profile));
        let err = session
            .execute_unpaged(&insert, (1i32, 1i32, "v"))
            .await
            .unwrap_err();
        assert!(matches!(err, ExecutionError::EmptyPlan), "{err:?}");
    })
    .await;
}
