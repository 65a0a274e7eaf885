//! Handshake against the fake node over `tokio::io::duplex`.

use std::time::Duration;

use cql_testkit::FakeNode;
use cql_testkit::query::{rows_result, text_cell};
use proto::ColumnType;
use proto::frame::Compression;
use proto::request::{Query, Request};
use proto::response::{Event, Response, ResultBody};
use tokio::sync::mpsc;

use crate::auth::PasswordAuthenticator;
use crate::config::ConnectionConfig;
use crate::connection::Connection;
use crate::error::ConnectionError;
use crate::testing::{answering, fake_node};

async fn open(node: &FakeNode, config: &ConnectionConfig) -> Result<Connection, ConnectionError> {
    let (conn, driver) = Connection::open(node.duplex(), config).await?;
    tokio::spawn(driver);
    Ok(conn)
}

#[tokio::test(start_paused = true)]
async fn handshake_without_auth() {
    let node = fake_node();
    let conn = open(&node, &crate::testing::v4()).await.expect("open");
    assert_eq!(node.log(), vec!["OPTIONS", "STARTUP"]);
    let opts = node.startup_options().expect("startup");
    assert_eq!(opts.get("CQL_VERSION").map(String::as_str), Some("3.4.5"));
    assert!(!opts.contains_key("COMPRESSION"));
    assert_eq!(conn.compression(), None);
    assert_eq!(conn.shard(), None);
    assert_eq!(
        conn.info().supported.get("CQL_VERSION"),
        Some(&vec!["3.4.5".to_owned()])
    );
}

#[tokio::test(start_paused = true)]
async fn handshake_with_password_auth_keyspace_and_register() {
    let node = fake_node().with_credentials("cassandra", "secret");
    let (tx, _rx) = mpsc::channel(4);
    let config = ConnectionConfig {
        authenticator: Some(std::sync::Arc::new(PasswordAuthenticator::new(
            "cassandra",
            "secret",
        ))),
        keyspace: Some("MyKs".into()),
        event_sender: Some(tx),
        ..crate::testing::v4()
    };
    open(&node, &config).await.expect("open");
    assert_eq!(
        node.log(),
        vec![
            "OPTIONS",
            "STARTUP",
            "AUTH_RESPONSE",
            "QUERY USE \"MyKs\"",
            "REGISTER TOPOLOGY_CHANGE,STATUS_CHANGE,SCHEMA_CHANGE"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn wrong_password_and_missing_authenticator_fail() {
    let node = fake_node().with_credentials("u", "p");
    let config = ConnectionConfig {
        authenticator: Some(std::sync::Arc::new(PasswordAuthenticator::new(
            "u", "wrong",
        ))),
        ..crate::testing::v4()
    };
    let err = open(&node, &config).await.expect_err("bad password");
    assert!(
        matches!(
            &err,
            ConnectionError::Server { during: "AUTH_RESPONSE", error }
                if error.code == proto::ErrorCode::BAD_CREDENTIALS && error.message == "bad credentials"
        ),
        "{err:?}"
    );
    let err = open(&node, &crate::testing::v4())
        .await
        .expect_err("no authenticator");
    assert!(
        matches!(&err, ConnectionError::Auth(m) if m.contains("no authenticator")),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn compression_is_negotiated_and_used() {
    let node = answering(|q| {
        rows_result(
            "ks",
            "t",
            &[("v", ColumnType::Text)],
            &[vec![text_cell(&q.repeat(50))]],
        )
    });
    for c in [Compression::Lz4, Compression::Snappy] {
        let config = ConnectionConfig {
            compression: Some(c),
            ..crate::testing::v4()
        };
        let conn = open(&node, &config).await.expect("open");
        assert_eq!(conn.compression(), Some(c));
        let opts = node.startup_options().expect("startup");
        assert_eq!(
            opts.get("COMPRESSION").map(String::as_str),
            Some(c.as_str())
        );
        let req = Request::Query(Query {
            query: "SELECT abc".into(),
            params: Default::default(),
        });
        let resp = conn.request(&req).await.expect("response");
        let Response::Result(ResultBody::Rows(rows)) = resp.response else {
            panic!("rows expected")
        };
        let row = rows.rows().next().expect("row").expect("ok");
        let cell = row.cells().next().expect("cell").expect("not null");
        assert_eq!(cell, "SELECT abc".repeat(50).as_bytes());
    }
    // Offered only snappy: asking for lz4 gives no compression.
    let only_snappy = node.clone().with_supported("COMPRESSION", &["snappy"]);
    let config = ConnectionConfig {
        compression: Some(Compression::Lz4),
        ..crate::testing::v4()
    };
    let conn = open(&only_snappy, &config).await.expect("open");
    assert_eq!(conn.compression(), None);
}

#[tokio::test(start_paused = true)]
async fn scylla_sharding_info_comes_from_supported() {
    let mut node = fake_node();
    for (k, v) in [
        ("SCYLLA_SHARD", "2"),
        ("SCYLLA_NR_SHARDS", "4"),
        (
            "SCYLLA_PARTITIONER",
            "org.apache.cassandra.dht.Murmur3Partitioner",
        ),
        ("SCYLLA_SHARDING_ALGORITHM", "biased-token-round-robin"),
        ("SCYLLA_SHARDING_IGNORE_MSB", "12"),
        ("SCYLLA_SHARD_AWARE_PORT", "19042"),
    ] {
        node = node.with_supported(k, &[v]);
    }
    let conn = open(&node, &crate::testing::v4()).await.expect("open");
    assert_eq!(conn.shard(), Some(2));
    let s = conn.info().sharding.clone().expect("sharding");
    assert_eq!(
        (s.nr_shards, s.ignore_msb, s.shard_aware_port),
        (4, 12, Some(19042))
    );
}

#[tokio::test(start_paused = true)]
async fn lwt_mark_is_negotiated_only_when_offered() {
    let startup = |node: &FakeNode| node.startup_options().expect("startup");
    // Not offered: not asked for, no mark.
    let plain = fake_node();
    let conn = open(&plain, &crate::testing::v4()).await.expect("open");
    assert_eq!(conn.info().lwt_mark, None);
    assert!(!startup(&plain).contains_key("SCYLLA_LWT_ADD_METADATA_MARK"));
    // Offered as Scylla does: enabled in STARTUP with the mask, and the mask is kept.
    let scylla = fake_node().with_supported(
        "SCYLLA_LWT_ADD_METADATA_MARK",
        &["LWT_OPTIMIZATION_META_BIT_MASK=2147483648"],
    );
    let conn = open(&scylla, &crate::testing::v4()).await.expect("open");
    assert_eq!(conn.info().lwt_mark, Some(0x8000_0000));
    assert_eq!(
        startup(&scylla)
            .get("SCYLLA_LWT_ADD_METADATA_MARK")
            .map(String::as_str),
        Some("LWT_OPTIMIZATION_META_BIT_MASK=2147483648")
    );
    // Extensions disabled: neither asked for nor reported.
    let config = ConnectionConfig {
        scylla_extensions: false,
        ..crate::testing::v4()
    };
    let conn = open(&scylla, &config).await.expect("open");
    assert_eq!(conn.info().lwt_mark, None);
    assert!(!startup(&scylla).contains_key("SCYLLA_LWT_ADD_METADATA_MARK"));
    // A malformed or zero mask: treated as not offered.
    for bad in [
        "LWT_OPTIMIZATION_META_BIT_MASK=x",
        "LWT_OPTIMIZATION_META_BIT_MASK=0",
    ] {
        let node = fake_node().with_supported("SCYLLA_LWT_ADD_METADATA_MARK", &[bad]);
        let conn = open(&node, &crate::testing::v4()).await.expect("open");
        assert_eq!(conn.info().lwt_mark, None, "{bad}");
        assert!(
            !startup(&node).contains_key("SCYLLA_LWT_ADD_METADATA_MARK"),
            "{bad}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn metadata_id_is_negotiated_only_when_offered() {
    let asked = |node: &FakeNode| {
        node.startup_options()
            .expect("startup")
            .contains_key("SCYLLA_USE_METADATA_ID")
    };
    let plain = fake_node();
    let conn = open(&plain, &crate::testing::v4()).await.expect("open");
    assert!(!conn.info().scylla_metadata_id && !asked(&plain));
    assert!(!conn.info().has_result_metadata_id());
    // Offered: enabled in STARTUP and recorded, so bodies decode with the v5-like layout.
    let scylla = fake_node().with_supported("SCYLLA_USE_METADATA_ID", &[]);
    let conn = open(&scylla, &crate::testing::v4()).await.expect("open");
    assert!(conn.info().scylla_metadata_id && asked(&scylla));
    assert!(conn.info().has_result_metadata_id());
    assert!(conn.info().body_extensions().scylla_metadata_id);
    // Extensions disabled: neither asked for nor recorded.
    let config = ConnectionConfig {
        scylla_extensions: false,
        ..crate::testing::v4()
    };
    let conn = open(&scylla, &config).await.expect("open");
    assert!(!conn.info().scylla_metadata_id && !asked(&scylla));
}

#[tokio::test(start_paused = true)]
async fn events_reach_the_channel() {
    let node = fake_node();
    let (ev_tx, ev_rx) = mpsc::channel(4);
    let (tx, mut rx) = mpsc::channel(4);
    let config = ConnectionConfig {
        event_sender: Some(tx),
        ..crate::testing::v4()
    };
    let (client, server) = tokio::io::duplex(1 << 16);
    tokio::spawn(node.clone().serve_with_events(server, ev_rx));
    let (_conn, driver) = Connection::open(client, &config).await.expect("open");
    tokio::spawn(driver);
    let addr: std::net::SocketAddr = "127.0.0.2:9042".parse().expect("addr");
    let ev = Event::StatusChange {
        change: proto::codes::StatusChangeType::Down,
        addr,
    };
    ev_tx.send(ev.clone()).await.expect("send");
    let got = tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("in time")
        .expect("event");
    assert_eq!(got, ev);
}

#[tokio::test(start_paused = true)]
async fn handshake_times_out_on_a_silent_peer() {
    let (client, _server) = tokio::io::duplex(1 << 16);
    let config = ConnectionConfig {
        connect_timeout: Duration::from_secs(3),
        ..crate::testing::v4()
    };
    let err = Connection::open(client, &config)
        .await
        .expect_err("timeout");
    assert!(
        matches!(err, ConnectionError::ConnectTimeout(d) if d == Duration::from_secs(3)),
        "{err:?}"
    );
}

/// A two-step SASL exchange: "hello" → challenge "nonce" → "answer:nonce" → success "done".
#[derive(Debug)]
struct ChallengeAuth {
    success_token: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
}

struct ChallengeSession {
    success_token: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
}

impl crate::auth::AuthenticatorSession for ChallengeSession {
    fn evaluate_challenge<'a>(
        &'a mut self,
        token: Option<&'a [u8]>,
    ) -> futures::future::BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            // An async step, as a real authenticator might fetch something.
            tokio::task::yield_now().await;
            let mut answer = b"answer:".to_vec();
            answer.extend_from_slice(token.unwrap_or_default());
            Ok(Some(answer))
        })
    }

    fn success<'a>(
        &'a mut self,
        token: Option<&'a [u8]>,
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        *self.success_token.lock().expect("lock") = token.map(<[u8]>::to_vec);
        Box::pin(async { Ok(()) })
    }
}

impl crate::auth::AuthenticatorProvider for ChallengeAuth {
    fn start_session<'a>(
        &'a self,
        authenticator: &'a str,
    ) -> futures::future::BoxFuture<'a, crate::auth::AuthStart> {
        let session = ChallengeSession {
            success_token: std::sync::Arc::clone(&self.success_token),
        };
        let named = authenticator.ends_with("PasswordAuthenticator");
        Box::pin(async move {
            if !named {
                return Err("unexpected authenticator".to_owned());
            }
            Ok((
                Some(b"hello".to_vec()),
                Box::new(session) as Box<dyn crate::auth::AuthenticatorSession>,
            ))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn multi_step_authentication_challenge() {
    let node = fake_node().with_credentials("u", "p").with_auth_challenge();
    let success_token = std::sync::Arc::default();
    let auth = ChallengeAuth {
        success_token: std::sync::Arc::clone(&success_token),
    };
    let config = ConnectionConfig {
        authenticator: Some(std::sync::Arc::new(auth)),
        ..crate::testing::v4()
    };
    open(&node, &config).await.expect("open");
    assert_eq!(
        node.log(),
        vec!["OPTIONS", "STARTUP", "AUTH_RESPONSE", "AUTH_RESPONSE"]
    );
    assert_eq!(
        success_token.lock().expect("lock").as_deref(),
        Some(b"done".as_slice())
    );
}
