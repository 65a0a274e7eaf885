//! `ClusterState`: an immutable snapshot of nodes, schema, token ring, replica sets and tablets.
//! A new snapshot replaces the old one atomically (`ArcSwap`); readers never lock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use proto::response::TableSpec;
use proto::{ColumnType, TabletRoutingInfo, Token};
use uuid::Uuid;

use crate::pool::NodePool;
use crate::routing::{Shard, Sharder};
mod name_hash;
pub mod partition_key;
pub mod replica_locator;
pub mod ring;

pub use partition_key::{
    ClusterStateTokenError, PartitionKeyValues, PartitionKeyValuesError, TokenCalculationError,
};
pub use replica_locator::{ReplicaLocator, ReplicaSet};
use ring::{ReplicaSets, ReplicationStrategy, TokenRing};

/// A shared reference to a node; cheap to clone.
pub type NodeRef = Arc<Node>;

/// A node of the cluster as seen in `system.local` / `system.peers(_v2)`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Node {
    /// The (translated) address the driver connects to.
    pub address: SocketAddr,
    /// The node's host id.
    pub host_id: Option<Uuid>,
    /// The datacenter.
    pub datacenter: Option<String>,
    /// The rack.
    pub rack: Option<String>,
    /// The node's tokens.
    pub tokens: Vec<i64>,
    /// Liveness, shared across snapshots (updated by events and the pool).
    up: Arc<AtomicBool>,
    pool: Option<Arc<NodePool>>,
    /// False when the host filter rejected the node: it has no pool and takes no requests.
    enabled: bool,
}

impl Node {
    /// A node without a connection pool (tests, planning).
    pub fn new(
        address: SocketAddr,
        host_id: Option<Uuid>,
        datacenter: Option<String>,
        rack: Option<String>,
        tokens: Vec<i64>,
    ) -> Self {
        Self {
            address,
            host_id,
            datacenter,
            rack,
            tokens,
            up: Arc::new(AtomicBool::new(true)),
            pool: None,
            enabled: true,
        }
    }

    /// Marks the node as rejected by the host filter.
    pub(crate) fn disabled(mut self) -> Self {
        self.pool = None;
        self.enabled = false;
        self
    }

    /// Whether the driver may send requests to the node: false when the host filter rejected it
    /// (it then has no pool, but still appears in the cluster state and the token ring).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn with_pool(mut self, pool: Arc<NodePool>) -> Self {
        self.up = pool.up_flag();
        self.pool = Some(pool);
        self
    }

    /// Whether the node is believed up (STATUS_CHANGE events, connection failures).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Whether the driver considers the node down: its pool found no usable connection after
    /// trying to open one, or a STATUS_CHANGE DOWN event came while it had none. The `scylla`
    /// crate's name; the opposite of [`Self::is_up`]. False for a node the host filter rejected
    /// (the driver does not try it, see [`Self::is_enabled`]).
    pub fn is_down(&self) -> bool {
        !self.is_up()
    }

    /// Whether the node's pool has at least one open, usable connection, as in the `scylla`
    /// crate. False for a node the host filter rejected, and between a connection breaking and
    /// its replacement opening.
    pub fn is_connected(&self) -> bool {
        self.pool.as_ref().is_some_and(|p| p.connection_count() > 0)
    }

    /// The node's connection pool (absent for nodes the driver does not connect to).
    pub fn pool(&self) -> Option<&Arc<NodePool>> {
        self.pool.as_ref()
    }

    /// The node's sharding (shard count and ignored token bits), once a connection to it has
    /// reported them; `None` for Cassandra nodes and before the first connection.
    pub fn sharder(&self) -> Option<Sharder> {
        let info = self.pool.as_ref()?.sharding()?;
        Sharder::from_sharding_info(&info)
    }
}

/// Where a column sits in the primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// A clustering column.
    Clustering,
    /// A regular column.
    Regular,
    /// A static column.
    Static,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Column {
    /// The name.
    pub name: String,
    /// The type.
    pub typ: ColumnType,
    /// Its role in the primary key.
    pub kind: ColumnKind,
    /// Position within the partition or clustering key (-1 otherwise).
    pub position: i32,
}

/// A table's (or view's) schema.
///
/// `columns`, `partition_key` and `clustering_key` have the `scylla` crate's shapes; the
/// schema's column order is [`Self::column_order`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Table {
    /// The keyspace.
    pub keyspace: String,
    /// The table name.
    pub name: String,
    /// Columns by name.
    pub columns: HashMap<String, Column>,
    /// Column names in schema order: the partition key, the clustering columns (each in key
    /// order), then the static and the regular columns (by name).
    pub column_order: Vec<String>,
    /// Partition key column names in order.
    pub partition_key: Vec<String>,
    /// Clustering column names in order.
    pub clustering_key: Vec<String>,
    /// For a materialized view: the base table.
    pub base_table: Option<String>,
}

impl Table {
    /// The table `keyspace.name` with `columns` (in any order): the keys and the column order
    /// follow from each column's kind and position.
    pub fn new(
        keyspace: impl Into<String>,
        name: impl Into<String>,
        mut columns: Vec<Column>,
    ) -> Self {
        let rank = |c: &Column| match c.kind {
            ColumnKind::PartitionKey => 0,
            ColumnKind::Clustering => 1,
            ColumnKind::Static => 2,
            ColumnKind::Regular => 3,
        };
        columns.sort_by(|a, b| (rank(a), a.position, &a.name).cmp(&(rank(b), b.position, &b.name)));
        let key = |k: ColumnKind| {
            columns
                .iter()
                .filter(|c| c.kind == k)
                .map(|c| c.name.clone())
                .collect()
        };
        Self {
            keyspace: keyspace.into(),
            name: name.into(),
            partition_key: key(ColumnKind::PartitionKey),
            clustering_key: key(ColumnKind::Clustering),
            column_order: columns.iter().map(|c| c.name.clone()).collect(),
            columns: columns.into_iter().map(|c| (c.name.clone(), c)).collect(),
            base_table: None,
        }
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(name)
    }

    /// The columns in schema order (see [`Self::column_order`]).
    pub fn columns_in_order(&self) -> impl Iterator<Item = &Column> {
        self.column_order
            .iter()
            .filter_map(|name| self.columns.get(name))
    }
}

/// A keyspace's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keyspace {
    /// The name.
    pub name: String,
    /// The replication strategy.
    pub strategy: ReplicationStrategy,
    /// `durable_writes`.
    pub durable_writes: bool,
    /// Tables by name.
    pub tables: HashMap<String, Arc<Table>>,
    /// Materialized views by name.
    pub views: HashMap<String, Arc<Table>>,
    /// User-defined types by name (resolved).
    pub user_types: HashMap<String, ColumnType>,
    /// Function names with argument types, e.g. `f(int, text)` (best effort).
    pub functions: Vec<String>,
    /// Aggregate names with argument types (best effort).
    pub aggregates: Vec<String>,
    /// Secondary index names (best effort).
    pub indexes: Vec<String>,
}

impl Keyspace {
    /// An empty keyspace with a strategy.
    pub fn new(name: impl Into<String>, strategy: ReplicationStrategy) -> Self {
        Self {
            name: name.into(),
            strategy,
            durable_writes: true,
            tables: HashMap::new(),
            views: HashMap::new(),
            user_types: HashMap::new(),
            functions: Vec::new(),
            aggregates: Vec::new(),
            indexes: Vec::new(),
        }
    }
}

/// One tablet: token range `(first_token, last_token]` and its replicas with shards.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Tablet {
    /// Exclusive start.
    pub first_token: i64,
    /// Inclusive end.
    pub last_token: i64,
    /// Replicas and the shard on each.
    pub replicas: Vec<(NodeRef, u32)>,
}

/// The known tablets of one table, sorted by `last_token`, non-overlapping.
#[derive(Debug, Clone, Default)]
struct TableTablets {
    tablets: Vec<Tablet>,
}

impl TableTablets {
    fn find(&self, token: i64) -> Option<&Tablet> {
        let i = self.tablets.partition_point(|t| t.last_token < token);
        self.tablets.get(i).filter(|t| t.first_token < token)
    }

    fn insert(&mut self, tablet: Tablet) {
        // Drop every known tablet overlapping the new range, then insert in order.
        self.tablets
            .retain(|t| t.last_token <= tablet.first_token || t.first_token >= tablet.last_token);
        let i = self
            .tablets
            .partition_point(|t| t.last_token < tablet.last_token);
        self.tablets.insert(i, tablet);
    }
}

/// Replicas of a token: from the token ring (no shard) or from a tablet (with shards).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Replicas<'a> {
    /// Token-ring replicas; the shard follows from each node's sharding parameters.
    Ring(&'a [NodeRef]),
    /// Tablet replicas with their shards.
    Tablet(&'a [(NodeRef, u32)]),
}

impl<'a> Replicas<'a> {
    /// `(node, shard if known)` in replica order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a NodeRef, Option<u32>)> + 'a {
        let (ring, tablet): (&'a [NodeRef], &'a [(NodeRef, u32)]) = match *self {
            Self::Ring(r) => (r, &[]),
            Self::Tablet(t) => (&[], t),
        };
        ring.iter()
            .map(|n| (n, None))
            .chain(tablet.iter().map(|(n, s)| (n, Some(*s))))
    }

    /// The number of replicas.
    pub fn len(&self) -> usize {
        match self {
            Self::Ring(r) => r.len(),
            Self::Tablet(t) => t.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An immutable snapshot of the cluster: nodes, schema, token ring and replica placement.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    nodes: Vec<NodeRef>,
    by_addr: HashMap<SocketAddr, NodeRef>,
    by_host_id: HashMap<Uuid, NodeRef>,
    keyspaces: HashMap<String, Arc<Keyspace>>,
    /// Looked up on every request: a fast hash of the name (see `name_hash`).
    replicas: HashMap<String, Arc<ReplicaSets>, name_hash::NameHash>,
    locator: ReplicaLocator,
}

/// The strategy of a keyspace the state does not know: its tokens go to their primary owner,
/// as the `scylla` crate places them.
static UNKNOWN_KEYSPACE_STRATEGY: ReplicationStrategy = ReplicationStrategy::LocalStrategy;

impl ClusterState {
    /// Builds a snapshot and precomputes the replica sets of every keyspace (one computation per
    /// distinct strategy).
    pub fn new(nodes: Vec<NodeRef>, keyspaces: HashMap<String, Keyspace>) -> Self {
        let keyspaces = keyspaces
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();
        Self::build(nodes, keyspaces, HashMap::new())
    }

    fn build(
        nodes: Vec<NodeRef>,
        keyspaces: HashMap<String, Arc<Keyspace>>,
        tablets: HashMap<String, HashMap<String, Arc<TableTablets>>>,
    ) -> Self {
        let ring = Arc::new(TokenRing::new(&nodes));
        let mut by_strategy: HashMap<ReplicationStrategy, Arc<ReplicaSets>> = HashMap::new();
        let mut replicas = HashMap::default();
        for (name, ks) in &keyspaces {
            let sets = by_strategy
                .entry(ks.strategy.clone())
                .or_insert_with(|| Arc::new(ReplicaSets::compute(&ring, &ks.strategy)));
            replicas.insert(name.clone(), Arc::clone(sets));
        }
        let by_addr = nodes
            .iter()
            .map(|n| (n.address, NodeRef::clone(n)))
            .collect();
        let by_host_id = nodes
            .iter()
            .filter_map(|n| n.host_id.map(|h| (h, NodeRef::clone(n))))
            .collect();
        Self {
            nodes,
            by_addr,
            by_host_id,
            keyspaces,
            replicas,
            locator: ReplicaLocator::new(ring, by_strategy, tablets),
        }
    }

    /// A copy with the schema of one keyspace replaced (or removed with `None`).
    pub fn with_keyspace(&self, name: &str, keyspace: Option<Keyspace>) -> Self {
        let mut keyspaces = self.keyspaces.clone();
        match keyspace {
            Some(ks) => {
                keyspaces.insert(name.to_owned(), Arc::new(ks));
            }
            None => {
                keyspaces.remove(name);
            }
        }
        let tablets = self.known_tablets(&self.nodes, Some(&keyspaces));
        Self::build(self.nodes.clone(), keyspaces, tablets)
    }

    /// A copy with new nodes and the same schema; known tablets are kept (see
    /// [`ClusterState::with_known_tablets`]).
    pub fn with_nodes(&self, nodes: Vec<NodeRef>) -> Self {
        // The schema is the same: no table was dropped.
        let tablets = self.known_tablets(&nodes, None);
        Self::build(nodes, self.keyspaces.clone(), tablets)
    }

    /// This snapshot with the tablets `previous` knew that still apply: those of tables that
    /// still exist (all, when this snapshot has no schema), with replicas re-resolved by host
    /// id; a tablet with a replica no longer among the nodes is dropped. A schema or topology
    /// refresh elsewhere does not move tablets, so forgetting them would only cost every
    /// tablet another misrouted request (Scylla's drivers keep them too); a stale one is
    /// corrected by the next payload.
    #[must_use]
    pub fn with_known_tablets(mut self, previous: &Self) -> Self {
        let schema = (!self.keyspaces.is_empty()).then_some(&self.keyspaces);
        self.locator.tablets = previous.known_tablets(&self.nodes, schema);
        self
    }

    fn known_tablets(
        &self,
        nodes: &[NodeRef],
        schema: Option<&HashMap<String, Arc<Keyspace>>>,
    ) -> HashMap<String, HashMap<String, Arc<TableTablets>>> {
        let by_host: HashMap<Uuid, &NodeRef> = nodes
            .iter()
            .filter_map(|n| n.host_id.map(|h| (h, n)))
            .collect();
        let resolve = |t: &Tablet| -> Option<Tablet> {
            let replicas = t
                .replicas
                .iter()
                .map(|(n, s)| Some((NodeRef::clone(by_host.get(&n.host_id?)?), *s)))
                .collect::<Option<Vec<_>>>()?;
            Some(Tablet {
                replicas,
                ..t.clone()
            })
        };
        let exists = |ks: &str, table: &str| {
            schema.is_none_or(|s| s.get(ks).is_some_and(|k| k.tables.contains_key(table)))
        };
        self.locator
            .tablets
            .iter()
            .map(|(ks, tables)| {
                let tables = tables
                    .iter()
                    .filter(|(name, _)| exists(ks, name))
                    .map(|(name, t)| {
                        let kept = TableTablets {
                            tablets: t.tablets.iter().filter_map(resolve).collect(),
                        };
                        (name.clone(), Arc::new(kept))
                    })
                    .collect();
                (ks.clone(), tables)
            })
            .collect()
    }

    /// A copy with the tablet from a `tablets-routing-v1` payload recorded for `keyspace.table`.
    /// Replicas whose host id is unknown are left out.
    pub fn with_tablet(&self, keyspace: &str, table: &str, info: &TabletRoutingInfo) -> Self {
        let replicas = info
            .replicas
            .iter()
            .filter_map(|(host, shard)| {
                self.by_host_id
                    .get(host)
                    .map(|n| (NodeRef::clone(n), *shard))
            })
            .collect();
        let tablet = Tablet {
            first_token: info.first_token,
            last_token: info.last_token,
            replicas,
        };
        let mut next = self.clone();
        let tables = next.locator.tablets.entry(keyspace.to_owned()).or_default();
        let mut t = tables
            .get(table)
            .map(|t| TableTablets::clone(t))
            .unwrap_or_default();
        t.insert(tablet);
        tables.insert(table.to_owned(), Arc::new(t));
        next
    }

    /// All nodes.
    pub fn nodes(&self) -> &[NodeRef] {
        &self.nodes
    }

    /// A node by its (translated) address.
    pub fn node(&self, addr: SocketAddr) -> Option<&NodeRef> {
        self.by_addr.get(&addr)
    }

    /// A node by host id.
    pub fn node_by_host_id(&self, host_id: Uuid) -> Option<&NodeRef> {
        self.by_host_id.get(&host_id)
    }

    /// Keyspaces by name.
    pub fn keyspaces(&self) -> &HashMap<String, Arc<Keyspace>> {
        &self.keyspaces
    }

    /// A keyspace by name.
    pub fn keyspace(&self, name: &str) -> Option<&Keyspace> {
        self.keyspaces.get(name).map(|k| &**k)
    }

    /// A table's schema.
    pub fn table(&self, keyspace: &str, table: &str) -> Option<&Table> {
        self.keyspace(keyspace)
            .and_then(|k| k.tables.get(table))
            .map(|t| &**t)
    }

    /// The token ring.
    pub fn ring(&self) -> &TokenRing {
        &self.locator.ring
    }

    /// Token-ring replicas of `token` under `keyspace`'s strategy: one binary search, no
    /// allocation. Empty for an unknown keyspace or an empty ring.
    pub fn replicas(&self, keyspace: &str, token: Token) -> &[NodeRef] {
        match (
            self.replicas.get(keyspace),
            self.locator.ring.position(token.0),
        ) {
            (Some(sets), Some(pos)) => sets.at(pos),
            _ => &[],
        }
    }

    /// The tablet containing `token` for `keyspace.table`, if one is known.
    pub fn tablet(&self, keyspace: &str, table: &str, token: Token) -> Option<&Tablet> {
        self.locator
            .tablets
            .get(keyspace)?
            .get(table)?
            .find(token.0)
    }

    /// Replicas of `token` for a table: its tablet when known, else the token ring.
    pub fn replicas_for(&self, keyspace: &str, table: &str, token: Token) -> Replicas<'_> {
        if !self.locator.tablets.is_empty()
            && let Some(t) = self.tablet(keyspace, table, token)
        {
            return Replicas::Tablet(&t.replicas);
        }
        Replicas::Ring(self.replicas(keyspace, token))
    }

    // The `scylla` crate's names and shapes.

    /// Every known node; the `scylla` crate's name for [`Self::nodes`].
    pub fn get_nodes_info(&self) -> &[NodeRef] {
        &self.nodes
    }

    /// The keyspaces with their names, in no particular order.
    pub fn keyspaces_iter(&self) -> impl Iterator<Item = (&str, &Keyspace)> {
        self.keyspaces.iter().map(|(n, k)| (n.as_str(), &**k))
    }

    /// A keyspace by name; the `scylla` crate's name for [`Self::keyspace`].
    pub fn get_keyspace(&self, keyspace: impl AsRef<str>) -> Option<&Keyspace> {
        self.keyspace(keyspace.as_ref())
    }

    /// Where replicas of every strategy and table are looked up: the token ring, nodes per
    /// datacenter, known tablets.
    pub fn replica_locator(&self) -> &ReplicaLocator {
        &self.locator
    }

    /// The token of the partition of `keyspace.table` whose partition-key columns have the
    /// values `partition_key` (all of them, in key order for positional values; see
    /// [`PartitionKeyValues`]), as the server computes it (Murmur3).
    pub fn compute_token<K: PartitionKeyValues + ?Sized>(
        &self,
        keyspace: &str,
        table: &str,
        partition_key: &K,
    ) -> Result<Token, ClusterStateTokenError> {
        let Some(t) = self.table(keyspace, table) else {
            return Err(ClusterStateTokenError::UnknownTable {
                keyspace: keyspace.to_owned(),
                table: table.to_owned(),
            });
        };
        partition_key::token_of(t, partition_key)
    }

    /// The replicas of `token` for `keyspace.table` with the shard owning it on each: the
    /// table's tablet when one is known, else the token ring under the keyspace's strategy (an
    /// unknown keyspace gives the token's primary owner, as in the `scylla` crate).
    pub fn get_token_endpoints(
        &self,
        keyspace: &str,
        table: &str,
        token: Token,
    ) -> Vec<(NodeRef, Shard)> {
        let strategy = self
            .keyspace(keyspace)
            .map_or(&UNKNOWN_KEYSPACE_STRATEGY, |k| &k.strategy);
        self.locator
            .replicas_for_token(token, strategy, None, &TableSpec::borrowed(keyspace, table))
            .into_iter()
            .collect()
    }

    /// The replicas of the partition of `keyspace.table` with key `partition_key` (like
    /// `nodetool getendpoints`): [`Self::compute_token`], then [`Self::get_token_endpoints`].
    pub fn get_endpoints<K: PartitionKeyValues + ?Sized>(
        &self,
        keyspace: &str,
        table: &str,
        partition_key: &K,
    ) -> Result<Vec<(NodeRef, Shard)>, ClusterStateTokenError> {
        let token = self.compute_token(keyspace, table, partition_key)?;
        Ok(self.get_token_endpoints(keyspace, table, token))
    }
}

#[cfg(test)]
mod locator_tests;
#[cfg(test)]
mod tests;
