//! Reads: paging (forward, reverse, DISTINCT), token ranges and filtering, functions and
//! literals, aggregates, and JSON.

use super::*;

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
        matches!(r[0][0], Some(CqlValue::Timeuuid(u)) if value::timeuuid_millis(u.as_uuid()) == NOW / 1000)
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
fn a_full_page_carries_a_paging_state_even_when_it_ends_on_the_last_row() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (k int, c int, PRIMARY KEY (k, c))");
    for c in 0..6 {
        s.ok(&format!("INSERT INTO t (k, c) VALUES (1, {c})"));
    }
    let page = |s: &mut Sim, q: &str, size: i32, state: Option<Bytes>| -> RowsResult {
        let opts = QueryOptions {
            page_size: Some(size),
            paging_state: state,
            ..s.opts()
        };
        match s.engine.query(&mut s.store, q, &opts).unwrap() {
            Outcome::Rows(r) => r,
            other => panic!("{other:?}"),
        }
    };
    let q = "SELECT c FROM t WHERE k = 1";
    // 6 rows by 3: two full pages, the second still with a state, then an empty last page.
    let first = page(&mut s, q, 3, None);
    let second = page(&mut s, q, 3, first.paging_state.clone());
    assert_eq!(ints(&decode(&second), 0), vec![3, 4, 5]);
    let state = second.paging_state.expect("a full page has a paging state");
    let last = page(&mut s, q, 3, Some(state));
    assert!(last.rows.is_empty());
    assert_eq!(last.paging_state, None);
    // A short page is the last one; a LIMIT used up on a full page ends the paging too.
    assert_eq!(page(&mut s, q, 4, first.paging_state).paging_state, None);
    assert_eq!(
        page(&mut s, "SELECT c FROM t WHERE k = 1 LIMIT 3", 3, None).paging_state,
        None
    );
}
