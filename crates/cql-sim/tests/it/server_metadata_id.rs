//! Prepared statements across schema changes over raw frames: ALTER and DROP unprepare the
//! statements of the table, and with Scylla's `SCYLLA_USE_METADATA_ID` a stale result
//! metadata id gets METADATA_CHANGED with the new id and the full metadata.

use bytes::Bytes;
use cql_sim::SimCluster;
use cql_testkit::query::params;
use cql_testkit::{RawClient, TIMEOUT};
use proto::codes::{Consistency, ErrorCode, Opcode};
use proto::frame::{BodyExtensions, DecodeOptions, decode_response_with};
use proto::request::{Execute, Prepare, Request, SerializedValues, SerializedValuesBuilder};
use proto::response::{ErrorDetails, Prepared, Response, ResultBody, Rows};
use proto::{ColumnType, RawValue};

const KS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";
const KEY: &str = "SCYLLA_USE_METADATA_ID";
const SELECT: &str = "SELECT * FROM ks.t WHERE k = ?";

/// STARTUP, with `SCYLLA_USE_METADATA_ID` when `metadata_id`.
async fn startup(c: &mut RawClient, metadata_id: bool) {
    let options: &[_] = if metadata_id { &[(KEY, "")] } else { &[] };
    c.startup_with(options).await;
}

/// Sends `req` and decodes the answer with the extension on or off (the raw client decodes
/// without extensions, and a v4 PREPARED with a metadata id reads differently).
async fn request(c: &mut RawClient, req: &Request, metadata_id: bool) -> Response {
    let stream = c.send(req).await;
    let frame = c
        .read_frame_timeout(TIMEOUT)
        .await
        .expect("in time")
        .expect("a frame");
    assert_eq!(frame.header.stream, stream);
    let opts = DecodeOptions {
        extensions: BodyExtensions::NONE.with_scylla_metadata_id(metadata_id),
        ..DecodeOptions::default()
    };
    decode_response_with(&frame, &opts)
        .expect("decodes")
        .response
}

async fn prepare(c: &mut RawClient, q: &str, metadata_id: bool) -> Prepared {
    let req = Request::Prepare(Prepare {
        query: q.to_owned().into(),
        keyspace: None,
    });
    match request(c, &req, metadata_id).await {
        Response::Result(ResultBody::Prepared(p)) => *p,
        other => panic!("{q}: {other:?}"),
    }
}

fn key(k: i32) -> SerializedValues {
    let mut b = SerializedValuesBuilder::new();
    b.push(RawValue::Value(&k.to_be_bytes())).unwrap();
    b.finish()
}

fn execute_req(id: &Bytes, metadata_id: Option<&Bytes>, skip_metadata: bool) -> Request {
    let mut p = params(Consistency::ONE, key(1));
    p.skip_metadata = skip_metadata;
    Request::Execute(Execute {
        id: id.clone(),
        result_metadata_id: metadata_id.cloned(),
        params: p,
    })
}

fn rows(r: Response) -> Rows {
    match r {
        Response::Result(ResultBody::Rows(rows)) => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

fn names(rows: &Rows) -> Vec<&str> {
    rows.metadata
        .col_specs
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

/// Asserts `r` is UNPREPARED for `id`.
fn assert_unprepared(r: &Response, id: &Bytes) {
    let Response::Error(e) = r else {
        panic!("expected UNPREPARED, got {r:?}")
    };
    assert_eq!(e.code, ErrorCode::UNPREPARED, "{e:?}");
    assert_eq!(e.details, ErrorDetails::Unprepared { id: id.clone() });
}

async fn setup(c: &mut RawClient) {
    c.ok(KS).await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, a int)").await;
    c.ok("CREATE TABLE ks.u (k int PRIMARY KEY, a int)").await;
    c.ok("INSERT INTO ks.t (k, a) VALUES (1, 10)").await;
    c.ok("INSERT INTO ks.u (k, a) VALUES (1, 10)").await;
}

#[tokio::test]
async fn supported_offers_the_metadata_id_extension_only_as_scylla() {
    let scylla = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(scylla.contact_point()).await.unwrap();
    assert_eq!(c.supported().await.get(KEY), Some(&Vec::new()));

    let cassandra = SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cassandra.contact_point()).await.unwrap();
    let options = c.supported().await;
    assert!(!options.contains_key(KEY), "{options:?}");
    // A client enabling it regardless gets the plain v4 layout: no metadata id.
    startup(&mut c, true).await;
    setup(&mut c).await;
    assert_eq!(
        prepare(&mut c, SELECT, false).await.result_metadata_id,
        None
    );
}

#[tokio::test]
async fn prepared_carries_the_result_metadata_id_only_when_enabled() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut on = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut on, true).await;
    setup(&mut on).await;
    let p = prepare(&mut on, SELECT, true).await;
    let id = p.result_metadata_id.expect("a result metadata id");
    assert_eq!(id.len(), 16, "an MD5 digest");
    // Another statement with other result columns has another id.
    let q = prepare(&mut on, "SELECT a FROM ks.t WHERE k = ?", true).await;
    assert_ne!(q.result_metadata_id, Some(id));

    let mut off = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut off, false).await;
    assert_eq!(
        prepare(&mut off, SELECT, false).await.result_metadata_id,
        None
    );
}

#[tokio::test]
async fn alter_and_drop_unprepare_the_statements_of_that_table_on_every_node() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut c1 = RawClient::ready(cluster.node(0).addr()).await;
    let mut c2 = RawClient::ready(cluster.node(1).addr()).await;
    setup(&mut c1).await;
    let on_t = prepare(&mut c1, SELECT, false).await.id;
    let insert_t = prepare(&mut c1, "INSERT INTO ks.t (k, a) VALUES (?, ?)", false)
        .await
        .id;
    let on_u = prepare(&mut c1, "SELECT * FROM ks.u WHERE k = ?", false)
        .await
        .id;
    assert_eq!(prepare(&mut c2, SELECT, false).await.id, on_t);
    prepare(&mut c2, "SELECT * FROM ks.u WHERE k = ?", false).await;

    c1.ok("ALTER TABLE ks.t ADD b text").await;
    // Both nodes forgot the reads and the writes of ks.t, and kept those of ks.u.
    for c in [&mut c1, &mut c2] {
        let r = request(c, &execute_req(&on_t, None, false), false).await;
        assert_unprepared(&r, &on_t);
        let r = request(c, &execute_req(&on_u, None, false), false).await;
        assert_eq!(names(&rows(r)), ["k", "a"]);
    }
    let r = c1.execute(insert_t.clone(), key(1)).await;
    assert_unprepared(&r, &insert_t);

    // Prepared again, the statement sees the new column.
    prepare(&mut c2, SELECT, false).await;
    let r = request(&mut c2, &execute_req(&on_t, None, false), false).await;
    assert_eq!(names(&rows(r)), ["k", "a", "b"]);

    c1.ok("ALTER TABLE ks.t DROP a").await;
    let r = request(&mut c2, &execute_req(&on_t, None, false), false).await;
    assert_unprepared(&r, &on_t);

    prepare(&mut c1, SELECT, false).await;
    c1.ok("DROP TABLE ks.t").await;
    let r = request(&mut c1, &execute_req(&on_t, None, false), false).await;
    assert_unprepared(&r, &on_t);
    let r = request(&mut c1, &execute_req(&on_u, None, false), false).await;
    assert_eq!(names(&rows(r)), ["k", "a"]);

    c1.ok("DROP KEYSPACE ks").await;
    let r = request(&mut c2, &execute_req(&on_u, None, false), false).await;
    assert_unprepared(&r, &on_u);
}

#[tokio::test]
async fn a_stale_metadata_id_gets_metadata_changed_with_the_new_id() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut c, true).await;
    setup(&mut c).await;
    let p = prepare(&mut c, SELECT, true).await;
    let old = p.result_metadata_id.expect("an id");

    // The current id with skip_metadata: NO_METADATA, no change reported.
    let r = rows(request(&mut c, &execute_req(&p.id, Some(&old), true), true).await);
    assert!(r.metadata.is_no_metadata(), "{:?}", r.metadata);
    assert_eq!(r.metadata.new_metadata_id, None);
    assert_eq!(r.metadata.col_count, 2);

    c.ok("ALTER TABLE ks.t ADD b text").await;
    let r = request(&mut c, &execute_req(&p.id, Some(&old), true), true).await;
    assert_unprepared(&r, &p.id);
    let again = prepare(&mut c, SELECT, true).await;
    let new = again.result_metadata_id.expect("an id");
    assert_ne!(new, old, "the result columns changed");
    assert_eq!(again.id, p.id, "the statement id depends on the text only");

    // A client that kept the old id (it did not re-prepare) is told, whatever it asked.
    for skip in [true, false] {
        let stream = c.send(&execute_req(&p.id, Some(&old), skip)).await;
        let frame = c.read_frame_timeout(TIMEOUT).await.unwrap().unwrap();
        assert_eq!(frame.header.stream, stream);
        assert_eq!(frame.header.opcode, Opcode::RESULT);
        // Section 4.2.5.2: <flags><columns_count>[<paging_state>][<new_metadata_id>]...
        let b = &frame.body[..];
        assert_eq!(&b[..4], &[0, 0, 0, 2], "ROWS");
        let flags = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        assert_eq!(flags & 0x0008, 0x0008, "METADATA_CHANGED");
        assert_eq!(flags & 0x0004, 0, "full metadata, not NO_METADATA");
        assert_eq!(i32::from_be_bytes([b[8], b[9], b[10], b[11]]), 3);
        assert_eq!(&b[12..14], &[0, 16]);
        assert_eq!(&b[14..30], &new[..], "the new id");
        let opts = DecodeOptions {
            extensions: BodyExtensions::NONE.with_scylla_metadata_id(true),
            ..DecodeOptions::default()
        };
        let r = rows(decode_response_with(&frame, &opts).unwrap().response);
        assert_eq!(r.metadata.new_metadata_id, Some(new.clone()));
        assert_eq!(names(&r), ["k", "a", "b"]);
        assert_eq!(r.metadata.col_specs[2].typ, ColumnType::Text);
    }
    // With the new id, no change is reported.
    let r = rows(request(&mut c, &execute_req(&p.id, Some(&new), true), true).await);
    assert!(r.metadata.is_no_metadata());
    assert_eq!(r.metadata.col_count, 3);
}

#[tokio::test]
async fn conditional_results_always_carry_full_metadata_and_no_change() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut c, true).await;
    setup(&mut c).await;
    let p = prepare(
        &mut c,
        "INSERT INTO ks.t (k, a) VALUES (?, 5) IF NOT EXISTS",
        true,
    )
    .await;
    let id = p.result_metadata_id.expect("an id");
    let r = rows(request(&mut c, &execute_req(&p.id, Some(&id), true), true).await);
    assert_eq!(r.metadata.new_metadata_id, None);
    assert!(!r.metadata.is_no_metadata());
    assert_eq!(names(&r), ["[applied]", "k", "a"]);
}
