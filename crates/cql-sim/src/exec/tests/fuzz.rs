//! Property tests: random statements and garbage paging states never panic the engine.

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
        (v.clone(), v)
            .prop_map(|(k, x)| format!("UPDATE t SET v = {x} WHERE k = {k} AND c = 1 IF v = {x}")),
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
