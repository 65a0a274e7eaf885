//! TLS on the SSL ports: a client trusting the generated CA speaks CQL inside TLS on the SSL
//! and shard-aware SSL ports, SUPPORTED advertises the shard-aware SSL port, the plain ports
//! keep serving, and plaintext or an untrusted client on an SSL port gets no CQL.

use std::sync::Arc;
use std::time::Duration;

use cql_sim::{SimCluster, SimTls};
use cql_testkit::RawClient;
use proto::response::Response;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn connector(roots: &[CertificateDer<'static>]) -> TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls_client(
    addr: std::net::SocketAddr,
    ca: &CertificateDer<'static>,
) -> std::io::Result<RawClient<tokio_rustls::client::TlsStream<TcpStream>>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = tokio::time::timeout(
        Duration::from_secs(10),
        connector(std::slice::from_ref(ca)).connect(name, tcp),
    )
    .await
    .map_err(|_| std::io::Error::other("TLS handshake timed out"))??;
    Ok(RawClient::from_stream(tls))
}

#[tokio::test]
async fn cql_inside_tls_on_the_ssl_ports_and_plain_cql_on_the_others() {
    let cluster = SimCluster::builder()
        .nodes(2)
        .shards(2)
        .tls(
            SimTls::generated()
                .port(19542)
                .shard_aware_port(Some(19543)),
        )
        .start()
        .await
        .unwrap();
    let ca = cluster.tls_ca_der().expect("a generated CA");
    assert!(
        cluster
            .tls_ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let node = cluster.node(1);
    let ssl = node.ssl_addr().expect("an SSL address");
    assert_eq!(ssl.port(), 19542);
    for addr in [ssl, node.ssl_shard_aware_addr().expect("shard-aware SSL")] {
        let mut c = tls_client(addr, &ca).await.expect("TLS connects");
        let supported = c.supported().await;
        assert_eq!(
            supported
                .get("SCYLLA_SHARD_AWARE_PORT_SSL")
                .map(Vec::as_slice),
            Some(&["19543".to_owned()][..]),
            "{supported:?}"
        );
        assert!(matches!(c.startup(None).await, Response::Ready));
        c.ok("SELECT key FROM system.local").await;
    }
    // The plain port still speaks plain CQL.
    let mut c = RawClient::ready(node.addr()).await;
    c.ok("SELECT key FROM system.local").await;
}

#[tokio::test]
async fn plaintext_and_untrusting_clients_get_no_cql_on_an_ssl_port() {
    let cluster = SimCluster::builder()
        .tls(SimTls::generated().port(19544).shard_aware_port(None))
        .start()
        .await
        .unwrap();
    let ssl = cluster.node(0).ssl_addr().unwrap();
    assert_eq!(cluster.node(0).ssl_shard_aware_addr(), None);
    // A CQL OPTIONS frame in plaintext is not a TLS ClientHello: the server closes.
    let mut tcp = TcpStream::connect(ssl).await.unwrap();
    tcp.write_all(&[4, 0, 0, 1, 5, 0, 0, 0, 0]).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf)).await;
    let answered_cql = matches!(read, Ok(Ok(_))) && buf.first() == Some(&0x84);
    assert!(
        !answered_cql,
        "plaintext CQL answered on an SSL port: {buf:?}"
    );
    // A client trusting another CA refuses the node's certificate.
    let other = SimCluster::builder()
        .tls(SimTls::generated().port(19545).shard_aware_port(None))
        .start()
        .await
        .unwrap();
    let wrong = other.tls_ca_der().unwrap();
    assert!(tls_client(ssl, &wrong).await.is_err());
}
