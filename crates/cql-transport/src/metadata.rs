//! Reading topology and schema from the system tables over one (control) connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures::future::BoxFuture;
use proto::request::{Query, Request};
use proto::response::{ErrorBody, ResultBody, Rows};
use proto::{ColumnType, CqlValue, Text, UnexpectedResponse};
use uuid::Uuid;

use crate::connection::Connection;
use crate::cql_type::{UdtDefinitions, parse_cql_type};
use crate::error::ConnectionError;
use crate::state::ring::ReplicationStrategy;
use crate::state::{Column, ColumnKind, Keyspace, Table};

/// Errors while reading metadata.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The control connection failed.
    #[error("metadata query failed: {0}")]
    Connection(#[from] ConnectionError),
    /// The server answered a metadata query with an ERROR.
    #[error("server error {} for {query:?}: {}", error.code, error.message)]
    Server {
        /// The query.
        query: String,
        /// The server's error: code, message and details.
        error: Box<ErrorBody>,
    },
    /// A system table had an unexpected shape.
    #[error("malformed metadata: {0}")]
    Malformed(String),
    /// No control connection is available.
    #[error("no control connection to any node")]
    NoControlConnection,
    /// The cluster was closed.
    #[error("the cluster is closed")]
    Closed,
}

/// Rewrites the addresses nodes advertise (e.g. private IPs behind NAT) into addresses the
/// driver can reach.
pub trait AddressTranslator: Send + Sync + std::fmt::Debug {
    /// Translates a node's advertised native-transport address.
    fn translate<'a>(
        &'a self,
        untranslated: SocketAddr,
        host_id: Option<Uuid>,
    ) -> BoxFuture<'a, Result<SocketAddr, String>>;
}

/// A node as read from `system.local` / `system.peers(_v2)`, before pools are attached: what
/// a host filter decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peer {
    /// The address the driver connects to (after address translation).
    pub address: SocketAddr,
    /// The node's host id.
    pub host_id: Option<Uuid>,
    /// The datacenter.
    pub datacenter: Option<String>,
    /// The rack.
    pub rack: Option<String>,
    /// The node's tokens.
    pub tokens: Vec<i64>,
}

impl Peer {
    /// A peer with this address and nothing else known (tests, custom filters).
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            host_id: None,
            datacenter: None,
            rack: None,
            tokens: Vec::new(),
        }
    }

    /// Sets the datacenter.
    #[must_use]
    pub fn with_datacenter(mut self, datacenter: Option<String>) -> Self {
        self.datacenter = datacenter;
        self
    }
}

/// Decides which peers get a connection pool (see `ClusterConfig::node_filter`): a predicate
/// shared by every refresh. Cheap to clone.
#[derive(Clone)]
pub struct NodeFilter(Arc<dyn Fn(&Peer) -> bool + Send + Sync>);

impl NodeFilter {
    /// A filter accepting the peers for which `accept` returns true.
    pub fn new(accept: impl Fn(&Peer) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(accept))
    }

    /// Whether `peer` is accepted.
    pub fn accepts(&self, peer: &Peer) -> bool {
        (self.0)(peer)
    }
}

impl std::fmt::Debug for NodeFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeFilter")
    }
}

/// Decoded rows of a system query: column index by name plus decoded cells.
pub(crate) struct SystemRows {
    index: HashMap<Text, usize>,
    rows: Vec<Vec<Option<CqlValue>>>,
}

impl SystemRows {
    fn from_rows(rows: &Rows) -> Result<Self, MetadataError> {
        let specs = &rows.metadata.col_specs;
        let index = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let mut out = Vec::with_capacity(rows.rows_count);
        for row in rows.rows() {
            let row = row.map_err(|e| MetadataError::Malformed(e.to_string()))?;
            let mut cells = Vec::with_capacity(specs.len());
            for (cell, spec) in row.cells().zip(specs) {
                cells.push(match cell {
                    None => None,
                    Some(b) => Some(
                        CqlValue::decode_bytes(&spec.typ, b)
                            .map_err(|e| MetadataError::Malformed(format!("{}: {e}", spec.name)))?,
                    ),
                });
            }
            out.push(cells);
        }
        Ok(Self { index, rows: out })
    }

    fn get<'a>(&self, row: &'a [Option<CqlValue>], col: &str) -> Option<&'a CqlValue> {
        self.index
            .get(col)
            .and_then(|i| row.get(*i))
            .and_then(Option::as_ref)
    }

    fn text(&self, row: &[Option<CqlValue>], col: &str) -> Option<String> {
        match self.get(row, col)? {
            CqlValue::Text(s) | CqlValue::Ascii(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn uuid(&self, row: &[Option<CqlValue>], col: &str) -> Option<Uuid> {
        match self.get(row, col)? {
            CqlValue::Uuid(u) => Some(*u),
            CqlValue::Timeuuid(u) => Some(*u.as_uuid()),
            _ => None,
        }
    }

    fn inet(&self, row: &[Option<CqlValue>], col: &str) -> Option<IpAddr> {
        match self.get(row, col)? {
            CqlValue::Inet(ip) => Some(*ip),
            _ => None,
        }
    }

    fn int(&self, row: &[Option<CqlValue>], col: &str) -> Option<i32> {
        match self.get(row, col)? {
            CqlValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn boolean(&self, row: &[Option<CqlValue>], col: &str) -> Option<bool> {
        match self.get(row, col)? {
            CqlValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    fn text_list(&self, row: &[Option<CqlValue>], col: &str) -> Vec<String> {
        match self.get(row, col) {
            Some(CqlValue::List(v) | CqlValue::Set(v)) => v
                .iter()
                .filter_map(|x| match x {
                    CqlValue::Text(s) | CqlValue::Ascii(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn text_map(&self, row: &[Option<CqlValue>], col: &str) -> HashMap<String, String> {
        match self.get(row, col) {
            Some(CqlValue::Map(m)) => m
                .iter()
                .filter_map(|(k, v)| match (k, v) {
                    (
                        CqlValue::Text(k) | CqlValue::Ascii(k),
                        CqlValue::Text(v) | CqlValue::Ascii(v),
                    ) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect(),
            _ => HashMap::new(),
        }
    }
}

/// Runs a query and decodes its rows.
pub(crate) async fn query(conn: &Connection, cql: &str) -> Result<SystemRows, MetadataError> {
    // Scylla bounds the read on its side too; the client-side timeout stays the backstop.
    let timed;
    let cql = match conn.metadata_server_timeout() {
        Some(t) if cql.starts_with("SELECT") => {
            timed = format!("{cql} USING TIMEOUT {}ms", t.as_millis().max(1));
            timed.as_str()
        }
        _ => cql,
    };
    let req = Request::Query(Query {
        query: Text::copy_from_str(cql),
        params: proto::request::QueryParameters::default(),
    });
    match conn.request(&req).await?.response.into_result() {
        Ok(ResultBody::Rows(rows)) => SystemRows::from_rows(&rows),
        Ok(_) => Ok(SystemRows {
            index: HashMap::new(),
            rows: Vec::new(),
        }),
        Err(UnexpectedResponse::Error(error)) => Err(MetadataError::Server {
            query: cql.to_owned(),
            error,
        }),
        Err(other) => Err(MetadataError::Malformed(format!("{other} to {cql:?}"))),
    }
}

fn parse_tokens(list: Vec<String>) -> Vec<i64> {
    list.iter().filter_map(|t| t.parse().ok()).collect()
}

/// Reads `system.local` and `system.peers_v2` (falling back to `system.peers`). The local node's
/// address is the control connection's address.
pub(crate) async fn fetch_topology(
    conn: &Connection,
    control_addr: SocketAddr,
    translator: Option<&Arc<dyn AddressTranslator>>,
) -> Result<Vec<Peer>, MetadataError> {
    let local = query(
        conn,
        "SELECT host_id, data_center, rack, tokens FROM system.local WHERE key='local'",
    )
    .await?;
    let mut nodes = Vec::new();
    for row in &local.rows {
        nodes.push(Peer {
            address: control_addr,
            host_id: local.uuid(row, "host_id"),
            datacenter: local.text(row, "data_center"),
            rack: local.text(row, "rack"),
            tokens: parse_tokens(local.text_list(row, "tokens")),
        });
    }
    let default_port = control_addr.port();
    let (peers, v2) = match query(conn, "SELECT peer, host_id, data_center, rack, tokens, native_address, native_port FROM system.peers_v2").await {
        Ok(t) => (t, true),
        Err(MetadataError::Server { .. }) => {
            (query(conn, "SELECT peer, host_id, data_center, rack, tokens, rpc_address FROM system.peers").await?, false)
        }
        Err(e) => return Err(e),
    };
    for row in &peers.rows {
        let ip = if v2 {
            peers.inet(row, "native_address")
        } else {
            peers.inet(row, "rpc_address")
        };
        let ip = match ip {
            Some(ip) if !ip.is_unspecified() => ip,
            _ => match peers.inet(row, "peer") {
                Some(ip) => ip,
                None => continue,
            },
        };
        let port = if v2 {
            peers
                .int(row, "native_port")
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(default_port)
        } else {
            default_port
        };
        let host_id = peers.uuid(row, "host_id");
        let mut address = SocketAddr::new(ip, port);
        if let Some(t) = translator {
            match t.translate(address, host_id).await {
                Ok(a) => address = a,
                Err(e) => {
                    tracing::warn!(%address, error = %e, "address translation failed; node skipped");
                    continue;
                }
            }
        }
        nodes.push(Peer {
            address,
            host_id,
            datacenter: peers.text(row, "data_center"),
            rack: peers.text(row, "rack"),
            tokens: parse_tokens(peers.text_list(row, "tokens")),
        });
    }
    Ok(nodes)
}

fn escape(s: &str) -> String {
    s.replace('\'', "''")
}

/// Reads the schema of every keyspace, or of one keyspace: with `details`, their types, tables,
/// views, functions and aggregates; without, only their replication (what routing needs).
pub(crate) async fn fetch_schema(
    conn: &Connection,
    only: Option<&str>,
    details: bool,
) -> Result<HashMap<String, Keyspace>, MetadataError> {
    let filter = only
        .map(|k| format!(" WHERE keyspace_name = '{}'", escape(k)))
        .unwrap_or_default();
    let q = |cols: &str, table: &str| format!("SELECT {cols} FROM system_schema.{table}{filter}");
    let keyspaces = query(
        conn,
        &q("keyspace_name, durable_writes, replication", "keyspaces"),
    )
    .await?;
    let mut out: HashMap<String, Keyspace> = HashMap::new();
    for row in &keyspaces.rows {
        let Some(name) = keyspaces.text(row, "keyspace_name") else {
            continue;
        };
        let mut ks = Keyspace::new(
            name.clone(),
            ReplicationStrategy::from_options(&keyspaces.text_map(row, "replication")),
        );
        ks.durable_writes = keyspaces.boolean(row, "durable_writes").unwrap_or(true);
        out.insert(name, ks);
    }
    if !details {
        return Ok(out);
    }
    let types = query(
        conn,
        &q(
            "keyspace_name, type_name, field_names, field_types",
            "types",
        ),
    )
    .await?;
    let tables = query(conn, &q("keyspace_name, table_name", "tables")).await?;
    let columns = query(
        conn,
        &q(
            "keyspace_name, table_name, column_name, kind, position, type",
            "columns",
        ),
    )
    .await?;
    // Best effort.
    let views = query(
        conn,
        &q("keyspace_name, view_name, base_table_name", "views"),
    )
    .await
    .ok();
    let functions = query(
        conn,
        &q("keyspace_name, function_name, argument_types", "functions"),
    )
    .await
    .ok();
    let aggregates = query(
        conn,
        &q(
            "keyspace_name, aggregate_name, argument_types",
            "aggregates",
        ),
    )
    .await
    .ok();
    let indexes = query(conn, &q("keyspace_name, table_name, index_name", "indexes"))
        .await
        .ok();

    // UDT definitions per keyspace, then resolved.
    let mut udt_defs: HashMap<String, UdtDefinitions> = HashMap::new();
    for row in &types.rows {
        let (Some(ks), Some(name)) = (
            types.text(row, "keyspace_name"),
            types.text(row, "type_name"),
        ) else {
            continue;
        };
        let fields = types
            .text_list(row, "field_names")
            .into_iter()
            .zip(types.text_list(row, "field_types"))
            .collect();
        udt_defs.entry(ks).or_default().insert(name, fields);
    }
    let empty = UdtDefinitions::new();
    for (ks_name, ks) in &mut out {
        let defs = udt_defs.get(ks_name).unwrap_or(&empty);
        for name in defs.keys() {
            match parse_cql_type(&format!("\"{}\"", name.replace('"', "\"\"")), ks_name, defs) {
                Ok(t) => {
                    ks.user_types.insert(name.clone(), t);
                }
                Err(e) => {
                    tracing::warn!(keyspace = %ks_name, udt = %name, error = %e, "cannot resolve user type")
                }
            }
        }
    }
    // Tables and their columns.
    let mut table_cols: HashMap<(String, String), Vec<Column>> = HashMap::new();
    for row in &columns.rows {
        let (Some(ks), Some(table), Some(name), Some(typ)) = (
            columns.text(row, "keyspace_name"),
            columns.text(row, "table_name"),
            columns.text(row, "column_name"),
            columns.text(row, "type"),
        ) else {
            continue;
        };
        let kind = match columns.text(row, "kind").as_deref() {
            Some("partition_key") => ColumnKind::PartitionKey,
            Some("clustering") => ColumnKind::Clustering,
            Some("static") => ColumnKind::Static,
            _ => ColumnKind::Regular,
        };
        let typ = match parse_cql_type(&typ, &ks, udt_defs.get(&ks).unwrap_or(&empty)) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(keyspace = %ks, table = %table, column = %name, error = %e, "unparsable column type");
                ColumnType::Custom(typ)
            }
        };
        let position = columns.int(row, "position").unwrap_or(-1);
        table_cols.entry((ks, table)).or_default().push(Column {
            name,
            typ,
            kind,
            position,
        });
    }
    let mut make_table = |ks: &str, name: &str| -> Table {
        let cols = table_cols
            .remove(&(ks.to_owned(), name.to_owned()))
            .unwrap_or_default();
        Table::new(ks, name, cols)
    };
    for row in &tables.rows {
        let (Some(ks), Some(name)) = (
            tables.text(row, "keyspace_name"),
            tables.text(row, "table_name"),
        ) else {
            continue;
        };
        let t = make_table(&ks, &name);
        if let Some(k) = out.get_mut(&ks) {
            k.tables.insert(name, Arc::new(t));
        }
    }
    if let Some(views) = &views {
        for row in &views.rows {
            let (Some(ks), Some(name)) = (
                views.text(row, "keyspace_name"),
                views.text(row, "view_name"),
            ) else {
                continue;
            };
            let mut t = make_table(&ks, &name);
            t.base_table = views.text(row, "base_table_name");
            if let Some(k) = out.get_mut(&ks) {
                k.views.insert(name, Arc::new(t));
            }
        }
    }
    for (t, col, target) in [
        (&functions, "function_name", 0),
        (&aggregates, "aggregate_name", 1),
    ] {
        let Some(t) = t else { continue };
        for row in &t.rows {
            let (Some(ks), Some(name)) = (t.text(row, "keyspace_name"), t.text(row, col)) else {
                continue;
            };
            let sig = format!("{name}({})", t.text_list(row, "argument_types").join(", "));
            if let Some(k) = out.get_mut(&ks) {
                if target == 0 {
                    k.functions.push(sig)
                } else {
                    k.aggregates.push(sig)
                }
            }
        }
    }
    if let Some(t) = &indexes {
        for row in &t.rows {
            let (Some(ks), Some(name)) = (t.text(row, "keyspace_name"), t.text(row, "index_name"))
            else {
                continue;
            };
            if let Some(k) = out.get_mut(&ks) {
                k.indexes.push(name);
            }
        }
    }
    Ok(out)
}
