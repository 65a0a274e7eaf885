//! Token and shard vectors, and the Scylla extension keys.

use std::collections::HashMap;

use bytes::BytesMut;
use cql_proto::StringMultimap;
use cql_proto::scylla::{ScyllaExtensions, ShardingInfo, TabletRoutingInfo};
use cql_proto::token::{Token, murmur3_token, serialize_partition_key, shard_of};
use uuid::Uuid;

#[test]
fn int_key_tokens_published_by_cassandra() {
    // Tokens of `int` partition keys (4-byte big-endian), as printed by Cassandra:
    // cassandra-dtest `replication_test.py` (`murmur3_hashes`, "pre-computed murmur 3 hashes"),
    // also cqlsh's test `test_parse_select_token` (token(1) = -4069959284402364209) and
    // Cassandra's SAI vector tests (keys 1, 2, 3 in comments).
    let vectors: [(i32, i64); 8] = [
        (1, -4069959284402364209),
        (2, -3248873570005575792),
        (3, 9010454139840013625),
        (4, -2729420104000364805),
        (5, -7509452495886106294),
        (10, -6715243485458697746),
        (12, 8582886034424406875),
        (20, 1388667306199997068),
    ];
    for (k, t) in vectors {
        assert_eq!(murmur3_token(&k.to_be_bytes()), Token(t), "key {k}");
    }
}

#[test]
fn byte_string_tokens_exercise_sign_extension() {
    // Vectors from the elixir-cassandra driver's `test/cassandra/murmur3_test.exs` (the same set
    // the DataStax drivers test their Cassandra-compatible murmur3 with). Tails with bytes >= 0x80
    // only match when those bytes are sign-extended as Java does.
    let vectors: [(&[u8], i64); 10] = [
        (b"123", -7468325962851647638),
        (&[0xfe; 8], -8927430733708461935),
        (&[0x10; 8], 1446172840243228796),
        (b"9223372036854775807", 7162290910810015547),
        (&[0xfe, 0xfe, 0xfe, 0xfe], 4566408979886474012),
        (&[0x00, 0x00, 0x00, 0x00], -3485513579396041028),
        (&[0xff, 0x01, 0x02, 0x03], -2839127690952877842),
        (&[0xe2, 0xe7], -8582699461035929883),
        (
            &[0xe2, 0xe7, 0xe2, 0xe7, 0xe2, 0xe7, 0x01],
            2222373981930033306,
        ),
        (&[0xfe; 17], -1672437813826982685),
    ];
    for (k, t) in vectors {
        assert_eq!(murmur3_token(k), Token(t), "key {k:02x?}");
    }
    // Full 16-byte blocks (no tail).
    assert_eq!(murmur3_token(&[0xff; 16]), Token(-2824192546314762522));
    let five = [0x00, 0xff, 0x10, 0xfa, 0x99].repeat(10);
    assert_eq!(murmur3_token(&five), Token(5837342703291459765));
}

#[test]
fn composite_key_token() {
    let mut b = BytesMut::new();
    serialize_partition_key(&[&1i32.to_be_bytes(), &2i32.to_be_bytes()], &mut b).unwrap();
    assert_eq!(&b[..], &[0, 4, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 2, 0]);
    // A single component is not wrapped.
    let mut single = BytesMut::new();
    serialize_partition_key(&[&1i32.to_be_bytes()], &mut single).unwrap();
    assert_eq!(murmur3_token(&single), Token(-4069959284402364209));
}

#[test]
fn shard_vectors_from_the_formula() {
    // biased = token + 2^63; biased <<= ignore_msb (mod 2^64); shard = biased * n / 2^64.
    assert_eq!(shard_of(Token::MIN, 12, 12), 0); // biased 0
    assert_eq!(shard_of(Token(0), 2, 0), 1); // 2^63 * 2 / 2^64 = 1
    assert_eq!(shard_of(Token(0), 3, 0), 1); // 1.5 truncated
    assert_eq!(shard_of(Token(-1), 2, 0), 0); // (2^63 - 1) * 2 / 2^64 < 1
    assert_eq!(shard_of(Token(0), 8, 12), 0); // 2^63 << 12 wraps to 0
    assert_eq!(shard_of(Token::MAX, 4, 0), 3);
    assert_eq!(shard_of(Token::MAX, 4, 12), 3); // (2^64 - 2^12) * 4 / 2^64 = 3.99...
    // Tokens of real keys, shards computed with arbitrary-precision integers from the formula.
    assert_eq!(shard_of(Token(-4069959284402364209), 4, 12), 1);
    assert_eq!(shard_of(Token(-4069959284402364209), 7, 12), 2);
    assert_eq!(shard_of(Token(9010454139840013625), 8, 12), 5);
    assert_eq!(shard_of(Token(-7468325962851647638), 3, 0), 0);
    assert_eq!(shard_of(Token(1234567890123456789), 12, 12), 1);
    // Degenerate parameters do not panic.
    assert_eq!(shard_of(Token(5), 0, 12), 0);
    assert_eq!(shard_of(Token(5), 4, 64), 0);
    for n in 1..=16u32 {
        for t in [i64::MIN, -1, 0, 1, i64::MAX, 0x1234_5678_9abc_def0] {
            assert!(shard_of(Token(t), n, 12) < n);
        }
    }
}

fn supported(pairs: &[(&str, &[&str])]) -> StringMultimap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
        .collect()
}

#[test]
fn sharding_info_from_supported() {
    let m = supported(&[
        ("SCYLLA_SHARD", &["3"]),
        ("SCYLLA_NR_SHARDS", &["12"]),
        (
            "SCYLLA_PARTITIONER",
            &["org.apache.cassandra.dht.Murmur3Partitioner"],
        ),
        ("SCYLLA_SHARDING_ALGORITHM", &["biased-token-round-robin"]),
        ("SCYLLA_SHARDING_IGNORE_MSB", &["12"]),
        ("SCYLLA_SHARD_AWARE_PORT", &["19042"]),
        (
            "SCYLLA_LWT_ADD_METADATA_MARK",
            &["LWT_OPTIMIZATION_META_BIT_MASK=2147483648"],
        ),
        ("SCYLLA_RATE_LIMIT_ERROR", &["ERROR_CODE=61440"]),
        ("TABLETS_ROUTING_V1", &[]),
        ("SCYLLA_USE_METADATA_ID", &[]),
        ("COMPRESSION", &["lz4", "snappy"]),
    ]);
    let s = ShardingInfo::from_supported(&m).unwrap();
    assert_eq!(
        s,
        ShardingInfo {
            shard: 3,
            nr_shards: 12,
            partitioner: "org.apache.cassandra.dht.Murmur3Partitioner".into(),
            algorithm: "biased-token-round-robin".into(),
            ignore_msb: 12,
            shard_aware_port: Some(19042),
            shard_aware_port_ssl: None,
        }
    );
    let e = ScyllaExtensions::from_supported(&m);
    assert_eq!(e.sharding.as_ref(), Some(&s));
    assert_eq!(e.lwt_optimization_meta_bit_mask, Some(0x8000_0000));
    assert_eq!(e.rate_limit_error_code, Some(61440));
    assert!(e.tablets_routing_v1 && e.use_metadata_id);
    assert_eq!(e.unknown, supported(&[("COMPRESSION", &["lz4", "snappy"])]));
    // The map round trips through to_supported.
    assert_eq!(e.to_supported(), m);
    let startup = e.startup_options();
    assert_eq!(
        startup
            .get("SCYLLA_LWT_ADD_METADATA_MARK")
            .map(String::as_str),
        Some("LWT_OPTIMIZATION_META_BIT_MASK=2147483648")
    );
    assert!(startup.contains_key("TABLETS_ROUTING_V1"));

    // Missing or malformed keys give None, never a panic.
    let mut bad = m.clone();
    bad.remove("SCYLLA_NR_SHARDS");
    assert_eq!(ShardingInfo::from_supported(&bad), None);
    let mut bad = m.clone();
    bad.insert("SCYLLA_SHARD".into(), vec!["x".into()]);
    assert_eq!(ShardingInfo::from_supported(&bad), None);
    let mut bad = m.clone();
    bad.insert("SCYLLA_NR_SHARDS".into(), vec![]);
    assert_eq!(ShardingInfo::from_supported(&bad), None);
    let mut bad = m;
    bad.insert("SCYLLA_NR_SHARDS".into(), vec!["0".into()]);
    assert_eq!(ShardingInfo::from_supported(&bad), None);
    assert_eq!(
        ScyllaExtensions::from_supported(&StringMultimap::new()),
        ScyllaExtensions::default()
    );
}

#[test]
fn tablet_routing_golden() {
    let host = Uuid::from_bytes([0x11; 16]);
    // tuple<bigint, bigint, list<tuple<uuid, int>>>: three [bytes] elements.
    let mut bytes = vec![0, 0, 0, 8];
    bytes.extend_from_slice(&(-10i64).to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 8]);
    bytes.extend_from_slice(&20i64.to_be_bytes());
    // list of one element: [int] len = 4 + 4 + 28 = 36, [int] n = 1, [bytes] tuple (28 bytes).
    bytes.extend_from_slice(&[0, 0, 0, 36, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 16]);
    bytes.extend_from_slice(&[0x11; 16]);
    bytes.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 3]);
    let info = TabletRoutingInfo::decode(&bytes).unwrap();
    assert_eq!(
        info,
        TabletRoutingInfo {
            first_token: -10,
            last_token: 20,
            replicas: vec![(host, 3)],
        }
    );
    let mut b = BytesMut::new();
    info.encode(&mut b).unwrap();
    assert_eq!(&b[..], &bytes[..]);
    let payload = HashMap::from([(
        "tablets-routing-v1".to_owned(),
        Some(bytes::Bytes::from(bytes.clone())),
    )]);
    assert_eq!(
        TabletRoutingInfo::from_custom_payload(&payload),
        Some(Ok(info))
    );
    assert_eq!(
        TabletRoutingInfo::from_custom_payload(&HashMap::new()),
        None
    );
    for cut in 0..bytes.len() {
        assert!(TabletRoutingInfo::decode(&bytes[..cut]).is_err());
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tablet_routing_round_trips_and_never_panics(
            first in any::<i64>(),
            last in any::<i64>(),
            replicas in prop::collection::vec((any::<u128>(), 0..=i32::MAX as u32), 0..5),
            junk in prop::collection::vec(any::<u8>(), 0..80),
        ) {
            let info = TabletRoutingInfo {
                first_token: first,
                last_token: last,
                replicas: replicas.into_iter().map(|(u, s)| (Uuid::from_u128(u), s)).collect(),
            };
            let mut b = BytesMut::new();
            info.encode(&mut b).unwrap();
            prop_assert_eq!(TabletRoutingInfo::decode(&b).unwrap(), info);
            let _ = TabletRoutingInfo::decode(&junk);
        }

        #[test]
        fn supported_maps_never_panic(
            m in prop::collection::hash_map(
                prop::sample::select(vec![
                    "SCYLLA_SHARD", "SCYLLA_NR_SHARDS", "SCYLLA_PARTITIONER",
                    "SCYLLA_SHARDING_ALGORITHM", "SCYLLA_SHARDING_IGNORE_MSB",
                    "SCYLLA_SHARD_AWARE_PORT", "SCYLLA_LWT_ADD_METADATA_MARK",
                    "SCYLLA_RATE_LIMIT_ERROR", "OTHER",
                ]).prop_map(str::to_owned),
                prop::collection::vec("[0-9A-Z_=x-]{0,12}", 0..3),
                0..9,
            ),
        ) {
            let e = ScyllaExtensions::from_supported(&m.into_iter().collect());
            if let Some(s) = &e.sharding {
                prop_assert!(s.shard < s.nr_shards);
            }
            // Parsing what we advertise gives the same extensions back.
            prop_assert_eq!(ScyllaExtensions::from_supported(&e.to_supported()), e);
        }

        #[test]
        fn shard_is_in_range(t in any::<i64>(), n in 1u32..1024, msb in 0u32..70) {
            prop_assert!(shard_of(Token(t), n, msb) < n);
        }
    }
}
