//! Speculative execution: when an idempotent request is slow, start another attempt on the next
//! node and take whichever answers first.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use crate::observability::metrics::Metrics;

/// What a speculative execution policy may look at.
#[derive(Debug)]
#[non_exhaustive]
pub struct Context {
    /// The session's metrics (latency percentiles).
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// A context over the session's metrics.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

/// Decides how many extra attempts to race and when to start them.
pub trait SpeculativeExecutionPolicy: Debug + Send + Sync {
    /// The number of extra attempts to start at most.
    fn max_retry_count(&self, context: &Context) -> usize;

    /// How long to wait for an answer before starting the next extra attempt.
    fn retry_interval(&self, context: &Context) -> Duration;
}

/// Starts up to `max_retry_count` extra attempts, one every `retry_interval`.
#[derive(Debug, Clone)]
pub struct SimpleSpeculativeExecutionPolicy {
    /// The number of extra attempts at most.
    pub max_retry_count: usize,
    /// The delay before each extra attempt.
    pub retry_interval: Duration,
}

impl SpeculativeExecutionPolicy for SimpleSpeculativeExecutionPolicy {
    fn max_retry_count(&self, _: &Context) -> usize {
        self.max_retry_count
    }

    fn retry_interval(&self, _: &Context) -> Duration {
        self.retry_interval
    }
}

/// Starts an extra attempt once a request is slower than the given latency percentile of past
/// requests (none until a latency was recorded).
#[derive(Debug, Clone)]
pub struct PercentileSpeculativeExecutionPolicy {
    /// The number of extra attempts at most.
    pub max_retry_count: usize,
    /// The percentile (`0.0..=100.0`) of past latencies after which to start an extra attempt.
    pub percentile: f64,
}

impl SpeculativeExecutionPolicy for PercentileSpeculativeExecutionPolicy {
    fn max_retry_count(&self, context: &Context) -> usize {
        if context.metrics.latency_percentile(self.percentile).is_ok() {
            self.max_retry_count
        } else {
            0
        }
    }

    fn retry_interval(&self, context: &Context) -> Duration {
        context
            .metrics
            .latency_percentile(self.percentile)
            .unwrap_or(Duration::MAX)
    }
}
