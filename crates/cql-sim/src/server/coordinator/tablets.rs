//! Tablet placement for tables of tablets keyspaces, as Scylla does it: each table is cut into
//! a power-of-two number of equal token ranges `(first_token, last_token]`, each placed on RF
//! `(node, shard)` replicas per data centre by a balanced allocator that knows nothing of the
//! vnode ring. Also the `tablets-routing-v1` payload and the `system.tablets` rows.
//!
//! **Invariant:** every [`TabletMap`] has at least one tablet, and its tablets cover the whole
//! ring in order (tablet `i` ends at [`last_token`]`(i)`); [`TabletMap::tablet_of`] relies on it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use bytes::BytesMut;
use proto::{CqlValue, TabletRoutingInfo};
use uuid::Uuid;

use crate::CqlError;
use crate::cql::ast::Statement;
use crate::schema::{Catalog, lwt_unsupported};
use crate::server::node::NodeShared;
use crate::server::topology::{NodeTopo, Placement, SplitMix};

/// One tablet: its token range and replicas as (node index, shard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tablet {
    /// The exclusive start of the range.
    pub(crate) first_token: i64,
    /// The inclusive end of the range.
    pub(crate) last_token: i64,
    /// The replicas, in allocation order.
    pub(crate) replicas: Vec<(usize, u32)>,
}

impl Tablet {
    /// The replica nodes.
    pub(crate) fn nodes(&self) -> Vec<usize> {
        self.replicas.iter().map(|(n, _)| *n).collect()
    }

    /// The shard holding this tablet on `node`, when `node` is a replica.
    pub(crate) fn shard_on(&self, node: usize) -> Option<u32> {
        self.replicas
            .iter()
            .find(|(n, _)| *n == node)
            .map(|(_, s)| *s)
    }

    /// The routing info drivers get, with host ids for node indexes.
    pub(crate) fn routing_info(&self, nodes: &[Arc<NodeShared>]) -> TabletRoutingInfo {
        TabletRoutingInfo {
            first_token: self.first_token,
            last_token: self.last_token,
            replicas: self
                .replicas
                .iter()
                .filter_map(|(n, s)| nodes.get(*n).map(|node| (node.host_id, *s)))
                .collect(),
        }
    }
}

/// The tablets of one table.
#[derive(Debug, Clone)]
pub(crate) struct TabletMap {
    pub(crate) keyspace: String,
    pub(crate) table: String,
    /// The keyspace placement the replicas were chosen for.
    placement: Placement,
    log2: u32,
    pub(crate) tablets: Vec<Tablet>,
}

impl TabletMap {
    /// The tablet owning `token`.
    pub(crate) fn tablet_of(&self, token: i64) -> &Tablet {
        let i = index_of(token, self.log2).min(self.tablets.len().saturating_sub(1));
        // Non-empty by construction (see the module invariant).
        &self.tablets[i]
    }
}

/// The last token of tablet `i` of `1 << log2`: the ring cut into equal ranges.
pub(crate) fn last_token(i: usize, log2: u32) -> i64 {
    let count = 1u128 << log2;
    if i as u128 + 1 >= count {
        return i64::MAX;
    }
    let width = 1i128 << (64 - log2);
    (i128::from(i64::MIN) + (i as i128 + 1) * width - 1) as i64
}

fn index_of(token: i64, log2: u32) -> usize {
    if log2 == 0 {
        return 0;
    }
    let biased = (token as u64) ^ (1 << 63);
    (biased >> (64 - log2)) as usize
}

/// Every tablet map of the cluster, by table id.
#[derive(Debug, Default)]
pub(crate) struct Tablets {
    seed: u64,
    shards: u32,
    maps: HashMap<Uuid, TabletMap>,
    /// The member nodes the maps were allocated over.
    members: Vec<usize>,
}

impl Tablets {
    /// An empty set of maps for nodes of `shards` shards, allocated from `seed`.
    pub(crate) fn new(seed: u64, shards: u32) -> Self {
        Self {
            seed,
            shards: shards.max(1),
            ..Self::default()
        }
    }

    /// The tablets of table `id`, when it belongs to a tablets keyspace.
    pub(crate) fn get(&self, id: Uuid) -> Option<&TabletMap> {
        self.maps.get(&id)
    }

    /// Every map, in table id order.
    pub(crate) fn maps(&self) -> Vec<(&Uuid, &TabletMap)> {
        let mut v: Vec<_> = self.maps.iter().collect();
        v.sort_by_key(|(id, _)| **id);
        v
    }

    /// Brings the maps in line with the catalog: tables of tablets keyspaces get tablets,
    /// dropped tables lose theirs, and a keyspace whose placement changed (ALTER KEYSPACE) is
    /// placed again. After the members changed, a replica on a node that left is moved to
    /// another node (as Scylla's decommission migrates tablets) and the others stay put.
    /// Returns the keyspaces whose data has new replicas to be copied to.
    pub(crate) fn refresh(
        &mut self,
        catalog: &Catalog,
        placements: &HashMap<String, Placement>,
        members: &[NodeTopo],
    ) -> HashSet<String> {
        let mut replaced = HashSet::new();
        let ids: Vec<usize> = members.iter().map(|m| m.id).collect();
        if ids != self.members {
            self.members = ids;
            replaced.extend(self.migrate_off_departed(members));
        }
        let mut wanted = HashMap::new();
        for (name, ks) in catalog.keyspaces() {
            let (Some(opts), Some(placement)) = (ks.tablets, placements.get(name)) else {
                continue;
            };
            for t in ks.tables.values() {
                wanted.insert(t.id, (name, t.name.as_str(), opts.initial, placement));
            }
        }
        self.maps.retain(|id, _| wanted.contains_key(id));
        replaced.extend(self.replace_for_new_factors(&wanted, members));
        let mut missing: Vec<_> = wanted
            .into_iter()
            .filter(|(id, _)| !self.maps.contains_key(id))
            .collect();
        missing.sort_by_key(|(id, _)| *id);
        for (id, (ks, table, initial, placement)) in missing {
            let map = self.allocate(ks, table, initial, placement, members);
            self.maps.insert(id, map);
            replaced.insert(ks.clone());
        }
        replaced
    }

    /// The replica count of every node and (node, shard) over all maps.
    fn loads(&self) -> Loads {
        let mut loads = Loads::default();
        for m in self.maps.values() {
            for t in &m.tablets {
                for r in &t.replicas {
                    loads.add(*r);
                }
            }
        }
        loads
    }

    /// Adjusts the tablets of tables whose keyspace's replication changed (ALTER KEYSPACE),
    /// as Scylla does: each keeps its replicas, loses those beyond a lowered factor (or in a
    /// data centre no longer replicated to) and gains new ones up to a raised factor. Returns
    /// the keyspaces changed.
    fn replace_for_new_factors(
        &mut self,
        wanted: &HashMap<Uuid, (&String, &str, u32, &Placement)>,
        members: &[NodeTopo],
    ) -> HashSet<String> {
        let mut changed = HashSet::new();
        let mut loads = self.loads();
        let mut ids: Vec<Uuid> = self.maps.keys().copied().collect();
        ids.sort();
        for id in ids {
            let (Some(map), Some((_, _, _, placement))) = (self.maps.get_mut(&id), wanted.get(&id))
            else {
                continue;
            };
            if map.placement == **placement {
                continue;
            }
            map.placement = (*placement).clone();
            changed.insert(map.keyspace.clone());
            let dcs = placement_dcs(placement, members);
            let mut rng = SplitMix::new(self.seed ^ name_hash(&map.keyspace, &map.table) ^ 2);
            for t in &mut map.tablets {
                let mut kept: HashMap<&str, usize> = HashMap::new();
                t.replicas.retain(|(n, _)| {
                    let Some(m) = members.iter().find(|m| m.id == *n) else {
                        return false;
                    };
                    let count = kept.entry(m.dc.as_str()).or_default();
                    *count += 1;
                    *count <= dcs.get(&m.dc).copied().unwrap_or(0)
                });
                top_up(
                    &mut t.replicas,
                    &dcs,
                    members,
                    self.shards,
                    &mut loads,
                    &mut rng,
                );
            }
        }
        changed
    }

    /// Replaces every replica on a node that is no longer a member; returns the keyspaces
    /// that had one.
    fn migrate_off_departed(&mut self, members: &[NodeTopo]) -> HashSet<String> {
        let mut moved = HashSet::new();
        let mut loads = self.loads();
        let mut ids: Vec<Uuid> = self.maps.keys().copied().collect();
        ids.sort();
        for id in ids {
            let Some(map) = self.maps.get_mut(&id) else {
                continue;
            };
            let dcs = placement_dcs(&map.placement, members);
            let mut rng = SplitMix::new(self.seed ^ name_hash(&map.keyspace, &map.table) ^ 1);
            for t in &mut map.tablets {
                let before = t.replicas.len();
                t.replicas
                    .retain(|(n, _)| members.iter().any(|m| m.id == *n));
                if t.replicas.len() != before {
                    moved.insert(map.keyspace.clone());
                    top_up(
                        &mut t.replicas,
                        &dcs,
                        members,
                        self.shards,
                        &mut loads,
                        &mut rng,
                    );
                }
            }
        }
        moved
    }

    /// Places a new table's tablets: per tablet and data centre, the least loaded nodes
    /// (distinct racks first), and on each the least loaded shard; ties are broken by a
    /// generator seeded from the cluster seed and the table's name.
    fn allocate(
        &self,
        keyspace: &str,
        table: &str,
        initial: u32,
        placement: &Placement,
        members: &[NodeTopo],
    ) -> TabletMap {
        let mut loads = self.loads();
        let dcs = placement_dcs(placement, members);
        let count = tablet_count(initial, &dcs, members, self.shards);
        let log2 = count.trailing_zeros();
        let mut rng = SplitMix::new(self.seed ^ name_hash(keyspace, table));
        let mut tablets = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let mut replicas = Vec::new();
            top_up(
                &mut replicas,
                &dcs,
                members,
                self.shards,
                &mut loads,
                &mut rng,
            );
            let first_token = if i == 0 {
                i64::MIN
            } else {
                last_token(i - 1, log2)
            };
            tablets.push(Tablet {
                first_token,
                last_token: last_token(i, log2),
                replicas,
            });
        }
        TabletMap {
            keyspace: keyspace.to_owned(),
            table: table.to_owned(),
            placement: placement.clone(),
            log2,
            tablets,
        }
    }
}

/// Replica counts per node and per (node, shard), which the allocator balances.
#[derive(Debug, Default)]
struct Loads {
    nodes: HashMap<usize, usize>,
    shards: HashMap<(usize, u32), usize>,
}

impl Loads {
    fn add(&mut self, (node, shard): (usize, u32)) {
        *self.nodes.entry(node).or_default() += 1;
        *self.shards.entry((node, shard)).or_default() += 1;
    }
}

/// Adds replicas to one tablet until each data centre of `dcs` has its factor: the least
/// loaded nodes not yet holding it (racks it lacks first), each on its least loaded shard,
/// ties broken by `rng`.
fn top_up(
    replicas: &mut Vec<(usize, u32)>,
    dcs: &BTreeMap<String, usize>,
    members: &[NodeTopo],
    shards: u32,
    loads: &mut Loads,
    rng: &mut SplitMix,
) {
    let topo = |id: usize| members.iter().find(|m| m.id == id);
    for (dc, rf) in dcs {
        let mut racks: HashSet<&str> = HashSet::new();
        let mut have = 0;
        for (n, _) in replicas.iter() {
            if let Some(m) = topo(*n).filter(|m| &m.dc == dc) {
                racks.insert(m.rack.as_str());
                have += 1;
            }
        }
        for _ in have..*rf {
            let best = members
                .iter()
                .filter(|m| &m.dc == dc && !replicas.iter().any(|(n, _)| *n == m.id))
                .map(|m| {
                    let key = (
                        racks.contains(m.rack.as_str()),
                        loads.nodes.get(&m.id).copied().unwrap_or(0),
                        rng.next_u64(),
                    );
                    (key, m)
                })
                .min_by_key(|(key, _)| *key);
            let Some((_, m)) = best else { break };
            racks.insert(m.rack.as_str());
            let shard = (0..shards)
                .map(|s| {
                    let load = loads.shards.get(&(m.id, s)).copied().unwrap_or(0);
                    ((load, rng.next_u64()), s)
                })
                .min_by_key(|(key, _)| *key)
                .map_or(0, |(_, s)| s);
            loads.add((m.id, shard));
            replicas.push((m.id, shard));
        }
    }
}

/// The (data centre, replication factor) pairs a placement asks for, capped by the nodes
/// each has (a tablets keyspace was refused at creation when one has too few).
fn placement_dcs(placement: &Placement, members: &[NodeTopo]) -> BTreeMap<String, usize> {
    let in_dc = |dc: &str| members.iter().filter(|m| m.dc == dc).count();
    match placement {
        Placement::Nts(dcs) => dcs
            .iter()
            .map(|(dc, rf)| (dc.clone(), (*rf).min(in_dc(dc))))
            .filter(|(_, rf)| *rf > 0)
            .collect(),
        // Tablets need NetworkTopologyStrategy; anything else is one replica per... nothing.
        _ => BTreeMap::new(),
    }
}

/// The number of tablets of a new table: `initial` rounded up to a power of two, or, without
/// it, enough for about one tablet replica per shard of the busiest data centre.
fn tablet_count(
    initial: u32,
    dcs: &BTreeMap<String, usize>,
    members: &[NodeTopo],
    shards: u32,
) -> u32 {
    let wanted = if initial > 0 {
        initial
    } else {
        dcs.iter()
            .map(|(dc, rf)| {
                let nodes = members.iter().filter(|m| &m.dc == dc).count() as u32;
                (nodes * shards).div_ceil((*rf as u32).max(1))
            })
            .max()
            .unwrap_or(1)
    };
    wanted.clamp(1, 1 << 16).next_power_of_two()
}

fn name_hash(keyspace: &str, table: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in keyspace.bytes().chain([b'.']).chain(table.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The error Scylla 6.x answers a lightweight transaction on a tablets table with (it is
/// prepared fine, and refused when run); `None` for any other statement.
pub(crate) fn refuse_lwt(
    catalog: &Catalog,
    st: &Statement,
    keyspace: Option<&str>,
) -> Option<CqlError> {
    let (Statement::Insert { table, .. }
    | Statement::Update { table, .. }
    | Statement::Delete { table, .. }) = st
    else {
        return None;
    };
    let ks = table.keyspace.as_deref().or(keyspace)?;
    catalog.keyspace(ks)?.tablets?;
    Some(lwt_unsupported(ks, &table.name))
}

/// The `tablets-routing-v1` custom payload announcing `tablet`.
pub(crate) fn routing_payload(
    tablet: &Tablet,
    nodes: &[Arc<NodeShared>],
) -> Option<super::CustomPayload> {
    let mut buf = BytesMut::new();
    tablet.routing_info(nodes).encode(&mut buf).ok()?;
    Some(
        [(
            proto::scylla::TABLETS_ROUTING_V1_PAYLOAD_KEY.to_owned(),
            Some(buf.freeze()),
        )]
        .into_iter()
        .collect(),
    )
}

/// The rows of `system.tablets`: one per tablet, in table id then token order.
pub(crate) fn system_rows(
    tablets: &Tablets,
    nodes: &[Arc<NodeShared>],
) -> Vec<Vec<(String, CqlValue)>> {
    let mut out = Vec::new();
    for (id, map) in tablets.maps() {
        for t in &map.tablets {
            let replicas = t
                .replicas
                .iter()
                .filter_map(|(n, s)| {
                    let node = nodes.get(*n)?;
                    Some(CqlValue::Tuple(vec![
                        Some(CqlValue::Uuid(node.host_id)),
                        Some(CqlValue::Int(*s as i32)),
                    ]))
                })
                .collect();
            out.push(vec![
                ("table_id".into(), CqlValue::Uuid(*id)),
                ("last_token".into(), CqlValue::BigInt(t.last_token)),
                ("keyspace_name".into(), CqlValue::Text(map.keyspace.clone())),
                ("table_name".into(), CqlValue::Text(map.table.clone())),
                (
                    "tablet_count".into(),
                    CqlValue::Int(map.tablets.len() as i32),
                ),
                ("resize_type".into(), CqlValue::Text("none".into())),
                ("resize_seq_number".into(), CqlValue::BigInt(0)),
                ("replicas".into(), CqlValue::List(replicas)),
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo(id: usize) -> NodeTopo {
        NodeTopo {
            id,
            dc: "dc1".into(),
            rack: "r1".into(),
            tokens: vec![id as i64 * 1000],
        }
    }

    #[test]
    fn tablets_cut_the_ring_into_equal_ranges() {
        assert_eq!(last_token(0, 0), i64::MAX);
        assert_eq!(last_token(0, 1), -1);
        assert_eq!(last_token(1, 1), i64::MAX);
        assert_eq!(last_token(0, 2), i64::MIN / 2 - 1);
        for log2 in [0u32, 1, 3, 5] {
            for i in 0..(1usize << log2) {
                assert_eq!(index_of(last_token(i, log2), log2), i);
                if i > 0 {
                    assert_eq!(index_of(last_token(i - 1, log2) + 1, log2), i);
                }
            }
        }
    }

    #[test]
    fn allocation_is_balanced_deterministic_and_rounds_up() {
        let members: Vec<NodeTopo> = (0..3).map(topo).collect();
        let placement = Placement::Nts([("dc1".to_owned(), 2)].into_iter().collect());
        let t = Tablets::new(42, 4);
        let a = t.allocate("ks", "t", 12, &placement, &members);
        assert_eq!(a.tablets.len(), 16, "12 rounds up to 16");
        let b = t.allocate("ks", "t", 12, &placement, &members);
        assert_eq!(a.tablets, b.tablets, "same seed, same placement");
        let mut per_node = [0usize; 3];
        let mut per_shard = HashMap::new();
        for tab in &a.tablets {
            assert_eq!(tab.replicas.len(), 2);
            assert_ne!(tab.replicas[0].0, tab.replicas[1].0, "distinct nodes");
            for (n, s) in &tab.replicas {
                per_node[*n] += 1;
                *per_shard.entry((*n, *s)).or_insert(0) += 1;
            }
        }
        // 32 replicas over 3 nodes: 10 or 11 each; 12 shards: 2 or 3 each.
        assert!(
            per_node.iter().all(|n| (10..=11).contains(n)),
            "{per_node:?}"
        );
        assert_eq!(per_shard.len(), 12);
        assert!(
            per_shard.values().all(|n| (2..=3).contains(n)),
            "{per_shard:?}"
        );
        let other = Tablets::new(43, 4).allocate("ks", "t", 12, &placement, &members);
        assert_ne!(a.tablets, other.tablets, "another seed places differently");
    }
}
