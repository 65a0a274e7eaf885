//! Shared helpers of the end-to-end tests against `cql-sim` (each test starts its own isolated
//! simulated cluster; every wait is a bounded poll on an observable condition).

use std::time::Duration;

use cql_sim::SimCluster;
pub(crate) use cql_testkit::query::query_cl;
pub(crate) use cql_testkit::wait_until;
use cql_transport::pool::PoolConfig;
use cql_transport::{
    Cluster, ClusterConfig, Connection, ConnectionConfig, ConnectionError, ConnectionTuning,
};
use proto::Consistency;
use proto::response::{Response, ResultBody};

/// The bound of every wait in these tests.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// Shards per simulated node.
pub(crate) const SHARDS: u32 = 4;

/// A 3-node, 4-shard isolated cluster.
pub(crate) async fn sim3() -> SimCluster {
    SimCluster::builder()
        .nodes(3)
        .shards(SHARDS)
        .isolated()
        .start()
        .await
        .expect("sim cluster starts")
}

/// A driver configuration for `sim` with quick reconnects and a short debounce.
pub(crate) fn config(sim: &SimCluster, per_shard: usize) -> ClusterConfig {
    let connection = ConnectionConfig::default()
        .connect_timeout(Duration::from_secs(5))
        .tuning(ConnectionTuning::default().request_timeout(Some(Duration::from_secs(5))));
    ClusterConfig::default()
        .known_nodes(vec![sim.contact_point().to_string()])
        .connection(connection)
        .pool(
            PoolConfig::default()
                .connections_per_shard(per_shard)
                .reconnect_base_delay(Duration::from_millis(20))
                .reconnect_max_delay(Duration::from_millis(200)),
        )
        .metadata_debounce(Duration::from_millis(50))
}

/// Connects within [`WAIT`].
pub(crate) async fn connect(config: ClusterConfig) -> Cluster {
    tokio::time::timeout(WAIT, Cluster::connect(config))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Runs `cql` at ONE and returns the response (ERROR responses included).
pub(crate) async fn run(conn: &Connection, cql: &str) -> Result<Response, ConnectionError> {
    run_cl(conn, cql, Consistency::ONE).await
}

/// Runs `cql` at `consistency` and returns the response (ERROR responses included).
pub(crate) async fn run_cl(
    conn: &Connection,
    cql: &str,
    consistency: Consistency,
) -> Result<Response, ConnectionError> {
    tokio::time::timeout(WAIT, conn.request(&query_cl(cql, consistency)))
        .await
        .expect("response in time")
        .map(|e| e.response)
}

/// Runs `cql` and panics unless the server answered with a RESULT.
pub(crate) async fn ok(conn: &Connection, cql: &str) -> ResultBody {
    match run(conn, cql).await {
        Ok(Response::Result(r)) => r,
        other => panic!("{cql}: {other:?}"),
    }
}

/// The murmur3 token of an `int` partition key (4 bytes big endian).
pub(crate) fn int_token(k: i32) -> proto::Token {
    proto::murmur3_token(&k.to_be_bytes())
}

/// Restarts a stopped sim node. Rebinding its listeners occasionally fails with AddrInUse on
/// this shared machine (see the report), so the bind is retried for a bounded time.
pub(crate) async fn restart(node: &cql_sim::server::NodeHandle) {
    let start = tokio::time::Instant::now();
    loop {
        match tokio::time::timeout(WAIT, node.start()).await {
            Ok(Ok(())) => return,
            Ok(Err(e @ cql_sim::server::SimError::Bind { .. })) if start.elapsed() < WAIT => {
                eprintln!("restart of node {} failed, retrying: {e}", node.index());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("restart of node {}: {other:?}", node.index()),
        }
    }
}
