//! Writes: INSERT/UPDATE/DELETE with clustering order, range deletions, TTL, timestamps,
//! LWTs, collections, counters and statics, batches and UDT field updates.

use super::*;

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
