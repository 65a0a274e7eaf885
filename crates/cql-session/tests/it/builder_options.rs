//! The `scylla` 1.x builder options of issue 14, each shown by its effect on a `cql-sim`
//! cluster: the host filter, the timestamp generator, the keyspaces to fetch, write
//! coalescing, and the local address and port range of connections.

use std::sync::Arc;
use std::time::Duration;

use cql_session::SessionBuilder;
use cql_session::policies::host_filter::{AllowListHostFilter, DcHostFilter};
use cql_sim::SimCluster;
use proto::codes::Opcode;

use crate::common::{bounded, create_ks_t};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_rejected_by_the_host_filter_serves_no_request() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .nodes(3)
            .shards(2)
            .start()
            .await
            .expect("sim cluster");
        let addrs = cluster.node_addrs();
        let rejected = addrs[2];
        let filter = AllowListHostFilter::new([addrs[0], addrs[1]]).expect("addresses");
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .host_filter(Arc::new(filter))
            .build()
            .await
            .expect("connect");
        // RF 3: the rejected node replicates every partition, so token-aware routing would
        // pick it for a third of the requests if the filter did not take it out of the plans.
        create_ks_t(&session, 3).await;
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')")
            .await
            .expect("prepare");
        let before: Vec<u64> = cluster
            .nodes()
            .iter()
            .map(|n| n.request_count_of(Opcode::EXECUTE) + n.request_count_of(Opcode::QUERY))
            .collect();
        for pk in 0..100i32 {
            let result = session
                .execute_unpaged(&insert, (pk,))
                .await
                .expect("insert");
            assert_ne!(result.request_coordinator().node().address, rejected);
            let result = session
                .query_unpaged("SELECT pk FROM ks.t WHERE pk = 1", ())
                .await
                .expect("select");
            assert_ne!(result.request_coordinator().node().address, rejected);
        }
        let served: Vec<u64> = cluster
            .nodes()
            .iter()
            .zip(&before)
            .map(|(n, b)| {
                n.request_count_of(Opcode::EXECUTE) + n.request_count_of(Opcode::QUERY) - b
            })
            .collect();
        assert_eq!(
            served[2], 0,
            "the rejected node served requests: {served:?}"
        );
        assert_eq!(served[0] + served[1], 200, "{served:?}");
        assert!(served[0] > 0 && served[1] > 0, "{served:?}");
        // No connection at all reaches the rejected node, yet it is part of the cluster state.
        assert_eq!(cluster.node(2).open_connections(), 0);
        let state = session.get_cluster_state();
        let node = state
            .node(rejected)
            .expect("rejected node in the cluster state");
        assert!(!node.is_enabled());
        assert!(node.pool().is_none());
        assert_eq!(state.nodes().iter().filter(|n| n.is_enabled()).count(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dc_host_filter_keeps_the_session_in_its_datacenter() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .datacenter("dc1", 2)
            .datacenter("dc2", 1)
            .start()
            .await
            .expect("sim cluster");
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .host_filter(Arc::new(DcHostFilter::new("dc1".to_owned())))
            .build()
            .await
            .expect("connect");
        for _ in 0..30 {
            let result = session
                .query_unpaged("SELECT key FROM system.local", ())
                .await
                .expect("select");
            let node = result.request_coordinator().node();
            assert_eq!(node.datacenter.as_deref(), Some("dc1"));
        }
        for n in cluster.nodes() {
            let connected = n.open_connections() > 0;
            assert_eq!(connected, n.datacenter() == "dc1", "node {}", n.addr());
        }
    })
    .await;
}
