//! TLS end to end: the session connects to a multi-node, multi-shard `cql-sim` on its SSL
//! ports, trusting the simulator's generated CA, discovers the peers on the SSL port, opens
//! per-shard pools (through the shard-aware SSL port the server advertises), and runs
//! statements; a session that does not trust the CA cannot connect.

use std::time::Duration;

use cql_session::SessionBuilder;
use cql_session::tls::TlsConfig;
use cql_sim::{SimCluster, SimTls};

use crate::common;

/// A cluster serving TLS with `tls` on `port` only (no shard-aware TLS port).
async fn tls_cluster(tls: SimTls, port: u16) -> SimCluster {
    SimCluster::builder()
        .tls(tls.port(port).shard_aware_port(None))
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_run_over_tls_to_every_node_and_shard() {
    common::bounded(Duration::from_secs(60), async {
        let cluster = SimCluster::builder()
            .nodes(3)
            .shards(2)
            .tls(
                SimTls::generated()
                    .port(19642)
                    .shard_aware_port(Some(19643)),
            )
            .start()
            .await
            .unwrap();
        let ca = cluster.tls_ca_der().unwrap();
        let tls = TlsConfig::new(vec![ca], None).unwrap();
        let session = SessionBuilder::new()
            .known_node(cluster.node(0).ssl_addr().unwrap().to_string())
            .tls_context(Some(tls))
            .build()
            .await
            .expect("a TLS session");
        common::create_ks_t(&session, 3).await;
        let insert = common::prepare_insert(&session).await;
        for pk in 0..30 {
            session
                .execute_unpaged(&insert, (pk, 1, "tls"))
                .await
                .unwrap();
        }
        let rows = session
            .query_unpaged("SELECT pk FROM ks.t", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(rows.rows_num(), 30);
        // Every node is reached on its SSL port, each shard with a connection of its own.
        cql_testkit::wait_until(Duration::from_secs(20), "a connection per shard", || {
            cluster
                .nodes()
                .iter()
                .all(|n| n.connections_per_shard().iter().all(|c| *c >= 1))
        })
        .await;
        for n in cluster.nodes() {
            assert!(n.request_count() > 0, "node {} got no request", n.index());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_not_trusting_the_ca_does_not_connect() {
    common::bounded(Duration::from_secs(60), async {
        let cluster = tls_cluster(SimTls::generated(), 19644).await;
        let other = tls_cluster(SimTls::generated(), 19645).await;
        let tls = TlsConfig::new(vec![other.tls_ca_der().unwrap()], None).unwrap();
        let err = SessionBuilder::new()
            .known_node(cluster.node(0).ssl_addr().unwrap().to_string())
            .tls_context(Some(tls))
            .connection_timeout(Duration::from_secs(5))
            .build()
            .await
            .expect_err("an untrusted certificate");
        let text = format!("{err}");
        assert!(
            text.to_lowercase().contains("tls") || text.contains("certificate"),
            "{text}"
        );
    })
    .await;
}

/// Connects with `tls` (or plaintext) to `addr` and returns the error's text; the attempt must
/// fail, and within the connection timeout (no hang).
async fn refused(addr: std::net::SocketAddr, tls: Option<TlsConfig>) -> String {
    let err = SessionBuilder::new()
        .known_node(addr.to_string())
        .tls_context(tls)
        .connection_timeout(Duration::from_secs(3))
        .build()
        .await
        .expect_err("the connection must be refused");
    format!("{err}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused() {
    common::bounded(Duration::from_secs(60), async {
        let cluster = tls_cluster(SimTls::generated().node_cert_expired(), 19646).await;
        let tls = TlsConfig::new(vec![cluster.tls_ca_der().unwrap()], None).unwrap();
        let text = refused(cluster.node(0).ssl_addr().unwrap(), Some(tls)).await;
        let node = cluster.node(0).ssl_addr().unwrap();
        assert!(
            text.starts_with(&format!(
                "could not connect to any known node: {node}: TLS handshake failed: invalid peer certificate: certificate expired"
            )),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_refused() {
    common::bounded(Duration::from_secs(60), async {
        let cluster = tls_cluster(
            SimTls::generated()
                .node_cert_names(vec!["db.example.invalid".into(), "127.0.0.99".into()]),
            19647,
        )
        .await;
        let tls = TlsConfig::new(vec![cluster.tls_ca_der().unwrap()], None).unwrap();
        let text = refused(cluster.node(0).ssl_addr().unwrap(), Some(tls)).await;
        assert!(
            text.contains(
                "TLS handshake failed: invalid peer certificate: certificate not valid for name"
            ),
            "{text}"
        );
        assert_eq!(text.matches("could not connect").count(), 1, "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_to_the_tls_port_and_tls_to_the_plain_port_fail_cleanly() {
    common::bounded(Duration::from_secs(60), async {
        let cluster = tls_cluster(SimTls::generated(), 19648).await;
        // CQL in the clear to the SSL port: the server's TLS handshake fails on it.
        let text = refused(cluster.node(0).ssl_addr().unwrap(), None).await;
        assert!(!text.is_empty());
        // A TLS ClientHello to the plain CQL port: not a CQL frame; the server refuses it.
        let tls = TlsConfig::new(vec![cluster.tls_ca_der().unwrap()], None).unwrap();
        let text = refused(cluster.node(0).addr(), Some(tls)).await;
        assert!(!text.is_empty());
        // The same cluster still serves correct clients on both ports.
        let tls = TlsConfig::new(vec![cluster.tls_ca_der().unwrap()], None).unwrap();
        for (addr, tls) in [
            (cluster.node(0).ssl_addr().unwrap(), Some(tls)),
            (cluster.node(0).addr(), None),
        ] {
            let session = SessionBuilder::new()
                .known_node(addr.to_string())
                .tls_context(tls)
                .build()
                .await
                .unwrap();
            session
                .query_unpaged("SELECT key FROM system.local", ())
                .await
                .unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rustls_client_config_is_taken_as_the_scylla_crate_takes_it() {
    use cql_session::tls::rustls;
    common::bounded(Duration::from_secs(60), async {
        let cluster = tls_cluster(SimTls::generated(), 19649).await;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cluster.tls_ca_der().unwrap()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        // As an `Arc<ClientConfig>` (the `scylla` crate's `TlsContext` conversion) and as is.
        for tls in [
            TlsConfig::from(std::sync::Arc::new(config.clone())),
            TlsConfig::from(config.clone()),
        ] {
            let session = SessionBuilder::new()
                .known_node(cluster.node(0).ssl_addr().unwrap().to_string())
                .tls_context(Some(tls))
                .build()
                .await
                .expect("a TLS session from a rustls config");
            session
                .query_unpaged("SELECT key FROM system.local", ())
                .await
                .unwrap();
        }
        let session = SessionBuilder::new()
            .known_node(cluster.node(0).ssl_addr().unwrap().to_string())
            .tls_context(Some(std::sync::Arc::new(config)))
            .build()
            .await
            .expect("an Arc<ClientConfig> given directly");
        session
            .query_unpaged("SELECT key FROM system.local", ())
            .await
            .unwrap();
    })
    .await;
}
