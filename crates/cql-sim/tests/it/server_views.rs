//! Materialized views: CREATE / ALTER / DROP, `system_schema.views` and `columns`, SCHEMA_CHANGE
//! events, view rows following base-table writes, and the server's refusals.

use cql_sim::SimCluster;
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::request::{Register, Request};
use proto::response::{Event, Response, SchemaChangeTarget};
use proto::{CqlValue, ErrorCode};

fn t(s: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(s.into()))
}

fn int(i: i32) -> Option<CqlValue> {
    Some(CqlValue::Int(i))
}

fn message(r: &Response) -> &str {
    match r {
        Response::Error(e) => &e.message,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn next_change(c: &mut RawClient) -> (String, String, String) {
    let Some(Event::SchemaChange(sc)) = c.next_event(TIMEOUT).await else {
        panic!("a schema change event")
    };
    let SchemaChangeTarget::Table { keyspace, name } = sc.target else {
        panic!("a TABLE change: {:?}", sc.target)
    };
    (sc.change_type.as_str().to_owned(), keyspace, name)
}

#[tokio::test]
async fn views_follow_base_writes_and_show_in_system_schema() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    let mut listener = RawClient::ready(cluster.node(1).addr()).await;
    let r = listener
        .request(&Request::Register(Register {
            events: vec!["SCHEMA_CHANGE".into()],
        }))
        .await;
    assert!(matches!(r.response, Response::Ready), "{:?}", r.response);
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
    assert!(
        listener.next_event(TIMEOUT).await.is_some(),
        "keyspace created"
    );
    c.ok("CREATE TABLE ks.users (id int, region text, name text, age int, PRIMARY KEY (id))")
        .await;
    let _ = next_change(&mut listener).await;
    c.ok("CREATE MATERIALIZED VIEW ks.by_region AS SELECT id, region, name FROM ks.users WHERE region IS NOT NULL AND id IS NOT NULL PRIMARY KEY (region, id) WITH CLUSTERING ORDER BY (id DESC) AND comment = 'v'").await;
    assert_eq!(
        next_change(&mut listener).await,
        ("CREATED".into(), "ks".into(), "by_region".into())
    );

    let r = c
        .ok("SELECT view_name, base_table_name, include_all_columns, where_clause, comment FROM system_schema.views WHERE keyspace_name = 'ks'")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![
            t("by_region"),
            t("users"),
            Some(CqlValue::Boolean(false)),
            t("region IS NOT NULL AND id IS NOT NULL"),
            t("v"),
        ]]
    );
    let r = c
        .ok("SELECT column_name, kind, position, clustering_order FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 'by_region'")
        .await;
    assert_eq!(
        values(&r),
        vec![
            vec![t("id"), t("clustering"), int(0), t("desc")],
            vec![t("name"), t("regular"), int(-1), t("none")],
            vec![t("region"), t("partition_key"), int(0), t("none")],
        ]
    );
    let r = c
        .ok("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'ks'")
        .await;
    assert_eq!(values(&r), vec![vec![t("users")]], "a view is not a table");

    c.ok("INSERT INTO ks.users (id, region, name, age) VALUES (1, 'eu', 'ann', 30)")
        .await;
    c.ok("INSERT INTO ks.users (id, region, name, age) VALUES (2, 'eu', 'bob', 40)")
        .await;
    c.ok("INSERT INTO ks.users (id, region, name) VALUES (3, 'us', 'cy')")
        .await;
    c.ok("INSERT INTO ks.users (id, name) VALUES (4, 'no region')")
        .await;
    let q = "SELECT id, name FROM ks.by_region WHERE region = 'eu'";
    assert_eq!(
        values(&c.ok(q).await),
        vec![vec![int(2), t("bob")], vec![int(1), t("ann")]],
        "clustered by id DESC"
    );
    // An update moves the row to its new view partition; a delete removes it.
    c.ok("UPDATE ks.users SET region = 'us' WHERE id = 2").await;
    c.ok("DELETE FROM ks.users WHERE id = 1").await;
    assert!(values(&c.ok(q).await).is_empty());
    assert_eq!(
        values(&c.ok("SELECT region, id FROM ks.by_region").await).len(),
        2,
        "id 4 has no region and is not in the view"
    );
    let r = c.query("SELECT age FROM ks.by_region").await;
    assert_eq!(error_code(&r), ErrorCode::INVALID, "age is not in the view");

    let r = c
        .query("INSERT INTO ks.by_region (region, id, name) VALUES ('x', 9, 'z')")
        .await;
    assert_eq!(message(&r), "Cannot directly modify a materialized view");
    let r = c.query("DROP TABLE ks.users").await;
    assert_eq!(
        message(&r),
        "Cannot drop table when materialized views still depend on it (ks.{by_region})"
    );
    c.ok("ALTER MATERIALIZED VIEW ks.by_region WITH gc_grace_seconds = 10")
        .await;
    assert_eq!(
        next_change(&mut listener).await,
        ("UPDATED".into(), "ks".into(), "by_region".into())
    );
    c.ok("DROP MATERIALIZED VIEW ks.by_region").await;
    assert_eq!(
        next_change(&mut listener).await,
        ("DROPPED".into(), "ks".into(), "by_region".into())
    );
    c.ok("DROP MATERIALIZED VIEW IF EXISTS ks.by_region").await;
    c.ok("DROP TABLE ks.users").await;
}

#[tokio::test]
async fn view_definitions_are_checked_as_cassandra_does() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE ks.t (k int, c int, a int, b int, PRIMARY KEY (k, c))")
        .await;
    for (q, m) in [
        (
            "CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE a IS NOT NULL AND k IS NOT NULL PRIMARY KEY (a, k)",
            "Cannot create materialized view v without primary key columns from base t (c)",
        ),
        (
            "CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE a IS NOT NULL AND b IS NOT NULL AND k IS NOT NULL AND c IS NOT NULL PRIMARY KEY (a, b, k, c)",
            "Cannot include more than one non-primary key column in materialized view primary key (got a, b)",
        ),
        (
            "CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE k IS NOT NULL PRIMARY KEY (a, k, c)",
            "Primary key columns a, c must be restricted with 'IS NOT NULL' or otherwise",
        ),
    ] {
        let r = c.query(q).await;
        assert_eq!(error_code(&r), ErrorCode::INVALID, "{q}");
        assert_eq!(message(&r), m, "{q}");
    }
    c.ok("CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE a IS NOT NULL AND k IS NOT NULL AND c IS NOT NULL PRIMARY KEY (a, k, c)").await;
    let r = c
        .ok("SELECT include_all_columns FROM system_schema.views WHERE keyspace_name = 'ks' AND view_name = 'v'")
        .await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Boolean(true))]]);
    let r = c
        .query("CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE a IS NOT NULL AND k IS NOT NULL AND c IS NOT NULL PRIMARY KEY (a, k, c)")
        .await;
    assert_eq!(error_code(&r), ErrorCode::ALREADY_EXISTS);
    c.ok("CREATE MATERIALIZED VIEW IF NOT EXISTS ks.v AS SELECT * FROM ks.t WHERE a IS NOT NULL AND k IS NOT NULL AND c IS NOT NULL PRIMARY KEY (a, k, c)").await;
    c.ok("INSERT INTO ks.t (k, c, a, b) VALUES (1, 2, 3, 4)")
        .await;
    assert_eq!(
        values(&c.ok("SELECT * FROM ks.v WHERE a = 3").await),
        vec![vec![int(3), int(1), int(2), int(4)]]
    );
}
