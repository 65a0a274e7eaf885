//! Metrics per node and per shard through the [`metrics`] facade (feature `metrics`), so any
//! exporter (Prometheus, StatsD, OpenTelemetry, ...) installed as the process's recorder shows
//! them. Install the recorder before building the session: handles are taken from the recorder
//! installed when a node and shard are first seen.
//!
//! Per node (`node`: its address) and shard (`shard`: the shard number, `none` without one),
//! updated on every attempt:
//! - `cql_requests_total` (counter): attempts sent to the node's shard;
//! - `cql_request_errors_total` (counter, also labelled `kind`: the server's error code name
//!   such as `OVERLOADED`, or `timeout`, `broken_connection`, `not_sent`, ...);
//! - `cql_request_timeouts_total` (counter): attempts that hit their timeout;
//! - `cql_request_duration_seconds` (histogram): each attempt's latency.
//!
//! Sampled every [`SAMPLE_INTERVAL`] from the pools:
//! - per node and shard: `cql_in_flight_requests` and `cql_orphaned_streams` (gauges);
//! - per node: `cql_open_connections` (gauge);
//! - per session (the [`Metrics`] counters, as absolute counters):
//!   `cql_session_requests_total`, `cql_session_errors_total`, `cql_retries_total`,
//!   `cql_speculative_executions_total`, `cql_unresponsive_failovers_total`,
//!   `cql_throttled_total`, `cql_throttle_rejected_total`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use metrics::{Counter, Histogram};
use transport::state::ClusterState;

use super::Metrics;
use crate::errors::RequestAttemptError;

/// How often the gauges and the session counters are sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// The metric handles of one node's shard.
struct TargetHandles {
    node: String,
    shard: String,
    requests: Counter,
    timeouts: Counter,
    duration: Histogram,
}

/// The handles of each node's shards, by node address and shard.
type Targets = HashMap<(SocketAddr, Option<u32>), Arc<TargetHandles>>;

/// The handles of every node and shard seen so far.
#[derive(Default)]
pub(crate) struct Exporter {
    targets: RwLock<Targets>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets = self.targets.read().map_or(0, |t| t.len());
        f.debug_struct("Exporter")
            .field("targets", &targets)
            .finish()
    }
}

fn shard_label(shard: Option<u32>) -> String {
    shard.map_or_else(|| "none".to_owned(), |s| s.to_string())
}

impl Exporter {
    fn handles(&self, node: SocketAddr, shard: Option<u32>) -> Option<Arc<TargetHandles>> {
        if let Some(h) = self.targets.read().ok()?.get(&(node, shard)) {
            return Some(Arc::clone(h));
        }
        let mut targets = self.targets.write().ok()?;
        let h = targets.entry((node, shard)).or_insert_with(|| {
            let (n, s) = (node.to_string(), shard_label(shard));
            Arc::new(TargetHandles {
                requests: metrics::counter!("cql_requests_total", "node" => n.clone(), "shard" => s.clone()),
                timeouts: metrics::counter!("cql_request_timeouts_total", "node" => n.clone(), "shard" => s.clone()),
                duration: metrics::histogram!("cql_request_duration_seconds", "node" => n.clone(), "shard" => s.clone()),
                node: n,
                shard: s,
            })
        });
        Some(Arc::clone(h))
    }

    /// Counts one attempt on `node`'s `shard`, and its error.
    pub(crate) fn attempt(
        &self,
        node: SocketAddr,
        shard: Option<u32>,
        latency: Duration,
        error: Option<&RequestAttemptError>,
    ) {
        let Some(h) = self.handles(node, shard) else {
            return;
        };
        h.requests.increment(1);
        h.duration.record(latency.as_secs_f64());
        if let Some(e) = error {
            if matches!(e, RequestAttemptError::Timeout(_)) {
                h.timeouts.increment(1);
            }
            // Errors are rare: the labelled counter is looked up each time.
            metrics::counter!(
                "cql_request_errors_total",
                "node" => h.node.clone(),
                "shard" => h.shard.clone(),
                "kind" => crate::observability::spans::attempt_error_type(e),
            )
            .increment(1);
        }
    }
}

/// Samples the pools' gauges and the session counters.
pub(crate) fn sample(state: &ClusterState, m: &Metrics) {
    for node in state.nodes() {
        let Some(pool) = node.pool() else { continue };
        let n = node.address.to_string();
        metrics::gauge!("cql_open_connections", "node" => n.clone())
            .set(pool.connection_count() as f64);
        let mut per_shard: HashMap<Option<u32>, (usize, usize)> = HashMap::new();
        for c in pool.connections() {
            let e = per_shard.entry(c.shard()).or_default();
            e.0 += c.in_flight();
            e.1 += c.orphans();
        }
        for (shard, (in_flight, orphans)) in per_shard {
            let s = shard_label(shard);
            metrics::gauge!("cql_in_flight_requests", "node" => n.clone(), "shard" => s.clone())
                .set(in_flight as f64);
            metrics::gauge!("cql_orphaned_streams", "node" => n.clone(), "shard" => s)
                .set(orphans as f64);
        }
    }
    metrics::counter!("cql_session_requests_total").absolute(m.get_queries_num());
    metrics::counter!("cql_session_errors_total").absolute(m.get_errors_num());
    metrics::counter!("cql_retries_total").absolute(m.get_retries_num());
    metrics::counter!("cql_speculative_executions_total")
        .absolute(m.get_speculative_executions_num());
    metrics::counter!("cql_unresponsive_failovers_total")
        .absolute(m.get_unresponsive_failovers_num());
    metrics::counter!("cql_throttled_total").absolute(m.get_throttled_num());
    metrics::counter!("cql_throttle_rejected_total").absolute(m.get_throttle_rejected_num());
}
