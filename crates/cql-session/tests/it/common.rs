//! Helpers the session's integration tests share: a bound on every test, a session connected to
//! a `cql-sim` cluster, the `ks.t` schema most tests use, and per-node request counts.

use std::net::SocketAddr;
use std::time::Duration;

use cql_session::deserialize::DeserializeOwnedRow;
use cql_session::{Session, SessionBuilder};
use cql_sim::SimCluster;
use proto::codes::Opcode;

/// Runs `f` within `limit`: a hung request fails the test instead of hanging it.
pub(crate) async fn bounded<F: Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .expect("test timed out")
}

/// A session with `contact` as its known node.
pub(crate) async fn connect(contact: SocketAddr) -> Session {
    SessionBuilder::new()
        .known_node(contact.to_string())
        .build()
        .await
        .expect("connect")
}

/// A session with `contact` as its known node and the options `configure` sets.
pub(crate) async fn connect_with(
    contact: SocketAddr,
    configure: impl FnOnce(SessionBuilder) -> SessionBuilder,
) -> Session {
    configure(SessionBuilder::new().known_node(contact.to_string()))
        .build()
        .await
        .expect("connect")
}

/// A `cql-sim` cluster of `nodes` nodes with `shards` shards each.
pub(crate) async fn sim(nodes: usize, shards: u32) -> SimCluster {
    SimCluster::builder()
        .nodes(nodes)
        .shards(shards)
        .start()
        .await
        .expect("sim cluster")
}

/// A `cql-sim` cluster of `nodes` × `shards` and a session connected to it.
pub(crate) async fn sim_session(nodes: usize, shards: u32) -> (SimCluster, Session) {
    let cluster = sim(nodes, shards).await;
    let session = connect(cluster.contact_point()).await;
    (cluster, session)
}

/// Runs `cql` without values; panics with the statement and the error on failure.
pub(crate) async fn run(session: &Session, cql: &str) {
    session
        .query_unpaged(cql, ())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
}

/// The rows `cql` (without values) returns, as `R`; panics on any failure.
pub(crate) async fn rows<R: DeserializeOwnedRow>(session: &Session, cql: &str) -> Vec<R> {
    session
        .query_unpaged(cql, ())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
        .into_rows_result()
        .expect("rows")
        .rows::<R>()
        .expect("row type")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows decode")
}

/// Creates keyspace `ks` (SimpleStrategy, `rf` replicas) and `ks.t (pk int, ck int, v text,
/// PRIMARY KEY (pk, ck))`.
pub(crate) async fn create_ks_t(session: &Session, rf: usize) {
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE ks WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
            ),
            (),
        )
        .await
        .expect("create keyspace ks");
    session
        .query_unpaged(
            "CREATE TABLE ks.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))",
            (),
        )
        .await
        .expect("create table ks.t");
}

/// Prepares `INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)` (see [`create_ks_t`]).
pub(crate) async fn prepare_insert(session: &Session) -> cql_session::PreparedStatement {
    session
        .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)")
        .await
        .expect("prepare the ks.t insert")
}

/// Applies `action` to the next statement on `ks.t` that node `node` receives.
pub(crate) fn on_next(cluster: &SimCluster, node: usize, action: cql_sim::FaultAction) {
    cluster.node(node).add_fault(cql_sim::FaultRule::times(
        cql_sim::RequestMatcher::QueryContains("ks.t".into()),
        action,
        1,
    ));
}

/// The EXECUTE requests each node of `cluster` received so far.
pub(crate) fn executes(cluster: &SimCluster) -> Vec<u64> {
    cluster
        .nodes()
        .iter()
        .map(|n| n.request_count_of(Opcode::EXECUTE))
        .collect()
}
