//! PREPARE: bind specs, partition key indexes and binding by position or name, and the
//! partition tokens a statement touches.

use super::*;

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
fn bind_markers_are_typed_as_servers_report_them() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE c (k text PRIMARY KEY, n counter)");
    s.ok("CREATE TABLE m (k int PRIMARY KEY, m map<text, int>, l list<blob>)");
    let types = |s: &mut Sim, q: &str| -> Vec<ColumnType> {
        let info = s.engine.prepare(q, Some("ks")).unwrap();
        info.bind_specs.iter().map(|b| b.typ.clone()).collect()
    };
    // A counter delta is a `counter` marker (a bigint on the wire), as Cassandra reports it.
    assert_eq!(
        types(&mut s, "UPDATE c SET n = n + ? WHERE k = ?"),
        vec![ColumnType::Counter, ColumnType::Text]
    );
    assert_eq!(
        types(&mut s, "UPDATE c SET n = n - ? WHERE k = ?"),
        vec![ColumnType::Counter, ColumnType::Text]
    );
    // An element assignment types the key (or index) and the value by the collection.
    assert_eq!(
        types(&mut s, "UPDATE m SET m[?] = ? WHERE k = ?"),
        vec![ColumnType::Text, ColumnType::Int, ColumnType::Int]
    );
    assert_eq!(
        types(&mut s, "UPDATE m SET l[?] = ? WHERE k = ?"),
        vec![ColumnType::Int, ColumnType::Blob, ColumnType::Int]
    );
    // Counter deltas bound as bigints still add up.
    let info = s
        .engine
        .prepare("UPDATE c SET n = n + ? WHERE k = ?", Some("ks"))
        .unwrap();
    let stmt = s.engine.prepared(&info.id).unwrap();
    for _ in 0..2 {
        let opts = QueryOptions {
            values: vec![
                BoundValue::Value(Bytes::copy_from_slice(&5i64.to_be_bytes())),
                BoundValue::Value(Bytes::from_static(b"a")),
            ],
            ..s.opts()
        };
        s.engine.execute(&mut s.store, &stmt, &opts).unwrap();
    }
    assert_eq!(
        s.rows("SELECT n FROM c WHERE k = 'a'"),
        vec![vec![Some(CqlValue::Counter(10))]]
    );
}
