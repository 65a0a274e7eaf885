//! Load balancing: the order in which nodes (and shards) are tried for a request.
//!
//! A policy answers twice: [`LoadBalancingPolicy::pick`] names the first target without
//! allocating, and only when that attempt fails is [`LoadBalancingPolicy::fallback`] asked for
//! the rest of the plan. [`Plan`] strings the two together lazily.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proto::Token;
use transport::state::{ClusterState, Node, NodeRef, Replicas};

use crate::consistency::Consistency;
use crate::errors::RequestAttemptError;

mod latency;
mod single_target;

pub use latency::LatencyAwarenessBuilder;
pub use single_target::{NodeIdentifier, SingleTargetLoadBalancingPolicy};

use latency::{LatencyAwareness, Penalised, is_penalised};

/// A Scylla shard number.
pub type Shard = u32;

/// What the policy knows about a request.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RoutingInfo<'a> {
    /// The consistency of the request.
    pub consistency: Consistency,
    /// The token of the partition the request addresses, when known (prepared statements).
    pub token: Option<Token>,
    /// The keyspace of the request's table, when known.
    pub keyspace: Option<&'a str>,
    /// The request's table, when known.
    pub table: Option<&'a str>,
    /// Whether the request is a lightweight transaction: replicas are then tried in ring order
    /// (so all clients reach the same Paxos leader) rather than rotated.
    pub is_confirmed_lwt: bool,
}

/// The rest of a plan after the first target.
pub type FallbackPlan<'a> =
    Box<dyn Iterator<Item = (&'a NodeRef, Option<Shard>)> + Send + Sync + 'a>;

/// Chooses the nodes to try for a request, in order.
pub trait LoadBalancingPolicy: Debug + Send + Sync {
    /// The first target, without allocating.
    fn pick<'a>(
        &'a self,
        request: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> Option<(&'a NodeRef, Option<Shard>)>;

    /// Every target in order (it may repeat the pick; [`Plan`] skips it).
    fn fallback<'a>(
        &'a self,
        request: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> FallbackPlan<'a>;

    /// Called after a successful attempt.
    fn on_request_success(&self, _request: &RoutingInfo<'_>, _latency: Duration, _node: &NodeRef) {}

    /// Called after a failed attempt.
    fn on_request_failure(
        &self,
        _request: &RoutingInfo<'_>,
        _latency: Duration,
        _node: &NodeRef,
        _error: &RequestAttemptError,
    ) {
    }

    /// The policy's name, for logs.
    fn name(&self) -> String;
}

/// A request's plan: the policy's pick, then its fallback (computed only if needed), without
/// repeating the pick.
pub struct Plan<'a> {
    policy: &'a dyn LoadBalancingPolicy,
    info: &'a RoutingInfo<'a>,
    cluster: &'a ClusterState,
    picked: Option<&'a NodeRef>,
    state: PlanState<'a>,
}

enum PlanState<'a> {
    Start,
    /// The pick was returned; the fallback is computed only if another target is asked for.
    Picked,
    Fallback(FallbackPlan<'a>),
    Done,
}

impl<'a> Plan<'a> {
    /// The plan of `info` under `policy` on `cluster`.
    pub fn new(
        policy: &'a dyn LoadBalancingPolicy,
        info: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> Self {
        Self {
            policy,
            info,
            cluster,
            picked: None,
            state: PlanState::Start,
        }
    }
}

impl Debug for Plan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("policy", &self.policy.name())
            .finish_non_exhaustive()
    }
}

impl<'a> Iterator for Plan<'a> {
    type Item = (&'a NodeRef, Option<Shard>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match &mut self.state {
                PlanState::Start => {
                    if let Some(t) = self.policy.pick(self.info, self.cluster) {
                        self.picked = Some(t.0);
                        self.state = PlanState::Picked;
                        return Some(t);
                    }
                    self.state = PlanState::Fallback(self.policy.fallback(self.info, self.cluster));
                }
                PlanState::Picked => {
                    self.state = PlanState::Fallback(self.policy.fallback(self.info, self.cluster));
                }
                PlanState::Fallback(it) => match it.next() {
                    Some(t) if self.picked.is_some_and(|p| Arc::ptr_eq(p, t.0)) => {}
                    Some(t) => return Some(t),
                    None => {
                        self.state = PlanState::Done;
                        return None;
                    }
                },
                PlanState::Done => return None,
            }
        }
    }
}

/// Where the client prefers its coordinators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeLocationPreference {
    /// No preference: every node is local.
    #[default]
    Any,
    /// Nodes of this datacenter first.
    Datacenter(String),
    /// Nodes of this rack of this datacenter first, then the rest of the datacenter.
    DatacenterAndRack(String, String),
}

/// The default policy: token-aware (replicas of the partition first), shard-aware (the replica's
/// shard owning the token), datacenter- and rack-aware (local replicas first; remote nodes only
/// with `permit_dc_failover`), and round-robin among equals. A node that has stopped answering
/// (its connections wait on requests and read nothing, not even a probe; see
/// `SessionBuilder::unresponsive_node_after`) goes to the end of every plan until it answers.
/// With [latency awareness](DefaultPolicyBuilder::latency_awareness), nodes far slower than
/// the fastest go after all of those.
#[derive(Debug)]
pub struct DefaultPolicy {
    preference: NodeLocationPreference,
    is_token_aware: bool,
    permit_dc_failover: bool,
    shuffle_replicas: bool,
    counter: AtomicUsize,
    latency: Option<LatencyAwareness>,
}

impl Default for DefaultPolicy {
    fn default() -> Self {
        Self {
            preference: NodeLocationPreference::Any,
            is_token_aware: true,
            permit_dc_failover: false,
            shuffle_replicas: true,
            counter: AtomicUsize::new(0),
            latency: None,
        }
    }
}

impl DefaultPolicy {
    /// A builder starting from the defaults: token-aware, no location preference, no datacenter
    /// failover, replicas rotated.
    pub fn builder() -> DefaultPolicyBuilder {
        DefaultPolicyBuilder {
            policy: Self::default(),
        }
    }

    /// 0 = local rack, 1 = local datacenter, 2 = remote; `None` = excluded.
    fn tier(&self, node: &Node) -> Option<u8> {
        match &self.preference {
            NodeLocationPreference::Any => Some(0),
            NodeLocationPreference::Datacenter(dc) => {
                if node.datacenter.as_deref() == Some(dc.as_str()) {
                    Some(0)
                } else if self.permit_dc_failover {
                    Some(2)
                } else {
                    None
                }
            }
            NodeLocationPreference::DatacenterAndRack(dc, rack) => {
                if node.datacenter.as_deref() != Some(dc.as_str()) {
                    self.permit_dc_failover.then_some(2)
                } else if node.rack.as_deref() == Some(rack.as_str()) {
                    Some(0)
                } else {
                    Some(1)
                }
            }
        }
    }

    fn replicas<'a>(&self, info: &RoutingInfo<'a>, cluster: &'a ClusterState) -> ReplicaList<'a> {
        let replicas = match (self.is_token_aware, info.token, info.keyspace) {
            (true, Some(token), Some(ks)) => match info.table {
                Some(table) => cluster.replicas_for(ks, table, token),
                None => Replicas::Ring(cluster.replicas(ks, token)),
            },
            _ => Replicas::Ring(&[]),
        };
        match replicas {
            Replicas::Ring(ring) => ReplicaList { ring, tablet: &[] },
            Replicas::Tablet(tablet) => ReplicaList { ring: &[], tablet },
            _ => ReplicaList {
                ring: &[],
                tablet: &[],
            },
        }
    }

    /// The rotation of a new plan; advances the round-robin counter.
    fn rotation(&self, info: &RoutingInfo<'_>) -> usize {
        if info.is_confirmed_lwt || !self.shuffle_replicas {
            0
        } else {
            self.counter.fetch_add(1, Ordering::Relaxed)
        }
    }

    /// The rotation `pick` just used, for the same plan's fallback. Under concurrency it may be
    /// another plan's, which only changes the order among equals.
    fn current_rotation(&self, info: &RoutingInfo<'_>) -> usize {
        if info.is_confirmed_lwt || !self.shuffle_replicas {
            0
        } else {
            self.counter.load(Ordering::Relaxed).wrapping_sub(1)
        }
    }
}

/// A token's replicas as plain slices (one of them empty), iterable without borrowing a local.
#[derive(Debug, Clone, Copy)]
struct ReplicaList<'a> {
    ring: &'a [NodeRef],
    tablet: &'a [(NodeRef, u32)],
}

impl<'a> ReplicaList<'a> {
    fn iter(self) -> impl Iterator<Item = (&'a NodeRef, Option<Shard>)> + Clone + 'a {
        self.ring
            .iter()
            .map(|n| (n, None))
            .chain(self.tablet.iter().map(|(n, s)| (n, Some(*s))))
    }

    fn contains(self, node: &NodeRef) -> bool {
        self.iter().any(|(r, _)| Arc::ptr_eq(r, node))
    }
}

/// One pass over the candidates of a plan: the nodes that answer, then the unresponsive ones;
/// with latency awareness, the penalised ones of each kind after all of those.
#[derive(Debug, Clone, Copy)]
struct Pass {
    responsive: bool,
    penalised: bool,
}

/// The passes of a plan without latency awareness, and with it.
const PASSES: [Pass; 4] = [
    Pass {
        responsive: true,
        penalised: false,
    },
    Pass {
        responsive: false,
        penalised: false,
    },
    Pass {
        responsive: true,
        penalised: true,
    },
    Pass {
        responsive: false,
        penalised: true,
    },
];

/// The passes a plan makes: two, or four with latency awareness (`penalised` is `Some`).
fn passes(penalised: &Option<Penalised>) -> &'static [Pass] {
    match penalised {
        Some(p) if !p.is_empty() => &PASSES,
        _ => &PASSES[..2],
    }
}

/// Whether `node` may take requests in `pass`: the host filter accepted it, it is up, it
/// answers (`responsive`) or is one of the unresponsive nodes tried last (see
/// `transport::health`), and it is penalised for its latency or not, as the pass wants.
fn usable(node: &Node, pass: Pass, penalised: &Option<Penalised>) -> bool {
    node.is_enabled()
        && node.is_up()
        && node.pool().is_none_or(|p| p.is_responsive()) == pass.responsive
        && penalised.as_ref().map_or(!pass.penalised, |p| {
            is_penalised(p, node.address) == pass.penalised
        })
}

/// The `n`-th (rotated) item of `items` matching `keep`, without allocating.
fn nth_rotated<T: Copy>(
    items: impl Iterator<Item = T> + Clone,
    keep: impl Fn(&T) -> bool,
    rotation: usize,
) -> Option<T> {
    let count = items.clone().filter(|t| keep(t)).count();
    if count == 0 {
        return None;
    }
    items.filter(|t| keep(t)).nth(rotation % count)
}

impl LoadBalancingPolicy for DefaultPolicy {
    fn pick<'a>(
        &'a self,
        info: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> Option<(&'a NodeRef, Option<Shard>)> {
        let replicas = self.replicas(info, cluster);
        let rotation = self.rotation(info);
        let penalised = self.latency.as_ref().map(LatencyAwareness::penalised);
        // Nodes that answer first; an unresponsive node only when nothing else is up.
        for &pass in passes(&penalised) {
            let penalised = &penalised;
            for tier in 0..=2u8 {
                let found = nth_rotated(
                    replicas.iter(),
                    |(n, _)| usable(n, pass, penalised) && self.tier(n) == Some(tier),
                    rotation,
                );
                if found.is_some() {
                    return found;
                }
            }
            for tier in 0..=2u8 {
                let found = nth_rotated(
                    cluster.nodes().iter(),
                    |n| usable(n, pass, penalised) && self.tier(n) == Some(tier),
                    rotation,
                );
                if let Some(n) = found {
                    return Some((n, None));
                }
            }
        }
        None
    }

    fn fallback<'a>(
        &'a self,
        info: &'a RoutingInfo<'a>,
        cluster: &'a ClusterState,
    ) -> FallbackPlan<'a> {
        let replicas = self.replicas(info, cluster);
        let rotation = self.current_rotation(info);
        let nodes = cluster.nodes();
        let start = if nodes.is_empty() {
            0
        } else {
            rotation % nodes.len()
        };
        let rotated = move || nodes[start..].iter().chain(&nodes[..start]);
        // `Penalised` is an `Arc`: cloned per pass and tier, never copied.
        let penalised = self.latency.as_ref().map(LatencyAwareness::penalised);
        let passes = passes(&penalised);
        let pass = move |pass: Pass| {
            let penalised = penalised.clone();
            (0..=2u8).flat_map(move |tier| {
                let (p, q) = (penalised.clone(), penalised.clone());
                let reps = replicas
                    .iter()
                    .filter(move |(n, _)| usable(n, pass, &p) && self.tier(n) == Some(tier));
                let others = rotated()
                    .filter(move |n| {
                        usable(n, pass, &q) && self.tier(n) == Some(tier) && !replicas.contains(n)
                    })
                    .map(|n| (n, None));
                reps.chain(others)
            })
        };
        // Replicas of every tier come before non-replicas of the same tier; local before remote;
        // nodes that answer before unresponsive ones; penalised nodes after all of those.
        Box::new(passes.iter().flat_map(move |&p| pass(p)))
    }

    fn on_request_success(&self, _request: &RoutingInfo<'_>, latency: Duration, node: &NodeRef) {
        if let Some(la) = &self.latency {
            la.record(node.address, latency);
        }
    }

    fn name(&self) -> String {
        "DefaultPolicy".to_owned()
    }
}

/// Builds a [`DefaultPolicy`].
#[derive(Debug)]
pub struct DefaultPolicyBuilder {
    policy: DefaultPolicy,
}

impl DefaultPolicyBuilder {
    /// Prefers nodes of this datacenter.
    #[must_use]
    pub fn prefer_datacenter(mut self, dc: impl Into<String>) -> Self {
        self.policy.preference = NodeLocationPreference::Datacenter(dc.into());
        self
    }

    /// Prefers nodes of this rack, then the rest of this datacenter.
    #[must_use]
    pub fn prefer_datacenter_and_rack(
        mut self,
        dc: impl Into<String>,
        rack: impl Into<String>,
    ) -> Self {
        self.policy.preference = NodeLocationPreference::DatacenterAndRack(dc.into(), rack.into());
        self
    }

    /// Whether to send requests to replicas of their partition first (default: yes).
    #[must_use]
    pub fn token_aware(mut self, on: bool) -> Self {
        self.policy.is_token_aware = on;
        self
    }

    /// Whether nodes outside the preferred datacenter may be tried at all (default: no).
    #[must_use]
    pub fn permit_dc_failover(mut self, on: bool) -> Self {
        self.policy.permit_dc_failover = on;
        self
    }

    /// Whether to rotate among equally good replicas (default: yes); otherwise the primary
    /// replica is always first.
    #[must_use]
    pub fn enable_shuffling_replicas(mut self, on: bool) -> Self {
        self.policy.shuffle_replicas = on;
        self
    }

    /// Penalises nodes whose recent average latency is far behind the fastest node's: they go
    /// to the very end of every plan for a while (off by default; see
    /// [`LatencyAwarenessBuilder`] for how and its caveat).
    #[must_use]
    pub fn latency_awareness(mut self, builder: LatencyAwarenessBuilder) -> Self {
        self.policy.latency = Some(builder.build());
        self
    }

    /// The policy, ready to share.
    pub fn build(self) -> Arc<dyn LoadBalancingPolicy> {
        Arc::new(self.policy)
    }
}

#[cfg(test)]
mod tests;
