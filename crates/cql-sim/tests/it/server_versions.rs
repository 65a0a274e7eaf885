//! Protocol versions as each modelled server serves and refuses them: the error frame's
//! version byte and message are what drivers parse to retry one version lower.

use cql_sim::{SimCluster, SimClusterBuilder};
use cql_testkit::RawClient;
use proto::codes::ErrorCode;
use proto::frame::{ProtocolVersion, decode_response};
use proto::request::Request;
use proto::response::Response;

/// Sends OPTIONS in a frame of `version` (as raw bytes: the codec refuses unknown versions) and
/// returns the answer's version byte and error message; the node must close afterwards.
async fn refused(builder: SimClusterBuilder, version: u8) -> (ProtocolVersion, String) {
    let cluster = builder.start().await.expect("sim starts");
    let mut c = RawClient::connect(cluster.contact_point())
        .await
        .expect("connect");
    c.send_raw(&[version, 0, 0, 1, 0x05, 0, 0, 0, 0]).await;
    let frame = c.read_frame().await.expect("an error frame");
    let answer_version = frame.header.version;
    let env = decode_response(&frame, None).expect("decodes");
    let Response::Error(e) = env.response else {
        panic!("expected an ERROR, got {:?}", env.response);
    };
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(env.stream, 1);
    assert!(
        c.read_frame().await.is_none(),
        "the node closes after refusing"
    );
    (answer_version, e.message)
}

/// A Cassandra 4-like node (v5 served) and a raw client connected to it, before STARTUP.
async fn cassandra() -> (SimCluster, RawClient) {
    let cluster = SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .expect("sim starts");
    let c = RawClient::connect(cluster.contact_point())
        .await
        .expect("connect");
    (cluster, c)
}

#[tokio::test]
async fn scylla_refuses_v5_in_a_v4_frame() {
    let (version, message) = refused(SimCluster::builder(), 5).await;
    assert_eq!(version, ProtocolVersion::V4);
    assert_eq!(message, "Invalid or unsupported protocol version: 5");
}

#[tokio::test]
async fn cassandra_3_refuses_v5_as_a_beta_in_a_v5_frame() {
    let builder = SimCluster::builder()
        .without_scylla_extensions()
        .max_protocol_version(ProtocolVersion::V4);
    let (version, message) = refused(builder, 5).await;
    assert_eq!(version, ProtocolVersion::V5);
    assert_eq!(
        message,
        "Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset"
    );
}

#[tokio::test]
async fn cassandra_4_refuses_v6_listing_what_it_serves() {
    let builder = SimCluster::builder().without_scylla_extensions();
    let (version, message) = refused(builder, 6).await;
    assert_eq!(version, ProtocolVersion::V5);
    assert_eq!(
        message,
        "Invalid or unsupported protocol version (6); supported versions are (3/v3, 4/v4, 5/v5)"
    );
}

#[tokio::test]
async fn supported_lists_the_versions_served() {
    let (_cluster, mut c) = cassandra().await;
    let supported = c.supported().await;
    assert_eq!(
        supported.get("PROTOCOL_VERSIONS"),
        Some(&vec![
            "3/v3".to_owned(),
            "4/v4".to_owned(),
            "5/v5".to_owned()
        ])
    );
}

#[tokio::test]
async fn after_startup_a_frame_of_another_version_is_refused() {
    let cluster = SimCluster::builder().start().await.expect("sim starts");
    let mut c = RawClient::ready(cluster.contact_point()).await;
    c.version = ProtocolVersion::V3;
    let stream = c.send(&Request::Options).await;
    let frame = c.read_frame().await.expect("an error frame");
    assert_eq!(frame.header.version, ProtocolVersion::V4);
    let env = decode_response(&frame, None).expect("decodes");
    assert_eq!(env.stream, stream);
    let Response::Error(e) = env.response else {
        panic!("expected an ERROR, got {:?}", env.response);
    };
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(
        e.message,
        "Invalid message version. Got 3 but previous messages on this connection had version 4"
    );
}

/// A v5 client over raw frames: STARTUP unframed, then everything in segments (checked by the
/// raw client's own segment decoder, which refuses bare frames after the switch).
async fn v5_session(compression: Option<proto::frame::Compression>) {
    let (_cluster, mut c) = cassandra().await;
    c.version = ProtocolVersion::V5;
    let r = c.startup(compression).await;
    assert!(matches!(r, Response::Ready), "{r:?}");
    let r = c.query("SELECT release_version FROM system.local").await;
    let Response::Result(proto::response::ResultBody::Rows(rows)) = r else {
        panic!("expected rows, got {r:?}");
    };
    assert_eq!(rows.rows_count, 1);
    // OPTIONS after the handshake is framed too (section 2.3.1).
    let supported = c.supported().await;
    assert!(supported.contains_key("CQL_VERSION"));
}

#[tokio::test]
async fn v5_after_startup_speaks_in_segments() {
    v5_session(None).await;
}

#[tokio::test]
async fn v5_with_lz4_speaks_in_compressed_segments() {
    v5_session(Some(proto::frame::Compression::Lz4)).await;
}

#[tokio::test]
async fn v5_refuses_snappy() {
    let (_cluster, mut c) = cassandra().await;
    c.version = ProtocolVersion::V5;
    let r = c.startup(Some(proto::frame::Compression::Snappy)).await;
    let Response::Error(e) = r else {
        panic!("expected an ERROR, got {r:?}");
    };
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert!(e.message.contains("only lz4"), "{}", e.message);
}
