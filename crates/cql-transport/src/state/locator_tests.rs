//! The `scylla`-named lookups: tokens from partition-key values (checked against published
//! Murmur3 vectors and the composite-key layout written out by hand), and the replica locator
//! (checked against hand-walked rings).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use proto::response::TableSpec;
use proto::{ColumnType, Token};
use uuid::Uuid;

use super::*;
use crate::ring::ReplicationStrategy;

fn node(last_octet: u8, dc: &str, tokens: &[i64]) -> NodeRef {
    let addr: SocketAddr = format!("127.0.0.{last_octet}:9042").parse().expect("addr");
    Arc::new(Node::new(
        addr,
        Some(Uuid::from_u128(u128::from(last_octet))),
        Some(dc.into()),
        Some("r1".into()),
        tokens.to_vec(),
    ))
}

fn octet(n: &NodeRef) -> u8 {
    match n.address.ip() {
        std::net::IpAddr::V4(ip) => ip.octets()[3],
        std::net::IpAddr::V6(_) => 0,
    }
}

fn column(name: &str, typ: ColumnType, kind: ColumnKind, position: i32) -> Column {
    Column {
        name: name.into(),
        typ,
        kind,
        position,
    }
}

/// Keyspace `ks` (SimpleStrategy with `rf`) with tables `single (k int)`, `text_key (k text)`
/// and `composite ((a text, b int))`.
fn state(nodes: Vec<NodeRef>, rf: usize) -> ClusterState {
    let mut ks = Keyspace::new(
        "ks",
        ReplicationStrategy::SimpleStrategy {
            replication_factor: rf,
        },
    );
    let table = |name: &str, pk: Vec<Column>| {
        let v = column("v", ColumnType::Text, ColumnKind::Regular, -1);
        Table::new("ks", name, pk.into_iter().chain([v]).collect())
    };
    let pk = ColumnKind::PartitionKey;
    for t in [
        table("single", vec![column("k", ColumnType::Int, pk, 0)]),
        table("text_key", vec![column("k", ColumnType::Text, pk, 0)]),
        table(
            "composite",
            vec![
                column("a", ColumnType::Text, pk, 0),
                column("b", ColumnType::Int, pk, 1),
            ],
        ),
    ] {
        ks.tables.insert(t.name.clone(), Arc::new(t));
    }
    ClusterState::new(nodes, HashMap::from([("ks".to_owned(), ks)]))
}

fn three_nodes() -> Vec<NodeRef> {
    // Ring: -100 A(1), 0 B(2), 50 C(3), 100 A(1).
    vec![
        node(1, "dc1", &[-100, 100]),
        node(2, "dc1", &[0]),
        node(3, "dc2", &[50]),
    ]
}

#[test]
fn compute_token_matches_published_murmur3_vectors() {
    let s = state(three_nodes(), 1);
    // token(1) of an int key, as Cassandra's cqlsh tests print it.
    assert_eq!(
        s.compute_token("ks", "single", &(1i32,)).expect("token"),
        Token(-4069959284402364209)
    );
    assert_eq!(
        s.compute_token("ks", "single", &vec![3i32]).expect("token"),
        Token(9010454139840013625)
    );
    // The text key "123" (the DataStax drivers' vector).
    assert_eq!(
        s.compute_token("ks", "text_key", &("123",)).expect("token"),
        Token(-7468325962851647638)
    );
}

#[test]
fn compute_token_joins_composite_keys_as_the_spec_lays_them_out() {
    let s = state(three_nodes(), 1);
    // ('hello', 1): [short len] bytes 0x00 per component.
    let key: &[u8] = &[0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 4, 0, 0, 0, 1, 0];
    assert_eq!(
        s.compute_token("ks", "composite", &("hello", 1i32))
            .expect("token"),
        proto::murmur3_token(key)
    );
}

#[test]
fn compute_token_reports_what_is_wrong() {
    let s = state(three_nodes(), 1);
    assert!(matches!(
        s.compute_token("ks", "nope", &(1i32,)),
        Err(ClusterStateTokenError::UnknownTable { keyspace, table })
            if keyspace == "ks" && table == "nope"
    ));
    let err = s
        .compute_token("ks", "composite", &("hello",))
        .expect_err("one value for two columns");
    assert!(err.to_string().contains("1 values given"), "{err}");
    // An int column given a text value: the serializer's type check.
    assert!(matches!(
        s.compute_token("ks", "single", &("one",)),
        Err(ClusterStateTokenError::Serialization(_))
    ));
    assert!(matches!(
        s.compute_token("ks", "single", &(None::<i32>,)),
        Err(ClusterStateTokenError::TokenCalculation(
            TokenCalculationError::NullValue { .. }
        ))
    ));
}

#[test]
fn token_endpoints_walk_the_ring_with_shards() {
    let s = state(three_nodes(), 2);
    // Token 10 is owned by 50 C(3), then 100 A(1).
    let endpoints = s.get_token_endpoints("ks", "single", Token(10));
    let got: Vec<(u8, Shard)> = endpoints.iter().map(|(n, sh)| (octet(n), *sh)).collect();
    // No pools, so no sharding: shard 0.
    assert_eq!(got, vec![(3, 0), (1, 0)]);
    // An unknown keyspace goes to the primary owner.
    let owner = s.get_token_endpoints("other", "t", Token(10));
    assert_eq!(owner.iter().map(|(n, _)| octet(n)).collect::<Vec<_>>(), [3]);
    // get_endpoints is compute_token then get_token_endpoints.
    let token = s.compute_token("ks", "single", &(7i32,)).expect("token");
    let by_key = s
        .get_endpoints("ks", "single", &(7i32,))
        .expect("endpoints");
    let by_token = s.get_token_endpoints("ks", "single", token);
    assert_eq!(
        by_key.iter().map(|(n, _)| n.address).collect::<Vec<_>>(),
        by_token.iter().map(|(n, _)| n.address).collect::<Vec<_>>()
    );
}

#[test]
fn locator_answers_for_any_strategy_and_datacenter() {
    let s = state(three_nodes(), 2);
    let locator = s.replica_locator();
    let spec = TableSpec::borrowed("ks", "single");
    let rf3 = ReplicationStrategy::SimpleStrategy {
        replication_factor: 3,
    };
    // Not precomputed (no keyspace uses RF 3): computed for the token. From token 60: 100 A,
    // (-100 A again), 0 B, 50 C.
    let set = locator.replicas_for_token(Token(60), &rf3, None, &spec);
    assert_eq!(
        set.iter().map(|(n, _)| octet(n)).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(set.len(), 3);
    let dc2 = locator.replicas_for_token(Token(60), &rf3, Some("dc2"), &spec);
    assert_eq!(dc2.iter().map(|(n, _)| octet(n)).collect::<Vec<_>>(), [3]);
    let none = locator.replicas_for_token(Token(60), &rf3, Some("dc9"), &spec);
    assert!(none.is_empty());
    // The keyspace's own strategy is precomputed; by value the set yields shared handles.
    let rf2 = ReplicationStrategy::SimpleStrategy {
        replication_factor: 2,
    };
    let owned: Vec<(NodeRef, Shard)> = locator
        .replicas_for_token(Token(60), &rf2, None, &spec)
        .into_iter()
        .collect();
    assert_eq!(
        owned.iter().map(|(n, _)| octet(n)).collect::<Vec<_>>(),
        [1, 2]
    );

    assert_eq!(
        locator
            .unique_nodes_in_global_ring()
            .iter()
            .map(octet)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(locator.datacenter_names(), ["dc1", "dc2"]);
    let dc1 = locator.unique_nodes_in_datacenter_ring("dc1").expect("dc1");
    assert_eq!(dc1.iter().map(octet).collect::<Vec<_>>(), [1, 2]);
    assert!(locator.unique_nodes_in_datacenter_ring("dc9").is_none());

    let ring = locator.ring();
    assert_eq!(ring.get_elem_for_token(Token(1)).map(octet), Some(3));
    let walk: Vec<(i64, u8)> = ring
        .ring_range_full(Token(1))
        .map(|(t, n)| (t.value(), octet(n)))
        .collect();
    assert_eq!(walk, [(50, 3), (100, 1), (-100, 1), (0, 2)]);
    assert_eq!(
        ring.ring_range(Token(101)).map(octet).collect::<Vec<_>>(),
        [1, 2, 3, 1]
    );
}

#[test]
fn scylla_named_accessors_answer_like_the_native_ones() {
    let s = state(three_nodes(), 1);
    assert_eq!(s.get_nodes_info().len(), 3);
    assert!(s.get_keyspace("ks").is_some());
    assert!(s.get_keyspace(String::from("nope")).is_none());
    let names: Vec<&str> = s.keyspaces_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["ks"]);
    assert_eq!(
        s.keyspaces_iter()
            .map(|(_, k)| k.tables.len())
            .sum::<usize>(),
        3
    );
}
