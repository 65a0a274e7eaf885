//! User-defined functions and aggregates: DDL checks, `system_schema` rows and schema changes.

use super::*;
use crate::schema::{SchemaChangeTarget, SchemaChangeType};

const PLUS: &str = "CREATE FUNCTION ks.plus (a int, b int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS 'return a + b;'";
const SUM_AGG: &str = "CREATE AGGREGATE ks.total (int) SFUNC plus STYPE int INITCOND 0";

fn schema_change(o: &Outcome) -> &SchemaChangeInfo {
    match o {
        Outcome::SchemaChange(c) => c,
        other => panic!("not a schema change: {other:?}"),
    }
}

fn list(items: &[&str]) -> Option<CqlValue> {
    Some(CqlValue::List(
        items.iter().map(|s| CqlValue::Text((*s).into())).collect(),
    ))
}

#[test]
fn create_function_reports_its_signature_and_writes_system_schema() {
    let mut s = Sim::new();
    let v0 = s.engine.catalog.version();
    let o = s.ok(PLUS);
    let c = schema_change(&o);
    assert_eq!(c.change_type, SchemaChangeType::Created);
    assert_eq!(c.target, SchemaChangeTarget::Function);
    assert_eq!((c.keyspace.as_str(), c.name.as_str()), ("ks", "plus"));
    assert_eq!(c.args, vec!["int".to_owned(), "int".to_owned()]);
    assert_ne!(s.engine.catalog.version(), v0);

    s.ok("CREATE FUNCTION ks.firsts (l list<text>, m map<int, text>) CALLED ON NULL INPUT RETURNS text LANGUAGE lua AS $$ return l[1] $$");
    let rows = s.rows(
        "SELECT function_name, argument_types, argument_names, body, called_on_null_input, language, return_type FROM system_schema.functions WHERE keyspace_name = 'ks'",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                txt("firsts"),
                list(&["list<text>", "map<int, text>"]),
                list(&["l", "m"]),
                txt(" return l[1] "),
                Some(CqlValue::Boolean(true)),
                txt("lua"),
                txt("text"),
            ],
            vec![
                txt("plus"),
                list(&["int", "int"]),
                list(&["a", "b"]),
                txt("return a + b;"),
                Some(CqlValue::Boolean(false)),
                txt("java"),
                txt("int"),
            ],
        ]
    );
}

#[test]
fn function_ddl_is_validated_as_cassandra_does() {
    let mut s = Sim::new();
    s.ok(PLUS);
    assert_eq!(s.err(PLUS).to_string(), "Function 'plus' already exists");
    assert!(matches!(
        s.ok(&PLUS.replace("FUNCTION", "FUNCTION IF NOT EXISTS")),
        Outcome::Void
    ));
    let e = s.err(
        &PLUS
            .replace("CREATE", "CREATE OR REPLACE")
            .replace("FUNCTION", "FUNCTION IF NOT EXISTS"),
    );
    assert_eq!(
        e.to_string(),
        "Cannot use both 'OR REPLACE' and 'IF NOT EXISTS' directives"
    );
    let replaced = s.ok(&PLUS
        .replace("CREATE", "CREATE OR REPLACE")
        .replace("a + b", "b + a"));
    assert_eq!(
        schema_change(&replaced).change_type,
        SchemaChangeType::Updated
    );
    let e = s.err(
        &PLUS
            .replace("CREATE", "CREATE OR REPLACE")
            .replace("RETURNS int", "RETURNS text"),
    );
    assert!(
        e.to_string()
            .starts_with("Cannot replace function 'plus', the new return type text"),
        "{e}"
    );
    let e = s.err(
        &PLUS
            .replace("CREATE", "CREATE OR REPLACE")
            .replace("RETURNS NULL", "CALLED"),
    );
    assert_eq!(
        e.to_string(),
        "Function 'plus' must have CALLED ON NULL INPUT directive"
    );
    let e = s.err("CREATE FUNCTION ks.d (a int, a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'");
    assert!(e.to_string().starts_with("Duplicate argument names"), "{e}");
    let e = s
        .err("CREATE FUNCTION ks.c (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE cobol AS 'x'");
    assert_eq!(
        e.to_string(),
        "Invalid language 'cobol' for function 'ks.c'"
    );
    let e = s.err(
        "CREATE FUNCTION nope.c (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'x'",
    );
    assert_eq!(e.to_string(), "Keyspace 'nope' doesn't exist");
    let e = s.err("CREATE FUNCTION ks.c (a frozen<list<int>>) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'x'");
    assert_eq!(
        e.to_string(),
        "Argument 'frozen<list<int>>' cannot be frozen; remove frozen<> modifier from 'frozen<list<int>>'"
    );
    s.ok("CREATE FUNCTION ks.c (a frozen<tuple<int, text>>) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'x'");
    assert_eq!(
        s.err("DROP FUNCTION nope.c").to_string(),
        "Function 'nope.c' doesn't exist"
    );
    assert_eq!(
        s.err("CREATE OR REPLACE TABLE ks.t (k int PRIMARY KEY)")
            .code(),
        0x2000
    );

    // An overload, then DROP without a signature is ambiguous.
    s.ok("CREATE FUNCTION ks.plus (a bigint, b bigint) RETURNS NULL ON NULL INPUT RETURNS bigint LANGUAGE java AS 'return a + b;'");
    let e = s.err("DROP FUNCTION ks.plus");
    assert!(
        e.to_string()
            .starts_with("'DROP FUNCTION plus' matches multiple function definitions"),
        "{e}"
    );
    let e = s.err("DROP FUNCTION ks.plus (text)");
    assert_eq!(e.to_string(), "Function 'ks.plus(text)' doesn't exist");
    assert!(matches!(
        s.ok("DROP FUNCTION IF EXISTS ks.plus (text)"),
        Outcome::Void
    ));
    let o = s.ok("DROP FUNCTION ks.plus (bigint, bigint)");
    let c = schema_change(&o);
    assert_eq!(
        (c.change_type, c.target, c.args.clone()),
        (
            SchemaChangeType::Dropped,
            SchemaChangeTarget::Function,
            vec!["bigint".to_owned(), "bigint".to_owned()]
        )
    );
    assert_eq!(
        s.err("DROP FUNCTION ks.nope").to_string(),
        "Function 'ks.nope' doesn't exist"
    );
}

#[test]
fn aggregates_check_their_functions_and_pin_them() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok("CREATE FUNCTION ks.half (s int) CALLED ON NULL INPUT RETURNS double LANGUAGE java AS 'return s / 2.0;'");
    let e = s.err("CREATE AGGREGATE ks.a (int) SFUNC nope STYPE int");
    assert_eq!(
        e.to_string(),
        "State function ks.nope(int, int) doesn't exist"
    );
    let e = s.err("CREATE AGGREGATE ks.a (int) SFUNC half STYPE int");
    assert_eq!(
        e.to_string(),
        "State function ks.half(int, int) doesn't exist"
    );
    let e = s.err("CREATE AGGREGATE ks.a (int) SFUNC plus STYPE int FINALFUNC nope");
    assert_eq!(e.to_string(), "Final function ks.nope(int) doesn't exist");
    let e = s.err("CREATE AGGREGATE ks.a (int) SFUNC plus STYPE int");
    assert_eq!(
        e.to_string(),
        "Cannot create aggregate 'a' without INITCOND because state function ks.plus does not accept 'null' arguments"
    );
    let e = s.err("CREATE AGGREGATE ks.a (int) SFUNC plus STYPE int INITCOND 'x'");
    assert_eq!(e.code(), 0x2200);

    let o = s.ok(SUM_AGG);
    let c = schema_change(&o);
    assert_eq!(
        (c.target, c.name.as_str(), c.args.clone()),
        (
            SchemaChangeTarget::Aggregate,
            "total",
            vec!["int".to_owned()]
        )
    );
    s.ok("CREATE AGGREGATE ks.avgish (int) SFUNC plus STYPE int FINALFUNC half INITCOND 1");
    let rows = s.rows("SELECT aggregate_name, argument_types, final_func, initcond, return_type, state_func, state_type FROM system_schema.aggregates WHERE keyspace_name = 'ks'");
    assert_eq!(
        rows,
        vec![
            vec![
                txt("avgish"),
                list(&["int"]),
                txt("half"),
                txt("1"),
                txt("double"),
                txt("plus"),
                txt("int")
            ],
            vec![
                txt("total"),
                list(&["int"]),
                None,
                txt("0"),
                txt("int"),
                txt("plus"),
                txt("int")
            ],
        ]
    );
    assert_eq!(
        s.err(SUM_AGG).to_string(),
        "Aggregate 'total' already exists"
    );

    let e = s.err("DROP FUNCTION ks.plus");
    assert!(
        e.to_string()
            .starts_with("Function 'ks.plus' is still referenced by aggregates"),
        "{e}"
    );
    s.ok("DROP AGGREGATE ks.total");
    s.ok("DROP AGGREGATE ks.avgish (int)");
    s.ok("DROP FUNCTION ks.plus");
    assert_eq!(
        s.err("DROP AGGREGATE ks.total").to_string(),
        "Aggregate 'ks.total' doesn't exist"
    );
}

#[test]
fn drop_keyspace_drops_its_functions() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok(SUM_AGG);
    s.ok("DROP KEYSPACE ks");
    s.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    assert!(s.rows("SELECT * FROM system_schema.functions").is_empty());
    assert!(s.rows("SELECT * FROM system_schema.aggregates").is_empty());
    s.ok(PLUS);
}

#[test]
fn simple_function_bodies_run_in_select() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok("CREATE FUNCTION ks.bigger (a int, b int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return Math.max(a, b);'");
    s.ok("CREATE FUNCTION ks.shout (s text) RETURNS NULL ON NULL INPUT RETURNS text LANGUAGE java AS 'return s + \"!\";'");
    s.ok("CREATE FUNCTION ks.shout_lua (s text) RETURNS NULL ON NULL INPUT RETURNS text LANGUAGE lua AS $$return s .. '?'$$");
    s.ok("CREATE FUNCTION ks.ratio (a int, b int) CALLED ON NULL INPUT RETURNS double LANGUAGE java AS 'return (a + 0.0) / b;'");
    s.ok("CREATE TABLE t (k int PRIMARY KEY, a int, b int, s text)");
    s.ok("INSERT INTO t (k, a, b, s) VALUES (1, 2, 5, 'hey')");
    s.ok("INSERT INTO t (k, a) VALUES (2, 7)");
    let o = s.ok("SELECT ks.plus(a, b), plus(b, a) AS p, bigger(a, b), shout(s), shout_lua(s), ratio(a, b) FROM t WHERE k = 1");
    let Outcome::Rows(r) = &o else { panic!() };
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "ks.plus(a, b)",
            "p",
            "ks.bigger(a, b)",
            "ks.shout(s)",
            "ks.shout_lua(s)",
            "ks.ratio(a, b)"
        ]
    );
    assert_eq!(r.columns[5].typ, ColumnType::Double);
    assert_eq!(
        decode(r),
        vec![vec![
            int(7),
            int(7),
            int(5),
            txt("hey!"),
            txt("hey?"),
            Some(CqlValue::Double(0.4))
        ]]
    );
    // RETURNS NULL ON NULL INPUT: null without running; CALLED ON NULL INPUT: the body sees
    // the null, and arithmetic on it fails as Java's unboxing would.
    assert_eq!(
        s.rows("SELECT plus(a, b), shout(s) FROM t WHERE k = 2"),
        vec![vec![None, None]]
    );
    let e = s.err("SELECT ratio(a, b) FROM t WHERE k = 2");
    assert_eq!(e.code(), 0x1400);
    assert!(
        e.to_string()
            .starts_with("execution of 'ks.ratio[int, int]' failed"),
        "{e}"
    );
    // A body beyond the simulator's evaluator fails the call rather than inventing a value.
    s.ok("CREATE FUNCTION ks.loop (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'int x = 0; for (int i = 0; i < a; i++) x += i; return x;'");
    let e = s.err("SELECT loop(a) FROM t WHERE k = 1");
    assert!(
        matches!(&e, CqlError::FunctionFailure { keyspace, function, arg_types, .. }
            if keyspace == "ks" && function == "loop" && arg_types == &["int".to_owned()]),
        "{e:?}"
    );
    // Literals as arguments take the type of the signature they are passed to.
    let o = s.ok("SELECT plus(a, 10), shout('x') FROM t WHERE k = 1");
    let Outcome::Rows(r) = &o else { panic!() };
    assert_eq!(r.columns[0].name.as_str(), "ks.plus(a, 10)");
    assert_eq!(r.columns[1].name.as_str(), "ks.shout('x')");
    assert_eq!(decode(r), vec![vec![int(12), txt("x!")]]);
    let e = s.err("SELECT plus(s, s) FROM t");
    assert!(
        e.to_string()
            .starts_with("Invalid call to function ks.plus"),
        "{e}"
    );
}

#[test]
fn aggregates_fold_rows_with_their_state_function() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok(SUM_AGG);
    s.ok("CREATE FUNCTION ks.half (s int) CALLED ON NULL INPUT RETURNS double LANGUAGE java AS 'return s / 2.0;'");
    s.ok("CREATE AGGREGATE ks.halfsum (int) SFUNC plus STYPE int FINALFUNC half INITCOND 0");
    s.ok("CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))");
    for c in 1..=4 {
        s.ok(&format!(
            "INSERT INTO t (k, c, v) VALUES (1, {c}, {})",
            c * 10
        ));
    }
    // A null argument skips the row (plus returns null on null input): the state stays.
    s.ok("INSERT INTO t (k, c) VALUES (1, 5)");
    let o = s.ok("SELECT total(v), ks.halfsum(v), count(*) FROM t WHERE k = 1");
    let Outcome::Rows(r) = &o else { panic!() };
    assert_eq!(r.columns[0].name.as_str(), "ks.total(v)");
    assert_eq!(r.columns[1].typ, ColumnType::Double);
    assert_eq!(
        decode(r),
        vec![vec![
            int(100),
            Some(CqlValue::Double(50.0)),
            Some(CqlValue::BigInt(5))
        ]]
    );
    // No rows: the final function of the initial state.
    assert_eq!(
        s.rows("SELECT total(v), halfsum(v) FROM t WHERE k = 9"),
        vec![vec![int(0), Some(CqlValue::Double(0.0))]]
    );
}

#[test]
fn replacing_or_dropping_a_function_unprepares_its_callers() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok("CREATE TABLE t (k int PRIMARY KEY, a int, b int)");
    let ddl = |s: &mut Sim, q: &str| {
        let o = s.ok(q);
        s.engine.invalidate_prepared(schema_change(&o))
    };
    let prepare = |s: &mut Sim, q: &str| s.engine.prepare(q, Some("ks")).unwrap().id;
    let caller = prepare(&mut s, "SELECT plus(a, b) FROM t WHERE k = 1");
    let qualified = prepare(&mut s, "SELECT cast(ks.plus(a, 1) as text) FROM t");
    let other = prepare(&mut s, "SELECT a FROM t");

    let dropped = ddl(&mut s, &PLUS.replace("CREATE", "CREATE OR REPLACE"));
    assert_eq!(dropped.len(), 2);
    assert!(dropped.contains(&caller) && dropped.contains(&qualified));
    assert!(s.engine.prepared(&other).is_ok());

    // A first function of another name changes nothing; a second overload of `plus` does.
    let caller = prepare(&mut s, "SELECT plus(a, b) FROM t WHERE k = 1");
    assert!(ddl(&mut s, "CREATE FUNCTION ks.minus (a int, b int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a - b;'").is_empty());
    let dropped = ddl(
        &mut s,
        "CREATE FUNCTION ks.plus (a text, b text) CALLED ON NULL INPUT RETURNS text LANGUAGE java AS 'return a + b;'",
    );
    assert_eq!(dropped, vec![caller]);

    let caller = prepare(&mut s, "SELECT plus(a, b) FROM t WHERE k = 1");
    assert_eq!(
        ddl(&mut s, "DROP FUNCTION ks.plus (text, text)"),
        vec![caller]
    );
    assert!(s.engine.prepared(&caller).is_err());
    assert!(s.engine.prepared(&other).is_ok());
}

#[test]
fn a_user_type_in_a_signature_cannot_be_dropped() {
    let mut s = Sim::new();
    s.ok("CREATE TYPE ks.pt (x int, y int)");
    s.ok("CREATE FUNCTION ks.px (p pt) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return p.getInt(\"x\");'");
    let rows = s.rows("SELECT argument_types FROM system_schema.functions WHERE keyspace_name = 'ks' AND function_name = 'px'");
    assert_eq!(rows, vec![vec![list(&["pt"])]]);
    let e = s.err("DROP TYPE ks.pt");
    assert_eq!(
        e.to_string(),
        "Cannot drop user type 'ks.pt' as it is still used by functions ks.px"
    );
    s.ok("DROP FUNCTION ks.px");
    s.ok("DROP TYPE ks.pt");
}

#[test]
fn markers_in_function_arguments_are_typed_by_the_signature() {
    let mut s = Sim::new();
    s.ok(PLUS);
    s.ok("CREATE TABLE t (k int PRIMARY KEY, a int)");
    s.ok("INSERT INTO t (k, a) VALUES (1, 2)");
    let q = "SELECT plus(a, ?), blobAsInt(?) FROM t WHERE k = ?";
    let info = s.engine.prepare(q, Some("ks")).unwrap();
    let specs: Vec<(String, ColumnType)> = info
        .bind_specs
        .iter()
        .map(|b| (b.name.to_string(), b.typ.clone()))
        .collect();
    assert_eq!(
        specs,
        vec![
            ("arg1(ks.plus)".to_owned(), ColumnType::Int),
            ("arg0(system.blobasint)".to_owned(), ColumnType::Blob),
            ("k".to_owned(), ColumnType::Int),
        ]
    );
    let stmt = s.engine.prepared(&info.id).unwrap();
    let opts = QueryOptions {
        values: vec![
            bv_int(40),
            BoundValue::Value(Bytes::from_static(&[0, 0, 0, 9])),
            bv_int(1),
        ],
        ..s.opts()
    };
    let Outcome::Rows(r) = s.engine.execute(&mut s.store, &stmt, &opts).unwrap() else {
        panic!()
    };
    assert_eq!(decode(&r), vec![vec![int(42), int(9)]]);
}
