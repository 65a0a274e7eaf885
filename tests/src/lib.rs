//! Shared helpers of the integration suite: the cluster under test comes from the environment,
//! each test gets a session and a keyspace of its own, so tests run in parallel.
//!
//! Environment:
//! - `CQL_NODES=host:port,...` (required): contact points.
//! - `CQL_USER`, `CQL_PASSWORD` (optional): PasswordAuthenticator credentials.
//! - `CQL_CLUSTER_KIND=sim|external|ccm` (default `external`): tests that need fault injection
//!   run only against `sim`, on an in-process simulated cluster of their own.
//! - `CQL_TLS_CA=path` (optional): connect with TLS, trusting this CA certificate (PEM or DER);
//!   `cargo xtask integration --tls` sets it to the CA the simulator generated.
//! - `CQL_PROTOCOL_VERSION=3|4|5` (optional): the highest version the sessions offer; a test
//!   checks it is the one negotiated (`cargo xtask integration --protocol N`).
//!
//! Run it with `cargo xtask integration` (see the README), which sets all of these.
#![forbid(unsafe_code)]

extern crate cql_session as session;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use session::deserialize::DeserializeOwnedRow;
use session::serialize::SerializeRow;
use session::{PreparedStatement, QueryResult, Session, SessionBuilder, Statement};

/// The kind of cluster the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKind {
    /// The `cql-sim` simulator (standalone binary or the CCM shim).
    Sim,
    /// A cluster made by `ccm` (real Cassandra or Scylla, or the shim).
    Ccm,
    /// Any other running cluster.
    External,
}

/// The cluster under test, read once from the environment.
#[derive(Debug, Clone)]
pub struct ClusterEnv {
    /// Contact points, `host:port`.
    pub nodes: Vec<String>,
    /// Username and password, when the cluster needs them.
    pub credentials: Option<(String, String)>,
    /// What runs the cluster.
    pub kind: ClusterKind,
    /// The protocol version the suite must speak (`CQL_PROTOCOL_VERSION`): the builder offers
    /// at most it, and a test checks it was negotiated.
    pub protocol: Option<u8>,
    /// The CA to trust over TLS (`CQL_TLS_CA`); plain TCP when `None`.
    pub tls_ca: Option<session::tls::rustls::pki_types::CertificateDer<'static>>,
}

/// Reads a CA certificate, PEM or DER.
fn read_ca(path: &str) -> Result<session::tls::rustls::pki_types::CertificateDer<'static>, String> {
    use session::tls::rustls::pki_types::CertificateDer;
    use session::tls::rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|e| format!("CQL_TLS_CA={path}: {e}"))?;
    if bytes.starts_with(b"-----BEGIN") {
        CertificateDer::from_pem_slice(&bytes)
            .map_err(|e| format!("CQL_TLS_CA={path}: not a PEM certificate: {e}"))
    } else {
        Ok(CertificateDer::from(bytes))
    }
}

impl ClusterEnv {
    /// Reads the cluster from `CQL_NODES`, `CQL_USER`, `CQL_PASSWORD`, `CQL_CLUSTER_KIND`,
    /// `CQL_PROTOCOL_VERSION`.
    pub fn from_env() -> Result<Self, String> {
        let nodes = std::env::var("CQL_NODES").map_err(|_| {
            "CQL_NODES is not set. The integration suite needs a running cluster: run \
             `cargo xtask integration` (starts cql-sim), or set CQL_NODES=host:port,... \
             (and CQL_CLUSTER_KIND=sim|external|ccm)"
                .to_owned()
        })?;
        let nodes: Vec<String> = nodes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if nodes.is_empty() {
            return Err("CQL_NODES is empty; expected host:port,...".to_owned());
        }
        let tls_ca = match std::env::var("CQL_TLS_CA") {
            Err(_) => None,
            Ok(path) => Some(read_ca(&path)?),
        };
        let credentials = match (std::env::var("CQL_USER"), std::env::var("CQL_PASSWORD")) {
            (Ok(u), Ok(p)) => Some((u, p)),
            (Ok(u), Err(_)) => Some((u, String::new())),
            _ => None,
        };
        let kind = match std::env::var("CQL_CLUSTER_KIND").as_deref() {
            Ok("sim") => ClusterKind::Sim,
            Ok("ccm") => ClusterKind::Ccm,
            Ok("external") | Err(_) => ClusterKind::External,
            Ok(other) => {
                return Err(format!(
                    "CQL_CLUSTER_KIND={other:?}: expected sim, external or ccm"
                ));
            }
        };
        let protocol = match std::env::var("CQL_PROTOCOL_VERSION") {
            Err(_) => None,
            Ok(v) => match v.trim().parse::<u8>() {
                Ok(n @ 3..=5) => Some(n),
                _ => {
                    return Err(format!("CQL_PROTOCOL_VERSION={v:?}: expected 3, 4 or 5"));
                }
            },
        };
        Ok(Self {
            nodes,
            credentials,
            kind,
            protocol,
            tls_ca,
        })
    }
}

/// The cluster under test. Panics with instructions when the environment does not name one.
pub fn cluster() -> &'static ClusterEnv {
    static ENV: OnceLock<Result<ClusterEnv, String>> = OnceLock::new();
    match ENV.get_or_init(ClusterEnv::from_env) {
        Ok(env) => env,
        Err(msg) => panic!("{msg}"),
    }
}

/// A session builder for the cluster under test (contact points and credentials set).
pub fn builder() -> SessionBuilder {
    let env = cluster();
    let mut b = SessionBuilder::new().known_nodes(&env.nodes);
    if let Some((user, pass)) = &env.credentials {
        b = b.user(user, pass);
    }
    if let Some(v) = env.protocol {
        b = b.max_protocol_version(cql_session::client::session_builder::ProtocolVersion(v));
    }
    if let Some(ca) = &env.tls_ca {
        match session::tls::TlsConfig::new(vec![ca.clone()], None) {
            Ok(tls) => b = b.tls_context(Some(tls)),
            Err(e) => panic!("CQL_TLS_CA: {e}"),
        }
    }
    b
}

/// A new session to the cluster under test.
pub async fn session() -> Session {
    match builder().build().await {
        Ok(s) => s,
        Err(e) => panic!("cannot connect to {:?}: {e}", cluster().nodes),
    }
}

/// Whether the tests that need fault injection can run; prints why not when they cannot.
pub fn fault_injection_available(test: &str) -> bool {
    if cluster().kind == ClusterKind::Sim {
        true
    } else {
        println!(
            "skipping {test}: it needs fault injection, which only CQL_CLUSTER_KIND=sim has \
             (this run is {:?})",
            cluster().kind
        );
        false
    }
}

/// A keyspace name no other test (or concurrent run) uses: `it_<area>_<pid>_<n>`.
pub fn unique_keyspace(area: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let area: String = area
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("it_{area}_{}_{n}", std::process::id())
}

/// A keyspace created for one test; drop it at the end with [`TestKeyspace::drop_keyspace`].
#[derive(Debug)]
pub struct TestKeyspace {
    /// The keyspace's name.
    pub name: String,
}

impl TestKeyspace {
    /// Creates a SimpleStrategy keyspace with the given replication factor, capped at the
    /// number of nodes (so the suite also runs against one- and two-node clusters).
    pub async fn create(session: &Session, area: &str, replication_factor: u32) -> Self {
        let nodes = u32::try_from(session.get_cluster_state().nodes().len()).unwrap_or(u32::MAX);
        let replication_factor = replication_factor.min(nodes.max(1));
        let name = unique_keyspace(area);
        let cql = format!(
            "CREATE KEYSPACE {name} WITH replication = \
             {{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
        );
        if let Err(e) = session.query_unpaged(cql, ()).await {
            panic!("creating keyspace {name}: {e}");
        }
        Self { name }
    }

    /// `<keyspace>.<table>`.
    pub fn table(&self, table: &str) -> String {
        format!("{}.{table}", self.name)
    }

    /// Creates the table `<keyspace>.<table>` with `columns` (the parenthesized column list
    /// and key) and returns its full name.
    pub async fn create_table(&self, session: &Session, table: &str, columns: &str) -> String {
        let name = self.table(table);
        exec(session, &format!("CREATE TABLE {name} {columns}")).await;
        name
    }

    /// Drops the keyspace (the cleanup at the end of a test).
    pub async fn drop_keyspace(self, session: &Session) {
        let cql = format!("DROP KEYSPACE IF EXISTS {}", self.name);
        if let Err(e) = session.query_unpaged(cql, ()).await {
            panic!("dropping keyspace {}: {e}", self.name);
        }
    }
}

/// Runs `cql` with no values and panics with the statement in the message on error.
pub async fn exec(session: &Session, cql: &str) -> QueryResult {
    match session.query_unpaged(cql, ()).await {
        Ok(r) => r,
        Err(e) => panic!("{cql}: {e}"),
    }
}

/// Prepares `cql`, panicking with the statement in the message on error.
pub async fn prepare(session: &Session, cql: String) -> PreparedStatement {
    match session.prepare(cql.as_str()).await {
        Ok(p) => p,
        Err(e) => panic!("preparing {cql}: {e}"),
    }
}

/// The rows of `result` as `R`; panics (with the reason) when it has none or they do not fit.
pub fn rows_of<R: DeserializeOwnedRow>(result: QueryResult) -> Vec<R> {
    let rows = match result.into_rows_result() {
        Ok(rows) => rows,
        Err(e) => panic!("expected rows: {e}"),
    };
    let iter = match rows.rows::<R>() {
        Ok(iter) => iter,
        Err(e) => panic!("row type does not fit: {e}"),
    };
    match iter.collect() {
        Ok(v) => v,
        Err(e) => panic!("row does not decode: {e}"),
    }
}

/// Runs `cql` with `values` and returns its rows as `R`, panicking with the statement on error.
pub async fn query_rows<R: DeserializeOwnedRow>(
    session: &Session,
    cql: impl Into<Statement>,
    values: impl SerializeRow,
) -> Vec<R> {
    let statement = cql.into();
    match session.query_unpaged(statement.clone(), values).await {
        Ok(r) => rows_of(r),
        Err(e) => panic!("{}: {e}", statement.contents()),
    }
}

/// An in-process simulated cluster of `nodes` nodes with two shards each, on a loopback subnet
/// of its own, and a session to it. For the tests that inject faults.
pub async fn sim_cluster(nodes: usize) -> (sim::SimCluster, Session) {
    let cluster = match sim::SimCluster::builder()
        .nodes(nodes)
        .shards(2)
        .start()
        .await
    {
        Ok(c) => c,
        Err(e) => panic!("starting an in-process cql-sim cluster: {e}"),
    };
    let session = match SessionBuilder::new()
        .known_nodes_addr(cluster.node_addrs())
        .build()
        .await
    {
        Ok(s) => s,
        Err(e) => panic!("connecting to the in-process cluster: {e}"),
    };
    (cluster, session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_names_are_unique_and_valid() {
        let a = unique_keyspace("Paging-Test");
        let b = unique_keyspace("Paging-Test");
        assert_ne!(a, b);
        assert!(a.starts_with("it_pagingtest_"), "{a}");
        assert!(a.len() <= 48, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}
