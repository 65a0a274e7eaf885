//! User-defined functions and aggregates over the wire: the SCHEMA_CHANGE event and the RESULT
//! Schema_change body with target FUNCTION / AGGREGATE carry `<keyspace><name><arg types>`
//! (v4 spec, sections 4.2.5.5 and 4.2.6), checked byte for byte.

use cql_sim::SimCluster;
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::request::{Register, Request};
use proto::response::{ErrorDetails, Response};

/// `[string]`: a u16 length and the bytes.
fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// `<change><target><keyspace><name><arg types: [string list]>`.
fn change_body(change: &str, target: &str, ks: &str, name: &str, args: &[&str]) -> Vec<u8> {
    let mut b = Vec::new();
    string(&mut b, change);
    string(&mut b, target);
    string(&mut b, ks);
    string(&mut b, name);
    b.extend_from_slice(&(args.len() as u16).to_be_bytes());
    for a in args {
        string(&mut b, a);
    }
    b
}

#[tokio::test]
async fn function_and_aggregate_schema_changes_on_the_wire() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut listener = RawClient::ready(cluster.node(1).addr()).await;
    let r = listener
        .request(&Request::Register(Register {
            events: vec!["SCHEMA_CHANGE".to_owned()],
        }))
        .await;
    assert!(matches!(r.response, Response::Ready), "{:?}", r.response);
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok("CREATE KEYSPACE uf WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    let ks_event = listener.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    assert_eq!(ks_event.header.stream, -1);

    // The RESULT of CREATE FUNCTION: kind 0x0005 (Schema_change), then the change.
    let stream = c
        .send(&query("CREATE FUNCTION uf.plus (a int, b list<text>) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'"))
        .await;
    let frame = c.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    assert_eq!(frame.header.stream, stream);
    let args = ["int", "list<text>"];
    let mut want = 5i32.to_be_bytes().to_vec();
    want.extend(change_body("CREATED", "FUNCTION", "uf", "plus", &args));
    assert_eq!(frame.body.as_ref(), want.as_slice());

    // The pushed EVENT: "SCHEMA_CHANGE", then the same change.
    let ev = listener.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    assert_eq!(ev.header.stream, -1);
    let mut want = Vec::new();
    string(&mut want, "SCHEMA_CHANGE");
    want.extend(change_body("CREATED", "FUNCTION", "uf", "plus", &args));
    assert_eq!(ev.body.as_ref(), want.as_slice());

    c.ok("CREATE FUNCTION uf.acc (s int, v int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return s + v;'").await;
    let _ = listener.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    c.ok("CREATE AGGREGATE uf.total (int) SFUNC acc STYPE int INITCOND 0")
        .await;
    let ev = listener.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    let mut want = Vec::new();
    string(&mut want, "SCHEMA_CHANGE");
    want.extend(change_body("CREATED", "AGGREGATE", "uf", "total", &["int"]));
    assert_eq!(ev.body.as_ref(), want.as_slice());

    c.ok("DROP AGGREGATE uf.total").await;
    let ev = listener.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
    let mut want = Vec::new();
    string(&mut want, "SCHEMA_CHANGE");
    want.extend(change_body("DROPPED", "AGGREGATE", "uf", "total", &["int"]));
    assert_eq!(ev.body.as_ref(), want.as_slice());

    // A refused statement is an Invalid (0x2200) error, and no event follows.
    let r = c.query("DROP FUNCTION uf.nope").await;
    assert_eq!(error_code(&r).0, 0x2200);

    // A function that fails while running is a FunctionFailure (0x1400) naming it.
    c.ok("CREATE TABLE uf.t (k int PRIMARY KEY, v int)").await;
    c.ok("INSERT INTO uf.t (k) VALUES (1)").await;
    let r = c.query("SELECT acc(v, v) FROM uf.t WHERE k = 1").await;
    let Response::Error(e) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(e.code.0, 0x1400);
    assert_eq!(
        e.details,
        ErrorDetails::FunctionFailure {
            keyspace: "uf".into(),
            function: "acc".into(),
            arg_types: vec!["int".into(), "int".into()],
        }
    );
}
