//! End-to-end over real loopback TCP: `Connection::connect` (socket options, chosen source
//! port) against `cql_testkit::FakeNode` answering with the client's port. The tests against
//! `cql-sim` clusters are the `sim_*` modules.

use std::net::SocketAddr;
use std::time::Duration;

use cql_testkit::query::query;
use cql_transport::{Connection, ConnectionConfig};
use proto::response::{Response, ResultBody};
use tokio::net::TcpListener;

use crate::port_echo;

async fn listener() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        // Bounded: a handful of connections per test.
        for _ in 0..8 {
            let Ok((sock, peer)) = listener.accept().await else {
                return;
            };
            tokio::spawn(port_echo(peer).serve(sock));
        }
    });
    (addr, task)
}

#[tokio::test]
async fn connect_and_query_over_tcp() {
    let (addr, _task) = listener().await;
    let config = ConnectionConfig::default();
    let conn = tokio::time::timeout(Duration::from_secs(10), Connection::connect(addr, &config))
        .await
        .expect("in time")
        .expect("connect");
    assert_eq!(conn.info().peer, Some(addr));
    let resp = conn.request(&query("SELECT 1")).await.expect("response");
    assert!(matches!(
        resp.response,
        Response::Result(ResultBody::SetKeyspace(_))
    ));
    conn.close();
}

#[tokio::test]
async fn chosen_source_port_is_used() {
    let (addr, _task) = listener().await;
    let config = ConnectionConfig::default();
    // Try a few ports from the ephemeral range in case one is taken.
    let mut last_err = None;
    for port in [50_123u16, 51_234, 52_345, 53_456, 54_567] {
        match Connection::connect_from(addr, Some(port), &config).await {
            Ok(conn) => {
                let resp = conn.request(&query("SELECT 1")).await.expect("response");
                let Response::Result(ResultBody::SetKeyspace(seen)) = resp.response else {
                    panic!("unexpected response")
                };
                assert_eq!(
                    seen,
                    port.to_string(),
                    "the server saw our chosen source port"
                );
                conn.close();
                return;
            }
            Err(e) => last_err = Some(e),
        }
    }
    panic!("no source port worked: {last_err:?}");
}

#[tokio::test]
async fn connect_to_a_closed_port_fails_with_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err = Connection::connect(addr, &ConnectionConfig::default())
        .await
        .expect_err("refused");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(err, cql_transport::ConnectionError::Connect { .. }),
        "{err:?}"
    );
}
