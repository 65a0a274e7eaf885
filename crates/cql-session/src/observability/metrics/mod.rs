//! [`Metrics`]: request counters and a latency histogram, updated lock-free.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[cfg(feature = "metrics")]
pub mod export;

/// Sub-buckets per power of two in the latency histogram (relative error ≤ 1/8).
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Latencies are kept in microseconds up to 2^40 µs (about 12 days); longer ones are clamped.
const MAJORS: usize = 41;
const BUCKETS: usize = MAJORS * SUB;

/// Counters and a latency histogram of the session's requests.
///
/// Every update is a relaxed atomic add; reading is consistent per counter, not across them.
#[derive(Debug)]
pub struct Metrics {
    queries: AtomicU64,
    errors: AtomicU64,
    queries_iter: AtomicU64,
    errors_iter: AtomicU64,
    retries: AtomicU64,
    speculative: AtomicU64,
    unresponsive_failovers: AtomicU64,
    throttle_queued: AtomicU64,
    throttle_rejected: AtomicU64,
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    buckets: Box<[AtomicU64]>,
    /// The per-node and per-shard handles of the `metrics` facade.
    #[cfg(feature = "metrics")]
    pub(crate) export: export::Exporter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A latency statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// No latency was recorded yet.
    #[error("no latency was recorded yet")]
    Empty,
    /// A percentile outside `0.0..=100.0` was asked for.
    #[error("percentile {0} is outside 0..=100")]
    BadPercentile(f64),
}

impl Metrics {
    /// Metrics with every counter at zero.
    pub fn new() -> Self {
        Self {
            queries: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            queries_iter: AtomicU64::new(0),
            errors_iter: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            speculative: AtomicU64::new(0),
            unresponsive_failovers: AtomicU64::new(0),
            throttle_queued: AtomicU64::new(0),
            throttle_rejected: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            latency_sum_us: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            #[cfg(feature = "metrics")]
            export: export::Exporter::default(),
        }
    }

    pub(crate) fn inc_queries(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_errors(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_queries_iter(&self) {
        self.queries_iter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_errors_iter(&self) {
        self.errors_iter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_retries(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_unresponsive_failovers(&self) {
        self.unresponsive_failovers.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_throttle_queued(&self) {
        self.throttle_queued.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_throttle_rejected(&self) {
        self.throttle_rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_speculative(&self) {
        self.speculative.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one successful request's latency.
    pub(crate) fn record_latency(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests made (not counting pager pages).
    pub fn get_queries_num(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Requests that failed (not counting pager pages).
    pub fn get_errors_num(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Pages fetched by pagers.
    pub fn get_queries_iter_num(&self) -> u64 {
        self.queries_iter.load(Ordering::Relaxed)
    }

    /// Page fetches that failed.
    pub fn get_errors_iter_num(&self) -> u64 {
        self.errors_iter.load(Ordering::Relaxed)
    }

    /// Retries made by retry policies.
    pub fn get_retries_num(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Speculative attempts started.
    pub fn get_speculative_executions_num(&self) -> u64 {
        self.speculative.load(Ordering::Relaxed)
    }

    /// Idempotent attempts moved off a node that stopped answering (see
    /// `SessionBuilder::unresponsive_node_after`). An extension over the `scylla` crate.
    pub fn get_unresponsive_failovers_num(&self) -> u64 {
        self.unresponsive_failovers.load(Ordering::Relaxed)
    }

    /// Requests that waited in the queue of the session's request throttler (see
    /// `SessionBuilder::request_throttler`) before they started, ran out of time, or were
    /// dropped. An extension over the `scylla` crate.
    pub fn get_throttled_num(&self) -> u64 {
        self.throttle_queued.load(Ordering::Relaxed)
    }

    /// Requests the session's request throttler refused because its queue was full
    /// (`ExecutionError::Throttled`). An extension over the `scylla` crate.
    pub fn get_throttle_rejected_num(&self) -> u64 {
        self.throttle_rejected.load(Ordering::Relaxed)
    }

    /// The mean latency of successful requests, in milliseconds.
    pub fn get_latency_avg_ms(&self) -> Result<u64, MetricsError> {
        let n = self.latency_count.load(Ordering::Relaxed);
        if n == 0 {
            return Err(MetricsError::Empty);
        }
        Ok(self.latency_sum_us.load(Ordering::Relaxed) / n / 1000)
    }

    /// A latency percentile (`0.0..=100.0`) of successful requests, in milliseconds (within
    /// 12.5%).
    pub fn get_latency_percentile_ms(&self, percentile: f64) -> Result<u64, MetricsError> {
        Ok(self.latency_percentile(percentile)?.as_millis() as u64)
    }

    /// A latency percentile (`0.0..=100.0`) as a duration (within 12.5%).
    pub fn latency_percentile(&self, percentile: f64) -> Result<Duration, MetricsError> {
        if !(0.0..=100.0).contains(&percentile) {
            return Err(MetricsError::BadPercentile(percentile));
        }
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Err(MetricsError::Empty);
        }
        // The rank of the wanted sample, 1-based.
        let rank = ((percentile / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Ok(Duration::from_micros(bucket_upper(i)));
            }
        }
        Ok(Duration::from_micros(bucket_upper(BUCKETS - 1)))
    }
}

/// The bucket of a latency in microseconds: values below `SUB` get one bucket each; above, each
/// power of two is split into `SUB` equal sub-buckets.
fn bucket_of(us: u64) -> usize {
    if us < SUB as u64 {
        return us as usize;
    }
    let major = 63 - us.leading_zeros(); // >= SUB_BITS
    let sub = (us >> (major - SUB_BITS)) as usize & (SUB - 1);
    let idx = (major - SUB_BITS + 1) as usize * SUB + sub;
    idx.min(BUCKETS - 1)
}

/// The largest latency (µs) that falls into bucket `i`.
fn bucket_upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let major = (i / SUB) as u32 + SUB_BITS - 1;
    let sub = (i % SUB) as u64;
    let width = 1u64 << (major - SUB_BITS);
    (1u64 << major) + (sub + 1) * width - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_bound_their_values() {
        let mut last = 0;
        for us in [
            0u64,
            1,
            7,
            8,
            9,
            15,
            16,
            17,
            100,
            1000,
            12345,
            1 << 30,
            1 << 39,
        ] {
            let b = bucket_of(us);
            assert!(b >= last, "bucket of {us} went down");
            last = b;
            let upper = bucket_upper(b);
            assert!(upper >= us, "upper {upper} < {us}");
            assert!(upper - us <= us / 8 + 1, "bucket of {us} too wide: {upper}");
        }
    }

    #[test]
    fn percentiles_and_average() {
        let m = Metrics::new();
        assert_eq!(m.get_latency_avg_ms(), Err(MetricsError::Empty));
        for ms in 1..=100u64 {
            m.record_latency(Duration::from_millis(ms));
        }
        assert_eq!(m.get_latency_avg_ms(), Ok(50)); // 50.5 ms rounded down
        let p50 = m.get_latency_percentile_ms(50.0).unwrap();
        assert!((50..=57).contains(&p50), "p50 = {p50}");
        let p99 = m.get_latency_percentile_ms(99.0).unwrap();
        assert!((99..=112).contains(&p99), "p99 = {p99}");
        assert_eq!(
            m.get_latency_percentile_ms(101.0),
            Err(MetricsError::BadPercentile(101.0))
        );
    }

    #[test]
    fn counters_count() {
        let m = Metrics::new();
        m.inc_queries();
        m.inc_queries();
        m.inc_errors();
        m.inc_retries();
        m.inc_queries_iter();
        m.inc_errors_iter();
        m.inc_throttle_queued();
        m.inc_throttle_queued();
        m.inc_throttle_rejected();
        assert_eq!(
            (m.get_throttled_num(), m.get_throttle_rejected_num()),
            (2, 1)
        );
        assert_eq!(
            (
                m.get_queries_num(),
                m.get_errors_num(),
                m.get_retries_num(),
                m.get_queries_iter_num(),
                m.get_errors_iter_num()
            ),
            (2, 1, 1, 1, 1)
        );
    }
}
