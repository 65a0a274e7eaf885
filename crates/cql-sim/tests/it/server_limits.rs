//! Server-side limits over raw frames: Scylla's per-partition rate limit (its SUPPORTED
//! extension, the error under the advertised code or CONFIG_ERROR without it, the extension
//! blob in `system_schema.tables`) and Cassandra's batch size thresholds (a client warning in
//! the WARNING flag, `Batch too large` before anything is written).

use bytes::Bytes;
use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::{column, error_code, int_values, values};
use proto::codes::{BatchType, Consistency, ErrorCode};
use proto::request::SerializedValuesBuilder;
use proto::request::{Batch, BatchStatement, BatchStatementKind, Request};
use proto::response::{RateLimitReached, Response, ResultBody};
use proto::{CqlValue, RawValue};

const KS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";

/// A ready client; with `SCYLLA_RATE_LIMIT_ERROR` enabled in STARTUP when `extension` is set.
async fn client(cluster: &SimCluster, extension: bool) -> RawClient {
    let mut c = RawClient::connect(cluster.contact_point())
        .await
        .expect("connects");
    let options: &[_] = if extension {
        &[("SCYLLA_RATE_LIMIT_ERROR", "")]
    } else {
        &[]
    };
    c.startup_with(options).await;
    c
}

fn prepared_id(r: &Response) -> Bytes {
    match r {
        Response::Result(ResultBody::Prepared(p)) => p.id.clone(),
        other => panic!("not prepared: {other:?}"),
    }
}

#[tokio::test]
async fn supported_advertises_the_rate_limit_error_code() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let s = c.supported().await;
    assert_eq!(
        s.get("SCYLLA_RATE_LIMIT_ERROR").map(Vec::as_slice),
        Some(&["ERROR_CODE=61440".to_owned()][..])
    );
    let cassandra = SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cassandra.contact_point()).await.unwrap();
    assert!(!c.supported().await.contains_key("SCYLLA_RATE_LIMIT_ERROR"));
}

#[tokio::test]
async fn writes_over_the_partition_limit_get_the_negotiated_error_and_write_nothing() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = client(&cluster, true).await;
    c.ok(KS).await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int) WITH per_partition_rate_limit = {'max_writes_per_second': 3}")
        .await;
    let id = prepared_id(&c.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)").await);
    // The window is one wall-clock second: retry once if the loop straddled a second.
    let mut rejected = None;
    for _ in 0..2 {
        let mut outcomes = Vec::new();
        for v in 0..4 {
            outcomes.push(c.execute(id.clone(), int_values(&[1, 100 + v])).await);
        }
        if outcomes[..3]
            .iter()
            .all(|r| matches!(r, Response::Result(_)))
        {
            rejected = Some(outcomes.pop().expect("four"));
            break;
        }
    }
    let Some(Response::Error(e)) = rejected else {
        panic!("the fourth write in a second was not rejected: {rejected:?}");
    };
    assert_eq!(e.code.0, 0xF000);
    assert_eq!(
        e.message,
        "Per-partition rate limit reached for write in table ks.t, rejected by coordinator"
    );
    assert_eq!(
        RateLimitReached::from_error(&e, 0xF000),
        Some(RateLimitReached {
            op_type: RateLimitReached::WRITE,
            rejected_by_coordinator: true,
        })
    );
    // The rejected write did not land; another partition is not limited.
    let r = c.ok("SELECT v FROM ks.t WHERE k = 1").await;
    assert_eq!(values(&r), vec![vec![Some(CqlValue::Int(102))]]);
    assert!(matches!(
        c.execute(id.clone(), int_values(&[2, 1])).await,
        Response::Result(_)
    ));
}

#[tokio::test]
async fn without_the_extension_a_rejection_is_a_config_error_and_reads_are_limited_too() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = client(&cluster, false).await;
    c.ok(KS).await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    c.ok("ALTER TABLE ks.t WITH per_partition_rate_limit = {'max_reads_per_second': 1}")
        .await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = c.query("SELECT v FROM ks.t WHERE k = 1").await;
        codes.push(match r {
            Response::Error(e) => Some((e.code, e.message)),
            _ => None,
        });
    }
    let rejected: Vec<_> = codes.iter().flatten().collect();
    assert!(!rejected.is_empty(), "no read was rejected");
    assert_eq!(rejected[0].0, ErrorCode::CONFIG_ERROR);
    assert!(
        rejected[0]
            .1
            .starts_with("Per-partition rate limit reached for read in table ks.t")
    );
    // A scan is not a single-partition read: it is not limited.
    assert!(matches!(
        c.query("SELECT v FROM ks.t").await,
        Response::Result(_)
    ));
}

#[tokio::test]
async fn the_option_is_validated_and_shown_as_scyllas_extension() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = client(&cluster, true).await;
    c.ok(KS).await;
    let r = c
        .query("CREATE TABLE ks.bad (k int PRIMARY KEY) WITH per_partition_rate_limit = {'max_writes_per_second': 'many'}")
        .await;
    assert_eq!(error_code(&r), ErrorCode::CONFIG_ERROR);
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY) WITH per_partition_rate_limit = {'max_writes_per_second': 7}")
        .await;
    let r = c
        .ok("SELECT extensions FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'")
        .await;
    let ext = column(&r, "extensions");
    let Some(Some(CqlValue::Map(m))) = ext.first() else {
        panic!("no extensions: {ext:?}");
    };
    let mut blob = vec![1, 0, 0, 0, 21, 0, 0, 0];
    blob.extend_from_slice(b"max_writes_per_second");
    blob.extend_from_slice(&[1, 0, 0, 0, b'7']);
    assert_eq!(
        m.as_slice(),
        &[(
            CqlValue::Text("per_partition_rate_limit".into()),
            CqlValue::Blob(blob)
        )]
    );
}

/// A BATCH of `INSERT INTO ks.b (k, v) VALUES (?, ?)` with a blob of `size` bytes for each key.
fn blob_batch(keys: &[i32], size: usize) -> Request {
    let payload = vec![7u8; size];
    let statements = keys
        .iter()
        .map(|k| {
            let mut b = SerializedValuesBuilder::new();
            b.push(RawValue::Value(&k.to_be_bytes())).unwrap();
            b.push(RawValue::Value(&payload)).unwrap();
            BatchStatement {
                kind: BatchStatementKind::Query("INSERT INTO ks.b (k, v) VALUES (?, ?)".into()),
                values: b.finish(),
            }
        })
        .collect();
    Request::Batch(Batch {
        batch_type: BatchType::LOGGED,
        statements,
        consistency: Consistency::ONE,
        ..Batch::default()
    })
}

#[tokio::test]
async fn large_batches_are_warned_about_and_too_large_ones_refused() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = client(&cluster, true).await;
    c.ok(KS).await;
    c.ok("CREATE TABLE ks.b (k int PRIMARY KEY, v blob)").await;
    // Two partitions, 2 × (4 + 3000) bytes: over 5 KiB.
    let r = c.request(&blob_batch(&[1, 2], 3000)).await;
    assert!(
        matches!(r.response, Response::Result(_)),
        "{:?}",
        r.response
    );
    assert_eq!(
        r.warnings,
        vec![
            "Batch for [ks.b] is of size 5.867KiB, exceeding specified threshold of 5.000KiB by 888 bytes."
                .to_owned()
        ]
    );
    // One partition is never checked; a small batch gets no warning.
    let r = c.request(&blob_batch(&[3, 3], 3000)).await;
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let r = c.request(&blob_batch(&[4, 5], 100)).await;
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // Over 50 KiB: refused, and nothing written.
    let r = c.request(&blob_batch(&[10, 11], 30_000)).await;
    let Response::Error(e) = &r.response else {
        panic!("{:?}", r.response);
    };
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::INVALID, "Batch too large")
    );
    let r = c.ok("SELECT k FROM ks.b WHERE k IN (10, 11)").await;
    assert!(values(&r).is_empty());
}
