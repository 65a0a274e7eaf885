use bytes::{BufMut, Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::*;
use crate::storage::Store;

const NOW: i64 = 1_700_000_000_000_000;

struct Sim {
    engine: Engine,
    store: Store,
    now: i64,
}

impl Sim {
    fn new() -> Self {
        let mut s = Self {
            engine: Engine::new(),
            store: Store::new(),
            now: NOW,
        };
        s.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        s
    }

    fn opts(&self) -> QueryOptions<'static> {
        QueryOptions {
            keyspace: Some("ks"),
            now_micros: self.now,
            ..QueryOptions::default()
        }
    }

    fn run(&mut self, q: &str) -> Result<Outcome> {
        // Every statement gets a later timestamp, as a real client clock gives.
        self.now += 1;
        let opts = self.opts();
        self.engine.query(&mut self.store, q, &opts)
    }

    fn ok(&mut self, q: &str) -> Outcome {
        match self.run(q) {
            Ok(o) => o,
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn err(&mut self, q: &str) -> CqlError {
        match self.run(q) {
            Ok(o) => panic!("{q}: expected an error, got {o:?}"),
            Err(e) => e,
        }
    }

    fn rows(&mut self, q: &str) -> Vec<Vec<Option<CqlValue>>> {
        match self.ok(q) {
            Outcome::Rows(r) => decode(&r),
            other => panic!("{q}: not rows: {other:?}"),
        }
    }
}

fn decode(r: &RowsResult) -> Vec<Vec<Option<CqlValue>>> {
    r.rows
        .iter()
        .map(|row| {
            assert_eq!(row.len(), r.columns.len());
            row.iter()
                .zip(&r.columns)
                .map(|(c, spec)| {
                    c.as_ref()
                        .map(|b| CqlValue::decode_bytes(&spec.typ, b).unwrap())
                })
                .collect()
        })
        .collect()
}

fn int(v: i32) -> Option<CqlValue> {
    Some(CqlValue::Int(v))
}

fn txt(v: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(v.into()))
}

fn ints(rows: &[Vec<Option<CqlValue>>], col: usize) -> Vec<i32> {
    rows.iter()
        .map(|r| match &r[col] {
            Some(CqlValue::Int(v)) => *v,
            other => panic!("not an int: {other:?}"),
        })
        .collect()
}

fn bv_int(v: i32) -> BoundValue {
    BoundValue::Value(Bytes::copy_from_slice(&v.to_be_bytes()))
}

#[test]
fn crud_with_clustering_order() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    for c in [3, 1, 2] {
        s.ok(&format!("INSERT INTO t (k, c, v) VALUES (1, {c}, 'v{c}')"));
    }
    s.ok("INSERT INTO t (k, c, v) VALUES (2, 1, 'other')");
    let rows = s.rows("SELECT c, v FROM t WHERE k = 1");
    assert_eq!(ints(&rows, 0), vec![3, 2, 1]);
    assert_eq!(rows[0][1], txt("v3"));
    let rows = s.rows("SELECT c FROM t WHERE k = 1 ORDER BY c ASC");
    assert_eq!(ints(&rows, 0), vec![1, 2, 3]);
    let rows = s.rows("SELECT c FROM t WHERE k = 1 AND c > 1");
    assert_eq!(ints(&rows, 0), vec![3, 2]);
    let rows = s.rows("SELECT c FROM t WHERE k = 1 AND c >= 1 AND c < 3");
    assert_eq!(ints(&rows, 0), vec![2, 1]);
    s.ok("UPDATE t SET v = 'new' WHERE k = 1 AND c = 2");
    assert_eq!(
        s.rows("SELECT v FROM t WHERE k = 1 AND c = 2"),
        vec![vec![txt("new")]]
    );
    s.ok("DELETE FROM t WHERE k = 1 AND c = 3");
    assert_eq!(ints(&s.rows("SELECT c FROM t WHERE k = 1"), 0), vec![2, 1]);
    s.ok("DELETE v FROM t WHERE k = 1 AND c = 2");
    assert_eq!(
        s.rows("SELECT c, v FROM t WHERE k = 1 AND c = 2"),
        vec![vec![int(2), None]]
    );
    s.ok("DELETE FROM t WHERE k = 1");
    assert!(s.rows("SELECT * FROM t WHERE k = 1").is_empty());
    assert_eq!(s.rows("SELECT * FROM t").len(), 1);
    let asc = {
        s.ok("CREATE TABLE a (k int, c text, PRIMARY KEY (k, c))");
        for c in ["b", "a", "c"] {
            s.ok(&format!("INSERT INTO a (k, c) VALUES (0, '{c}')"));
        }
        s.rows("SELECT c FROM a WHERE k = 0")
    };
    assert_eq!(asc, vec![vec![txt("a")], vec![txt("b")], vec![txt("c")]]);
}

#[test]
fn range_deletes_and_in() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c1 int, c2 int, v int, PRIMARY KEY (k, c1, c2))");
    for c1 in 0..3 {
        for c2 in 0..3 {
            s.ok(&format!(
                "INSERT INTO t (k, c1, c2, v) VALUES (0, {c1}, {c2}, {})",
                c1 * 10 + c2
            ));
        }
    }
    s.ok("DELETE FROM t WHERE k = 0 AND c1 = 1 AND c2 >= 1");
    assert_eq!(
        ints(&s.rows("SELECT v FROM t WHERE k = 0"), 0),
        vec![0, 1, 2, 10, 20, 21, 22]
    );
    s.ok("DELETE FROM t WHERE k = 0 AND c1 = 2");
    assert_eq!(
        ints(&s.rows("SELECT v FROM t WHERE k = 0"), 0),
        vec![0, 1, 2, 10]
    );
    s.ok("DELETE FROM t WHERE k = 0 AND c1 < 1");
    assert_eq!(ints(&s.rows("SELECT v FROM t WHERE k = 0"), 0), vec![10]);
    // A later insert with a newer timestamp is visible again.
    s.now += 1;
    s.ok("INSERT INTO t (k, c1, c2, v) VALUES (0, 2, 2, 99)");
    assert_eq!(
        ints(&s.rows("SELECT v FROM t WHERE k = 0"), 0),
        vec![10, 99]
    );
    for k in 1..5 {
        s.ok(&format!(
            "INSERT INTO t (k, c1, c2, v) VALUES ({k}, 0, 0, {k})"
        ));
    }
    let mut got = ints(
        &s.rows("SELECT v FROM t WHERE k IN (4, 2, 3) AND c1 = 0 AND c2 IN (0, 5)"),
        0,
    );
    got.sort();
    assert_eq!(got, vec![2, 3, 4]);
}

#[test]
fn ttl_expiry_with_supplied_now() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int, w int)");
    s.ok("INSERT INTO t (k, v) VALUES (1, 1) USING TTL 10");
    s.ok("UPDATE t SET w = 5 WHERE k = 1");
    assert_eq!(
        s.rows("SELECT ttl(v), ttl(w) FROM t WHERE k = 1"),
        vec![vec![int(10), None]]
    );
    s.now += 4_000_000;
    assert_eq!(
        s.rows("SELECT ttl(v) FROM t WHERE k = 1"),
        vec![vec![int(6)]]
    );
    s.now += 6_000_000;
    assert_eq!(
        s.rows("SELECT k, v, w FROM t WHERE k = 1"),
        vec![vec![int(1), None, int(5)]]
    );
    s.ok("INSERT INTO t (k, v) VALUES (2, 2) USING TTL 1");
    s.now += 1_000_000;
    assert!(s.rows("SELECT * FROM t WHERE k = 2").is_empty());
}

#[test]
fn last_write_wins_on_timestamps() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    s.ok("INSERT INTO t (k, v) VALUES (1, 1) USING TIMESTAMP 100");
    s.ok("INSERT INTO t (k, v) VALUES (1, 2) USING TIMESTAMP 50");
    assert_eq!(
        s.rows("SELECT v, writetime(v) FROM t WHERE k = 1"),
        vec![vec![int(1), Some(CqlValue::BigInt(100))]]
    );
    // Ties: the larger value wins.
    s.ok("INSERT INTO t (k, v) VALUES (1, 7) USING TIMESTAMP 100");
    assert_eq!(s.rows("SELECT v FROM t WHERE k = 1"), vec![vec![int(7)]]);
    s.ok("INSERT INTO t (k, v) VALUES (1, 3) USING TIMESTAMP 100");
    assert_eq!(s.rows("SELECT v FROM t WHERE k = 1"), vec![vec![int(7)]]);
    // A delete older than the data does not remove it; a newer one does.
    s.ok("DELETE FROM t USING TIMESTAMP 99 WHERE k = 1");
    assert_eq!(s.rows("SELECT v FROM t WHERE k = 1"), vec![vec![int(7)]]);
    s.ok("DELETE FROM t USING TIMESTAMP 101 WHERE k = 1");
    assert!(s.rows("SELECT v FROM t WHERE k = 1").is_empty());
    s.ok("INSERT INTO t (k, v) VALUES (1, 9) USING TIMESTAMP 100");
    assert!(s.rows("SELECT v FROM t WHERE k = 1").is_empty());
}

fn applied(o: &Outcome) -> (bool, Vec<String>, Vec<Option<CqlValue>>) {
    let Outcome::Rows(r) = o else {
        panic!("not rows: {o:?}")
    };
    assert_eq!(r.columns[0].name, "[applied]");
    let row = decode(r).remove(0);
    let a = row[0] == Some(CqlValue::Boolean(true));
    (
        a,
        r.columns.iter().map(|c| c.name.to_string()).collect(),
        row,
    )
}

#[test]
fn lightweight_transactions() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    let (a, cols, _) = applied(&s.ok("INSERT INTO t (k, v) VALUES (1, 1) IF NOT EXISTS"));
    assert!(a);
    assert_eq!(cols, vec!["[applied]"]);
    let (a, cols, row) = applied(&s.ok("INSERT INTO t (k, v) VALUES (1, 2) IF NOT EXISTS"));
    assert!(!a);
    assert_eq!(cols, vec!["[applied]", "k", "v"]);
    assert_eq!(row[2], int(1));
    let (a, _, row) = applied(&s.ok("UPDATE t SET v = 3 WHERE k = 1 IF v = 5"));
    assert!(!a);
    assert_eq!(row[1], int(1));
    assert!(applied(&s.ok("UPDATE t SET v = 3 WHERE k = 1 IF v = 1")).0);
    assert!(applied(&s.ok("UPDATE t SET v = 4 WHERE k = 1 IF v > 2 AND v IN (3, 9)")).0);
    assert_eq!(s.rows("SELECT v FROM t WHERE k = 1"), vec![vec![int(4)]]);
    assert!(!applied(&s.ok("UPDATE t SET v = 3 WHERE k = 2 IF EXISTS")).0);
    assert!(s.rows("SELECT v FROM t WHERE k = 2").is_empty());
    assert!(applied(&s.ok("DELETE FROM t WHERE k = 1 IF EXISTS")).0);
    assert!(s.rows("SELECT v FROM t WHERE k = 1").is_empty());
    assert!(applied(&s.ok("UPDATE t SET v = 1 WHERE k = 3 IF v = null")).0);
}

#[test]
fn collections() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, l list<int>, st set<text>, m map<text, int>, f frozen<list<int>>)");
    s.ok("INSERT INTO t (k, l, st, m, f) VALUES (1, [1, 2], {'b', 'a'}, {'x': 1}, [9, 8])");
    s.ok("UPDATE t SET l = l + [3], st = st + {'c'}, m['y'] = 2 WHERE k = 1");
    s.ok("UPDATE t SET l = [0] + l WHERE k = 1");
    let rows = s.rows("SELECT l, st, m, f FROM t WHERE k = 1");
    let list = |v: &[i32]| {
        Some(CqlValue::List(
            v.iter().map(|x| CqlValue::Int(*x)).collect(),
        ))
    };
    assert_eq!(rows[0][0], list(&[0, 1, 2, 3]));
    assert_eq!(
        rows[0][1],
        Some(CqlValue::Set(vec![
            CqlValue::Text("a".into()),
            CqlValue::Text("b".into()),
            CqlValue::Text("c".into())
        ]))
    );
    assert_eq!(
        rows[0][2],
        Some(CqlValue::Map(vec![
            (CqlValue::Text("x".into()), CqlValue::Int(1)),
            (CqlValue::Text("y".into()), CqlValue::Int(2))
        ]))
    );
    assert_eq!(rows[0][3], list(&[9, 8]));
    s.ok("UPDATE t SET l = l - [1], st = st - {'a'}, m = m - {'x'} WHERE k = 1");
    s.ok("UPDATE t SET l[0] = 7 WHERE k = 1");
    s.ok("DELETE m['y'] FROM t WHERE k = 1");
    let rows = s.rows("SELECT l, st, m FROM t WHERE k = 1");
    assert_eq!(rows[0][0], list(&[7, 2, 3]));
    assert_eq!(
        rows[0][1],
        Some(CqlValue::Set(vec![
            CqlValue::Text("b".into()),
            CqlValue::Text("c".into())
        ]))
    );
    assert_eq!(rows[0][2], None);
    s.ok("UPDATE t SET l = [5] WHERE k = 1");
    assert_eq!(s.rows("SELECT l FROM t WHERE k = 1")[0][0], list(&[5]));
    assert!(matches!(
        s.err("UPDATE t SET f = f + [1] WHERE k = 1"),
        CqlError::Invalid(_)
    ));
}

#[test]
fn counters_and_statics() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE c (k int PRIMARY KEY, n counter)");
    s.ok("UPDATE c SET n = n + 5 WHERE k = 1");
    s.ok("UPDATE c SET n = n - 2 WHERE k = 1");
    s.ok("BEGIN COUNTER BATCH UPDATE c SET n = n + 10 WHERE k = 1; APPLY BATCH");
    assert_eq!(
        s.rows("SELECT n FROM c WHERE k = 1"),
        vec![vec![Some(CqlValue::Counter(13))]]
    );
    assert!(matches!(
        s.err("INSERT INTO c (k, n) VALUES (1, 1)"),
        CqlError::Invalid(_)
    ));
    assert!(matches!(
        s.err("UPDATE c SET n = 1 WHERE k = 1"),
        CqlError::Invalid(_)
    ));

    s.ok("CREATE TABLE st (k int, c int, s text static, v int, PRIMARY KEY (k, c))");
    assert!(matches!(
        s.err("BEGIN BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH"),
        CqlError::Invalid(_)
    ));
    assert!(matches!(
        s.err("BEGIN COUNTER BATCH DELETE FROM st WHERE k = 1; APPLY BATCH"),
        CqlError::Invalid(_)
    ));
    assert!(matches!(
        s.err("SELECT k FROM st GROUP BY k"),
        CqlError::Invalid(_)
    ));
    s.ok("INSERT INTO st (k, c, s, v) VALUES (1, 1, 'shared', 10)");
    s.ok("INSERT INTO st (k, c, v) VALUES (1, 2, 20)");
    let rows = s.rows("SELECT c, s, v FROM st WHERE k = 1");
    assert_eq!(
        rows,
        vec![
            vec![int(1), txt("shared"), int(10)],
            vec![int(2), txt("shared"), int(20)]
        ]
    );
    s.ok("UPDATE st SET s = 'changed' WHERE k = 1");
    assert_eq!(
        s.rows("SELECT s FROM st WHERE k = 1 AND c = 2"),
        vec![vec![txt("changed")]]
    );
    s.ok("INSERT INTO st (k, s) VALUES (2, 'alone')");
    assert_eq!(
        s.rows("SELECT k, c, s, v FROM st WHERE k = 2"),
        vec![vec![int(2), None, txt("alone"), None]]
    );
}

#[test]
fn paging_returns_each_row_once_and_respects_limit() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))");
    for i in 0..1000 {
        s.ok(&format!(
            "INSERT INTO t (k, c, v) VALUES ({}, {}, {i})",
            i % 37,
            i
        ));
    }
    let page = |s: &mut Sim, q: &str, state: Option<Bytes>| -> RowsResult {
        let opts = QueryOptions {
            page_size: Some(7),
            paging_state: state,
            ..s.opts()
        };
        match s.engine.query(&mut s.store, q, &opts).unwrap() {
            Outcome::Rows(r) => r,
            other => panic!("{other:?}"),
        }
    };
    for (q, expect) in [
        ("SELECT v FROM t", 1000usize),
        ("SELECT v FROM t LIMIT 100", 100),
        ("SELECT v FROM t PER PARTITION LIMIT 3", 37 * 3),
    ] {
        let mut seen = Vec::new();
        let mut state = None;
        for _ in 0..1000 {
            let r = page(&mut s, q, state.take());
            assert!(r.rows.len() <= 7);
            seen.extend(ints(&decode(&r), 0));
            match r.paging_state {
                Some(p) => state = Some(p),
                None => break,
            }
        }
        assert_eq!(seen.len(), expect, "{q}");
        let mut dedup = seen.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), expect, "{q}: duplicates");
    }
    // The unpaged scan has the same order as the paged one (token order, then clustering).
    let all = ints(&s.rows("SELECT v FROM t"), 0);
    let mut paged = Vec::new();
    let mut state = None;
    loop {
        let r = page(&mut s, "SELECT v FROM t", state.take());
        paged.extend(ints(&decode(&r), 0));
        match r.paging_state {
            Some(p) => state = Some(p),
            None => break,
        }
    }
    assert_eq!(all, paged);
    // Garbage and foreign paging states are rejected.
    let opts = QueryOptions {
        page_size: Some(7),
        paging_state: Some(Bytes::from_static(b"garbage")),
        ..s.opts()
    };
    assert_eq!(
        s.engine
            .query(&mut s.store, "SELECT v FROM t", &opts)
            .unwrap_err()
            .code(),
        0x000A
    );
    let first = page(&mut s, "SELECT v FROM t", None).paging_state.unwrap();
    let opts = QueryOptions {
        page_size: Some(7),
        paging_state: Some(first),
        ..s.opts()
    };
    assert!(
        s.engine
            .query(&mut s.store, "SELECT c FROM t", &opts)
            .is_err()
    );
}

#[test]
fn token_ranges_and_filtering() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    for k in 0..50 {
        s.ok(&format!("INSERT INTO t (k, v) VALUES ({k}, {})", k % 5));
    }
    let rows = s.rows("SELECT token(k), k FROM t");
    let tokens: Vec<i64> = rows
        .iter()
        .map(|r| match r[0] {
            Some(CqlValue::BigInt(t)) => t,
            _ => panic!(),
        })
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] < w[1]));
    let mid = tokens[25];
    let after = s.rows(&format!("SELECT k FROM t WHERE token(k) > {mid}"));
    assert_eq!(after.len(), 24);
    let upto = s.rows(&format!("SELECT k FROM t WHERE token(k) <= {mid}"));
    assert_eq!(upto.len(), 26);
    let between = s.rows(&format!(
        "SELECT k FROM t WHERE token(k) >= {} AND token(k) < {}",
        tokens[10], tokens[20]
    ));
    assert_eq!(between.len(), 10);
    // Murmur3 of int 1 (bytes 00000001) is a known Cassandra vector.
    let one = s.rows("SELECT token(k) FROM t WHERE k = 1");
    assert_eq!(
        one,
        vec![vec![Some(CqlValue::BigInt(-4_069_959_284_402_364_209))]]
    );
    let e = s.err("SELECT k FROM t WHERE v = 1");
    assert!(e.to_string().contains("ALLOW FILTERING"), "{e}");
    let mut got = ints(&s.rows("SELECT k FROM t WHERE v = 1 ALLOW FILTERING"), 0);
    got.sort();
    assert_eq!(got, vec![1, 6, 11, 16, 21, 26, 31, 36, 41, 46]);
    assert_eq!(
        s.rows("SELECT count(*) FROM t WHERE v > 2 ALLOW FILTERING"),
        vec![vec![Some(CqlValue::BigInt(20))]]
    );
    assert_eq!(
        s.rows("SELECT COUNT(1) AS n FROM t"),
        vec![vec![Some(CqlValue::BigInt(50))]]
    );
}

#[test]
fn system_schema_rows_for_a_table() {
    let mut s = Sim::new();
    s.ok("CREATE TYPE addr (street text, nums frozen<list<int>>)");
    s.ok("CREATE TABLE t (a int, b text, c timeuuid, s int static, m map<text, int>, f frozen<list<int>>, u frozen<addr>, PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND comment = 'hello'");
    let rows = s.rows("SELECT column_name, kind, position, type, clustering_order FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'");
    let got: Vec<(String, String, i32, String, String)> = rows
        .iter()
        .map(|r| {
            let t = |i: usize| match &r[i] {
                Some(CqlValue::Text(s)) => s.clone(),
                o => panic!("{o:?}"),
            };
            let Some(CqlValue::Int(p)) = r[2] else {
                panic!("position is not an int")
            };
            (t(0), t(1), p, t(3), t(4))
        })
        .collect();
    let want = [
        ("a", "partition_key", 0, "int", "none"),
        ("b", "partition_key", 1, "text", "none"),
        ("c", "clustering", 0, "timeuuid", "desc"),
        ("f", "regular", -1, "frozen<list<int>>", "none"),
        ("m", "regular", -1, "map<text, int>", "none"),
        ("s", "static", -1, "int", "none"),
        ("u", "regular", -1, "frozen<addr>", "none"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(a, b, c, d, e)| {
            (
                a.to_string(),
                b.to_string(),
                *c,
                d.to_string(),
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let ks = s.rows("SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
    assert_eq!(
        ks[0][2],
        Some(CqlValue::Map(vec![
            (
                CqlValue::Text("class".into()),
                CqlValue::Text("org.apache.cassandra.locator.SimpleStrategy".into())
            ),
            (
                CqlValue::Text("replication_factor".into()),
                CqlValue::Text("1".into())
            ),
        ]))
    );
    let tables = s.rows(
        "SELECT table_name, comment, id FROM system_schema.tables WHERE keyspace_name IN ('ks')",
    );
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0][1], txt("hello"));
    let types = s.rows("SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = 'ks'");
    assert_eq!(
        types[0][2],
        Some(CqlValue::List(vec![
            CqlValue::Text("text".into()),
            CqlValue::Text("frozen<list<int>>".into())
        ]))
    );
    assert!(
        s.rows("SELECT * FROM system_schema.views WHERE keyspace_name = 'ks'")
            .is_empty()
    );
    assert!(s.rows("SELECT * FROM system_schema.functions").is_empty());
    assert!(
        !s.rows("SELECT keyspace_name FROM system_schema.keyspaces")
            .is_empty()
    );
}

#[test]
fn prepared_statements_pk_indexes_and_binding() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))");
    let info = s
        .engine
        .prepare("INSERT INTO t (v, b, c, a) VALUES (?, ?, ?, ?)", Some("ks"))
        .unwrap();
    assert_eq!(info.pk_indexes, vec![3, 1]);
    assert_eq!(
        info.bind_specs
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>(),
        vec!["v", "b", "c", "a"]
    );
    assert_eq!(info.bind_specs[1].typ, ColumnType::Text);
    assert_eq!(
        info.id,
        statement_id("INSERT INTO t (v, b, c, a) VALUES (?, ?, ?, ?)", Some("ks"))
    );
    let stmt = s.engine.prepared(&info.id).unwrap();
    let opts = QueryOptions {
        values: vec![
            bv_int(10),
            BoundValue::Value(Bytes::from_static(b"x")),
            bv_int(1),
            bv_int(5),
        ],
        ..s.opts()
    };
    s.engine.execute(&mut s.store, &stmt, &opts).unwrap();
    let sel = s
        .engine
        .prepare(
            "SELECT v FROM t WHERE b = :bb AND a = ? AND c IN ? LIMIT ?",
            Some("ks"),
        )
        .unwrap();
    assert_eq!(sel.pk_indexes, vec![1, 0]);
    let names: Vec<_> = sel
        .bind_specs
        .iter()
        .map(|b| (b.name.as_str(), b.typ.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("bb", ColumnType::Text),
            ("a", ColumnType::Int),
            ("in(c)", ColumnType::List(Box::new(ColumnType::Int))),
            ("[limit]", ColumnType::Int)
        ]
    );
    assert_eq!(sel.result_specs[0].name, "v");
    let mut list = BytesMut::new();
    list.put_i32(1);
    list.put_i32(4);
    list.put_i32(1);
    let stmt = s.engine.prepared(&sel.id).unwrap();
    let opts = QueryOptions {
        values: vec![
            BoundValue::Value(Bytes::from_static(b"x")),
            bv_int(5),
            BoundValue::Value(list.freeze()),
            bv_int(10),
        ],
        ..s.opts()
    };
    let Outcome::Rows(r) = s.engine.execute(&mut s.store, &stmt, &opts).unwrap() else {
        panic!()
    };
    assert_eq!(decode(&r), vec![vec![int(10)]]);
    // Unset leaves the column alone; null deletes it.
    let upd = s
        .engine
        .prepare(
            "UPDATE t SET v = ? WHERE a = ? AND b = ? AND c = ?",
            Some("ks"),
        )
        .unwrap();
    let stmt = s.engine.prepared(&upd.id).unwrap();
    let run = |v: BoundValue, s: &mut Sim| {
        let opts = QueryOptions {
            values: vec![
                v,
                bv_int(5),
                BoundValue::Value(Bytes::from_static(b"x")),
                bv_int(1),
            ],
            ..s.opts()
        };
        s.now += 1;
        s.engine.execute(&mut s.store, &stmt, &opts).unwrap();
    };
    run(BoundValue::Unset, &mut s);
    assert_eq!(
        s.rows("SELECT v FROM t WHERE a = 5 AND b = 'x' AND c = 1"),
        vec![vec![int(10)]]
    );
    run(BoundValue::Null, &mut s);
    assert_eq!(
        s.rows("SELECT v FROM t WHERE a = 5 AND b = 'x' AND c = 1"),
        vec![vec![None]]
    );
    // Named values.
    let opts = QueryOptions {
        values: vec![bv_int(5), BoundValue::Value(Bytes::from_static(b"x"))],
        names: Some(vec!["a".into(), "bb".into()]),
        ..s.opts()
    };
    let q = s
        .engine
        .prepare("SELECT c FROM t WHERE b = :bb AND a = :a", Some("ks"))
        .unwrap();
    let stmt = s.engine.prepared(&q.id).unwrap();
    let Outcome::Rows(r) = s.engine.execute(&mut s.store, &stmt, &opts).unwrap() else {
        panic!()
    };
    assert_eq!(decode(&r), vec![vec![int(1)]]);
    assert_eq!(s.engine.prepared(&[0u8; 16]).unwrap_err().code(), 0x2500);
    // A bound value of the wrong size or encoding is Invalid.
    let stmt = s.engine.prepared(&info.id).unwrap();
    for bad in [
        vec![
            BoundValue::Value(Bytes::from_static(&[1, 2])),
            BoundValue::Value(Bytes::from_static(b"x")),
            bv_int(1),
            bv_int(5),
        ],
        vec![
            bv_int(1),
            BoundValue::Value(Bytes::from_static(&[0xff, 0xfe])),
            bv_int(1),
            bv_int(5),
        ],
    ] {
        let opts = QueryOptions {
            values: bad,
            ..s.opts()
        };
        assert_eq!(
            s.engine
                .execute(&mut s.store, &stmt, &opts)
                .unwrap_err()
                .code(),
            0x2200
        );
    }
    // Mismatched column and value counts are an error, not a panic.
    assert_eq!(
        s.engine
            .prepare("INSERT INTO t (a, b, c) VALUES (?)", Some("ks"))
            .map(|p| p.pk_indexes),
        Ok(vec![])
    );
    let bad = s
        .engine
        .parse("INSERT INTO t (a, b, c) VALUES (1)")
        .unwrap();
    assert_eq!(s.engine.partition_tokens(&bad, &s.opts()), Ok(vec![]));
    assert_eq!(s.err("INSERT INTO t (a, b, c) VALUES (1)").code(), 0x2200);
}

#[test]
fn errors_map_to_server_codes() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (a int, b int, c int, v int, PRIMARY KEY ((a, b), c))");
    assert_eq!(s.err("SELEC * FROM t").code(), 0x2000);
    assert_eq!(
        s.err("SELECT * FROM nope").to_string(),
        "unconfigured table nope"
    );
    assert_eq!(
        s.err("SELECT * FROM nope.t").to_string(),
        "Keyspace nope does not exist"
    );
    assert_eq!(
        s.err("SELECT x FROM t").to_string(),
        "Undefined column name x"
    );
    assert_eq!(
        s.err("SELECT * FROM t WHERE a = 1").to_string(),
        "Some partition key parts are missing: b"
    );
    assert_eq!(
        s.err("INSERT INTO t (a, c) VALUES (1, 1)").to_string(),
        "Some partition key parts are missing: b"
    );
    assert_eq!(
        s.err("INSERT INTO t (a, b, c, v) VALUES (1, 1, 1, 'text')")
            .code(),
        0x2200
    );
    let e = s.err("CREATE TABLE t (k int PRIMARY KEY)");
    assert_eq!(e.code(), 0x2400);
    assert!(
        matches!(e, CqlError::AlreadyExists { ref keyspace, ref table, .. } if keyspace == "ks" && table == "t")
    );
    assert_eq!(s.err("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").code(), 0x2400);
    assert_eq!(
        s.err("CREATE KEYSPACE k2 WITH replication = {'class': 'Bogus'}")
            .code(),
        0x2300
    );
    assert_eq!(
        s.err("CREATE TABLE system_schema.x (k int PRIMARY KEY)")
            .code(),
        0x2100
    );
    assert_eq!(s.err("USE nope").code(), 0x2200);
    assert!(matches!(s.ok("USE ks"), Outcome::SetKeyspace(ref k) if k == "ks"));
}

#[test]
fn ddl_changes_schema_version_and_reports_changes() {
    let mut s = Sim::new();
    let v0 = s.engine.catalog.version();
    let o = s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    assert_eq!(
        o,
        Outcome::SchemaChange(SchemaChangeInfo {
            change_type: crate::schema::SchemaChangeType::Created,
            target: crate::schema::SchemaChangeTarget::Table,
            keyspace: "ks".into(),
            name: "t".into()
        })
    );
    assert_ne!(s.engine.catalog.version(), v0);
    s.ok("INSERT INTO t (k, v) VALUES (1, 1)");
    s.ok("ALTER TABLE t ADD w text");
    s.ok("INSERT INTO t (k, w) VALUES (1, 'x')");
    assert_eq!(
        s.rows("SELECT k, v, w FROM t"),
        vec![vec![int(1), int(1), txt("x")]]
    );
    s.ok("ALTER TABLE t DROP v");
    assert_eq!(s.rows("SELECT * FROM t"), vec![vec![int(1), txt("x")]]);
    s.ok("TRUNCATE t");
    assert!(s.rows("SELECT * FROM t").is_empty());
    s.ok("DROP TABLE t");
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    assert!(s.rows("SELECT * FROM t").is_empty());
    s.ok("CREATE INDEX ON t (v)");
    s.ok("INSERT INTO t (k, v) VALUES (3, 30)");
    s.ok("INSERT INTO t (k, v) VALUES (4, 40)");
    assert_eq!(s.rows("SELECT k FROM t WHERE v = 40"), vec![vec![int(4)]]);
    assert!(
        s.err("SELECT k FROM t WHERE v > 30")
            .to_string()
            .contains("ALLOW FILTERING")
    );
    assert_eq!(
        s.rows("SELECT index_name FROM system_schema.indexes WHERE keyspace_name = 'ks'"),
        vec![vec![txt("t_v_idx")]]
    );
    assert!(matches!(s.ok("DROP KEYSPACE ks"), Outcome::SchemaChange(_)));
    assert!(s.engine.catalog.keyspace("ks").is_none());
}

#[test]
fn batches_apply_atomically() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    s.ok("BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 1); INSERT INTO t (k, v) VALUES (2, 2); UPDATE t SET v = 3 WHERE k = 3; APPLY BATCH");
    assert_eq!(
        s.rows("SELECT count(*) FROM t"),
        vec![vec![Some(CqlValue::BigInt(3))]]
    );
    // A failing statement means nothing of the batch is applied.
    s.err("BEGIN BATCH INSERT INTO t (k, v) VALUES (4, 4); INSERT INTO t (k, nope) VALUES (5, 5); APPLY BATCH");
    assert!(s.rows("SELECT * FROM t WHERE k = 4").is_empty());
    let a = s
        .engine
        .parse("INSERT INTO t (k, v) VALUES (?, ?)")
        .unwrap();
    let opts = s.opts();
    s.engine
        .batch(
            &mut s.store,
            BatchKind::Logged,
            &[
                (a.clone(), vec![bv_int(7), bv_int(70)]),
                (a, vec![bv_int(8), bv_int(80)]),
            ],
            &opts,
        )
        .unwrap();
    let mut got = ints(&s.rows("SELECT v FROM t WHERE k IN (7, 8)"), 0);
    got.sort();
    assert_eq!(got, vec![70, 80]);
}

#[test]
fn functions_and_literals() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, id timeuuid, u uuid, ts timestamp, d date, tm time, ip inet, b blob, dur duration, dec decimal, vi varint, f float, tup frozen<tuple<int, text>>)");
    s.ok("INSERT INTO t (k, id, u, ts, d, tm, ip, b, dur, dec, vi, f, tup) VALUES (1, now(), uuid(), toTimestamp(now()), '2020-01-02', '10:00:00', '127.0.0.1', 0xCAFE, 1h, 1.5, 12345678901234567890, NaN, (1, 'a'))");
    let c = s.rows("SELECT now(), toTimestamp(now()), uuid() AS u FROM t WHERE k = 1");
    assert_eq!(
        c[0][1],
        Some(CqlValue::Timestamp(proto::value::CqlTimestamp(
            s.now / 1000
        )))
    );
    assert!(matches!(c[0][0], Some(CqlValue::Timeuuid(_))));
    assert!(matches!(
        s.err("SELECT nosuch(k) FROM t"),
        CqlError::Invalid(_)
    ));
    let r = s.rows("SELECT id, u, ts, d, ip, b, dur, vi, tup FROM t WHERE k = 1");
    assert!(
        matches!(r[0][0], Some(CqlValue::Timeuuid(u)) if value::timeuuid_millis(&u) == NOW / 1000)
    );
    assert!(matches!(r[0][1], Some(CqlValue::Uuid(u)) if u.get_version_num() == 4));
    assert_eq!(
        r[0][2],
        Some(CqlValue::Timestamp(proto::value::CqlTimestamp(NOW / 1000)))
    );
    assert_eq!(r[0][4], Some(CqlValue::Inet("127.0.0.1".parse().unwrap())));
    assert_eq!(r[0][5], Some(CqlValue::Blob(vec![0xca, 0xfe])));
    assert_eq!(
        r[0][8],
        Some(CqlValue::Tuple(vec![
            Some(CqlValue::Int(1)),
            Some(CqlValue::Text("a".into()))
        ]))
    );
}

/// A three-node cluster with replication factor 2: token ranges split in three, each range on
/// its owner and the next node.
struct Cluster {
    nodes: Vec<Store>,
    down: Option<usize>,
}

impl Cluster {
    fn owners(token: i64) -> [usize; 2] {
        let first = if token < i64::MIN / 3 {
            0
        } else if token < i64::MAX / 3 {
            1
        } else {
            2
        };
        [first, (first + 1) % 3]
    }
}

impl Replicas for Cluster {
    fn read(&self, _ks: &str, token: i64) -> Option<&Store> {
        Self::owners(token)
            .into_iter()
            .find(|n| Some(*n) != self.down)
            .map(|n| &self.nodes[n])
    }

    fn write(&mut self, _ks: &str, token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        let mut n = 0;
        for o in Self::owners(token) {
            if Some(o) != self.down {
                f(&mut self.nodes[o]);
                n += 1;
            }
        }
        n
    }

    fn scan(&self, _ks: &str) -> Vec<&Store> {
        self.nodes.iter().collect()
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        for n in &mut self.nodes {
            f(n);
        }
    }

    fn system_rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        match table {
            "local" => vec![vec![
                ("key".into(), CqlValue::Text("local".into())),
                ("data_center".into(), CqlValue::Text("dc1".into())),
                (
                    "rpc_address".into(),
                    CqlValue::Inet("127.0.0.1".parse().unwrap()),
                ),
                (
                    "tokens".into(),
                    CqlValue::Set(vec![CqlValue::Text("-3074457345618258603".into())]),
                ),
            ]],
            "peers" => ["127.0.0.2", "127.0.0.3"]
                .iter()
                .map(|a| {
                    vec![
                        ("peer".into(), CqlValue::Inet(a.parse().unwrap())),
                        ("data_center".into(), CqlValue::Text("dc1".into())),
                    ]
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[test]
fn cluster_routing_replicas_and_system_tables() {
    let mut e = Engine::new();
    let mut c = Cluster {
        nodes: vec![Store::new(), Store::new(), Store::new()],
        down: None,
    };
    let mut now = NOW;
    let mut q = |e: &mut Engine, c: &mut Cluster, text: &str| {
        now += 1;
        let o = QueryOptions {
            keyspace: Some("ks"),
            now_micros: now,
            page_size: Some(5),
            ..QueryOptions::default()
        };
        e.query(c, text, &o)
    };
    q(
        &mut e,
        &mut c,
        "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}",
    )
    .unwrap();
    q(&mut e, &mut c, "CREATE TABLE t (k int PRIMARY KEY, v int)").unwrap();
    for k in 0..30 {
        q(
            &mut e,
            &mut c,
            &format!("INSERT INTO t (k, v) VALUES ({k}, {k})"),
        )
        .unwrap();
    }
    let id = e.catalog.table("ks", "t").unwrap().id;
    let total: usize = c.nodes.iter().map(|n| n.partition_count(id)).sum();
    assert_eq!(total, 60, "every partition on two replicas");
    assert!(c.nodes.iter().all(|n| n.partition_count(id) < 30));
    // A paged scan over all nodes returns each row once.
    let mut seen = Vec::new();
    let mut state = None;
    for _ in 0..100 {
        let o = QueryOptions {
            keyspace: Some("ks"),
            now_micros: NOW + 1000,
            page_size: Some(4),
            paging_state: state.take(),
            ..QueryOptions::default()
        };
        let Outcome::Rows(r) = e.query(&mut c, "SELECT k FROM t", &o).unwrap() else {
            panic!()
        };
        seen.extend(ints(&decode(&r), 0));
        match r.paging_state {
            Some(p) => state = Some(p),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (0..30).collect::<Vec<_>>());
    // With one node down, reads still find each key on the other replica.
    c.down = Some(1);
    for k in 0..30 {
        let Outcome::Rows(r) =
            q(&mut e, &mut c, &format!("SELECT v FROM t WHERE k = {k}")).unwrap()
        else {
            panic!()
        };
        assert_eq!(decode(&r), vec![vec![int(k)]]);
    }
    let Outcome::Rows(r) = q(
        &mut e,
        &mut c,
        "SELECT data_center, rpc_address, tokens FROM system.local WHERE key = 'local'",
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(decode(&r)[0][0], txt("dc1"));
    assert_eq!(
        r.columns[2].typ,
        ColumnType::Set(Box::new(ColumnType::Text))
    );
    let Outcome::Rows(r) = q(&mut e, &mut c, "SELECT peer FROM system.peers").unwrap() else {
        panic!()
    };
    assert_eq!(r.rows.len(), 2);
    let Outcome::Rows(r) = q(&mut e, &mut c, "SELECT * FROM system.peers_v2").unwrap() else {
        panic!()
    };
    assert!(r.rows.is_empty());
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()[..2],
        ["peer", "peer_port"]
    );
}

#[test]
fn paging_in_reverse_order_and_distinct() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c int, s int static, PRIMARY KEY (k, c))");
    for c in 0..20 {
        s.ok(&format!(
            "INSERT INTO t (k, c, s) VALUES ({}, {c}, 1)",
            c % 2
        ));
    }
    let mut seen = Vec::new();
    let mut state = None;
    for _ in 0..100 {
        let opts = QueryOptions {
            page_size: Some(3),
            paging_state: state.take(),
            ..s.opts()
        };
        let Outcome::Rows(r) = s
            .engine
            .query(
                &mut s.store,
                "SELECT c FROM t WHERE k = 0 ORDER BY c DESC",
                &opts,
            )
            .unwrap()
        else {
            panic!()
        };
        seen.extend(ints(&decode(&r), 0));
        match r.paging_state {
            Some(p) => state = Some(p),
            None => break,
        }
    }
    assert_eq!(seen, vec![18, 16, 14, 12, 10, 8, 6, 4, 2, 0]);
    assert!(
        s.err("SELECT c FROM t WHERE c = 1")
            .to_string()
            .contains("ALLOW FILTERING")
    );
    let mut ks = ints(&s.rows("SELECT k FROM t WHERE c = 1 ALLOW FILTERING"), 0);
    ks.sort();
    assert_eq!(ks, vec![1]);
    ks = ints(&s.rows("SELECT DISTINCT k FROM t"), 0);
    ks.sort();
    assert_eq!(ks, vec![0, 1]);
    assert_eq!(
        s.rows("SELECT k, c FROM t WHERE k = 1 LIMIT 2"),
        vec![vec![int(1), int(1)], vec![int(1), int(3)]]
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn op() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["=", "<", "<=", ">", ">=", "!=", "IN", "CONTAINS"])
    }

    fn stmt() -> impl Strategy<Value = String> {
        let v = -3i32..30;
        prop_oneof![
            (v.clone(), v.clone(), v.clone()).prop_map(|(k, c, x)| format!(
                "INSERT INTO t (k, c, v, l) VALUES ({k}, {c}, {x}, [{x}])"
            )),
            (v.clone(), op(), v.clone(), 0i32..5).prop_map(|(k, o, c, l)| format!(
                "SELECT * FROM t WHERE k = {k} AND c {o} {c} LIMIT {}",
                l - 1
            )),
            (op(), v.clone(), any::<bool>()).prop_map(|(o, c, desc)| format!(
                "SELECT k, c FROM t WHERE k IN (1, 2) AND c {o} {c} ORDER BY c {}",
                if desc { "DESC" } else { "ASC" }
            )),
            (v.clone(), op(), v.clone())
                .prop_map(|(k, o, c)| format!("DELETE FROM t WHERE k = {k} AND c {o} {c}")),
            (v.clone(), v.clone()).prop_map(|(k, i)| format!(
                "UPDATE t SET l[{i}] = 1, l = l + [2] WHERE k = {k} AND c = 0"
            )),
            (any::<i64>(), op(), any::<i64>()).prop_map(|(a, o, b)| format!(
                "SELECT k FROM t WHERE token(k) {o} {a} AND token(k) < {b}"
            )),
            (op(), v.clone())
                .prop_map(|(o, x)| format!("SELECT * FROM t WHERE v {o} {x} ALLOW FILTERING")),
            (v.clone(), v).prop_map(|(k, x)| format!(
                "UPDATE t SET v = {x} WHERE k = {k} AND c = 1 IF v = {x}"
            )),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn statements_never_panic(stmts in prop::collection::vec(stmt(), 1..30), page in 0i32..4, garbage in prop::collection::vec(any::<u8>(), 0..40)) {
            let mut s = Sim::new();
            s.ok("CREATE TABLE t (k int, c int, v int, l list<int>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
            for q in &stmts {
                let _ = s.run(q);
                let mut state = None;
                for _ in 0..50 {
                    let opts = QueryOptions { page_size: Some(page), paging_state: state.take(), ..s.opts() };
                    match s.engine.query(&mut s.store, q, &opts) {
                        Ok(Outcome::Rows(r)) => match r.paging_state {
                            Some(p) => state = Some(p),
                            None => break,
                        },
                        _ => break,
                    }
                }
                let opts = QueryOptions { page_size: Some(2), paging_state: Some(Bytes::from(garbage.clone())), ..s.opts() };
                let _ = s.engine.query(&mut s.store, q, &opts);
            }
        }
    }
}

#[test]
fn partition_tokens_for_routing() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (a int, b text, c int, PRIMARY KEY ((a, b), c))");
    let st = s
        .engine
        .parse("SELECT * FROM t WHERE a = ? AND b = 'x'")
        .unwrap();
    let opts = QueryOptions {
        values: vec![bv_int(1)],
        ..s.opts()
    };
    let tokens = s.engine.partition_tokens(&st, &opts).unwrap();
    // Composite key: [len 4][00000001][0] [len 1]['x'][0].
    let key = [0u8, 4, 0, 0, 0, 1, 0, 0, 1, b'x', 0];
    assert_eq!(tokens, vec![proto::murmur3_token(&key).0]);
    let ins = s
        .engine
        .parse("INSERT INTO t (c, b, a) VALUES (1, 'x', 1)")
        .unwrap();
    assert_eq!(s.engine.partition_tokens(&ins, &s.opts()).unwrap(), tokens);
    let scan = s.engine.parse("SELECT * FROM t").unwrap();
    assert!(
        s.engine
            .partition_tokens(&scan, &s.opts())
            .unwrap()
            .is_empty()
    );
    let many = s
        .engine
        .parse("DELETE FROM t WHERE a IN (1, 2, 1) AND b = 'x'")
        .unwrap();
    assert_eq!(
        s.engine.partition_tokens(&many, &s.opts()).unwrap().len(),
        2
    );
}

#[test]
fn aggregates() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c int, v int, d double, x text, PRIMARY KEY (k, c))");
    for c in 1..=4 {
        s.ok(&format!(
            "INSERT INTO t (k, c, v, d, x) VALUES (0, {c}, {}, {c}.5, 'x{c}')",
            c * 10
        ));
    }
    s.ok("INSERT INTO t (k, c) VALUES (0, 5)");
    let r = s.rows("SELECT min(v), max(v), sum(v), avg(v), sum(d), max(x), count(v), count(*) FROM t WHERE k = 0");
    assert_eq!(
        r,
        vec![vec![
            int(10),
            int(40),
            int(100),
            int(25),
            Some(CqlValue::Double(12.0)),
            txt("x4"),
            Some(CqlValue::BigInt(4)),
            Some(CqlValue::BigInt(5)),
        ]]
    );
    assert!(matches!(
        s.err("SELECT sum(x) FROM t"),
        CqlError::Invalid(_)
    ));
}

#[test]
fn json_select_and_insert() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int PRIMARY KEY, v text, l list<int>, m map<text, int>, b blob, ts timestamp, \"Cap\" int)");
    s.ok(r#"INSERT INTO t JSON '{"k": 1, "v": "a\"b", "l": [1, 2], "m": {"x": 3}, "b": "0xcafe", "ts": "2020-01-02 03:04:05.006Z", "\"Cap\"": 7}'"#);
    let r = s.rows("SELECT JSON k, v, l, m, b, ts, \"Cap\" FROM t WHERE k = 1");
    assert_eq!(
        r,
        vec![vec![txt(
            r#"{"k": 1, "v": "a\"b", "l": [1, 2], "m": {"x": 3}, "b": "0xcafe", "ts": "2020-01-02 03:04:05.006Z", "\"Cap\"": 7}"#
        )]]
    );
    // DEFAULT NULL (the default) clears omitted columns; DEFAULT UNSET keeps them.
    s.ok(r#"INSERT INTO t JSON '{"k": 1, "v": "new"}' DEFAULT UNSET"#);
    assert_eq!(
        s.rows("SELECT v, \"Cap\" FROM t WHERE k = 1"),
        vec![vec![txt("new"), int(7)]]
    );
    s.ok(r#"INSERT INTO t JSON '{"k": 1}'"#);
    assert_eq!(
        s.rows("SELECT v, \"Cap\" FROM t WHERE k = 1"),
        vec![vec![None, None]]
    );
    assert_eq!(
        s.err(r#"INSERT INTO t JSON '{"nope": 1, "k": 2}'"#).code(),
        0x2200
    );
    assert_eq!(s.err(r#"INSERT INTO t JSON '{"k": '"#).code(), 0x2200);
    let info = s
        .engine
        .prepare("SELECT JSON * FROM t", Some("ks"))
        .unwrap();
    assert_eq!(info.result_specs.len(), 1);
    assert_eq!(info.result_specs[0].name, "[json]");
}

#[test]
fn non_frozen_udt_field_updates() {
    let mut s = Sim::new();
    s.ok("CREATE TYPE addr (street text, num int)");
    s.ok("CREATE TABLE t (k int PRIMARY KEY, a addr, f frozen<addr>)");
    s.ok("INSERT INTO t (k, a, f) VALUES (1, {street: 'main'}, {street: 'x', num: 1})");
    s.ok("UPDATE t SET a.num = 5 WHERE k = 1");
    let udt = |street: Option<&str>, num: Option<i32>| {
        Some(CqlValue::Udt {
            keyspace: "ks".into(),
            name: "addr".into(),
            fields: vec![
                ("street".into(), street.map(|s| CqlValue::Text(s.into()))),
                ("num".into(), num.map(CqlValue::Int)),
            ],
        })
    };
    assert_eq!(
        s.rows("SELECT a FROM t WHERE k = 1"),
        vec![vec![udt(Some("main"), Some(5))]]
    );
    s.ok("UPDATE t SET a.street = null WHERE k = 1");
    assert_eq!(
        s.rows("SELECT a FROM t WHERE k = 1"),
        vec![vec![udt(None, Some(5))]]
    );
    assert!(matches!(
        s.err("UPDATE t SET f.num = 2 WHERE k = 1"),
        CqlError::Invalid(_)
    ));
    assert!(matches!(
        s.err("UPDATE t SET a.nope = 2 WHERE k = 1"),
        CqlError::Invalid(_)
    ));
    let types = s.rows("SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'");
    assert_eq!(types[0], vec![txt("a"), txt("addr")]);
    assert_eq!(types[1], vec![txt("f"), txt("frozen<addr>")]);
}
