//! The token ring and replica placement: SimpleStrategy, NetworkTopologyStrategy (Cassandra's
//! rack-aware algorithm), LocalStrategy and Scylla's EverywhereStrategy. Replica sets are
//! precomputed per ring position, so a lookup is one binary search and returns a slice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use proto::Token;

use super::NodeRef;

/// A keyspace's replication strategy, from `system_schema.keyspaces.replication`, with the
/// `scylla` crate's variant and field names (its `cluster::metadata::Strategy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationStrategy {
    /// `SimpleStrategy` with its replication factor.
    SimpleStrategy {
        /// Replicas per token.
        replication_factor: usize,
    },
    /// `NetworkTopologyStrategy` with a replication factor per datacenter.
    NetworkTopologyStrategy {
        /// Datacenter name to replication factor.
        datacenter_repfactors: HashMap<String, usize>,
    },
    /// `LocalStrategy` (system keyspaces): each node holds its own data; routed to the
    /// token's primary owner.
    LocalStrategy,
    /// Scylla's `EverywhereStrategy`: every node is a replica. An extension over the `scylla`
    /// crate, which has it as [`Self::Other`].
    EverywhereStrategy,
    /// Anything else, kept by class name and options; routed to the primary owner.
    Other {
        /// The class name.
        name: String,
        /// The remaining options.
        data: HashMap<String, String>,
    },
}

/// Equal strategies hash equally: the maps are hashed in key order.
impl Hash for ReplicationStrategy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        fn sorted<V: Hash>(map: &HashMap<String, V>) -> BTreeMap<&str, &V> {
            map.iter().map(|(k, v)| (k.as_str(), v)).collect()
        }
        std::mem::discriminant(self).hash(state);
        match self {
            Self::SimpleStrategy { replication_factor } => replication_factor.hash(state),
            Self::NetworkTopologyStrategy {
                datacenter_repfactors,
            } => sorted(datacenter_repfactors).hash(state),
            Self::LocalStrategy | Self::EverywhereStrategy => {}
            Self::Other { name, data } => {
                name.hash(state);
                sorted(data).hash(state);
            }
        }
    }
}

impl ReplicationStrategy {
    /// Parses the `replication` map (`class` plus options). Replication factors like `"3/1"`
    /// (transient replicas) count their full part.
    pub fn from_options(options: &HashMap<String, String>) -> Self {
        let class = options.get("class").map(String::as_str).unwrap_or_default();
        let short = class.rsplit('.').next().unwrap_or(class);
        let rf = |v: &str| {
            v.split('/')
                .next()
                .and_then(|n| n.trim().parse::<usize>().ok())
        };
        match short {
            "SimpleStrategy" => Self::SimpleStrategy {
                replication_factor: options
                    .get("replication_factor")
                    .and_then(|v| rf(v))
                    .unwrap_or(1),
            },
            "NetworkTopologyStrategy" => Self::NetworkTopologyStrategy {
                datacenter_repfactors: options
                    .iter()
                    .filter(|(k, _)| k.as_str() != "class" && k.as_str() != "replication_factor")
                    .filter_map(|(k, v)| rf(v).map(|n| (k.clone(), n)))
                    .collect(),
            },
            "LocalStrategy" => Self::LocalStrategy,
            "EverywhereStrategy" => Self::EverywhereStrategy,
            _ => Self::Other {
                name: class.to_owned(),
                data: options
                    .iter()
                    .filter(|(k, _)| k.as_str() != "class")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
        }
    }
}

/// The ring: every token of every node, sorted, with its owner.
#[derive(Debug, Clone, Default)]
pub struct TokenRing {
    tokens: Vec<i64>,
    owners: Vec<NodeRef>,
}

impl TokenRing {
    /// Builds the ring from each node's tokens. Duplicate tokens keep the first owner.
    pub fn new(nodes: &[NodeRef]) -> Self {
        let mut entries: Vec<(i64, NodeRef)> = nodes
            .iter()
            .flat_map(|n| n.tokens.iter().map(move |t| (*t, NodeRef::clone(n))))
            .collect();
        entries.sort_by_key(|(t, _)| *t);
        entries.dedup_by_key(|(t, _)| *t);
        let (tokens, owners) = entries.into_iter().unzip();
        Self { tokens, owners }
    }

    /// The number of tokens on the ring.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the ring has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The ring position owning `token`: the first ring token `>= token`, wrapping around.
    pub fn position(&self, token: i64) -> Option<usize> {
        if self.tokens.is_empty() {
            return None;
        }
        let i = self.tokens.partition_point(|t| *t < token);
        Some(if i == self.tokens.len() { 0 } else { i })
    }

    /// The primary owner of `token`.
    pub fn owner(&self, token: i64) -> Option<&NodeRef> {
        self.position(token).map(|p| &self.owners[p])
    }

    /// `(token, owner)` pairs in ring order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &NodeRef)> {
        self.tokens.iter().copied().zip(self.owners.iter())
    }

    /// `(token, owner)` pairs walking clockwise from the position owning `token`, each once
    /// (wrapping past the largest token); the `scylla` crate's name.
    pub fn ring_range_full(&self, token: Token) -> impl Iterator<Item = (Token, &NodeRef)> {
        let start = self.position(token.0).unwrap_or(0);
        let n = self.tokens.len();
        (0..n).map(move |i| {
            let p = (start + i) % n;
            (Token(self.tokens[p]), &self.owners[p])
        })
    }

    /// The owners walking clockwise from the position owning `token`, each ring entry once (a
    /// node with several tokens appears several times); the `scylla` crate's name.
    pub fn ring_range(&self, token: Token) -> impl Iterator<Item = &NodeRef> {
        self.ring_range_full(token).map(|(_, n)| n)
    }

    /// The primary owner of `token`; the `scylla` crate's name for [`Self::owner`].
    pub fn get_elem_for_token(&self, token: Token) -> Option<&NodeRef> {
        self.owner(token.0)
    }

    /// Owners walking clockwise from position `start`, one full turn.
    fn walk(&self, start: usize) -> impl Iterator<Item = &NodeRef> {
        let n = self.owners.len();
        (0..n).map(move |i| &self.owners[(start + i) % n])
    }
}

/// Replica sets of every ring position for one strategy, stored flat.
#[derive(Debug, Clone, Default)]
pub struct ReplicaSets {
    offsets: Vec<usize>,
    nodes: Vec<NodeRef>,
}

impl ReplicaSets {
    /// Computes the replica set of every ring position under `strategy`.
    pub fn compute(ring: &TokenRing, strategy: &ReplicationStrategy) -> Self {
        let mut out = Self {
            offsets: Vec::with_capacity(ring.len() + 1),
            nodes: Vec::new(),
        };
        out.offsets.push(0);
        let all_nodes = distinct(ring.walk(0)).len();
        let dc_info = DcInfo::new(ring);
        for start in 0..ring.len() {
            push_replicas(ring, start, strategy, all_nodes, &dc_info, &mut out.nodes);
            out.offsets.push(out.nodes.len());
        }
        out
    }

    /// The replicas of the one ring position owning `token` (for a strategy no keyspace uses,
    /// so nothing was precomputed for it). Empty on an empty ring.
    pub fn compute_for_token(
        ring: &TokenRing,
        strategy: &ReplicationStrategy,
        token: i64,
    ) -> Vec<NodeRef> {
        let mut out = Vec::new();
        if let Some(start) = ring.position(token) {
            let all_nodes = distinct(ring.walk(0)).len();
            push_replicas(
                ring,
                start,
                strategy,
                all_nodes,
                &DcInfo::new(ring),
                &mut out,
            );
        }
        out
    }

    /// The replicas of ring position `pos`.
    pub fn at(&self, pos: usize) -> &[NodeRef] {
        match (self.offsets.get(pos), self.offsets.get(pos + 1)) {
            (Some(&a), Some(&b)) => &self.nodes[a..b],
            _ => &[],
        }
    }
}

/// Appends the replicas of ring position `start` under `strategy` to `out`.
fn push_replicas(
    ring: &TokenRing,
    start: usize,
    strategy: &ReplicationStrategy,
    all_nodes: usize,
    dc_info: &DcInfo,
    out: &mut Vec<NodeRef>,
) {
    match strategy {
        ReplicationStrategy::SimpleStrategy { replication_factor } => {
            let rf = (*replication_factor).min(all_nodes);
            let mut seen = HashSet::new();
            for n in ring.walk(start) {
                if seen.len() == rf {
                    break;
                }
                if seen.insert(n.address) {
                    out.push(NodeRef::clone(n));
                }
            }
        }
        ReplicationStrategy::NetworkTopologyStrategy {
            datacenter_repfactors,
        } => {
            nts_replicas(ring, start, datacenter_repfactors, dc_info, out);
        }
        ReplicationStrategy::EverywhereStrategy => {
            let mut seen = HashSet::new();
            for n in ring.walk(start) {
                if seen.insert(n.address) {
                    out.push(NodeRef::clone(n));
                }
            }
        }
        ReplicationStrategy::LocalStrategy | ReplicationStrategy::Other { .. } => {
            if let Some(owner) = ring.owners.get(start) {
                out.push(NodeRef::clone(owner));
            }
        }
    }
}

fn distinct<'a>(it: impl Iterator<Item = &'a NodeRef>) -> HashSet<std::net::SocketAddr> {
    it.map(|n| n.address).collect()
}

/// Per-datacenter node and rack counts of the ring.
struct DcInfo {
    nodes: HashMap<String, usize>,
    racks: HashMap<String, usize>,
}

impl DcInfo {
    fn new(ring: &TokenRing) -> Self {
        let mut nodes: HashMap<String, HashSet<std::net::SocketAddr>> = HashMap::new();
        let mut racks: HashMap<String, HashSet<String>> = HashMap::new();
        for n in ring.walk(0) {
            let dc = n.datacenter.clone().unwrap_or_default();
            nodes.entry(dc.clone()).or_default().insert(n.address);
            racks
                .entry(dc)
                .or_default()
                .insert(n.rack.clone().unwrap_or_default());
        }
        Self {
            nodes: nodes.into_iter().map(|(k, v)| (k, v.len())).collect(),
            racks: racks.into_iter().map(|(k, v)| (k, v.len())).collect(),
        }
    }
}

/// Cassandra's `NetworkTopologyStrategy.calculateNaturalReplicas`: per datacenter, prefer
/// nodes on racks not used yet; nodes skipped for a repeated rack fill in once every rack of
/// the datacenter has a replica.
fn nts_replicas(
    ring: &TokenRing,
    start: usize,
    datacenters: &HashMap<String, usize>,
    info: &DcInfo,
    out: &mut Vec<NodeRef>,
) {
    // Replicas wanted per DC: the RF, capped at the DC's node count.
    let wanted: HashMap<&str, usize> = datacenters
        .iter()
        .map(|(dc, rf)| {
            (
                dc.as_str(),
                (*rf).min(info.nodes.get(dc).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut have: HashMap<&str, usize> = HashMap::new();
    let mut seen_racks: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut skipped: HashMap<&str, Vec<&NodeRef>> = HashMap::new();
    let mut added: HashSet<std::net::SocketAddr> = HashSet::new();
    let satisfied = |have: &HashMap<&str, usize>| {
        wanted
            .iter()
            .all(|(dc, w)| have.get(dc).copied().unwrap_or(0) >= *w)
    };
    for node in ring.walk(start) {
        if satisfied(&have) {
            break;
        }
        let dc = node.datacenter.as_deref().unwrap_or_default();
        let Some((dc, &want)) = wanted.get_key_value(dc) else {
            continue;
        };
        let got = have.get(dc).copied().unwrap_or(0);
        if got >= want || added.contains(&node.address) {
            continue;
        }
        let rack = node.rack.as_deref().unwrap_or_default();
        let racks_in_dc = info.racks.get(*dc).copied().unwrap_or(0);
        let racks = seen_racks.entry(dc).or_default();
        if racks.len() == racks_in_dc {
            // Every rack has a replica already: take nodes in ring order.
            added.insert(node.address);
            out.push(NodeRef::clone(node));
            *have.entry(dc).or_default() += 1;
        } else if racks.contains(rack) {
            let s = skipped.entry(dc).or_default();
            if !s.iter().any(|n| n.address == node.address) {
                s.push(node);
            }
        } else {
            racks.insert(rack);
            added.insert(node.address);
            out.push(NodeRef::clone(node));
            *have.entry(dc).or_default() += 1;
            if racks.len() == racks_in_dc {
                // All racks used: fill from the skipped nodes, in the order they were seen.
                let mut count = have.get(dc).copied().unwrap_or(0);
                for s in skipped.remove(dc).unwrap_or_default() {
                    if count >= want {
                        break;
                    }
                    if added.insert(s.address) {
                        out.push(NodeRef::clone(s));
                        count += 1;
                    }
                }
                have.insert(dc, count);
            }
        }
    }
}
