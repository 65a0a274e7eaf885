//! TLS end to end over loopback: a rustls server with a test CA, the driver trusting that CA.

use std::sync::Arc;
use std::time::Duration;

use cql_testkit::query::query;
use cql_transport::{Connection, ConnectionConfig, ConnectionError, TlsConfig, TlsError};
use proto::response::{Response, ResultBody};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::port_echo;

const CA: &[u8] = include_bytes!("../testdata/ca.der");
const SERVER_CERT: &[u8] = include_bytes!("../testdata/server.der");
const SERVER_KEY: &[u8] = include_bytes!("../testdata/server.key.der");

async fn tls_listener() -> std::net::SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(SERVER_CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(SERVER_KEY.to_vec())),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((sock, peer)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(sock).await {
                    port_echo(peer).serve(tls).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn connects_over_tls_with_a_custom_root() {
    let addr = tls_listener().await;
    let tls = TlsConfig::new(vec![CertificateDer::from(CA.to_vec())], None).expect("tls config");
    let config = ConnectionConfig::default().tls(Some(tls));
    let conn = tokio::time::timeout(Duration::from_secs(10), Connection::connect(addr, &config))
        .await
        .expect("in time")
        .expect("connect");
    let resp = conn.request(&query("SELECT 1")).await.expect("response");
    assert!(matches!(
        resp.response,
        Response::Result(ResultBody::SetKeyspace(_))
    ));
    conn.close();
}

#[tokio::test]
async fn server_name_is_verified() {
    let addr = tls_listener().await;
    let tls = TlsConfig::new(vec![CertificateDer::from(CA.to_vec())], None)
        .expect("tls config")
        .with_server_name("not-the-server.example");
    let config = ConnectionConfig::default().tls(Some(tls));
    let err = Connection::connect(addr, &config)
        .await
        .expect_err("name mismatch");
    assert!(
        matches!(err, ConnectionError::Tls(TlsError::Handshake { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn untrusted_server_is_rejected() {
    let addr = tls_listener().await;
    // Trust the server certificate's own key as a root: it is not a CA, so the chain fails.
    let tls =
        TlsConfig::new(vec![CertificateDer::from(SERVER_CERT.to_vec())], None).expect("tls config");
    let config = ConnectionConfig::default().tls(Some(tls));
    let err = Connection::connect(addr, &config)
        .await
        .expect_err("untrusted");
    assert!(matches!(err, ConnectionError::Tls(_)), "{err:?}");
}
