//! The [`Router`]: the engine's window on the cluster for one request. It places tokens on
//! replicas, checks liveness against the consistency level, and serves the coordinator's
//! `system.local` / `system.peers` rows.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proto::CqlValue;
use proto::codes::{Consistency, ErrorCode};
use proto::response::{ErrorBody, ErrorDetails};

use super::data_plane::replicas_of;
use super::tablets::{Tablet, Tablets};
use super::{PARTITIONER, Versions};
use crate::schema::{TableDef, TabletsPolicy};
use crate::server::faults;
use crate::server::node::NodeShared;
use crate::server::topology::{Placement, Ring};
use crate::storage::{Replicas, Store};

/// The engine's window on the cluster for one request: replica placement, liveness and
/// consistency checks.
pub(super) struct Router<'a> {
    pub(super) stores: &'a mut [Store],
    pub(super) stale: &'a mut [bool],
    pub(super) ring: &'a Ring,
    /// The ring a topology change is streaming towards, whose new replicas get every write.
    pub(super) pending: Option<&'a Ring>,
    pub(super) placements: &'a HashMap<String, Placement>,
    pub(super) tablets: &'a Tablets,
    /// Whether the cluster models Scylla (tablets, `supported_features`) and uses tablets
    /// for new NetworkTopologyStrategy keyspaces.
    pub(super) scylla: bool,
    pub(super) tablets_by_default: bool,
    /// `system.local.native_protocol_version`: the highest version the node serves.
    pub(super) native_protocol: u8,
    pub(super) nodes: &'a [Arc<NodeShared>],
    /// Whether distinct written partitions are counted (for the unlogged batch warning).
    pub(super) count_partitions: bool,
    pub(super) coordinator: usize,
    pub(super) cluster_name: &'a str,
    pub(super) gossip_generation: i32,
    pub(super) consistency: Consistency,
    /// The first availability error, reported instead of the engine's generic one.
    pub(super) error: RefCell<Option<ErrorBody>>,
    pub(super) written: HashSet<i64>,
    pub(super) scanned: Cell<bool>,
    /// Tombstones the request's reads scanned.
    pub(super) tombstones: Cell<usize>,
    /// The nodes single-partition reads and writes reached.
    pub(super) reached: RefCell<Vec<usize>>,
    /// Writes only check availability (the first pass over a batch, so a batch that cannot
    /// reach its consistency level writes nothing).
    pub(super) dry_run: bool,
    /// The first user-table token the request touched.
    pub(super) first_token: Cell<Option<TokenSeen<'a>>>,
}

/// The first user-table token a request touched: where it belonged.
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenSeen<'a> {
    pub(super) token: i64,
    /// Whether the coordinator replicates it.
    pub(super) replica: bool,
    /// Its tablet, when its table has tablets.
    pub(super) tablet: Option<&'a Tablet>,
}

/// The placement of keyspaces the catalog does not replicate.
static LOCAL: Placement = Placement::Local;

impl<'a> Router<'a> {
    fn placement(&self, keyspace: &str) -> &'a Placement {
        self.placements.get(keyspace).unwrap_or(&LOCAL)
    }

    fn is_fresh(&self, id: usize) -> bool {
        self.is_live(id) && !self.stale.get(id).copied().unwrap_or(false)
    }

    fn is_live(&self, id: usize) -> bool {
        self.nodes
            .get(id)
            .is_some_and(|n| n.is_up() && n.is_member())
    }

    fn dc_of(&self, id: usize) -> &str {
        self.nodes.get(id).map_or("", |n| n.dc.as_str())
    }

    fn local_dc(&self) -> &str {
        self.dc_of(self.coordinator)
    }

    /// Checks the consistency level against the live replicas of one range, as servers
    /// count: the required number comes from the keyspace's configured replication factors
    /// (so RF 4 on 3 nodes needs 4 for ALL), the alive number from the live replicas.
    fn check(
        &self,
        replicas: &[usize],
        placement: &Placement,
        write: bool,
    ) -> Result<(), ErrorBody> {
        let cl = self.consistency;
        let alive_in = |dc: Option<&str>| {
            replicas
                .iter()
                .filter(|r| self.is_live(**r) && dc.is_none_or(|d| self.dc_of(**r) == d))
                .count()
        };
        let quorum = |rf: usize| rf / 2 + 1;
        let (total, local_rf) = match placement {
            Placement::Local => return Ok(()),
            Placement::Simple(rf) => (*rf, *rf),
            Placement::Nts(dcs) => (
                dcs.values().sum(),
                dcs.get(self.local_dc()).copied().unwrap_or(0),
            ),
        };
        let unavailable = |required: usize, alive: usize| -> Result<(), ErrorBody> {
            if alive < required {
                Err(faults::unavailable(cl, required as i32, alive as i32))
            } else {
                Ok(())
            }
        };
        let all = alive_in(None);
        let local = alive_in(Some(self.local_dc()));
        match cl {
            Consistency::ANY => {
                if write {
                    Ok(())
                } else {
                    Err(ErrorBody {
                        code: ErrorCode::INVALID,
                        message: "ANY ConsistencyLevel is only supported for writes".into(),
                        details: ErrorDetails::None,
                    })
                }
            }
            Consistency::ONE => unavailable(1, all),
            Consistency::TWO => unavailable(2, all),
            Consistency::THREE => unavailable(3, all),
            Consistency::QUORUM | Consistency::SERIAL => unavailable(quorum(total), all),
            Consistency::ALL => unavailable(total, all),
            Consistency::LOCAL_ONE => unavailable(1, local),
            // A data centre the keyspace does not replicate to has RF 0: one replica is
            // required and none is alive.
            Consistency::LOCAL_QUORUM | Consistency::LOCAL_SERIAL => {
                unavailable(quorum(local_rf), local)
            }
            Consistency::EACH_QUORUM => match placement {
                Placement::Nts(dcs) => {
                    for (dc, rf) in dcs {
                        if *rf > 0 {
                            unavailable(quorum(*rf), alive_in(Some(dc)))?;
                        }
                    }
                    Ok(())
                }
                _ => unavailable(quorum(total), all),
            },
            _ => unavailable(1, all),
        }
    }

    /// The replicas of `token` in `table` (see [`replicas_of`]), noted as the request's first
    /// token when it is one.
    fn locate(&self, table: &TableDef, token: i64) -> (&'a Placement, Vec<usize>) {
        let placement = self.placement(&table.keyspace);
        let (replicas, tablet) = replicas_of(
            self.ring,
            placement,
            self.tablets,
            table.id,
            token,
            self.coordinator,
        );
        if self.first_token.get().is_none() && !matches!(placement, Placement::Local) {
            self.first_token.set(Some(TokenSeen {
                token,
                replica: replicas.contains(&self.coordinator),
                tablet,
            }));
        }
        (placement, replicas)
    }

    pub(super) fn fail(&self, e: ErrorBody) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn node_row(&self, n: &NodeShared) -> Vec<(String, CqlValue)> {
        vec![
            ("data_center".into(), CqlValue::Text(n.dc.clone())),
            ("host_id".into(), CqlValue::Uuid(n.host_id)),
            ("rack".into(), CqlValue::Text(n.rack.clone())),
            (
                "release_version".into(),
                CqlValue::Text(Versions::of(self.scylla).release.into()),
            ),
            ("schema_version".into(), CqlValue::Uuid(n.schema_version())),
            (
                "tokens".into(),
                CqlValue::Set(
                    n.tokens
                        .iter()
                        .map(|t| CqlValue::Text(t.to_string()))
                        .collect(),
                ),
            ),
        ]
    }
}

impl Replicas for Router<'_> {
    fn read(&self, table: &TableDef, token: i64) -> Option<&Store> {
        let (placement, replicas) = self.locate(table, token);
        if let Err(e) = self.check(&replicas, placement, false) {
            self.fail(e);
            return None;
        }
        let local = self.local_dc();
        // Prefer the coordinator, then its data centre, and replicas that missed no write.
        let pick = |ok: &dyn Fn(usize) -> bool| {
            replicas
                .iter()
                .copied()
                .find(|r| *r == self.coordinator && ok(*r))
                .or_else(|| {
                    replicas
                        .iter()
                        .copied()
                        .find(|r| ok(*r) && self.dc_of(*r) == local)
                })
                .or_else(|| replicas.iter().copied().find(|r| ok(*r)))
        };
        let pick = pick(&|r| self.is_fresh(r))
            .or_else(|| pick(&|r| self.is_live(r)))
            .or_else(|| matches!(placement, Placement::Local).then_some(self.coordinator))?;
        self.reached.borrow_mut().push(pick);
        self.stores.get(pick)
    }

    fn write(&mut self, table: &TableDef, token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        let (placement, replicas) = self.locate(table, token);
        if let Err(e) = self.check(&replicas, placement, true) {
            self.fail(e);
            return 0;
        }
        if self.count_partitions {
            self.written.insert(token);
        }
        if self.dry_run {
            return replicas.len().max(1);
        }
        let mut n = 0;
        for &r in &replicas {
            if !(self.is_live(r) || matches!(placement, Placement::Local)) {
                if let Some(stale) = self.stale.get_mut(r) {
                    *stale = true;
                }
                continue;
            }
            if let Some(s) = self.stores.get_mut(r) {
                f(s);
                n += 1;
                self.reached.get_mut().push(r);
            }
        }
        // A joining (or leaving) node's new replicas take writes while the stream runs, up
        // or not, and do not count towards the consistency level (as pending endpoints).
        if let Some(pending) = self.pending
            && !matches!(placement, Placement::Local)
            && self.tablets.get(table.id).is_none()
        {
            for r in pending.replicas(token, placement, self.coordinator) {
                if !replicas.contains(&r)
                    && let Some(s) = self.stores.get_mut(r)
                {
                    f(s);
                }
            }
        }
        // ANY succeeds with every replica down: the coordinator keeps a hint.
        if n == 0 && self.consistency == Consistency::ANY {
            1
        } else {
            n
        }
    }

    fn scan(&self, table: &TableDef) -> Vec<&Store> {
        let placement = self.placement(&table.keyspace);
        if matches!(placement, Placement::Local) {
            return self.stores.get(self.coordinator).into_iter().collect();
        }
        self.scanned.set(true);
        let ranges: Vec<Vec<usize>> = match self.tablets.get(table.id) {
            Some(map) => map.tablets.iter().map(Tablet::nodes).collect(),
            None => (0..self.ring.len())
                .map(|pos| self.ring.replicas_at(pos, placement, self.coordinator))
                .collect(),
        };
        for replicas in ranges {
            if let Err(e) = self.check(&replicas, placement, false) {
                self.fail(e);
                return Vec::new();
            }
        }
        // The engine keeps the first store's copy of a partition: fresh replicas go first.
        let fresh = (0..self.stores.len()).filter(|i| self.is_fresh(*i));
        let stale = (0..self.stores.len()).filter(|i| self.is_live(*i) && !self.is_fresh(*i));
        fresh
            .chain(stale)
            .filter_map(|i| self.stores.get(i))
            .collect()
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        for s in self.stores.iter_mut() {
            f(s);
        }
    }

    fn note_tombstones(&self, count: usize) {
        self.tombstones.set(self.tombstones.get() + count);
    }

    fn is_scylla(&self) -> bool {
        self.scylla
    }

    fn datacenters(&self) -> Vec<String> {
        let mut dcs: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.is_member())
            .map(|n| n.dc.clone())
            .collect();
        dcs.sort();
        dcs.dedup();
        dcs
    }

    fn tablets_policy(&self) -> TabletsPolicy {
        let mut nodes_per_dc = std::collections::BTreeMap::new();
        for n in self.nodes.iter().filter(|n| n.is_member()) {
            *nodes_per_dc.entry(n.dc.clone()).or_insert(0) += 1;
        }
        TabletsPolicy {
            supported: self.scylla,
            by_default: self.scylla && self.tablets_by_default,
            nodes_per_dc,
        }
    }

    fn system_rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        let Some(me) = self.nodes.get(self.coordinator) else {
            return Vec::new();
        };
        match table {
            "local" => {
                let ip = CqlValue::Inet(me.ip);
                let mut row = vec![
                    ("key".into(), CqlValue::Text("local".into())),
                    ("bootstrapped".into(), CqlValue::Text("COMPLETED".into())),
                    ("broadcast_address".into(), ip.clone()),
                    ("broadcast_port".into(), CqlValue::Int(7000)),
                    (
                        "cluster_name".into(),
                        CqlValue::Text(self.cluster_name.to_owned()),
                    ),
                    (
                        "cql_version".into(),
                        CqlValue::Text(Versions::of(self.scylla).cql.into()),
                    ),
                    (
                        "gossip_generation".into(),
                        CqlValue::Int(self.gossip_generation),
                    ),
                    ("listen_address".into(), ip.clone()),
                    ("listen_port".into(), CqlValue::Int(7000)),
                    (
                        "native_protocol_version".into(),
                        CqlValue::Text(self.native_protocol.to_string()),
                    ),
                    ("partitioner".into(), CqlValue::Text(PARTITIONER.into())),
                    ("rpc_address".into(), ip),
                    ("rpc_port".into(), CqlValue::Int(i32::from(me.port))),
                ];
                row.extend(self.node_row(me));
                if self.scylla {
                    row.push((
                        "supported_features".into(),
                        CqlValue::Text(super::SUPPORTED_FEATURES.into()),
                    ));
                }
                vec![row]
            }
            "tablets" if self.scylla => super::tablets::system_rows(self.tablets, self.nodes),
            // Each node lists the connections it serves (the flavour decides the table).
            "clients" => crate::server::clients::rows(&me.clients.snapshot(), self.scylla),
            "peers" | "peers_v2" => self
                .nodes
                .iter()
                .filter(|n| n.id != self.coordinator && n.is_member())
                .map(|n| {
                    let ip = CqlValue::Inet(n.ip);
                    let mut row = vec![("peer".into(), ip.clone())];
                    if table == "peers" {
                        row.push(("rpc_address".into(), ip));
                    } else {
                        row.push(("peer_port".into(), CqlValue::Int(7000)));
                        row.push(("native_address".into(), ip));
                        row.push(("native_port".into(), CqlValue::Int(i32::from(n.port))));
                    }
                    row.extend(self.node_row(n));
                    row
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}
