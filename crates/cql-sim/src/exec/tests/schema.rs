//! Schema: `system_schema` rows of a table, and schema versions and changes reported by DDL.

use super::*;
use crate::{SchemaChangeTarget, SchemaChangeType};

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
fn ddl_changes_schema_version_and_reports_changes() {
    let mut s = Sim::new();
    let v0 = s.engine.catalog.version();
    let o = s.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    assert_eq!(
        o,
        Outcome::SchemaChange(SchemaChangeInfo {
            change_type: SchemaChangeType::Created,
            target: SchemaChangeTarget::Table,
            keyspace: "ks".into(),
            name: "t".into(),
            args: Vec::new(),
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
fn alter_type_adds_and_renames_fields_and_keeps_stored_values() {
    let mut s = Sim::new();
    s.ok("CREATE TYPE addr (street text, num int)");
    s.ok("CREATE TYPE person (name text, home frozen<addr>)");
    s.ok("CREATE TABLE t (k int PRIMARY KEY, a frozen<addr>, p frozen<person>, l list<frozen<addr>>)");
    s.ok("INSERT INTO t (k, a, p, l) VALUES (1, {street: 'x', num: 3}, {name: 'n', home: {street: 'y', num: 4}}, [{street: 'z', num: 5}])");
    let Outcome::SchemaChange(c) = s.ok("ALTER TYPE addr ADD zip text") else {
        panic!("no schema change")
    };
    assert_eq!(
        (c.change_type, c.target, c.name.as_str()),
        (SchemaChangeType::Updated, SchemaChangeTarget::Type, "addr")
    );
    s.ok("ALTER TYPE addr RENAME num TO number AND street TO road");
    // The stored value lacks the new field (null) and keeps its data under the new names.
    s.ok("INSERT INTO t (k, a) VALUES (2, {road: 'w', number: 6, zip: '75001'})");
    let udt = |s: &mut Sim, k: i32| -> Vec<(String, Option<CqlValue>)> {
        match s
            .rows(&format!("SELECT a FROM t WHERE k = {k}"))
            .remove(0)
            .remove(0)
        {
            Some(CqlValue::Udt { fields, .. }) => fields,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        udt(&mut s, 1),
        vec![
            ("road".to_owned(), Some(CqlValue::Text("x".into()))),
            ("number".to_owned(), Some(CqlValue::Int(3))),
            ("zip".to_owned(), None),
        ]
    );
    assert_eq!(
        udt(&mut s, 2)[2],
        ("zip".to_owned(), Some(CqlValue::Text("75001".into())))
    );
    // Types embedding it and collection columns see the new definition too.
    let rows = s.rows("SELECT p, l FROM t WHERE k = 1");
    let Some(CqlValue::Udt { fields, .. }) = &rows[0][0] else {
        panic!("{rows:?}")
    };
    let Some(Some(CqlValue::Udt { fields: home, .. })) = fields.get(1).map(|(_, v)| v.clone())
    else {
        panic!("{fields:?}")
    };
    let names: Vec<&str> = home.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["road", "number", "zip"]);
    let rows = s.rows("SELECT field_names FROM system_schema.types WHERE keyspace_name = 'ks' AND type_name = 'addr'");
    assert_eq!(
        rows,
        vec![vec![Some(CqlValue::List(
            ["road", "number", "zip"]
                .iter()
                .map(|n| CqlValue::Text((*n).into()))
                .collect()
        ))]]
    );
    // Cassandra's errors.
    for (q, msg) in [
        (
            "ALTER TYPE addr ADD zip int",
            "Cannot add new field zip of type int to user type ks.addr as a field with this name already exists",
        ),
        (
            "ALTER TYPE addr RENAME nope TO x",
            "Unknown field nope in user type ks.addr",
        ),
        (
            "ALTER TYPE addr RENAME road TO zip",
            "Duplicate field name zip in type ks.addr",
        ),
        (
            "ALTER TYPE nope ADD x int",
            "No user type named ks.nope exists.",
        ),
    ] {
        match s.err(q) {
            CqlError::Invalid(m) => assert_eq!(m, msg, "{q}"),
            other => panic!("{q}: {other:?}"),
        }
    }
}
