//! The per-node store: partitions ordered by (token, key), rows ordered by clustering key,
//! cells with timestamps and expiry, and tombstones.
//!
//! All merging is last-write-wins on the write timestamp (microseconds); on a tie a tombstone
//! wins over a live cell and otherwise the larger value wins, as Cassandra does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use crate::schema::TableDef;

/// The position of a partition: its token, then its serialized key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey {
    /// The Murmur3 token.
    pub token: i64,
    /// The serialized partition key (composite keys in the `[short len][bytes][0]` form).
    pub key: Bytes,
}

/// A cell value with its write time and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) ts: i64,
    /// Expiry in seconds since the epoch, with the TTL it was written with.
    pub(crate) expiry: Option<(i64, i32)>,
    /// `None` is a cell tombstone.
    pub(crate) value: Option<Bytes>,
}

impl Cell {
    pub(crate) fn is_live(&self, now_s: i64) -> bool {
        self.value.is_some() && self.expiry.is_none_or(|(e, _)| now_s < e)
    }

    /// Whether `self` should replace `old` under last-write-wins.
    pub(crate) fn supersedes(&self, old: &Self) -> bool {
        match self.ts.cmp(&old.ts) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => match (&self.value, &old.value) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(a), Some(b)) => a >= b,
            },
        }
    }
}

/// One element of a non-frozen collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// The element key: the set element, the map key, or a list position id.
    pub(crate) key: Bytes,
    /// The value (empty bytes for sets).
    pub(crate) cell: Cell,
}

/// A column's data in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CellData {
    /// A single cell (also frozen collections and counters).
    Simple(Cell),
    /// A non-frozen collection: a tombstone time and elements by order-preserving key.
    Collection {
        deleted_at: Option<i64>,
        elements: BTreeMap<Vec<u8>, Element>,
    },
}

/// A row: a liveness marker (INSERT), a row tombstone and cells by column name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Row {
    /// The clustering values (serialized).
    pub(crate) clustering: Vec<Bytes>,
    pub(crate) marker: Option<Cell>,
    pub(crate) deleted_at: Option<i64>,
    pub(crate) cells: Cells,
}

impl Row {
    /// Merges another replica's copy of this row into this one (last-write-wins per cell).
    fn merge(&mut self, other: Self) {
        if let Some(mk) = other.marker
            && self.marker.as_ref().is_none_or(|old| mk.supersedes(old))
        {
            self.marker = Some(mk);
        }
        self.deleted_at = self.deleted_at.max(other.deleted_at);
        for (name, data) in other.cells.0 {
            match self.cells.position(&name) {
                Err(i) => self.cells.0.insert(i, (name, data)),
                Ok(i) => self.cells.0[i].1.merge(data),
            }
        }
    }
}

impl CellData {
    /// Merges another replica's copy of this column's data into this one.
    fn merge(&mut self, other: Self) {
        match (self, other) {
            (Self::Simple(mine), Self::Simple(theirs)) if theirs.supersedes(mine) => {
                *mine = theirs;
            }
            (
                Self::Collection {
                    deleted_at,
                    elements,
                },
                Self::Collection {
                    deleted_at: their_deletion,
                    elements: theirs,
                },
            ) => {
                *deleted_at = (*deleted_at).max(their_deletion);
                for (k, e) in theirs {
                    match elements.entry(k) {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(e);
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => {
                            if e.cell.supersedes(&o.get().cell) {
                                o.insert(e);
                            }
                        }
                    }
                }
            }
            // A column of another kind (dropped and re-added): keep this replica's.
            _ => {}
        }
    }
}

/// The cells of a row by column name: a vector sorted by name, kept at its length.
///
/// A row holds a handful of columns, so a sorted vector beats a hash map: no table of empty
/// buckets, one allocation per row. The names are `Arc<str>`s that a [`Store`] interns
/// ([`Names::intern`]), so a stored cell's name costs no allocation of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cells(Vec<(Arc<str>, CellData)>);

impl Cells {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| (**n).cmp(name))
    }

    /// The cell of column `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&CellData> {
        let i = self.position(name).ok()?;
        self.0.get(i).map(|(_, d)| d)
    }

    /// Sets the cell of column `name`, replacing any.
    pub(crate) fn insert(&mut self, name: impl Into<Arc<str>>, data: CellData) {
        let name = name.into();
        match self.position(&name) {
            Ok(i) => self.0[i].1 = data,
            Err(i) => self.0.insert(i, (name, data)),
        }
    }

    /// Removes and returns the cell of column `name`, with the name as stored.
    pub(crate) fn take(&mut self, name: &str) -> Option<(Arc<str>, CellData)> {
        let i = self.position(name).ok()?;
        Some(self.0.remove(i))
    }

    /// Removes the cell of column `name`.
    pub(crate) fn remove(&mut self, name: &str) -> Option<CellData> {
        self.take(name).map(|(_, d)| d)
    }

    /// The cells, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &CellData)> {
        self.0.iter().map(|(n, d)| (&**n, d))
    }

    /// Drops spare capacity (after a mutation, so a stored row holds no slack).
    pub(crate) fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// A range tombstone over encoded clustering keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeTombstone {
    pub(crate) start: Bound<Vec<u8>>,
    pub(crate) end: Bound<Vec<u8>>,
    pub(crate) ts: i64,
}

impl RangeTombstone {
    pub(crate) fn covers(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// A partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partition {
    /// The partition key values (serialized, one per key column).
    pub(crate) key_values: Vec<Bytes>,
    pub(crate) deleted_at: Option<i64>,
    pub(crate) static_row: Row,
    pub(crate) rows: BTreeMap<Vec<u8>, Row>,
    pub(crate) range_tombstones: Vec<RangeTombstone>,
}

impl Partition {
    /// Merges another replica's copy of this partition into this one, as streaming and
    /// repair reconcile replicas: every cell, marker and tombstone is kept where it wins
    /// under last-write-wins, so neither copy's newer data is lost.
    pub(crate) fn merge(&mut self, other: Self) {
        self.deleted_at = self.deleted_at.max(other.deleted_at);
        self.static_row.merge(other.static_row);
        for (key, row) in other.rows {
            match self.rows.entry(key) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(row);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(row),
            }
        }
        for rt in other.range_tombstones {
            if !self.range_tombstones.contains(&rt) {
                self.range_tombstones.push(rt);
            }
        }
    }

    /// The newest tombstone timestamp covering the row at `key` (partition, range, row).
    pub(crate) fn row_deletion(&self, key: &[u8], row: Option<&Row>) -> Option<i64> {
        let mut d = self.deleted_at;
        for rt in &self.range_tombstones {
            if rt.covers(key) {
                d = d.max(Some(rt.ts));
            }
        }
        if let Some(r) = row {
            d = d.max(r.deleted_at);
        }
        d
    }
}

/// The data of one table on one node.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableData {
    pub(crate) partitions: BTreeMap<PartitionKey, Partition>,
}

/// One node's data: every table it holds replicas of, by table id.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub(crate) tables: HashMap<Uuid, TableData>,
    /// The column names of stored cells, one allocation per distinct name.
    names: Names,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops every partition of a table (TRUNCATE, DROP TABLE).
    pub fn drop_table(&mut self, table_id: Uuid) {
        self.tables.remove(&table_id);
    }

    /// The number of partitions this node holds for a table.
    pub fn partition_count(&self, table_id: Uuid) -> usize {
        self.tables.get(&table_id).map_or(0, |t| t.partitions.len())
    }

    pub(crate) fn table(&self, id: Uuid) -> Option<&TableData> {
        self.tables.get(&id)
    }

    pub(crate) fn partition_mut(
        &mut self,
        id: Uuid,
        key: &PartitionKey,
        key_values: &[Bytes],
    ) -> &mut Partition {
        self.partition_and_names(id, key, key_values).0
    }

    /// [`Store::partition_mut`], with the interned column names to store cells under.
    pub(crate) fn partition_and_names(
        &mut self,
        id: Uuid,
        key: &PartitionKey,
        key_values: &[Bytes],
    ) -> (&mut Partition, &mut Names) {
        let t = self.tables.entry(id).or_default();
        let p = t
            .partitions
            .entry(key.clone())
            .or_insert_with(|| Partition {
                key_values: key_values.to_vec(),
                ..Partition::default()
            });
        (p, &mut self.names)
    }

    /// Removes a column's cells from every row of a table (ALTER TABLE DROP).
    pub(crate) fn drop_column(&mut self, id: Uuid, column: &str) {
        if let Some(t) = self.tables.get_mut(&id) {
            for p in t.partitions.values_mut() {
                p.static_row.cells.remove(column);
                for r in p.rows.values_mut() {
                    r.cells.remove(column);
                }
            }
        }
    }
}

/// The interned column names of a [`Store`]: every cell of a column shares one `Arc<str>`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names(HashSet<Arc<str>>);

impl Names {
    /// The shared name equal to `name`, added if new.
    pub(crate) fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.0.get(name) {
            return Arc::clone(n);
        }
        let n: Arc<str> = Arc::from(name);
        self.0.insert(Arc::clone(&n));
        n
    }
}

/// Where the engine reads and writes data: the cluster layer decides replica placement.
///
/// A coordinator implements this over its cluster: `write` applies a mutation to every live
/// replica store of the token (under the keyspace's replication), `read` picks one live replica,
/// and `scan` lists the stores that together hold every partition of the keyspace (duplicates
/// across replicas are merged away by key). A single [`Store`] implements it for one-node use.
pub trait Replicas {
    /// The store to read the partition of `table` with `token` from; `None` when no replica
    /// is alive. (Replicas are per table: a tablets keyspace places each table on its own.)
    fn read(&self, table: &TableDef, token: i64) -> Option<&Store>;
    /// Applies `f` to every replica store of `token` in `table`; returns how many stores were
    /// written (0 means unavailable).
    fn write(&mut self, table: &TableDef, token: i64, f: &mut dyn FnMut(&mut Store)) -> usize;
    /// Stores that together hold every partition of `table`, for range scans.
    fn scan(&self, table: &TableDef) -> Vec<&Store>;
    /// Applies `f` to every store of the cluster (TRUNCATE, DROP, ALTER DROP).
    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store));
    /// Rows of a node-local system table (`local`, `peers`, `peers_v2`, `clients`: Scylla's
    /// `system.clients` or Cassandra's `system_views.clients`, whichever the catalog has) as
    /// seen by the coordinator: each row is a list of (column name, value); missing columns
    /// are null.
    ///
    /// Each row must give the table's key columns (`key` = `'local'`; `peer`; `peer` and
    /// `peer_port`; `address`, `port` and for Scylla `client_type`), and values must match the column types of [`crate::system`]'s definitions
    /// (e.g. `tokens` is a `set<text>`, `host_id` a `uuid`); other rows are skipped.
    fn system_rows(&self, table: &str) -> Vec<Vec<(String, proto::CqlValue)>> {
        let _ = table;
        Vec::new()
    }
    /// The names of the cluster's data centres (of every member, up or down): the data
    /// centres NetworkTopologyStrategy may name and its `replication_factor` expands to.
    fn datacenters(&self) -> Vec<String> {
        vec!["datacenter1".to_owned()]
    }
    /// Counts tombstones a read scanned (cell tombstones, expired cells and deleted rows, as
    /// Cassandra counts them against its tombstone thresholds).
    fn note_tombstones(&self, count: usize) {
        let _ = count;
    }
    /// Whether the cluster models Scylla, whose conditional batches answer a row per
    /// conditional statement (Cassandra's answer the rows they read, when not applied).
    fn is_scylla(&self) -> bool {
        false
    }
    /// Whether keyspaces may use Scylla's tablets, and the topology their replication is
    /// checked against (default: one Scylla node, tablets off unless asked for).
    fn tablets_policy(&self) -> crate::schema::TabletsPolicy {
        crate::schema::TabletsPolicy::default()
    }
}

impl Replicas for Store {
    fn read(&self, _table: &TableDef, _token: i64) -> Option<&Store> {
        Some(self)
    }

    fn write(&mut self, _table: &TableDef, _token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        f(self);
        1
    }

    fn scan(&self, _table: &TableDef) -> Vec<&Store> {
        vec![self]
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        f(self);
    }
}
