//! The fault schedule: seeded faults from cql-sim's API, one at a time or overlapping, each for
//! a random short duration, under rules that keep two of three replicas answering (so QUORUM
//! writes can succeed) and one node never stopped (the sim has no repair: a replica that missed
//! writes while stopped stays behind, and reads prefer replicas that missed none).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use cql_sim::server::faults;
use cql_sim::{FaultAction, FaultRule, NodeHandle, RequestMatcher, SimCluster};
use proto::codes::{Consistency, WriteType};
use tokio::time::Instant;

use crate::rng::Rng;
use crate::stats::{Failure, Kind, execution_cause};
use crate::workload::Workload;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub(crate) enum FaultKind {
    /// Stop a node (listeners and connections closed), start it again.
    Stop,
    /// Pause a node (connections open, nothing answered), resume it.
    Pause,
    /// Close the connection half way through the next 1-3 responses of a node.
    Cut,
    /// Answer the next 1-3 statements of a node with a malformed frame.
    Malformed,
    /// A storm of OVERLOADED errors from one node.
    Overloaded,
    /// A storm of UNAVAILABLE errors from one node.
    Unavailable,
    /// A storm of READ_TIMEOUT errors from one node, to its SELECTs.
    ReadTimeout,
    /// A storm of WRITE_TIMEOUT errors from one node, to its INSERTs.
    WriteTimeout,
    /// Delay every response of one node by 50-800 ms.
    Delay,
    /// Add a fourth node (streamed its data).
    AddNode,
    /// Decommission the added node.
    Decommission,
    /// ALTER TABLE ... ADD a column, or CREATE TABLE.
    Schema,
}

impl FaultKind {
    /// The fault's name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Cut => "cut",
            Self::Malformed => "malformed",
            Self::Overloaded => "overloaded",
            Self::Unavailable => "unavailable",
            Self::ReadTimeout => "read-timeout",
            Self::WriteTimeout => "write-timeout",
            Self::Delay => "delay",
            Self::AddNode => "add-node",
            Self::Decommission => "decommission",
            Self::Schema => "schema",
        }
    }

    /// Faults that take a node out of service or change the topology: one at a time.
    fn is_availability(self) -> bool {
        matches!(
            self,
            Self::Stop | Self::Pause | Self::AddNode | Self::Decommission
        )
    }

    /// Faults made of fault rules or a delay on one node: one set per node at a time, since
    /// ending one clears the node's rules.
    fn is_rule(self) -> bool {
        matches!(
            self,
            Self::Cut
                | Self::Malformed
                | Self::Overloaded
                | Self::Unavailable
                | Self::ReadTimeout
                | Self::WriteTimeout
                | Self::Delay
        )
    }
}

/// The number of nodes the cluster starts with; rule faults and pauses hit these.
pub(crate) const NODES: usize = 3;
/// Faults running at once, at most.
const OVERLAP: usize = 3;
/// Nodes added over a run, at most.
const MAX_ADDS: usize = 4;

/// What runs now, so a new fault keeps the rules.
#[derive(Debug, Default)]
struct Busy {
    availability: bool,
    rules_on: HashSet<usize>,
    added: Vec<usize>,
    adds: usize,
    ddl: u32,
    running: usize,
}

impl Busy {
    /// Reserves what `kind` needs; the node it acts on, or `None` when the rules forbid it now.
    /// `anchor` is never stopped.
    fn claim(&mut self, kind: FaultKind, node: usize, anchor: usize) -> Option<usize> {
        if self.running >= OVERLAP || (kind.is_availability() && self.availability) {
            return None;
        }
        let target = match kind {
            // Stopping leaves a replica behind for good (no repair): never the anchor, and
            // only on the original ring, so the anchor replicates every partition.
            FaultKind::Stop if !self.added.is_empty() => return None,
            FaultKind::Stop if node == anchor => (node + 1) % NODES,
            FaultKind::AddNode if !self.added.is_empty() || self.adds >= MAX_ADDS => return None,
            FaultKind::AddNode => usize::MAX,
            FaultKind::Decommission => self.added.pop()?,
            k if k.is_rule() && self.rules_on.contains(&node) => return None,
            _ => node,
        };
        if kind.is_availability() {
            self.availability = true;
        }
        if kind.is_rule() {
            self.rules_on.insert(target);
        }
        if kind == FaultKind::AddNode {
            self.adds += 1;
        }
        self.running += 1;
        Some(target)
    }

    fn release(&mut self, kind: FaultKind, target: usize) {
        if kind.is_availability() {
            self.availability = false;
        }
        if kind.is_rule() {
            self.rules_on.remove(&target);
        }
        self.running -= 1;
    }
}

/// The fault schedule of one run.
#[derive(Debug)]
pub(crate) struct Chaos {
    cluster: Arc<SimCluster>,
    workload: Arc<Workload>,
    enabled: Vec<FaultKind>,
    /// The node never stopped.
    anchor: usize,
    busy: Mutex<Busy>,
    injected: Mutex<BTreeMap<&'static str, u64>>,
}

impl Chaos {
    /// A schedule of the `enabled` faults; `anchor` is never stopped.
    pub(crate) fn new(
        cluster: Arc<SimCluster>,
        workload: Arc<Workload>,
        enabled: Vec<FaultKind>,
        anchor: usize,
    ) -> Self {
        Self {
            cluster,
            workload,
            enabled,
            anchor,
            busy: Mutex::new(Busy::default()),
            injected: Mutex::new(BTreeMap::new()),
        }
    }

    /// Injects faults until `until` (each fault ends by then) or the epoch is full, then waits
    /// for them to end.
    pub(crate) async fn run(self: &Arc<Self>, rng: &mut Rng, until: Instant) {
        let mut tasks = tokio::task::JoinSet::new();
        const LONGEST: Duration = Duration::from_millis(4_000);
        while !self.enabled.is_empty() && !self.workload.epoch_full() {
            tokio::time::sleep(rng.millis(200, 1_500)).await;
            if Instant::now() + LONGEST >= until {
                break;
            }
            let kind = self.enabled[rng.below(self.enabled.len() as u64) as usize];
            let node = rng.below(NODES as u64) as usize;
            let duration = rng.millis(300, LONGEST.as_millis() as u64);
            let extra = rng.next_u64();
            let Some(target) = self.claim(kind, node) else {
                continue;
            };
            *lock(&self.injected).entry(kind.name()).or_default() += 1;
            let this = Arc::clone(self);
            tasks.spawn(async move {
                let timeline = &this.workload.stats.timeline;
                let span =
                    timeline.fault_started(kind.name(), (target < usize::MAX).then_some(target));
                this.apply(kind, target, duration, extra).await;
                timeline.fault_ended(span);
                this.release(kind, target);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    /// How many faults of each kind were injected.
    pub(crate) fn injected(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.injected).clone()
    }

    fn claim(&self, kind: FaultKind, node: usize) -> Option<usize> {
        lock(&self.busy).claim(kind, node, self.anchor)
    }

    fn release(&self, kind: FaultKind, target: usize) {
        lock(&self.busy).release(kind, target);
    }

    async fn apply(&self, kind: FaultKind, target: usize, duration: Duration, extra: u64) {
        tracing::info!(fault = kind.name(), target, ?duration, "fault");
        let node = (target < usize::MAX)
            .then(|| self.cluster.try_node(target))
            .flatten();
        let recovery = &self.workload.recovery;
        let rule = |action: FaultAction, times: Option<usize>| FaultRule {
            remaining: times,
            ..FaultRule::always(RequestMatcher::AnyStatement, action)
        };
        let storm = |h: NodeHandle, error, only: Option<&'static str>| async move {
            let matcher = only.map_or(RequestMatcher::AnyStatement, |text| {
                RequestMatcher::QueryContains(text.to_owned())
            });
            h.add_fault(FaultRule::always(matcher, FaultAction::Error(error)));
            tokio::time::sleep(duration).await;
            h.clear_faults();
            recovery.fault_ended(h.ip(), kind.name());
        };
        let q = Consistency::QUORUM;
        match (kind, node) {
            (FaultKind::Stop, Some(h)) => {
                h.stop();
                tokio::time::sleep(duration).await;
                if let Err(e) = h.start().await {
                    tracing::error!(node = target, "restarting a stopped node failed: {e}");
                }
                recovery.fault_ended(h.ip(), kind.name());
            }
            (FaultKind::Pause, Some(h)) => {
                h.pause();
                tokio::time::sleep(duration).await;
                h.resume();
                recovery.fault_ended(h.ip(), kind.name());
            }
            (FaultKind::Cut | FaultKind::Malformed, Some(h)) => {
                let action = if kind == FaultKind::Cut {
                    FaultAction::CloseMidFrame
                } else {
                    FaultAction::MalformedFrame
                };
                h.add_fault(rule(action, Some(1 + (extra % 3) as usize)));
                tokio::time::sleep(duration).await;
                h.clear_faults();
                recovery.fault_ended(h.ip(), kind.name());
            }
            (FaultKind::Overloaded, Some(h)) => storm(h, faults::overloaded(), None).await,
            (FaultKind::Unavailable, Some(h)) => storm(h, faults::unavailable(q, 2, 1), None).await,
            (FaultKind::ReadTimeout, Some(h)) => {
                storm(h, faults::read_timeout(q, 1, 2, false), Some("SELECT")).await;
            }
            (FaultKind::WriteTimeout, Some(h)) => {
                storm(
                    h,
                    faults::write_timeout(q, 1, 2, WriteType::Simple),
                    Some("INSERT"),
                )
                .await;
            }
            (FaultKind::Delay, Some(h)) => {
                h.set_delay(Some(Duration::from_millis(50 + extra % 750)));
                tokio::time::sleep(duration).await;
                h.clear_faults();
                recovery.fault_ended(h.ip(), kind.name());
            }
            (FaultKind::AddNode, _) => match self.cluster.add_node(None).await {
                Ok(h) => {
                    lock(&self.busy).added.push(h.index());
                    recovery.fault_ended(h.ip(), kind.name());
                    // The new node joins the ring for the rest of this fault's time.
                    tokio::time::sleep(duration).await;
                }
                Err(e) => tracing::error!("adding a node failed: {e}"),
            },
            (FaultKind::Decommission, _) => {
                if let Err(e) = self.cluster.decommission(target) {
                    tracing::error!(node = target, "decommissioning failed: {e}");
                }
                tokio::time::sleep(duration).await;
            }
            (FaultKind::Schema, _) => self.schema_change(extra).await,
            (_, None) => tracing::error!(node = target, "no such node"),
        }
    }

    async fn schema_change(&self, extra: u64) {
        let n = {
            let mut busy = lock(&self.busy);
            busy.ddl += 1;
            busy.ddl
        };
        let ddl = if extra.is_multiple_of(2) {
            format!("ALTER TABLE soak.kv ADD x{n} int")
        } else {
            format!("CREATE TABLE soak.t{n} (k bigint PRIMARY KEY, v int)")
        };
        let session = &self.workload.session;
        // DDL waits for schema agreement (bounded by the session's agreement timeout).
        let watchdog = Duration::from_secs(20);
        let _ = self
            .workload
            .stats
            .track(Kind::Ddl, watchdog, async {
                session
                    .query_unpaged(ddl, ())
                    .await
                    .map(drop)
                    .map_err(|e| Failure::from(execution_cause(&e)))
            })
            .await;
    }

    /// Ends every fault: starts and resumes every node, clears every rule, decommissions an
    /// added node.
    pub(crate) async fn restore(&self) {
        for h in self.cluster.nodes() {
            h.resume();
            h.clear_faults();
            if let Err(e) = h.start().await {
                tracing::error!(node = h.index(), "restarting a node failed: {e}");
            }
        }
        let added = std::mem::take(&mut lock(&self.busy).added);
        for i in added {
            if let Err(e) = self.cluster.decommission(i) {
                tracing::error!(node = i, "decommissioning failed: {e}");
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node_at_a_time_is_out_and_the_anchor_is_never_stopped() {
        let mut busy = Busy::default();
        assert_eq!(busy.claim(FaultKind::Stop, 0, 0), Some(1), "not the anchor");
        assert_eq!(
            busy.claim(FaultKind::Pause, 2, 0),
            None,
            "a node is already out"
        );
        assert_eq!(busy.claim(FaultKind::AddNode, 2, 0), None);
        busy.release(FaultKind::Stop, 1);
        assert_eq!(busy.claim(FaultKind::Pause, 2, 0), Some(2));
        busy.release(FaultKind::Pause, 2);
        assert!(busy.claim(FaultKind::AddNode, 0, 0).is_some());
        busy.release(FaultKind::AddNode, usize::MAX);
        busy.added.push(3);
        assert_eq!(
            busy.claim(FaultKind::Stop, 2, 0),
            None,
            "not while a node was added"
        );
        assert_eq!(busy.claim(FaultKind::Decommission, 0, 0), Some(3));
    }

    #[test]
    fn rules_on_one_node_do_not_overlap_and_at_most_three_faults_run() {
        let mut busy = Busy::default();
        assert_eq!(busy.claim(FaultKind::Overloaded, 1, 0), Some(1));
        assert_eq!(
            busy.claim(FaultKind::Delay, 1, 0),
            None,
            "ending one clears both"
        );
        assert_eq!(busy.claim(FaultKind::Delay, 2, 0), Some(2));
        assert_eq!(busy.claim(FaultKind::Schema, 0, 0), Some(0));
        assert_eq!(busy.claim(FaultKind::Cut, 0, 0), None, "three already run");
        busy.release(FaultKind::Overloaded, 1);
        assert_eq!(busy.claim(FaultKind::Cut, 1, 0), Some(1));
    }
}
