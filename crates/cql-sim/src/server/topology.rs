//! The token ring and replica placement (SimpleStrategy, NetworkTopologyStrategy), plus the
//! seeded random numbers that make tokens and host ids deterministic.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

/// A splitmix64 generator: tiny, seedable and good enough for tokens and ids.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A random (version 4 layout) UUID.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let hi = self.next_u64().to_be_bytes();
        let lo = self.next_u64().to_be_bytes();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi);
        b[8..].copy_from_slice(&lo);
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
}

/// Where a keyspace's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// SimpleStrategy: the next `rf` distinct nodes clockwise.
    Simple(usize),
    /// NetworkTopologyStrategy: a factor per data centre, rack-aware.
    Nts(BTreeMap<String, usize>),
    /// LocalStrategy: each node keeps its own data (reads and writes stay on the coordinator).
    Local,
}

impl Placement {
    /// The total replication factor over all data centres, capped by the cluster's nodes.
    #[cfg(test)]
    pub(crate) fn total_rf(&self, nodes: &[NodeTopo]) -> usize {
        match self {
            Self::Simple(rf) => (*rf).min(nodes.len()),
            Self::Nts(dcs) => dcs
                .iter()
                .map(|(dc, rf)| (*rf).min(nodes.iter().filter(|n| &n.dc == dc).count()))
                .sum(),
            Self::Local => 1,
        }
    }
}

/// What the ring needs to know about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeTopo {
    /// The node's index in the cluster.
    pub(crate) id: usize,
    /// Data centre.
    pub(crate) dc: String,
    /// Rack.
    pub(crate) rack: String,
    /// The node's tokens.
    pub(crate) tokens: Vec<i64>,
}

/// The token ring: every (token, node) pair sorted by token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    entries: Vec<(i64, usize)>,
    nodes: Vec<NodeTopo>,
}

impl Ring {
    /// The ring of `nodes` (the members of the cluster, down or up).
    pub(crate) fn new(nodes: Vec<NodeTopo>) -> Self {
        let mut entries: Vec<(i64, usize)> = nodes
            .iter()
            .flat_map(|n| n.tokens.iter().map(move |t| (*t, n.id)))
            .collect();
        entries.sort_unstable();
        Self { entries, nodes }
    }

    /// The member nodes.
    pub(crate) fn nodes(&self) -> &[NodeTopo] {
        &self.nodes
    }

    /// The number of ring positions (token ranges).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The position owning `token`: the first token `>= token`, wrapping round.
    pub(crate) fn position(&self, token: i64) -> usize {
        let i = self.entries.partition_point(|(t, _)| *t < token);
        if i == self.entries.len() { 0 } else { i }
    }

    fn node(&self, id: usize) -> Option<&NodeTopo> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The replicas of the range ending at ring position `pos`, primary first.
    pub(crate) fn replicas_at(
        &self,
        pos: usize,
        placement: &Placement,
        coordinator: usize,
    ) -> Vec<usize> {
        let n = self.entries.len();
        match placement {
            Placement::Local => vec![coordinator],
            Placement::Simple(rf) => {
                let mut out = Vec::with_capacity(*rf);
                for k in 0..n {
                    if out.len() >= *rf {
                        break;
                    }
                    let id = self.entries[(pos + k) % n].1;
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
                out
            }
            Placement::Nts(dcs) => self.nts_replicas(pos, dcs),
        }
    }

    /// Cassandra's NetworkTopologyStrategy walk: per data centre, take nodes clockwise
    /// preferring racks not yet used; nodes skipped for a repeated rack fill in once every rack
    /// of the data centre has a replica.
    fn nts_replicas(&self, pos: usize, dcs: &BTreeMap<String, usize>) -> Vec<usize> {
        struct DcState {
            needed: usize,
            all_racks: usize,
            racks: HashSet<String>,
            chosen: Vec<usize>,
            skipped: Vec<usize>,
        }
        let mut states: BTreeMap<&str, DcState> = BTreeMap::new();
        for (dc, rf) in dcs {
            let members: Vec<&NodeTopo> = self.nodes.iter().filter(|n| &n.dc == dc).collect();
            if members.is_empty() || *rf == 0 {
                continue;
            }
            let all_racks = members
                .iter()
                .map(|n| n.rack.as_str())
                .collect::<HashSet<_>>()
                .len();
            states.insert(
                dc,
                DcState {
                    needed: (*rf).min(members.len()),
                    all_racks,
                    racks: HashSet::new(),
                    chosen: Vec::new(),
                    skipped: Vec::new(),
                },
            );
        }
        let mut order = Vec::new();
        let n = self.entries.len();
        for k in 0..n {
            if states.values().all(|s| s.chosen.len() >= s.needed) {
                break;
            }
            let id = self.entries[(pos + k) % n].1;
            let Some(node) = self.node(id) else { continue };
            let Some(st) = states.get_mut(node.dc.as_str()) else {
                continue;
            };
            if st.chosen.len() >= st.needed || st.chosen.contains(&id) || st.skipped.contains(&id) {
                continue;
            }
            if st.racks.len() >= st.all_racks {
                st.chosen.push(id);
                order.push(id);
            } else if st.racks.insert(node.rack.clone()) {
                st.chosen.push(id);
                order.push(id);
                if st.racks.len() >= st.all_racks {
                    let skipped = std::mem::take(&mut st.skipped);
                    for s in skipped {
                        if st.chosen.len() >= st.needed {
                            break;
                        }
                        st.chosen.push(s);
                        order.push(s);
                    }
                }
            } else {
                st.skipped.push(id);
            }
        }
        order
    }

    /// The replicas of `token`.
    pub(crate) fn replicas(
        &self,
        token: i64,
        placement: &Placement,
        coordinator: usize,
    ) -> Vec<usize> {
        if self.entries.is_empty() {
            return vec![coordinator];
        }
        self.replicas_at(self.position(token), placement, coordinator)
    }
}

/// `count` distinct random tokens for a node, from the cluster seed and the node's index.
pub(crate) fn node_tokens(seed: u64, node: usize, count: usize, taken: &HashSet<i64>) -> Vec<i64> {
    let mut rng =
        SplitMix::new(seed ^ (node as u64).wrapping_mul(0xA24B_AED4_963E_E407) ^ 0x746f_6b65_6e73);
    let mut out = Vec::with_capacity(count);
    let mut guard = 0;
    while out.len() < count && guard < count * 100 + 100 {
        guard += 1;
        let t = rng.next_u64() as i64;
        if t != i64::MIN && !taken.contains(&t) && !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort_unstable();
    out
}

/// The host id of a node, from the cluster seed and the node's index.
pub(crate) fn host_id(seed: u64, node: usize) -> Uuid {
    SplitMix::new(seed ^ (node as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ 0x686f_7374).uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo(id: usize, dc: &str, rack: &str, tokens: &[i64]) -> NodeTopo {
        NodeTopo {
            id,
            dc: dc.into(),
            rack: rack.into(),
            tokens: tokens.to_vec(),
        }
    }

    #[test]
    fn simple_strategy_walks_clockwise_distinct() {
        let ring = Ring::new(vec![
            topo(0, "dc1", "r1", &[0, 300]),
            topo(1, "dc1", "r1", &[100, 400]),
            topo(2, "dc1", "r1", &[200]),
        ]);
        // token 50 is owned by the node with token 100 (node 1), then 200 (node 2), 300 (node 0).
        assert_eq!(ring.replicas(50, &Placement::Simple(2), 0), vec![1, 2]);
        assert_eq!(ring.replicas(250, &Placement::Simple(3), 0), vec![0, 1, 2]);
        // wraps: 500 > every token -> first entry (token 0, node 0)
        assert_eq!(ring.replicas(500, &Placement::Simple(2), 0), vec![0, 1]);
        assert_eq!(ring.replicas(100, &Placement::Simple(1), 0), vec![1]);
        // rf larger than the cluster gives every node once
        assert_eq!(ring.replicas(0, &Placement::Simple(5), 0), vec![0, 1, 2]);
    }

    #[test]
    fn nts_prefers_distinct_racks() {
        // dc1: nodes 0 (r1), 1 (r1), 2 (r2); dc2: node 3.
        let ring = Ring::new(vec![
            topo(0, "dc1", "r1", &[10]),
            topo(1, "dc1", "r1", &[20]),
            topo(2, "dc1", "r2", &[30]),
            topo(3, "dc2", "r1", &[25]),
        ]);
        let p = Placement::Nts(
            [("dc1".to_owned(), 2), ("dc2".to_owned(), 1)]
                .into_iter()
                .collect(),
        );
        // from token 5: node 0 (r1) chosen, node 1 (r1) skipped, node 3 (dc2), node 2 (r2).
        assert_eq!(ring.replicas(5, &p, 0), vec![0, 3, 2]);
        let p3 = Placement::Nts([("dc1".to_owned(), 3)].into_iter().collect());
        // rf 3 in dc1: 0 (r1), skip 1, 2 (r2) completes the racks, then skipped 1.
        assert_eq!(ring.replicas(5, &p3, 0), vec![0, 2, 1]);
        assert_eq!(p.total_rf(ring.nodes()), 3);
    }

    #[test]
    fn tokens_and_ids_are_deterministic() {
        let a = node_tokens(7, 1, 16, &HashSet::new());
        let b = node_tokens(7, 1, 16, &HashSet::new());
        assert_eq!(a, b);
        assert_eq!(a.len(), 16);
        assert_ne!(a, node_tokens(8, 1, 16, &HashSet::new()));
        assert_eq!(host_id(3, 0), host_id(3, 0));
        assert_ne!(host_id(3, 0), host_id(3, 1));
    }
}
