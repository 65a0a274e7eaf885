//! Scylla's `SCYLLA_LWT_ADD_METADATA_MARK` over raw frames: offered in SUPPORTED, enabled by the
//! client in STARTUP, and then set in the prepared metadata flags of conditional statements.

use cql_sim::SimCluster;
use cql_testkit::{RawClient, TIMEOUT};
use proto::codes::Opcode;
use proto::frame::decode_response;
use proto::request::{Prepare, Request};
use proto::response::{Response, ResultBody};

const KS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";

/// The SUPPORTED key and value Scylla sends.
const KEY: &str = "SCYLLA_LWT_ADD_METADATA_MARK";
const VALUE: &str = "LWT_OPTIMIZATION_META_BIT_MASK=2147483648";

/// STARTUP, with the extension enabled when `lwt` is set.
async fn startup(c: &mut RawClient, lwt: bool) {
    let options: &[_] = if lwt { &[(KEY, VALUE)] } else { &[] };
    c.startup_with(options).await;
}

/// PREPAREs `q` and returns the prepared metadata flags as they are on the wire: the `[int]`
/// after the result kind and the `[short bytes]` id (section 4.2.5.4).
async fn raw_prepared_flags(c: &mut RawClient, q: &str) -> u32 {
    let stream = c
        .send(&Request::Prepare(Prepare {
            query: q.to_owned().into(),
            keyspace: None,
        }))
        .await;
    let frame = c
        .read_frame_timeout(TIMEOUT)
        .await
        .expect("in time")
        .expect("a frame");
    assert_eq!(frame.header.stream, stream);
    assert_eq!(frame.header.opcode, Opcode::RESULT, "{q}");
    let b = &frame.body[..];
    assert_eq!(&b[..4], &[0, 0, 0, 4], "{q}: not a Prepared result");
    let id_len = usize::from(u16::from_be_bytes([b[4], b[5]]));
    let at = 6 + id_len;
    let flags = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    // The decoder agrees with the raw bytes.
    let env = decode_response(&frame, None).expect("decodes");
    let Response::Result(ResultBody::Prepared(p)) = env.response else {
        panic!("{q}: not prepared");
    };
    assert_eq!(u32::from_be_bytes(p.metadata.flags().to_be_bytes()), flags);
    assert_eq!(p.metadata.has_flag(0x8000_0000), flags & 0x8000_0000 != 0);
    flags
}

async fn setup(c: &mut RawClient) {
    c.ok(KS).await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
}

const LWT: [&str; 4] = [
    "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS",
    "UPDATE ks.t SET v = ? WHERE k = ? IF v = ?",
    "UPDATE ks.t SET v = ? WHERE k = ? IF EXISTS",
    "DELETE FROM ks.t WHERE k = ? IF EXISTS",
];
const PLAIN: [&str; 4] = [
    "INSERT INTO ks.t (k, v) VALUES (?, ?)",
    "UPDATE ks.t SET v = ? WHERE k = ?",
    "DELETE FROM ks.t WHERE k = ?",
    "SELECT v FROM ks.t WHERE k = ?",
];

#[tokio::test]
async fn supported_offers_the_lwt_mark() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let options = c.supported().await;
    assert_eq!(options[KEY], vec![VALUE]);
}

#[tokio::test]
async fn conditional_statements_are_marked_when_the_client_asked() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut c, true).await;
    setup(&mut c).await;
    for q in LWT {
        // LWT mark | GLOBAL_TABLES_SPEC.
        assert_eq!(raw_prepared_flags(&mut c, q).await, 0x8000_0001, "{q}");
    }
    for q in PLAIN {
        assert_eq!(raw_prepared_flags(&mut c, q).await, 0x0000_0001, "{q}");
    }
}

#[tokio::test]
async fn nothing_is_marked_without_the_startup_option() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut c, false).await;
    setup(&mut c).await;
    for q in LWT.into_iter().chain(PLAIN) {
        assert_eq!(raw_prepared_flags(&mut c, q).await, 0x0000_0001, "{q}");
    }
    // The same statement on another connection that asked is marked: the choice is per
    // connection, not per statement.
    let mut asked = RawClient::connect(cluster.contact_point()).await.unwrap();
    startup(&mut asked, true).await;
    assert_eq!(raw_prepared_flags(&mut asked, LWT[0]).await, 0x8000_0001);
}

#[tokio::test]
async fn a_cluster_without_the_extension_neither_offers_nor_marks() {
    let cluster = SimCluster::builder()
        .no_lwt_metadata_mark()
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let options = c.supported().await;
    assert!(!options.contains_key(KEY), "{options:?}");
    // Even a client asking regardless gets no mark.
    startup(&mut c, true).await;
    setup(&mut c).await;
    for q in LWT {
        assert_eq!(raw_prepared_flags(&mut c, q).await, 0x0000_0001, "{q}");
    }
}
