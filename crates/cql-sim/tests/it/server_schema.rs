//! Schema objects as drivers read them from `system_schema`: table flags and options, and
//! secondary indexes.

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::*;
use proto::response::Response;
use proto::{CqlValue, ErrorCode};

fn t(s: &str) -> CqlValue {
    CqlValue::Text(s.into())
}

fn text_map(pairs: &[(&str, &str)]) -> Option<CqlValue> {
    Some(CqlValue::Map(
        pairs.iter().map(|(k, v)| (t(k), t(v))).collect(),
    ))
}

fn message(r: &Response) -> &str {
    match r {
        Response::Error(e) => &e.message,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn ready() -> (SimCluster, RawClient) {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    (cluster, c)
}

#[tokio::test]
async fn table_flags_and_default_options_are_cassandras() {
    let (_cluster, mut c) = ready().await;
    c.ok("CREATE TABLE ks.plain (k int PRIMARY KEY, v int)")
        .await;
    c.ok("CREATE TABLE ks.counts (k int PRIMARY KEY, n counter)")
        .await;
    let r = c
        .ok("SELECT table_name, flags FROM system_schema.tables WHERE keyspace_name = 'ks'")
        .await;
    assert_eq!(
        values(&r),
        vec![
            vec![
                Some(t("counts")),
                Some(CqlValue::Set(vec![t("compound"), t("counter")]))
            ],
            vec![Some(t("plain")), Some(CqlValue::Set(vec![t("compound")]))],
        ]
    );
    let r = c
        .ok("SELECT compaction, compression, caching, speculative_retry, gc_grace_seconds, bloom_filter_fp_chance FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 'plain'")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![
            text_map(&[
                (
                    "class",
                    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"
                ),
                ("max_threshold", "32"),
                ("min_threshold", "4"),
            ]),
            text_map(&[
                ("chunk_length_in_kb", "16"),
                ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
            ]),
            text_map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
            Some(t("99p")),
            Some(CqlValue::Int(864_000)),
            Some(CqlValue::Double(0.01)),
        ]]
    );
}

#[tokio::test]
async fn table_options_are_stored_normalised_and_bad_ones_refused() {
    let (_cluster, mut c) = ready().await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int) WITH compaction = {'class': 'LeveledCompactionStrategy'} AND comment = 'hi' AND default_time_to_live = 100 AND speculative_retry = '95PERCENTILE' AND read_repair_chance = 0.1").await;
    c.ok("ALTER TABLE ks.t WITH compression = {'class': 'ZstdCompressor', 'chunk_length_in_kb': 64} AND caching = {'keys': 'NONE'}").await;
    let r = c
        .ok("SELECT compaction, compression, caching, comment, default_time_to_live, speculative_retry FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![
            text_map(&[
                (
                    "class",
                    "org.apache.cassandra.db.compaction.LeveledCompactionStrategy"
                ),
                ("max_threshold", "32"),
                ("min_threshold", "4"),
            ]),
            text_map(&[
                ("chunk_length_in_kb", "64"),
                ("class", "org.apache.cassandra.io.compress.ZstdCompressor"),
            ]),
            text_map(&[("keys", "NONE"), ("rows_per_partition", "NONE")]),
            Some(t("hi")),
            Some(CqlValue::Int(100)),
            Some(t("95p")),
        ]]
    );
    // default_time_to_live applies to writes without USING TTL.
    c.ok("INSERT INTO ks.t (k, v) VALUES (1, 1)").await;
    let r = c.ok("SELECT TTL(v) FROM ks.t WHERE k = 1").await;
    let Some(Some(CqlValue::Int(ttl))) = values(&r)[0].first().cloned() else {
        panic!("a TTL: {r:?}")
    };
    assert!((95..=100).contains(&ttl), "{ttl}");

    let r = c
        .query("CREATE TABLE ks.u (k int PRIMARY KEY) WITH foo = 1")
        .await;
    assert_eq!(error_code(&r), ErrorCode::SYNTAX_ERROR);
    assert_eq!(message(&r), "Unknown property 'foo'");
    let r = c
        .query("CREATE TABLE ks.u (k int PRIMARY KEY) WITH compaction = {'min_threshold': 2}")
        .await;
    assert_eq!(error_code(&r), ErrorCode::CONFIG_ERROR);
    let r = c.query("ALTER TABLE ks.t WITH gc_grace_seconds = -1").await;
    assert_eq!(error_code(&r), ErrorCode::CONFIG_ERROR);
    let r = c
        .query("CREATE TABLE ks.u (k int, c int, v int, PRIMARY KEY (k, c)) WITH COMPACT STORAGE")
        .await;
    assert_eq!(error_code(&r), ErrorCode::INVALID);
    let r = c
        .query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'ks'")
        .await;
    assert_eq!(values(&r), vec![vec![Some(t("t"))]], "nothing half-created");
}
