//! TLS end to end: the session connects to a multi-node, multi-shard `cql-sim` on its SSL
//! ports, trusting the simulator's generated CA, discovers the peers on the SSL port, opens
//! per-shard pools (through the shard-aware SSL port the server advertises), and runs
//! statements; a session that does not trust the CA cannot connect.

use std::time::Duration;

use cql_session::SessionBuilder;
use cql_session::tls::TlsConfig;
use cql_sim::{SimCluster, SimTls};

use crate::common;

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
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)")
            .await
            .unwrap();
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
        let cluster = SimCluster::builder()
            .tls(SimTls::generated().port(19644).shard_aware_port(None))
            .start()
            .await
            .unwrap();
        let other = SimCluster::builder()
            .tls(SimTls::generated().port(19645).shard_aware_port(None))
            .start()
            .await
            .unwrap();
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
