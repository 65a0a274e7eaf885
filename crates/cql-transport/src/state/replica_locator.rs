//! [`ReplicaLocator`]: the replicas of a token under a replication strategy, for a table (its
//! tablet when one is known), as the `scylla` crate's `ClusterState::replica_locator()` answers.
//!
//! It holds the token ring, the replica sets precomputed for every strategy a keyspace uses,
//! the nodes per datacenter, and the known tablets. A lookup with a precomputed strategy is one
//! binary search and borrows the set; another strategy is computed for that one token.

use std::collections::HashMap;
use std::sync::Arc;

use proto::Token;
use proto::response::TableSpec;

use super::ring::{ReplicaSets, ReplicationStrategy, TokenRing};
use super::{NodeRef, TableTablets};
use crate::routing::Shard;

/// Finds the replicas (with their shards) of a token; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct ReplicaLocator {
    pub(super) ring: Arc<TokenRing>,
    pub(super) precomputed: HashMap<ReplicationStrategy, Arc<ReplicaSets>>,
    unique_nodes: Vec<NodeRef>,
    datacenters: Vec<String>,
    datacenter_nodes: HashMap<String, Vec<NodeRef>>,
    pub(super) tablets: HashMap<String, HashMap<String, Arc<TableTablets>>>,
}

impl ReplicaLocator {
    /// A locator over `ring` with the replica sets of `precomputed` and the tablets known.
    pub(super) fn new(
        ring: Arc<TokenRing>,
        precomputed: HashMap<ReplicationStrategy, Arc<ReplicaSets>>,
        tablets: HashMap<String, HashMap<String, Arc<TableTablets>>>,
    ) -> Self {
        let mut unique_nodes: Vec<NodeRef> = Vec::new();
        let mut datacenters: Vec<String> = Vec::new();
        let mut datacenter_nodes: HashMap<String, Vec<NodeRef>> = HashMap::new();
        for (_, node) in ring.iter() {
            if unique_nodes.iter().any(|n| n.address == node.address) {
                continue;
            }
            unique_nodes.push(NodeRef::clone(node));
            if let Some(dc) = &node.datacenter {
                if !datacenters.contains(dc) {
                    datacenters.push(dc.clone());
                }
                datacenter_nodes
                    .entry(dc.clone())
                    .or_default()
                    .push(NodeRef::clone(node));
            }
        }
        Self {
            ring,
            precomputed,
            unique_nodes,
            datacenters,
            datacenter_nodes,
            tablets,
        }
    }

    /// The replicas of `token` under `strategy`, for the table `table_spec` names: the tablet's
    /// replicas (with their shards) when a tablet of the table is known for the token, else the
    /// token ring's under `strategy`, each with the shard owning the token on it (0 for a node
    /// without sharding information). With `datacenter`, only the replicas in that datacenter.
    ///
    /// `LocalStrategy` and unknown strategies give the token's primary owner.
    pub fn replicas_for_token<'a>(
        &'a self,
        token: Token,
        strategy: &'a ReplicationStrategy,
        datacenter: Option<&'a str>,
        table_spec: &TableSpec<'_>,
    ) -> ReplicaSet<'a> {
        let tablet = self
            .tablets
            .get(table_spec.ks_name())
            .and_then(|t| t.get(table_spec.table_name()))
            .and_then(|t| t.find(token.0));
        let inner = match tablet {
            Some(t) => Inner::Tablet(&t.replicas),
            None => match (self.precomputed.get(strategy), self.ring.position(token.0)) {
                (Some(sets), Some(pos)) => Inner::Ring(sets.at(pos)),
                (Some(_), None) => Inner::Ring(&[]),
                (None, _) => Inner::Computed(ReplicaSets::compute_for_token(
                    &self.ring, strategy, token.0,
                )),
            },
        };
        ReplicaSet {
            inner,
            token,
            datacenter,
        }
    }

    /// The token ring every replica set is computed from.
    pub fn ring(&self) -> &TokenRing {
        &self.ring
    }

    /// Every node owning a token of the ring, once, in ring order of first appearance.
    pub fn unique_nodes_in_global_ring(&self) -> &[NodeRef] {
        &self.unique_nodes
    }

    /// The datacenters of the ring's nodes, in ring order of first appearance.
    pub fn datacenter_names(&self) -> &[String] {
        &self.datacenters
    }

    /// The ring's nodes in `datacenter_name`, once each; `None` for a datacenter no ring node
    /// is in.
    pub fn unique_nodes_in_datacenter_ring(&self, datacenter_name: &str) -> Option<&[NodeRef]> {
        self.datacenter_nodes
            .get(datacenter_name)
            .map(Vec::as_slice)
    }
}

/// Where a [`ReplicaSet`]'s nodes are.
#[derive(Debug)]
enum Inner<'a> {
    /// A precomputed token-ring set.
    Ring(&'a [NodeRef]),
    /// A token-ring set computed for this lookup (a strategy no keyspace uses).
    Computed(Vec<NodeRef>),
    /// A tablet's replicas with their shards.
    Tablet(&'a [(NodeRef, u32)]),
}

/// The replicas of one token, from [`ReplicaLocator::replicas_for_token`], in replica order.
#[derive(Debug)]
pub struct ReplicaSet<'a> {
    inner: Inner<'a>,
    token: Token,
    datacenter: Option<&'a str>,
}

impl ReplicaSet<'_> {
    /// `(node, shard)` in replica order; the shard of a token-ring replica is the one owning
    /// the token on that node (0 without sharding information).
    pub fn iter(&self) -> impl Iterator<Item = (&NodeRef, Shard)> + '_ {
        let token = self.token;
        let (ring, tablet): (&[NodeRef], &[(NodeRef, u32)]) = match &self.inner {
            Inner::Ring(r) => (r, &[]),
            Inner::Computed(v) => (v, &[]),
            Inner::Tablet(t) => (&[], t),
        };
        let in_dc = move |n: &NodeRef| {
            self.datacenter
                .is_none_or(|dc| n.datacenter.as_deref() == Some(dc))
        };
        ring.iter()
            .map(move |n| (n, shard_of(n, token)))
            .chain(tablet.iter().map(|(n, s)| (n, *s)))
            .filter(move |(n, _)| in_dc(n))
    }

    /// The number of replicas.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// The shard owning `token` on `node`, or 0 when the node reported no sharding.
pub(super) fn shard_of(node: &NodeRef, token: Token) -> Shard {
    node.sharder().map_or(0, |s| s.shard_of(token))
}

impl<'s> IntoIterator for &'s ReplicaSet<'_> {
    type Item = (&'s NodeRef, Shard);
    type IntoIter = Box<dyn Iterator<Item = (&'s NodeRef, Shard)> + 's>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// By value the set yields shared node handles (`Arc` clones).
impl IntoIterator for ReplicaSet<'_> {
    type Item = (NodeRef, Shard);
    type IntoIter = std::vec::IntoIter<(NodeRef, Shard)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
            .map(|(n, s)| (NodeRef::clone(n), s))
            .collect::<Vec<_>>()
            .into_iter()
    }
}
