use proptest::prelude::*;
use uuid::Uuid;

use super::ast::*;
use super::parse_statement;
use crate::error::CqlError;
use proto::ColumnType;

fn parse(s: &str) -> Statement {
    match parse_statement(s) {
        Ok(p) => p.statement,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn select(s: &str) -> Select {
    match parse(s) {
        Statement::Select(s) => *s,
        other => panic!("not a select: {other:?}"),
    }
}

fn syntax_err(s: &str) -> String {
    match parse_statement(s) {
        Err(CqlError::Syntax(m)) => m,
        other => panic!("{s}: expected a syntax error, got {other:?}"),
    }
}

fn qn(ks: Option<&str>, n: &str) -> QualifiedName {
    QualifiedName {
        keyspace: ks.map(str::to_owned),
        name: n.to_owned(),
    }
}

fn m(index: usize, name: Option<&str>) -> Term {
    Term::Bind(BindMarker {
        index,
        name: name.map(str::to_owned),
    })
}

#[test]
fn create_keyspace() {
    let st = parse(
        "CREATE KEYSPACE IF NOT EXISTS Ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} AND durable_writes = false;",
    );
    assert_eq!(
        st,
        Statement::CreateKeyspace {
            name: "ks".into(),
            if_not_exists: true,
            options: vec![
                (
                    "replication".into(),
                    Term::Map(vec![
                        (
                            Term::Str("class".into()),
                            Term::Str("SimpleStrategy".into())
                        ),
                        (
                            Term::Str("replication_factor".into()),
                            Term::Int("3".into())
                        ),
                    ])
                ),
                ("durable_writes".into(), Term::Bool(false)),
            ],
        }
    );
    assert!(matches!(
        parse("alter keyspace ks with durable_writes = true"),
        Statement::AlterKeyspace { .. }
    ));
    assert_eq!(
        parse("DROP KEYSPACE IF EXISTS \"MyKs\""),
        Statement::DropKeyspace {
            name: "MyKs".into(),
            if_exists: true
        }
    );
}

#[test]
fn create_table_with_composite_key_and_options() {
    let Statement::CreateTable(ct) = parse(
        "CREATE TABLE ks.t (a int, b text, c timeuuid, d bigint, s int static, m map<text, frozen<list<int>>>, \
         PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'hi' \
         AND compaction = {'class': 'SizeTieredCompactionStrategy'}",
    ) else {
        panic!()
    };
    assert_eq!(ct.name, qn(Some("ks"), "t"));
    assert_eq!(ct.partition_key, vec!["a", "b"]);
    assert_eq!(ct.clustering, vec!["c", "d"]);
    assert_eq!(
        ct.clustering_order,
        vec![("c".into(), true), ("d".into(), false)]
    );
    assert_eq!(ct.columns.len(), 6);
    assert!(ct.columns[4].is_static);
    assert_eq!(
        ct.columns[5].typ,
        TypeExpr::Map(
            Box::new(TypeExpr::Native(ColumnType::Text)),
            Box::new(TypeExpr::Frozen(Box::new(TypeExpr::List(Box::new(
                TypeExpr::Native(ColumnType::Int)
            )))))
        )
    );
    assert_eq!(ct.options[0], ("comment".into(), Term::Str("hi".into())));
    let Statement::CreateTable(ct) = parse(
        "create table t (k int primary key, v tuple<int, text>, w vector<float, 3>, u address)",
    ) else {
        panic!()
    };
    assert_eq!(ct.partition_key, vec!["k"]);
    assert!(ct.clustering.is_empty());
    assert_eq!(
        ct.columns[2].typ,
        TypeExpr::Vector(Box::new(TypeExpr::Native(ColumnType::Float)), 3)
    );
    assert_eq!(ct.columns[3].typ, TypeExpr::Udt(qn(None, "address")));
}

#[test]
fn alter_drop_type_index_use_truncate() {
    assert_eq!(
        parse("ALTER TABLE t ADD (x int, y set<text>)"),
        Statement::AlterTable {
            name: qn(None, "t"),
            op: AlterTableOp::Add(vec![
                ColumnDefinition {
                    name: "x".into(),
                    typ: TypeExpr::Native(ColumnType::Int),
                    is_static: false
                },
                ColumnDefinition {
                    name: "y".into(),
                    typ: TypeExpr::Set(Box::new(TypeExpr::Native(ColumnType::Text))),
                    is_static: false
                },
            ])
        }
    );
    assert_eq!(
        parse("alter table ks.t drop x"),
        Statement::AlterTable {
            name: qn(Some("ks"), "t"),
            op: AlterTableOp::Drop(vec!["x".into()])
        }
    );
    assert_eq!(
        parse("DROP TABLE IF EXISTS t"),
        Statement::DropTable {
            name: qn(None, "t"),
            if_exists: true
        }
    );
    assert_eq!(
        parse("CREATE TYPE ks.addr (street text, nums frozen<list<int>>)"),
        Statement::CreateType {
            name: qn(Some("ks"), "addr"),
            if_not_exists: false,
            fields: vec![
                ("street".into(), TypeExpr::Native(ColumnType::Text)),
                (
                    "nums".into(),
                    TypeExpr::Frozen(Box::new(TypeExpr::List(Box::new(TypeExpr::Native(
                        ColumnType::Int
                    )))))
                )
            ]
        }
    );
    assert_eq!(
        parse("drop type addr"),
        Statement::DropType {
            name: qn(None, "addr"),
            if_exists: false
        }
    );
    assert_eq!(
        parse("CREATE INDEX IF NOT EXISTS idx ON t (keys(m))"),
        Statement::CreateIndex {
            name: Some("idx".into()),
            table: qn(None, "t"),
            target: "keys(m)".into(),
            if_not_exists: true,
            custom_class: None,
            properties: Vec::new(),
        }
    );
    assert_eq!(parse("USE \"Ks\""), Statement::Use("Ks".into()));
    assert_eq!(parse("use KS"), Statement::Use("ks".into()));
    assert_eq!(
        parse("TRUNCATE TABLE ks.t"),
        Statement::Truncate(qn(Some("ks"), "t"))
    );
}

#[test]
fn insert_forms() {
    let p = parse_statement("INSERT INTO ks.t (a, \"B\", c) VALUES (?, :named, 'x') IF NOT EXISTS USING TTL 10 AND TIMESTAMP ?").unwrap();
    assert_eq!(p.bind_count, 3);
    assert_eq!(
        p.statement,
        Statement::Insert {
            table: qn(Some("ks"), "t"),
            values: InsertValues::Values {
                columns: vec!["a".into(), "B".into(), "c".into()],
                values: vec![m(0, None), m(1, Some("named")), Term::Str("x".into())],
            },
            if_not_exists: true,
            using: Using {
                ttl: Some(Term::Int("10".into())),
                timestamp: Some(m(2, None))
            },
        }
    );
    assert!(matches!(
        parse("INSERT INTO t JSON '{\"a\": 1}' DEFAULT UNSET"),
        Statement::Insert {
            values: InsertValues::Json {
                default_unset: true,
                ..
            },
            ..
        }
    ));
}

#[test]
fn literals_of_every_kind() {
    let Statement::Insert {
        values: InsertValues::Values { values, .. },
        ..
    } = parse(
        "INSERT INTO t (a) VALUES ('it''s', $$dollar's$$, -12, 3.5, -1.5e-3, NaN, -Infinity, true, FALSE, null, \
         123e4567-e89b-12d3-a456-426614174000, 0xCAFE, 0x, 1h30m, -2d, P1Y2M3DT4H, [1, 2], {1, 2}, {'k': 1}, {}, \
         (1, 'a'), {street: 'x', \"Num\": 3}, now(), toTimestamp(now()))",
    )
    else {
        panic!()
    };
    let want = vec![
        Term::Str("it's".into()),
        Term::Str("dollar's".into()),
        Term::Int("-12".into()),
        Term::Float("3.5".into()),
        Term::Float("-1.5e-3".into()),
        Term::NaN,
        Term::Infinity(true),
        Term::Bool(true),
        Term::Bool(false),
        Term::Null,
        Term::Uuid(Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap()),
        Term::Blob(vec![0xca, 0xfe]),
        Term::Blob(vec![]),
        Term::Duration(proto::value::CqlDuration {
            months: 0,
            days: 0,
            nanoseconds: 5_400_000_000_000,
        }),
        Term::Duration(proto::value::CqlDuration {
            months: 0,
            days: -2,
            nanoseconds: 0,
        }),
        Term::Duration(proto::value::CqlDuration {
            months: 14,
            days: 3,
            nanoseconds: 4 * 3_600_000_000_000,
        }),
        Term::List(vec![Term::Int("1".into()), Term::Int("2".into())]),
        Term::Set(vec![Term::Int("1".into()), Term::Int("2".into())]),
        Term::Map(vec![(Term::Str("k".into()), Term::Int("1".into()))]),
        Term::Map(vec![]),
        Term::Tuple(vec![Term::Int("1".into()), Term::Str("a".into())]),
        Term::Udt(vec![
            ("street".into(), Term::Str("x".into())),
            ("Num".into(), Term::Int("3".into())),
        ]),
        Term::Function {
            name: "now".into(),
            args: vec![],
        },
        Term::Function {
            name: "totimestamp".into(),
            args: vec![Term::Function {
                name: "now".into(),
                args: vec![],
            }],
        },
    ];
    assert_eq!(values, want);
}

#[test]
fn update_assignments_and_conditions() {
    let p = parse_statement(
        "UPDATE t USING TTL ? SET a = a + [1], s = s - {'x'}, m['k'] = 'v', c = c + 1, l = [0] + l, v = ?, u.f = 2, n += 3 \
         WHERE k = ? AND ck IN (1, 2) IF a = 1 AND m['k'] != null",
    )
    .unwrap();
    assert_eq!(p.bind_count, 3);
    let Statement::Update {
        assignments,
        where_clause,
        conditions,
        using,
        ..
    } = p.statement
    else {
        panic!()
    };
    assert_eq!(using.ttl, Some(m(0, None)));
    assert_eq!(
        assignments,
        vec![
            Assignment::Add {
                column: "a".into(),
                value: Term::List(vec![Term::Int("1".into())])
            },
            Assignment::Sub {
                column: "s".into(),
                value: Term::Set(vec![Term::Str("x".into())])
            },
            Assignment::SetElement {
                column: "m".into(),
                key: Term::Str("k".into()),
                value: Term::Str("v".into())
            },
            Assignment::Add {
                column: "c".into(),
                value: Term::Int("1".into())
            },
            Assignment::Prepend {
                column: "l".into(),
                value: Term::List(vec![Term::Int("0".into())])
            },
            Assignment::Set {
                column: "v".into(),
                value: m(1, None)
            },
            Assignment::SetField {
                column: "u".into(),
                field: "f".into(),
                value: Term::Int("2".into())
            },
            Assignment::Add {
                column: "n".into(),
                value: Term::Int("3".into())
            },
        ]
    );
    assert_eq!(
        where_clause,
        vec![
            Relation {
                lhs: RelationLhs::Column("k".into()),
                op: Operator::Eq,
                rhs: RelationRhs::Term(m(2, None))
            },
            Relation {
                lhs: RelationLhs::Column("ck".into()),
                op: Operator::In,
                rhs: RelationRhs::List(vec![Term::Int("1".into()), Term::Int("2".into())])
            },
        ]
    );
    let Conditions::Columns(c) = conditions else {
        panic!()
    };
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].element, Some(Term::Str("k".into())));
    assert_eq!(c[1].op, Operator::Ne);
    assert!(matches!(
        parse("UPDATE t SET a = 1 WHERE k = 1 IF EXISTS"),
        Statement::Update {
            conditions: Conditions::IfExists,
            ..
        }
    ));
}

#[test]
fn delete_forms() {
    assert_eq!(
        parse("DELETE a, m['k'] FROM ks.t USING TIMESTAMP 5 WHERE k = 1 AND c >= 2 IF EXISTS"),
        Statement::Delete {
            table: qn(Some("ks"), "t"),
            targets: vec![
                DeleteTarget {
                    column: "a".into(),
                    element: None
                },
                DeleteTarget {
                    column: "m".into(),
                    element: Some(Term::Str("k".into()))
                },
            ],
            using: Using {
                ttl: None,
                timestamp: Some(Term::Int("5".into()))
            },
            where_clause: vec![
                Relation {
                    lhs: RelationLhs::Column("k".into()),
                    op: Operator::Eq,
                    rhs: RelationRhs::Term(Term::Int("1".into()))
                },
                Relation {
                    lhs: RelationLhs::Column("c".into()),
                    op: Operator::Ge,
                    rhs: RelationRhs::Term(Term::Int("2".into()))
                },
            ],
            conditions: Conditions::IfExists,
        }
    );
    assert!(
        matches!(parse("delete from t where k = 1"), Statement::Delete { ref targets, .. } if targets.is_empty())
    );
}

#[test]
fn select_forms() {
    let s = select(
        "SELECT a AS x, count(*), writetime(b), TTL(b), token(k), \"Cap\" FROM ks.t WHERE token(k) > ? AND k IN ? \
         AND c <= 3 ORDER BY c DESC PER PARTITION LIMIT 2 LIMIT :lim ALLOW FILTERING",
    );
    assert_eq!(s.table, qn(Some("ks"), "t"));
    assert_eq!(
        s.selection,
        Selection::List(vec![
            (Selector::Column("a".into()), Some("x".into())),
            (Selector::CountAll, None),
            (Selector::WriteTime("b".into()), None),
            (Selector::Ttl("b".into()), None),
            (
                Selector::Function {
                    name: "token".into(),
                    args: vec![Selector::Column("k".into())]
                },
                None
            ),
            (Selector::Column("Cap".into()), None),
        ])
    );
    assert_eq!(s.where_clause[0].lhs, RelationLhs::Token(vec!["k".into()]));
    assert_eq!(s.where_clause[0].op, Operator::Gt);
    assert_eq!(
        s.where_clause[1].rhs,
        RelationRhs::Marker(BindMarker {
            index: 1,
            name: None
        })
    );
    assert_eq!(s.order_by, vec![("c".into(), true)]);
    assert_eq!(s.per_partition_limit, Some(Term::Int("2".into())));
    assert_eq!(s.limit, Some(m(2, Some("lim"))));
    assert!(s.allow_filtering);
    let s = select("select distinct k from t");
    assert!(s.distinct);
    let s = select("SELECT JSON * FROM t");
    assert!(s.json && s.selection == Selection::All);
    let s = select("SELECT count(1) FROM system.local WHERE key = 'local'");
    assert_eq!(
        s.selection,
        Selection::List(vec![(Selector::CountAll, None)])
    );
    let s = select("SELECT key, value FROM t");
    assert_eq!(
        s.selection,
        Selection::List(vec![
            (Selector::Column("key".into()), None),
            (Selector::Column("value".into()), None)
        ])
    );
    let s = select("SELECT * FROM t WHERE m CONTAINS KEY 'a' AND l CONTAINS 1 AND x != 2");
    assert_eq!(s.where_clause[0].op, Operator::ContainsKey);
    assert_eq!(s.where_clause[1].op, Operator::Contains);
}

#[test]
fn batch_forms() {
    let p = parse_statement(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 7 INSERT INTO t (a) VALUES (?); UPDATE t SET b = ? WHERE a = 1; \
         DELETE FROM t WHERE a = ? APPLY BATCH;",
    )
    .unwrap();
    assert_eq!(p.bind_count, 3);
    let Statement::Batch {
        kind,
        using,
        statements,
    } = p.statement
    else {
        panic!()
    };
    assert_eq!(kind, BatchKind::Unlogged);
    assert_eq!(using.timestamp, Some(Term::Int("7".into())));
    assert_eq!(statements.len(), 3);
    assert!(matches!(
        parse("begin counter batch update t set c = c + 1 where k = 1 apply batch"),
        Statement::Batch {
            kind: BatchKind::Counter,
            ..
        }
    ));
    assert!(matches!(
        parse("BEGIN BATCH APPLY BATCH"),
        Statement::Batch {
            kind: BatchKind::Logged,
            ..
        }
    ));
}

#[test]
fn comments_and_case() {
    let s = select("-- leading\nSeLeCt /* inline */ A // trailing\n FROM T;");
    assert_eq!(
        s.selection,
        Selection::List(vec![(Selector::Column("a".into()), None)])
    );
    assert_eq!(s.table, qn(None, "t"));
}

#[test]
fn syntax_errors_have_positions() {
    assert_eq!(
        syntax_err("SELECT * FORM t"),
        "line 1:9 mismatched input 'FORM' expecting K_FROM"
    );
    assert_eq!(
        syntax_err("SELEKT * FROM t"),
        "line 1:0 no viable alternative at input 'SELEKT'"
    );
    assert_eq!(
        syntax_err("SELECT * FROM t WHERE"),
        "line 1:21 mismatched input '<EOF>' expecting an identifier"
    );
    assert_eq!(
        syntax_err("INSERT INTO t (a) VALUES (1) garbage"),
        "line 1:29 extraneous input at input 'garbage'"
    );
    assert_eq!(
        syntax_err("SELECT * FROM select"),
        "line 1:14 mismatched input 'select' expecting an identifier"
    );
    assert!(syntax_err("").contains("<EOF>"));
    assert!(syntax_err("CREATE TABLE t (a int, b map<int>)").contains("expecting ','"));
    assert!(syntax_err("SELECT * FROM t WHERE k = 'open").contains("unterminated"));
    assert!(syntax_err("INSERT INTO t (a) VALUES ({1: 2, 3})").contains("expecting ':'"));
    assert!(syntax_err("UPDATE t SET a = WHERE k = 1").contains("line 1:17"));
}

#[test]
fn bind_markers_numbered_in_text_order() {
    let p =
        parse_statement("SELECT * FROM t WHERE a = :x AND b = ? AND c IN (?, :y) LIMIT ?").unwrap();
    assert_eq!(p.bind_count, 5);
    let Statement::Select(s) = p.statement else {
        panic!()
    };
    assert_eq!(
        s.where_clause[2].rhs,
        RelationRhs::List(vec![m(2, None), m(3, Some("y"))])
    );
    assert_eq!(s.limit, Some(m(4, None)));
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        let _ = parse_statement(&s);
    }

    #[test]
    fn cql_like_text_never_panics(s in "(SELECT|INSERT|UPDATE|DELETE|CREATE|FROM|WHERE|\\(|\\)|\\{|\\}|\\[|\\]|'|\"|,|:|\\?|-|[a-z0-9]{1,4}|=|<|>| ){0,30}") {
        let _ = parse_statement(&s);
    }
}

#[test]
fn more_ddl_forms() {
    assert!(matches!(
        parse("CREATE CUSTOM INDEX ON ks.t (v) USING 'org.apache.cassandra.index.sasi.SASIIndex' WITH OPTIONS = {'mode': 'CONTAINS'}"),
        Statement::CreateIndex { name: None, custom_class: Some(ref c), .. } if c.ends_with("SASIIndex")
    ));
    assert_eq!(
        parse("DROP INDEX IF EXISTS ks.idx"),
        Statement::DropIndex {
            name: qn(Some("ks"), "idx"),
            if_exists: true
        }
    );
    assert_eq!(
        parse("ALTER TABLE t RENAME a TO b AND c TO d"),
        Statement::AlterTable {
            name: qn(None, "t"),
            op: AlterTableOp::Rename(vec![("a".into(), "b".into()), ("c".into(), "d".into())])
        }
    );
    assert_eq!(
        parse("ALTER TABLE t WITH gc_grace_seconds = 10"),
        Statement::AlterTable {
            name: qn(None, "t"),
            op: AlterTableOp::With(vec![("gc_grace_seconds".into(), Term::Int("10".into()))])
        }
    );
    let Statement::CreateTable(ct) = parse(
        "CREATE TABLE t (k int, v int, PRIMARY KEY (k)) WITH COMPACT STORAGE AND caching = {'keys': 'ALL'}",
    ) else {
        panic!()
    };
    assert!(ct.compact_storage);
    assert_eq!(ct.options.len(), 1);
    assert!(matches!(
        parse_statement("CREATE TABLE t (k int PRIMARY KEY, v int, PRIMARY KEY (v))"),
        Err(CqlError::Invalid(_))
    ));
    // A view needs its PRIMARY KEY.
    assert!(!syntax_err("CREATE MATERIALIZED VIEW v AS SELECT * FROM t").is_empty());
    let Statement::CreateView(cv) = parse(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS ks.v AS SELECT a, k FROM t WHERE a IS NOT NULL AND k IS NOT NULL PRIMARY KEY ((a), k) WITH CLUSTERING ORDER BY (k DESC)",
    ) else {
        panic!()
    };
    assert_eq!(cv.columns, Some(vec!["a".into(), "k".into()]));
    assert_eq!(cv.not_null, vec!["a".to_owned(), "k".to_owned()]);
    assert_eq!(
        (cv.partition_key, cv.clustering, cv.clustering_order),
        (vec!["a".into()], vec!["k".into()], vec![("k".into(), true)])
    );
    assert!(syntax_err("CREATE TABLE t (k list<int, int> PRIMARY KEY)").contains("expecting '>'"));
    assert!(
        syntax_err("CREATE TABLE t (k vector<float, 0> PRIMARY KEY)").contains("vector dimension")
    );
}

#[test]
fn every_duration_literal_form_parses() {
    let d = |months, days, nanoseconds| {
        Term::Duration(proto::value::CqlDuration {
            months,
            days,
            nanoseconds,
        })
    };
    let Statement::Insert {
        values: InsertValues::Values { values, .. },
        ..
    } = parse(
        "INSERT INTO t (a) VALUES (P0001-02-03T04:05:06, p0000-00-00t00:00:00, -P1D, -PT1M, P2W, -P0000-01-00T00:00:00)",
    )
    else {
        panic!()
    };
    assert_eq!(
        values,
        vec![
            d(14, 3, ((4 * 60 + 5) * 60 + 6) * 1_000_000_000),
            d(0, 0, 0),
            d(0, -1, 0),
            d(0, 0, -60_000_000_000),
            d(0, 14, 0),
            d(-1, 0, 0),
        ]
    );
    // Out of shape: not a duration.
    assert!(parse_statement("INSERT INTO t (a) VALUES (P0001-02-03T04:05)").is_err());
}
