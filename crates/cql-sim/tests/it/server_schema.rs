//! Schema objects as drivers read them from `system_schema`: table flags and options, and
//! secondary indexes.

use cql_sim::SimCluster;
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::request::{Register, Request};
use proto::response::{Event, Response, SchemaChangeTarget};
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

#[tokio::test]
async fn indexes_record_targets_and_serve_queries_without_allow_filtering() {
    let (cluster, mut c) = ready().await;
    let mut listener = RawClient::ready(cluster.node(0).addr()).await;
    let r = listener
        .request(&Request::Register(Register {
            events: vec!["SCHEMA_CHANGE".into()],
        }))
        .await;
    assert!(matches!(r.response, Response::Ready), "{:?}", r.response);
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int, l list<int>, m map<text, int>, f frozen<list<int>>)").await;
    let _ = listener.next_event(TIMEOUT).await;
    c.ok("CREATE INDEX ON ks.t (v)").await;
    let Some(Event::SchemaChange(sc)) = listener.next_event(TIMEOUT).await else {
        panic!("a schema change event")
    };
    assert_eq!(sc.change_type.as_str(), "UPDATED");
    assert_eq!(
        sc.target,
        SchemaChangeTarget::Table {
            keyspace: "ks".into(),
            name: "t".into()
        }
    );
    c.ok("CREATE INDEX li ON ks.t (l)").await;
    c.ok("CREATE INDEX IF NOT EXISTS mk ON ks.t (keys(m))")
        .await;
    c.ok("CREATE INDEX me ON ks.t (entries(m))").await;
    c.ok("CREATE INDEX ff ON ks.t (full(f))").await;
    c.ok("CREATE CUSTOM INDEX sai_v ON ks.t (m) USING 'StorageAttachedIndex' WITH OPTIONS = {'case_sensitive': 'false'}").await;
    let r = c
        .ok("SELECT index_name, kind, options FROM system_schema.indexes WHERE keyspace_name = 'ks' AND table_name = 't'")
        .await;
    assert_eq!(
        values(&r),
        vec![
            vec![
                Some(t("ff")),
                Some(t("COMPOSITES")),
                text_map(&[("target", "full(f)")])
            ],
            vec![
                Some(t("li")),
                Some(t("COMPOSITES")),
                text_map(&[("target", "values(l)")])
            ],
            vec![
                Some(t("me")),
                Some(t("COMPOSITES")),
                text_map(&[("target", "entries(m)")])
            ],
            vec![
                Some(t("mk")),
                Some(t("COMPOSITES")),
                text_map(&[("target", "keys(m)")])
            ],
            vec![
                Some(t("sai_v")),
                Some(t("CUSTOM")),
                text_map(&[
                    ("case_sensitive", "false"),
                    (
                        "class_name",
                        "org.apache.cassandra.index.sai.StorageAttachedIndex"
                    ),
                    ("target", "values(m)"),
                ])
            ],
            vec![
                Some(t("t_v_idx")),
                Some(t("COMPOSITES")),
                text_map(&[("target", "v")])
            ],
        ]
    );
    c.ok("INSERT INTO ks.t (k, v, l, m, f) VALUES (1, 10, [1, 2], {'a': 1}, [7])")
        .await;
    c.ok("INSERT INTO ks.t (k, v, l, m, f) VALUES (2, 20, [3], {'b': 2}, [8])")
        .await;
    for (q, k) in [
        ("SELECT k FROM ks.t WHERE v = 20", 2),
        ("SELECT k FROM ks.t WHERE l CONTAINS 2", 1),
        ("SELECT k FROM ks.t WHERE m CONTAINS KEY 'b'", 2),
        ("SELECT k FROM ks.t WHERE f = [7]", 1),
        ("SELECT k FROM ks.t WHERE m['b'] = 2", 2),
    ] {
        let r = c.query(q).await;
        assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(k))]], "{q}");
    }

    // Already there: same name, or same target under another name.
    let r = c.query("CREATE INDEX li ON ks.t (v)").await;
    assert_eq!(message(&r), "Index 'li' already exists");
    let r = c.query("CREATE INDEX v2 ON ks.t (v)").await;
    assert_eq!(
        message(&r),
        "Index v2 is a duplicate of existing index t_v_idx"
    );
    c.ok("CREATE INDEX IF NOT EXISTS v2 ON ks.t (v)").await;
    for (q, m) in [
        (
            "CREATE INDEX ON ks.t (keys(l))",
            "Cannot create index on keys of column l with non-map type",
        ),
        (
            "CREATE INDEX ON ks.t (full(l))",
            "full() indexes can only be created on frozen collections",
        ),
        (
            "CREATE INDEX ON ks.t (f)",
            "Cannot create values() index on frozen column f. Frozen collections only support full() indexes",
        ),
        (
            "CREATE INDEX ON ks.t (k)",
            "Cannot create secondary index on the only partition key column k",
        ),
        ("CREATE INDEX ON ks.t (nope)", "Column 'nope' doesn't exist"),
        (
            "CREATE INDEX x ON ks.t (v) WITH OPTIONS = {'a': 'b'}",
            "Cannot specify options for a non-CUSTOM index",
        ),
    ] {
        let r = c.query(q).await;
        assert_eq!(error_code(&r), ErrorCode::INVALID, "{q}");
        assert_eq!(message(&r), m, "{q}");
    }

    assert!(values(&c.query("SELECT k FROM ks.t WHERE m['b'] = 1").await).is_empty());
    c.ok("DROP INDEX ks.me").await;
    let r = c.query("SELECT k FROM ks.t WHERE m['b'] = 2").await;
    assert_eq!(
        error_code(&r),
        ErrorCode::INVALID,
        "entries need their index"
    );
    let r = c
        .query("SELECT k FROM ks.t WHERE m['b'] = 2 ALLOW FILTERING")
        .await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(2))]]);
    c.ok("DROP INDEX ks.t_v_idx").await;
    let r = c.query("SELECT k FROM ks.t WHERE v = 20").await;
    assert_eq!(
        error_code(&r),
        ErrorCode::INVALID,
        "no index, no ALLOW FILTERING"
    );
    let r = c.query("DROP INDEX ks.t_v_idx").await;
    assert_eq!(error_code(&r), ErrorCode::INVALID);
    c.ok("DROP INDEX IF EXISTS ks.t_v_idx").await;
}

#[tokio::test]
async fn indexes_on_key_columns_serve_queries() {
    let (_cluster, mut c) = ready().await;
    c.ok("CREATE TABLE ks.k (a int, b int, c1 int, c2 int, v int, PRIMARY KEY ((a, b), c1, c2))")
        .await;
    c.ok("INSERT INTO ks.k (a, b, c1, c2, v) VALUES (1, 2, 3, 4, 5)")
        .await;
    c.ok("INSERT INTO ks.k (a, b, c1, c2, v) VALUES (1, 3, 3, 6, 7)")
        .await;
    for q in [
        "SELECT v FROM ks.k WHERE b = 2",
        "SELECT v FROM ks.k WHERE c2 = 4",
        "SELECT v FROM ks.k WHERE c1 = 3",
    ] {
        let r = c.query(q).await;
        assert_eq!(error_code(&r), ErrorCode::INVALID, "no index yet: {q}");
    }
    c.ok("CREATE INDEX ON ks.k (b)").await;
    c.ok("CREATE INDEX ON ks.k (c2)").await;
    assert_eq!(
        values(&c.query("SELECT v FROM ks.k WHERE b = 2").await),
        vec![vec![Some(CqlValue::Int(5))]]
    );
    assert_eq!(
        values(&c.query("SELECT v FROM ks.k WHERE c2 = 6").await),
        vec![vec![Some(CqlValue::Int(7))]]
    );
    let r = c.query("SELECT v FROM ks.k WHERE c1 = 3").await;
    assert_eq!(error_code(&r), ErrorCode::INVALID, "c1 has no index");
}
