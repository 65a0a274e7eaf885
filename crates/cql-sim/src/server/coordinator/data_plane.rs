//! The data the engine runs on, behind one mutex: the engine (catalog and statement caches),
//! every node's store, the token ring and the keyspace placements derived from it.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::tablets::{Tablet, Tablets};
use crate::exec::Engine;
use crate::schema::ReplicationStrategy;
use crate::server::topology::{NodeTopo, Placement, Ring};
use crate::storage::{Partition, Store};

/// The pending ring of a topology change being streamed ([`super::streaming`]).
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) ring: Ring,
    /// Which change this is: a later one supersedes an earlier stream.
    pub(super) generation: u64,
}

/// The engine and every node's store, behind one mutex held only for synchronous work.
#[derive(Debug)]
pub(crate) struct DataPlane {
    pub(super) engine: Engine,
    pub(super) stores: Vec<Store>,
    /// Nodes that missed a write while down: reads prefer other replicas (no read repair).
    pub(super) stale: Vec<bool>,
    pub(super) ring: Ring,
    pub(super) placements: HashMap<String, Placement>,
    pub(super) placements_gen: Option<u64>,
    /// Per-partition operation counts of rate-limited tables.
    pub(super) rate_limiter: super::rate_limit::RateLimiter,
    /// The tablets of tables in tablets keyspaces (placed apart from the ring).
    pub(super) tablets: Tablets,
    /// The ring a topology change is streaming towards: writes reach its replicas too.
    pub(super) pending: Option<Pending>,
}

impl DataPlane {
    pub(crate) fn new() -> Self {
        Self {
            engine: Engine::new(),
            stores: Vec::new(),
            stale: Vec::new(),
            ring: Ring::default(),
            placements: HashMap::new(),
            placements_gen: None,
            rate_limiter: super::rate_limit::RateLimiter::default(),
            tablets: Tablets::default(),
            pending: None,
        }
    }

    /// Shapes the system keyspaces as Scylla has them: no `system.peers_v2` (Scylla never had
    /// it; drivers fall back to `system.peers` and the contact point's port).
    /// Connections are listed in `system.clients`; Scylla has neither `system_views` nor `system_virtual_schema`.
    pub(crate) fn as_scylla(&mut self) {
        if let Ok(ks) = self.engine.catalog.keyspace_mut("system") {
            ks.tables.remove("peers_v2");
        }
        for ks in [
            crate::system::VIRTUAL_KEYSPACE,
            crate::system::VIRTUAL_SCHEMA_KEYSPACE,
        ] {
            self.engine.catalog.remove_keyspace(ks);
        }
    }

    /// Shapes the system keyspaces as Cassandra has them: connections are listed in
    /// `system_views.clients`, and there is no `system.clients`.
    pub(crate) fn as_cassandra(&mut self) {
        if let Ok(ks) = self.engine.catalog.keyspace_mut("system") {
            ks.tables.remove("clients");
        }
    }

    /// Sets the seed and the shards per node tablets are allocated with.
    pub(crate) fn configure_tablets(&mut self, seed: u64, shards: u32) {
        self.tablets = Tablets::new(seed, shards);
        self.placements_gen = None;
    }

    /// Roles and permissions (the login check reads them).
    pub(crate) fn auth(&self) -> &crate::auth::AuthState {
        self.engine.catalog.auth()
    }

    /// Roles and permissions, to set up authentication.
    pub(crate) fn auth_mut(&mut self) -> &mut crate::auth::AuthState {
        self.engine.catalog.auth_mut()
    }

    pub(crate) fn schema_version(&self) -> Uuid {
        self.engine.catalog.version()
    }

    pub(crate) fn set_ring(&mut self, members: Vec<NodeTopo>) {
        self.ring = Ring::new(members);
        self.placements_gen = None;
    }

    /// Frees every node's data and the per-partition counters (the cluster shut down); the
    /// schema stays, so late requests on closing connections still resolve.
    pub(crate) fn release(&mut self) {
        for s in &mut self.stores {
            *s = Store::new();
        }
        self.rate_limiter = super::rate_limit::RateLimiter::default();
        self.pending = None;
    }

    pub(crate) fn ensure_stores(&mut self, n: usize) {
        while self.stores.len() < n {
            self.stores.push(Store::new());
            self.stale.push(false);
        }
    }

    /// Streams partitions to replicas that lack them after the ring changed (a node joined or
    /// left): every partition a node holds is copied to each of its current replicas that does
    /// not have it. Nothing is deleted (as before Cassandra's `nodetool cleanup`).
    pub(crate) fn stream(&mut self) {
        self.refresh_placements();
        self.copy_to_replicas(None);
    }

    /// Copies every partition of the keyspaces in `only` (all when `None`) to each current
    /// replica that lacks it.
    fn copy_to_replicas(&mut self, only: Option<&HashSet<String>>) {
        let mut table_keyspace = HashMap::new();
        for (name, ks) in self.engine.catalog.keyspaces() {
            if only.is_some_and(|o| !o.contains(name)) {
                continue;
            }
            for t in ks.tables.values() {
                table_keyspace.insert(t.id, name.clone());
            }
        }
        let mut copies = Vec::new();
        for (src, store) in self.stores.iter().enumerate() {
            for (table_id, table) in &store.tables {
                let Some(placement) = table_keyspace
                    .get(table_id)
                    .and_then(|ks| self.placements.get(ks))
                else {
                    continue;
                };
                if matches!(placement, Placement::Local) {
                    continue;
                }
                for (key, partition) in &table.partitions {
                    let (replicas, _) = replicas_of(
                        &self.ring,
                        placement,
                        &self.tablets,
                        *table_id,
                        key.token,
                        src,
                    );
                    for r in replicas.into_iter().filter(|r| *r != src) {
                        let held = self
                            .stores
                            .get(r)
                            .and_then(|s| s.tables.get(table_id))
                            .and_then(|t| t.partitions.get(key));
                        let Some(held) = held else {
                            copies.push((r, *table_id, key.clone(), partition.clone()));
                            continue;
                        };
                        // A replica holding the partition may still lack the rows written
                        // while it was not a replica (before a node joined or left).
                        let missing: BTreeMap<_, _> = partition
                            .rows
                            .iter()
                            .filter(|(k, _)| !held.rows.contains_key(*k))
                            .map(|(k, row)| (k.clone(), row.clone()))
                            .collect();
                        if !missing.is_empty() {
                            let rows_only = Partition {
                                key_values: partition.key_values.clone(),
                                rows: missing,
                                ..Partition::default()
                            };
                            copies.push((r, *table_id, key.clone(), rows_only));
                        }
                    }
                }
            }
        }
        for (r, table_id, key, partition) in copies {
            if let Some(store) = self.stores.get_mut(r) {
                store
                    .tables
                    .entry(table_id)
                    .or_default()
                    .partitions
                    .entry(key)
                    .and_modify(|held| {
                        for (k, row) in &partition.rows {
                            held.rows.entry(k.clone()).or_insert_with(|| row.clone());
                        }
                    })
                    .or_insert(partition);
            }
        }
    }

    /// The replicas of `token` in `keyspace` (the coordinator alone for local keyspaces).
    pub(crate) fn replicas(
        &mut self,
        keyspace: &str,
        token: i64,
        coordinator: usize,
    ) -> Vec<usize> {
        self.refresh_placements();
        let placement = self
            .placements
            .get(keyspace)
            .cloned()
            .unwrap_or(Placement::Local);
        self.ring.replicas(token, &placement, coordinator)
    }

    /// The tablet of `token` in table `keyspace.table`, when that table has tablets.
    pub(crate) fn tablet(&mut self, keyspace: &str, table: &str, token: i64) -> Option<Tablet> {
        self.refresh_placements();
        let id = self.engine.catalog.table(keyspace, table)?.id;
        Some(self.tablets.get(id)?.tablet_of(token).clone())
    }

    /// The tokens of the partitions of `keyspace.table` that node `node` stores, sorted.
    pub(crate) fn stored_tokens(&self, node: usize, keyspace: &str, table: &str) -> Vec<i64> {
        let Some(t) = self.engine.catalog.table(keyspace, table) else {
            return Vec::new();
        };
        self.stores
            .get(node)
            .and_then(|s| s.tables.get(&t.id))
            .map(|td| td.partitions.keys().map(|k| k.token).collect())
            .unwrap_or_default()
    }

    /// Every tablet of table `keyspace.table` (empty when it has none).
    pub(crate) fn tablets_of(&mut self, keyspace: &str, table: &str) -> Vec<Tablet> {
        self.refresh_placements();
        let Some(t) = self.engine.catalog.table(keyspace, table) else {
            return Vec::new();
        };
        self.tablets
            .get(t.id)
            .map(|m| m.tablets.clone())
            .unwrap_or_default()
    }

    /// Recomputes the keyspace placements when the schema changed. A keyspace whose
    /// replication changed (ALTER KEYSPACE) has its data copied to its new replicas at once,
    /// as if `nodetool repair` had run; replicas it left keep their copy until dropped, as
    /// before `nodetool cleanup`.
    pub(super) fn refresh_placements(&mut self) {
        let generation = self.engine.catalog.generation();
        if self.placements_gen == Some(generation) {
            return;
        }
        let placements: HashMap<String, Placement> = self
            .engine
            .catalog
            .keyspaces()
            .iter()
            .map(|(name, ks)| {
                let p = match &ks.replication.strategy {
                    ReplicationStrategy::Simple { replication_factor } => {
                        Placement::Simple(*replication_factor as usize)
                    }
                    ReplicationStrategy::NetworkTopology { data_centers } => Placement::Nts(
                        data_centers
                            .iter()
                            .map(|(dc, rf)| (dc.clone(), *rf as usize))
                            .collect(),
                    ),
                    _ => Placement::Local,
                };
                (name.clone(), p)
            })
            .collect();
        let mut changed: HashSet<String> = placements
            .iter()
            .filter(|(ks, p)| self.placements.get(*ks).is_some_and(|old| old != *p))
            .map(|(ks, _)| ks.clone())
            .collect();
        changed.extend(
            self.tablets
                .refresh(&self.engine.catalog, &placements, self.ring.nodes()),
        );
        self.placements = placements;
        self.placements_gen = Some(generation);
        if !changed.is_empty() {
            self.copy_to_replicas(Some(&changed));
        }
    }
}

#[cfg(test)]
impl DataPlane {
    /// Node `i`'s store, for tests that fill and inspect stores directly.
    pub(crate) fn store_mut(&mut self, i: usize) -> &mut Store {
        &mut self.stores[i]
    }

    /// The id of table `keyspace.table`.
    pub(crate) fn table_id(&self, keyspace: &str, table: &str) -> Option<Uuid> {
        self.engine.catalog.table(keyspace, table).map(|t| t.id)
    }
}

/// The replicas of `token` in table `table` of a keyspace placed by `placement`: the tablet's
/// when the table has tablets, else the ring's. Every replica lookup goes through here.
pub(super) fn replicas_of<'a>(
    ring: &Ring,
    placement: &Placement,
    tablets: &'a Tablets,
    table: Uuid,
    token: i64,
    coordinator: usize,
) -> (Vec<usize>, Option<&'a Tablet>) {
    match tablets.get(table) {
        Some(map) => {
            let t = map.tablet_of(token);
            (t.nodes(), Some(t))
        }
        None => (ring.replicas(token, placement, coordinator), None),
    }
}
