use std::collections::HashMap;
use std::net::SocketAddr;

use transport::ring::ReplicationStrategy;
use transport::state::Keyspace;

use super::*;

fn node(i: u8, dc: &str, rack: &str, token: i64) -> NodeRef {
    Arc::new(Node::new(
        SocketAddr::from(([127, 0, 0, i], 9042)),
        None,
        Some(dc.into()),
        Some(rack.into()),
        vec![token],
    ))
}

/// dc1/r1: .1 .2, dc1/r2: .3, dc2/r1: .4; keyspace `ks` with SimpleStrategy RF 2.
fn cluster() -> ClusterState {
    let nodes = vec![
        node(1, "dc1", "r1", -100),
        node(2, "dc1", "r1", 0),
        node(3, "dc1", "r2", 100),
        node(4, "dc2", "r1", 200),
    ];
    let mut ks = HashMap::new();
    ks.insert(
        "ks".to_owned(),
        Keyspace::new(
            "ks",
            ReplicationStrategy::SimpleStrategy {
                replication_factor: 2,
            },
        ),
    );
    ClusterState::new(nodes, ks)
}

fn last_octet(n: &NodeRef) -> u8 {
    match n.address.ip() {
        std::net::IpAddr::V4(v4) => v4.octets()[3],
        std::net::IpAddr::V6(_) => 0,
    }
}

fn plan(policy: &dyn LoadBalancingPolicy, info: &RoutingInfo<'_>, c: &ClusterState) -> Vec<u8> {
    Plan::new(policy, info, c)
        .map(|(n, _)| last_octet(n))
        .collect()
}

fn routed(token: i64) -> RoutingInfo<'static> {
    RoutingInfo {
        token: Some(Token(token)),
        keyspace: Some("ks"),
        ..RoutingInfo::default()
    }
}

#[test]
fn token_aware_plan_starts_with_replicas_and_lists_each_node_once() {
    let c = cluster();
    let policy = DefaultPolicy::default();
    let info = routed(50);
    let replicas: Vec<u8> = c.replicas("ks", Token(50)).iter().map(last_octet).collect();
    assert_eq!(replicas.len(), 2);
    for _ in 0..4 {
        let p = plan(&policy, &info, &c);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3, 4], "plan {p:?}");
        let mut head = p[..2].to_vec();
        head.sort_unstable();
        let mut want = replicas.clone();
        want.sort_unstable();
        assert_eq!(head, want, "replicas first in {p:?}");
    }
}

#[test]
fn replicas_rotate_but_lwt_keeps_ring_order() {
    let c = cluster();
    let policy = DefaultPolicy::default();
    let info = routed(50);
    let firsts: std::collections::HashSet<u8> =
        (0..6).map(|_| plan(&policy, &info, &c)[0]).collect();
    assert_eq!(firsts.len(), 2, "both replicas get picked: {firsts:?}");

    let lwt = RoutingInfo {
        is_confirmed_lwt: true,
        ..routed(50)
    };
    let primary = last_octet(&c.replicas("ks", Token(50))[0]);
    for _ in 0..6 {
        assert_eq!(plan(&policy, &lwt, &c)[0], primary);
    }
}

#[test]
fn datacenter_preference_excludes_remote_nodes_unless_failover_is_permitted() {
    let c = cluster();
    let local = DefaultPolicy::builder().prefer_datacenter("dc1").build();
    for t in [-150, -50, 50, 150, 250] {
        let p = plan(&*local, &routed(t), &c);
        assert!(!p.contains(&4), "remote node in {p:?}");
        assert_eq!(p.len(), 3);
    }
    let failover = DefaultPolicy::builder()
        .prefer_datacenter("dc1")
        .permit_dc_failover(true)
        .build();
    for t in [-150, -50, 50, 150, 250] {
        let p = plan(&*failover, &routed(t), &c);
        assert_eq!(p.len(), 4);
        assert_eq!(*p.last().unwrap(), 4, "remote node last in {p:?}");
    }
}

#[test]
fn rack_preference_puts_rack_local_nodes_first() {
    let c = cluster();
    let policy = DefaultPolicy::builder()
        .prefer_datacenter_and_rack("dc1", "r2")
        .build();
    let unrouted = RoutingInfo::default();
    for _ in 0..4 {
        let p = plan(&*policy, &unrouted, &c);
        assert_eq!(p[0], 3, "{p:?}");
        assert_eq!(p.len(), 3);
    }
}

#[test]
fn unrouted_requests_round_robin_over_all_nodes() {
    let c = cluster();
    let policy = DefaultPolicy::default();
    let info = RoutingInfo::default();
    let firsts: std::collections::HashSet<u8> =
        (0..8).map(|_| plan(&policy, &info, &c)[0]).collect();
    assert_eq!(firsts.len(), 4, "{firsts:?}");
}

#[test]
fn empty_cluster_gives_an_empty_plan() {
    let c = ClusterState::default();
    let policy = DefaultPolicy::default();
    assert!(plan(&policy, &routed(1), &c).is_empty());
}

#[test]
fn latency_awareness_puts_a_slow_replica_after_every_other_node() {
    let c = cluster();
    let policy = DefaultPolicy::builder()
        .enable_shuffling_replicas(false)
        .latency_awareness(
            LatencyAwarenessBuilder::new()
                .minimum_measurements(5)
                .update_rate(Duration::ZERO),
        )
        .build();
    let info = routed(-150);
    let before = plan(&*policy, &info, &c);
    assert_eq!(
        before[0], 1,
        "the token's primary replica first: {before:?}"
    );
    let nodes = c.nodes();
    for _ in 0..5 {
        for n in nodes.iter() {
            let latency = if last_octet(n) == 1 { 40 } else { 2 };
            policy.on_request_success(&info, Duration::from_millis(latency), n);
        }
    }
    let after = plan(&*policy, &info, &c);
    assert_eq!(
        after.last(),
        Some(&1),
        "the slow replica is last: {after:?}"
    );
    assert_eq!(after.len(), before.len(), "and still in the plan");
    assert_eq!(
        Plan::new(&*policy, &info, &c)
            .next()
            .map(|(n, _)| last_octet(n)),
        Some(after[0]),
        "the pick agrees with the plan"
    );
    assert_ne!(after[0], 1);

    // Without latency awareness the same measurements change nothing.
    let plain = DefaultPolicy::builder()
        .enable_shuffling_replicas(false)
        .build();
    for n in nodes.iter() {
        plain.on_request_success(&info, Duration::from_millis(40), n);
    }
    assert_eq!(plan(&*plain, &info, &c), before);
}
