//! The `scylla` 1.x builder options about metadata and identity, each shown by its effect on a
//! `cql-sim` cluster: `custom_identity` (the STARTUP options the node keeps),
//! `cluster_metadata_refresh_interval` (metadata queries without any event) and
//! `refresh_metadata_on_auto_schema_agreement` (a new table known at once, or after its event).

use std::time::Duration;

use cql_session::SessionBuilder;
use cql_session::client::SelfIdentity;
use cql_sim::SimCluster;
use cql_testkit::wait_until;
use proto::codes::Opcode;

use crate::common::{bounded, create_ks_t};

const LIMIT: Duration = Duration::from_secs(60);

fn option<'a>(options: &'a [(String, String)], key: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_identity_reaches_every_connections_startup() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .nodes(2)
            .shards(2)
            .start()
            .await
            .unwrap();
        let plain = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .build()
            .await
            .unwrap();
        let identity = SelfIdentity::new()
            .with_application_name("billing")
            .with_application_version("2.1.0")
            .with_client_id("c-42")
            .with_custom_driver_name("my-fork");
        assert_eq!(identity.get_application_name(), Some("billing"));
        let named = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .custom_identity(identity)
            .build()
            .await
            .unwrap();
        // Pools open in the background: wait for the named session's connection per shard.
        wait_until(LIMIT, "a named connection per shard of every node", || {
            cluster.nodes().iter().all(|n| {
                n.client_startup_options()
                    .iter()
                    .filter(|o| option(o, "APPLICATION_NAME") == Some("billing"))
                    .count()
                    >= 2
            })
        })
        .await;
        for node in cluster.nodes() {
            let startups = node.client_startup_options();
            let (named_ones, plain_ones): (Vec<_>, Vec<_>) = startups
                .iter()
                .partition(|o| option(o, "APPLICATION_NAME").is_some());
            for o in &named_ones {
                assert_eq!(option(o, "APPLICATION_VERSION"), Some("2.1.0"));
                assert_eq!(option(o, "CLIENT_ID"), Some("c-42"));
                assert_eq!(option(o, "DRIVER_NAME"), Some("my-fork"));
                // The version was not customised: the driver's own.
                assert_eq!(option(o, "DRIVER_VERSION"), Some(env!("CARGO_PKG_VERSION")));
            }
            assert!(!plain_ones.is_empty());
            for o in &plain_ones {
                assert_ne!(option(o, "DRIVER_NAME"), Some("my-fork"));
                assert_eq!(option(o, "CLIENT_ID"), None);
            }
        }
        drop((plain, named));
    })
    .await;
}

/// The QUERY requests every node of `cluster` received so far.
fn queries(cluster: &SimCluster) -> u64 {
    cluster
        .nodes()
        .iter()
        .map(|n| n.request_count_of(Opcode::QUERY))
        .sum()
}

#[tokio::test]
async fn the_metadata_is_read_again_every_refresh_interval() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        let _session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .cluster_metadata_refresh_interval(Duration::from_millis(100))
            .build()
            .await
            .unwrap();
        // No request and no event: only the periodic refresh queries system tables.
        let before = queries(&cluster);
        wait_until(LIMIT, "three periodic refreshes", || {
            // A full refresh reads system.local, the peers and the schema tables: over 3
            // queries each.
            queries(&cluster) >= before + 3 * 4
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn without_the_refresh_after_agreement_a_new_table_comes_with_its_event() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        for refresh in [true, false] {
            let session = SessionBuilder::new()
                .known_node(cluster.contact_point().to_string())
                .refresh_metadata_on_auto_schema_agreement(refresh)
                .build()
                .await
                .unwrap();
            let table = if refresh { "t_refreshed" } else { "t_evented" };
            if refresh {
                create_ks_t(&session, 1).await;
            }
            session
                .query_unpaged(format!("CREATE TABLE ks.{table} (k int PRIMARY KEY)"), ())
                .await
                .unwrap();
            let known = |s: &cql_session::Session| {
                s.get_cluster_state()
                    .get_keyspace("ks")
                    .is_some_and(|ks| ks.tables.contains_key(table))
            };
            if refresh {
                assert!(known(&session), "read right after the agreement");
            } else {
                // The schema change event is debounced (1 s): not known yet when the DDL
                // returns, and known once the event's refresh ran.
                assert!(!known(&session), "no refresh after the agreement");
                wait_until(LIMIT, "the event's refresh", || known(&session)).await;
            }
        }
    })
    .await;
}

/// A cluster whose nodes refuse every statement containing `needle` with a ServerError naming
/// it, so a session's metadata reads show whether they carried it.
async fn refusing(scylla: bool, needle: &str) -> SimCluster {
    let mut b = SimCluster::builder().nodes(1);
    if !scylla {
        b = b.without_scylla_extensions();
    }
    let cluster = b.start().await.unwrap();
    cluster.node(0).add_fault(cql_sim::FaultRule::always(
        cql_sim::RequestMatcher::QueryContains(needle.into()),
        cql_sim::FaultAction::Error(cql_sim::server::faults::server_error(&format!(
            "refused: {needle}"
        ))),
    ));
    cluster
}

#[tokio::test]
async fn metadata_reads_carry_the_server_side_timeout_on_scylla_only() {
    bounded(LIMIT, async {
        let needle = "USING TIMEOUT 1234ms";
        let connect = |cluster: &SimCluster| {
            let builder = SessionBuilder::new()
                .known_node(cluster.contact_point().to_string())
                .metadata_request_serverside_timeout(Duration::from_millis(1234))
                .connection_timeout(Duration::from_secs(5));
            async move { builder.build().await }
        };
        // Scylla: the metadata reads carry the clause, so the refusing node fails them all.
        let scylla = refusing(true, needle).await;
        let err = connect(&scylla).await.expect_err("metadata reads refused");
        assert!(err.to_string().contains(needle), "{err}");
        // Cassandra has no `USING TIMEOUT`: nothing is appended, and the session connects.
        let cassandra = refusing(false, needle).await;
        connect(&cassandra)
            .await
            .expect("no clause sent to Cassandra");
        // The default (2 s) is sent as `2000ms`.
        let default = refusing(true, "USING TIMEOUT 2000ms").await;
        let err = SessionBuilder::new()
            .known_node(default.contact_point().to_string())
            .connection_timeout(Duration::from_secs(5))
            .build()
            .await
            .expect_err("the default clause is sent");
        assert!(err.to_string().contains("USING TIMEOUT 2000ms"), "{err}");
    })
    .await;
}
