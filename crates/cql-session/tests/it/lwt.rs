//! LWT-aware routing with Scylla's `SCYLLA_LWT_ADD_METADATA_MARK`: statements the server marks as
//! lightweight transactions are confirmed at prepare time and always sent to the partition's
//! replicas in ring order (the primary first), so contending LWTs queue up at one coordinator
//! instead of competing in Paxos; without the extension nothing changes.

use std::time::Duration;

use cql_session::value::{CqlValue, Row};
use cql_session::{PreparedStatement, Session};
use cql_sim::SimCluster;

use crate::common::{self, connect, executes};

const LIMIT: Duration = Duration::from_secs(60);
const RUNS: u64 = 50;

const LWT_INSERT: &str = "INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?) IF NOT EXISTS";
const PLAIN_INSERT: &str = "INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)";

async fn bounded<F: Future>(f: F) -> F::Output {
    common::bounded(LIMIT, f).await
}

async fn schema(session: &Session) {
    common::create_ks_t(session, 3).await;
}

/// A 3-node simulated cluster (2 shards each) and a session connected to every node.
async fn sim(cluster: SimClusterBuilderFn) -> (SimCluster, Session) {
    let cluster = cluster(SimCluster::builder().nodes(3).shards(2).seed(11))
        .start()
        .await
        .expect("sim cluster");
    let session = connect(cluster.contact_point()).await;
    schema(&session).await;
    wait_for_pools(&session, 3).await;
    (cluster, session)
}

type SimClusterBuilderFn = fn(cql_sim::SimClusterBuilder) -> cql_sim::SimClusterBuilder;

/// Waits until the session has a connection to each of `n` nodes.
async fn wait_for_pools(session: &Session, n: usize) {
    let state = session.get_cluster_state();
    let pools: Vec<_> = state
        .nodes()
        .iter()
        .filter_map(|node| node.pool())
        .collect();
    assert_eq!(pools.len(), n, "a pool per node");
    for pool in pools {
        pool.wait_for_connection(LIMIT)
            .await
            .expect("a connection to every node");
    }
}

/// Runs `stmt` `RUNS` times with the same partition key; returns the EXECUTEs per node.
async fn run_same_key(
    cluster: &SimCluster,
    session: &Session,
    stmt: &PreparedStatement,
) -> Vec<u64> {
    let before = executes(cluster);
    for i in 0..RUNS {
        session
            .execute_unpaged(stmt, (7i32, 1i32, format!("v{i}")))
            .await
            .unwrap();
    }
    executes(cluster)
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect()
}

/// The index (in `cluster`) of the node the session sees as the primary replica of the
/// partition key 7 (the first of the ring-ordered replica list).
fn primary_replica(cluster: &SimCluster, session: &Session, stmt: &PreparedStatement) -> usize {
    let token = stmt
        .calculate_token(&(7i32, 1i32, "x"))
        .unwrap()
        .expect("a token");
    let state = session.get_cluster_state();
    let replicas = state.replicas("ks", token);
    assert_eq!(replicas.len(), 3, "RF=3 on 3 nodes");
    let primary = replicas[0].address;
    cluster
        .node_addrs()
        .iter()
        .position(|a| a.ip() == primary.ip())
        .expect("the primary is a cluster node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marked_lwt_is_confirmed_and_always_routed_to_the_primary_replica() {
    bounded(async {
        let (cluster, session) = sim(|b| b).await;
        // Every pool negotiated the mark.
        for node in session.get_cluster_state().nodes() {
            assert_eq!(node.pool().and_then(|p| p.lwt_mark()), Some(0x8000_0000));
        }
        let lwt = session.prepare(LWT_INSERT).await.unwrap();
        let plain = session.prepare(PLAIN_INSERT).await.unwrap();
        assert!(lwt.is_confirmed_lwt());
        assert!(!plain.is_confirmed_lwt());
        assert!(lwt.get_prepared_metadata().has_flag(0x8000_0000));
        assert!(!plain.get_prepared_metadata().has_flag(0x8000_0000));
        // Conditional UPDATE and DELETE are marked too; a SELECT is not.
        for q in [
            "UPDATE ks.t SET v = ? WHERE pk = ? AND ck = ? IF v = ?",
            "DELETE FROM ks.t WHERE pk = ? AND ck = ? IF EXISTS",
        ] {
            assert!(session.prepare(q).await.unwrap().is_confirmed_lwt(), "{q}");
        }
        let select = session
            .prepare("SELECT v FROM ks.t WHERE pk = ?")
            .await
            .unwrap();
        assert!(!select.is_confirmed_lwt());

        // The LWT: all 50 executions on the primary replica.
        let primary = primary_replica(&cluster, &session, &lwt);
        let per_node = run_same_key(&cluster, &session, &lwt).await;
        let mut expected = vec![0; 3];
        expected[primary] = RUNS;
        assert_eq!(per_node, expected, "every LWT on the primary replica");

        // The plain insert: the same key's replicas take turns.
        let per_node = run_same_key(&cluster, &session, &plain).await;
        assert_eq!(per_node.iter().sum::<u64>(), RUNS);
        assert!(
            per_node.iter().all(|n| *n >= 10),
            "plain statements spread over the replicas: {per_node:?}"
        );

        // The LWT really ran: the first insert applied, the later ones found the row.
        let rows =
            common::rows::<(String,)>(&session, "SELECT v FROM ks.t WHERE pk = 7 AND ck = 1").await;
        assert_eq!(
            rows,
            vec![(format!("v{}", RUNS - 1),)],
            "the plain inserts overwrite"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_extension_lwt_is_not_confirmed_and_is_spread() {
    bounded(async {
        let (cluster, session) = sim(cql_sim::SimClusterBuilder::no_lwt_metadata_mark).await;
        for node in session.get_cluster_state().nodes() {
            assert_eq!(node.pool().and_then(|p| p.lwt_mark()), None);
        }
        let lwt = session.prepare(LWT_INSERT).await.unwrap();
        assert!(!lwt.is_confirmed_lwt());
        assert!(!lwt.get_prepared_metadata().has_flag(0x8000_0000));
        // Unconfirmed, it is routed like any statement: replicas take turns, and it still works.
        let per_node = run_same_key(&cluster, &session, &lwt).await;
        assert_eq!(per_node.iter().sum::<u64>(), RUNS);
        assert!(
            per_node.iter().filter(|n| **n > 0).count() > 1,
            "spread over the replicas: {per_node:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_scylla_extensions_gives_unconfirmed_lwts_that_work() {
    bounded(async {
        // SUPPORTED has no Scylla key at all, as from Cassandra.
        let (cluster, session) = sim(cql_sim::SimClusterBuilder::without_scylla_extensions).await;
        for node in session.get_cluster_state().nodes() {
            let pool = node.pool().expect("a pool");
            assert_eq!(pool.lwt_mark(), None);
            let conn = pool.any_connection().expect("a connection");
            assert!(conn.info().sharding.is_none(), "no shard information");
        }
        let lwt = session.prepare(LWT_INSERT).await.unwrap();
        assert!(!lwt.is_confirmed_lwt());
        let before = executes(&cluster);
        for i in 0..RUNS {
            let r = session
                .execute_unpaged(&lwt, (7i32, 1i32, format!("v{i}")))
                .await
                .unwrap();
            // The first insert applies; the others report the existing row.
            let row: Row = r.into_rows_result().unwrap().first_row().unwrap();
            assert_eq!(
                row.columns.first(),
                Some(&Some(CqlValue::Boolean(i == 0))),
                "[applied] of execution {i}"
            );
        }
        let after = executes(&cluster);
        let per_node: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        assert_eq!(per_node.iter().sum::<u64>(), RUNS);
        assert!(
            per_node.iter().filter(|n| **n > 0).count() > 1,
            "unconfirmed LWTs take turns over the replicas: {per_node:?}"
        );
    })
    .await;
}
