//! Token ring and replica placement with hand-computed expectations.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use proto::{TabletRoutingInfo, Token};
use uuid::Uuid;

use super::*;
use crate::ring::ReplicationStrategy;

fn node(last_octet: u8, dc: &str, rack: &str, tokens: &[i64]) -> NodeRef {
    let addr: SocketAddr = format!("127.0.0.{last_octet}:9042").parse().expect("addr");
    Arc::new(Node::new(
        addr,
        Some(Uuid::from_u128(u128::from(last_octet))),
        Some(dc.into()),
        Some(rack.into()),
        tokens.to_vec(),
    ))
}

fn octets(nodes: &[NodeRef]) -> Vec<u8> {
    nodes
        .iter()
        .map(|n| match n.address.ip() {
            std::net::IpAddr::V4(ip) => ip.octets()[3],
            std::net::IpAddr::V6(_) => 0,
        })
        .collect()
}

fn simple(rf: usize) -> ReplicationStrategy {
    ReplicationStrategy::SimpleStrategy {
        replication_factor: rf,
    }
}

fn nts(dcs: &[(&str, usize)]) -> ReplicationStrategy {
    ReplicationStrategy::NetworkTopologyStrategy {
        datacenter_repfactors: dcs
            .iter()
            .map(|(d, n)| ((*d).to_owned(), *n))
            .collect::<HashMap<_, _>>(),
    }
}

fn state(nodes: Vec<NodeRef>, ks: &[(&str, ReplicationStrategy)]) -> ClusterState {
    let keyspaces = ks
        .iter()
        .map(|(n, s)| ((*n).to_owned(), Keyspace::new(*n, s.clone())))
        .collect();
    ClusterState::new(nodes, keyspaces)
}

#[test]
fn simple_strategy_walks_the_ring_skipping_repeated_nodes() {
    // Ring: -100 A(1), 0 B(2), 50 C(3), 100 A(1).
    let nodes = vec![
        node(1, "dc1", "r1", &[-100, 100]),
        node(2, "dc1", "r1", &[0]),
        node(3, "dc1", "r1", &[50]),
    ];
    let s = state(
        nodes,
        &[("rf2", simple(2)), ("rf5", simple(5)), ("rf1", simple(1))],
    );
    assert_eq!(octets(s.replicas("rf2", Token(10))), vec![3, 1]); // owner 50 C, then 100 A
    assert_eq!(octets(s.replicas("rf2", Token(60))), vec![1, 2]); // 100 A, wrap -100 A (dup), 0 B
    assert_eq!(octets(s.replicas("rf2", Token(200))), vec![1, 2]); // wraps to -100 A
    assert_eq!(octets(s.replicas("rf2", Token(-100))), vec![1, 2]); // exact token is owned by A
    assert_eq!(octets(s.replicas("rf2", Token(0))), vec![2, 3]);
    assert_eq!(
        octets(s.replicas("rf5", Token(1))),
        vec![3, 1, 2],
        "rf capped at the node count"
    );
    assert_eq!(octets(s.replicas("rf1", Token(i64::MIN))), vec![1]);
    assert!(s.replicas("nope", Token(0)).is_empty());
}

#[test]
fn network_topology_is_rack_aware_per_datacenter() {
    // Ring: 0 A(dc1 r1), 10 D(dc2 r1), 20 B(dc1 r1), 30 E(dc2 r1), 40 C(dc1 r2).
    let nodes = vec![
        node(1, "dc1", "r1", &[0]),
        node(4, "dc2", "r1", &[10]),
        node(2, "dc1", "r1", &[20]),
        node(5, "dc2", "r1", &[30]),
        node(3, "dc1", "r2", &[40]),
    ];
    let s = state(
        nodes,
        &[
            ("a", nts(&[("dc1", 2), ("dc2", 1)])),
            ("b", nts(&[("dc1", 3), ("dc2", 1)])),
            ("c", nts(&[("dc2", 5)])),
        ],
    );
    // From D: D (dc2 done); B r1; E skipped (dc2 done); C r2 -> dc1 done.
    assert_eq!(octets(s.replicas("a", Token(5))), vec![4, 2, 3]);
    // From B: B r1, E dc2, C r2.
    assert_eq!(octets(s.replicas("a", Token(15))), vec![2, 5, 3]);
    // From A with dc1 rf 3: A r1; D dc2; B r1 repeated rack -> skipped; E ignored; C r2 -> all
    // racks seen, fill from skipped: B.
    assert_eq!(octets(s.replicas("b", Token(-5))), vec![1, 4, 3, 2]);
    // From C (token 35): C r2; wrap A r1 -> all racks; D dc2 -> done.
    assert_eq!(octets(s.replicas("b", Token(35))), vec![3, 1, 4, 2]);
    // dc2 rf 5 capped at its 2 nodes; dc1 absent.
    assert_eq!(octets(s.replicas("c", Token(0))), vec![4, 5]);
}

#[test]
fn network_topology_rack_preference_over_ring_order() {
    // dc1 only: 0 A r1, 10 B r1, 20 C r1, 30 D r2. RF 2 from A: A r1, B/C skipped, D r2.
    let nodes = vec![
        node(1, "dc1", "r1", &[0]),
        node(2, "dc1", "r1", &[10]),
        node(3, "dc1", "r1", &[20]),
        node(4, "dc1", "r2", &[30]),
    ];
    let s = state(
        nodes,
        &[("k", nts(&[("dc1", 2)])), ("k3", nts(&[("dc1", 3)]))],
    );
    assert_eq!(octets(s.replicas("k", Token(-1))), vec![1, 4]);
    // RF 3: A, D, then the first skipped (B).
    assert_eq!(octets(s.replicas("k3", Token(-1))), vec![1, 4, 2]);
    // From D (token 25): D r2, wrap A r1 -> both racks; then B in ring order.
    assert_eq!(octets(s.replicas("k3", Token(25))), vec![4, 1, 2]);
}

#[test]
fn local_and_other_strategies_route_to_the_primary_owner() {
    let nodes = vec![node(1, "dc1", "r1", &[0]), node(2, "dc1", "r1", &[10])];
    let mut opts = HashMap::new();
    opts.insert(
        "class".to_owned(),
        "org.apache.cassandra.locator.LocalStrategy".to_owned(),
    );
    let local = ReplicationStrategy::from_options(&opts);
    assert_eq!(local, ReplicationStrategy::LocalStrategy);
    let s = state(
        nodes,
        &[
            ("system", local),
            ("ev", ReplicationStrategy::EverywhereStrategy),
        ],
    );
    assert_eq!(octets(s.replicas("system", Token(5))), vec![2]);
    assert_eq!(octets(s.replicas("ev", Token(5))), vec![2, 1]);
}

#[test]
fn strategy_parsing() {
    let m = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<HashMap<_, _>>()
    };
    assert_eq!(
        ReplicationStrategy::from_options(&m(&[
            ("class", "org.apache.cassandra.locator.SimpleStrategy"),
            ("replication_factor", "3")
        ])),
        simple(3)
    );
    assert_eq!(
        ReplicationStrategy::from_options(&m(&[
            ("class", "NetworkTopologyStrategy"),
            ("dc1", "3"),
            ("dc2", "2/1")
        ])),
        nts(&[("dc1", 3), ("dc2", 2)])
    );
    assert_eq!(
        ReplicationStrategy::from_options(&m(&[("class", "com.example.Custom"), ("x", "y")])),
        ReplicationStrategy::Other {
            name: "com.example.Custom".to_owned(),
            data: m(&[("x", "y")]),
        }
    );
}

#[test]
fn equal_strategies_hash_equally_whatever_their_maps_order() {
    use std::hash::{BuildHasher, RandomState};
    let hasher = RandomState::new();
    let dcs: Vec<(String, usize)> = (0..16).map(|i| (format!("dc{i}"), i)).collect();
    let forward = ReplicationStrategy::NetworkTopologyStrategy {
        datacenter_repfactors: dcs.iter().cloned().collect(),
    };
    // Another map (its own random seed) filled in the reverse order iterates differently.
    let backward = ReplicationStrategy::NetworkTopologyStrategy {
        datacenter_repfactors: dcs.iter().rev().cloned().collect(),
    };
    assert_eq!(forward, backward);
    assert_eq!(hasher.hash_one(&forward), hasher.hash_one(&backward));
    assert_ne!(
        hasher.hash_one(&forward),
        hasher.hash_one(nts(&[("dc1", 1)]))
    );
    assert_ne!(
        hasher.hash_one(&ReplicationStrategy::LocalStrategy),
        hasher.hash_one(&ReplicationStrategy::EverywhereStrategy)
    );
}

#[test]
fn tablets_override_the_ring_for_their_table() {
    let nodes = vec![
        node(1, "dc1", "r1", &[0]),
        node(2, "dc1", "r1", &[100]),
        node(3, "dc1", "r1", &[200]),
    ];
    let s = state(nodes, &[("ks", simple(1))]);
    assert!(
        matches!(s.replicas_for("ks", "t", Token(50)), Replicas::Ring(r) if octets(r) == vec![2])
    );
    let info = TabletRoutingInfo {
        first_token: 0,
        last_token: 100,
        replicas: vec![
            (Uuid::from_u128(3), 5),
            (Uuid::from_u128(1), 2),
            (Uuid::from_u128(99), 0),
        ],
    };
    let s2 = s.with_tablet("ks", "t", &info);
    let r: Vec<(u8, Option<u32>)> = s2
        .replicas_for("ks", "t", Token(50))
        .iter()
        .map(|(n, sh)| (octets(std::slice::from_ref(n))[0], sh))
        .collect();
    assert_eq!(
        r,
        vec![(3, Some(5)), (1, Some(2))],
        "unknown host id dropped"
    );
    // Range ends: (0, 100] — token 0 is outside, token 100 inside.
    assert!(matches!(
        s2.replicas_for("ks", "t", Token(0)),
        Replicas::Ring(_)
    ));
    assert!(matches!(
        s2.replicas_for("ks", "t", Token(100)),
        Replicas::Tablet(_)
    ));
    assert!(matches!(
        s2.replicas_for("ks", "other", Token(50)),
        Replicas::Ring(_)
    ));
    // A newer overlapping tablet replaces the old one.
    let split = TabletRoutingInfo {
        first_token: 50,
        last_token: 100,
        replicas: vec![(Uuid::from_u128(2), 1)],
    };
    let s3 = s2.with_tablet("ks", "t", &split);
    assert!(
        matches!(s3.replicas_for("ks", "t", Token(30)), Replicas::Ring(_)),
        "overlapped tablet dropped"
    );
    let t = s3.tablet("ks", "t", Token(60)).expect("tablet");
    assert_eq!((t.first_token, t.last_token, t.replicas[0].1), (50, 100, 1));
    // The old snapshot is untouched.
    assert!(s.tablet("ks", "t", Token(50)).is_none());
}

#[test]
fn known_tablets_survive_schema_and_topology_refreshes() {
    let nodes = vec![
        node(1, "dc1", "r1", &[0]),
        node(2, "dc1", "r1", &[100]),
        node(3, "dc1", "r1", &[200]),
    ];
    let table = |name: &str| Table::new("ks", name, Vec::new());
    let with_tables = |names: &[&str]| {
        let mut ks = Keyspace::new("ks", nts(&[("dc1", 2)]));
        for n in names {
            ks.tables.insert((*n).to_owned(), Arc::new(table(n)));
        }
        ks
    };
    let s = ClusterState::new(
        nodes,
        [("ks".to_owned(), with_tables(&["t", "u"]))]
            .into_iter()
            .collect(),
    );
    let info = |host: u128| TabletRoutingInfo {
        first_token: 0,
        last_token: 100,
        replicas: vec![(Uuid::from_u128(host), 1)],
    };
    let s = s
        .with_tablet("ks", "t", &info(3))
        .with_tablet("ks", "u", &info(2));
    // A refresh of the keyspace (say, after CREATE TABLE v) keeps t's and u's tablets.
    let s = s.with_keyspace("ks", Some(with_tables(&["t", "u", "v"])));
    assert!(s.tablet("ks", "t", Token(50)).is_some());
    assert!(s.tablet("ks", "u", Token(50)).is_some());
    // A dropped table loses its tablets.
    let s = s.with_keyspace("ks", Some(with_tables(&["t"])));
    assert!(s.tablet("ks", "u", Token(50)).is_none());
    // New node objects: the tablet points at the new node 3.
    let fresh = vec![
        node(1, "dc1", "r1", &[0]),
        node(2, "dc1", "r1", &[100]),
        node(3, "dc1", "r1", &[200]),
    ];
    let s2 = s.with_nodes(fresh.clone());
    let t = s2.tablet("ks", "t", Token(50)).expect("kept");
    assert!(Arc::ptr_eq(&t.replicas[0].0, &fresh[2]));
    // Node 3 left: its tablet is forgotten.
    let s3 = s.with_nodes(fresh[..2].to_vec());
    assert!(s3.tablet("ks", "t", Token(50)).is_none());
    // A full refresh (new nodes and schema) keeps them too, unless the table is gone.
    let schema = |names: &[&str]| {
        [("ks".to_owned(), with_tables(names))]
            .into_iter()
            .collect()
    };
    let full = ClusterState::new(fresh.clone(), schema(&["t"])).with_known_tablets(&s);
    let t = full.tablet("ks", "t", Token(50)).expect("kept");
    assert!(Arc::ptr_eq(&t.replicas[0].0, &fresh[2]));
    let full = ClusterState::new(fresh, schema(&["u"])).with_known_tablets(&s);
    assert!(full.tablet("ks", "t", Token(50)).is_none());
    // A dropped keyspace loses everything.
    assert!(
        s.with_keyspace("ks", None)
            .tablet("ks", "t", Token(50))
            .is_none()
    );
}

#[test]
fn tables_index_columns_by_name_and_keep_the_schema_order() {
    let col = |name: &str, kind: ColumnKind, position: i32| Column {
        name: name.to_owned(),
        typ: ColumnType::Int,
        kind,
        position,
    };
    let table = Table::new(
        "ks",
        "t",
        vec![
            col("z", ColumnKind::Regular, -1),
            col("b", ColumnKind::PartitionKey, 1),
            col("s", ColumnKind::Static, -1),
            col("d", ColumnKind::Clustering, 1),
            col("y", ColumnKind::Regular, -1),
            col("a", ColumnKind::PartitionKey, 0),
            col("c", ColumnKind::Clustering, 0),
        ],
    );
    assert_eq!(table.partition_key, ["a", "b"]);
    assert_eq!(table.clustering_key, ["c", "d"]);
    assert_eq!(table.column_order, ["a", "b", "c", "d", "s", "y", "z"]);
    let in_order: Vec<&str> = table.columns_in_order().map(|c| c.name.as_str()).collect();
    assert_eq!(in_order, table.column_order);
    assert_eq!(table.columns.len(), 7);
    assert_eq!(table.columns["d"].position, 1);
    assert_eq!(table.column("s").map(|c| c.kind), Some(ColumnKind::Static));
    assert!(table.column("x").is_none());
}
