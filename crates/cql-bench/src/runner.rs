//! The closed-loop harness for the session drivers: `concurrency` tasks, each sending one request
//! at a time, until `requests` are done or the time cap passes.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

/// A driver under test, connected and with its statements prepared.
pub(crate) trait Driver: Send + Sync + 'static {
    /// Runs unprepared statements one after another (schema and data setup).
    fn setup(&self, statements: &[String]) -> impl Future<Output = Result<()>> + Send;
    /// Sends request number `i` of the workload and consumes its result.
    fn request(&self, i: u64) -> impl Future<Output = Result<()>> + Send;
}

/// What one measured phase produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Requests answered successfully.
    pub(crate) ok: u64,
    /// Requests that failed.
    pub(crate) errors: u64,
    /// The first failure, as text.
    pub(crate) first_error: Option<String>,
    /// Latencies of the successful requests, nanoseconds, sorted.
    pub(crate) latencies_ns: Vec<u64>,
    /// Wall time of the phase.
    pub(crate) elapsed: Duration,
}

struct Shared {
    next: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
    /// One slot per request index; 0 = not done or failed. Preallocated so that recording a
    /// latency never allocates inside the measured phase.
    latencies: Vec<AtomicU64>,
}

/// Preallocated state for one phase of `requests` requests.
pub(crate) struct Phase {
    shared: Arc<Shared>,
}

impl Phase {
    /// Allocates the latency slots (before any counter snapshot).
    pub(crate) fn new(requests: u64) -> Self {
        let latencies = (0..requests).map(|_| AtomicU64::new(0)).collect();
        Self {
            shared: Arc::new(Shared {
                next: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                first_error: std::sync::Mutex::new(None),
                latencies,
            }),
        }
    }

    /// Runs the phase with `concurrency` tasks on `driver`, numbering requests from `offset`.
    pub(crate) async fn run<D: Driver>(
        self,
        driver: &Arc<D>,
        concurrency: usize,
        offset: u64,
        cap: Duration,
    ) -> Result<Outcome> {
        let started = Instant::now();
        let deadline = started + cap;
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let shared = Arc::clone(&self.shared);
            let driver = Arc::clone(driver);
            tasks.push(tokio::spawn(async move {
                let total = shared.latencies.len() as u64;
                loop {
                    let idx = shared.next.fetch_add(1, Ordering::Relaxed);
                    if idx >= total || Instant::now() >= deadline {
                        break;
                    }
                    let t0 = Instant::now();
                    match driver.request(offset + idx).await {
                        Ok(()) => {
                            let ns = t0.elapsed().as_nanos().max(1) as u64;
                            shared.latencies[idx as usize].store(ns, Ordering::Relaxed);
                        }
                        Err(e) => {
                            if shared.errors.fetch_add(1, Ordering::Relaxed) == 0
                                && let Ok(mut first) = shared.first_error.lock()
                            {
                                *first = Some(format!("{e:#}"));
                            }
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let elapsed = started.elapsed();
        let shared = &self.shared;
        let mut latencies_ns: Vec<u64> = shared
            .latencies
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .filter(|&v| v != 0)
            .collect();
        latencies_ns.sort_unstable();
        let first_error = shared.first_error.lock().ok().and_then(|g| g.clone());
        Ok(Outcome {
            ok: latencies_ns.len() as u64,
            errors: shared.errors.load(Ordering::Relaxed),
            first_error,
            latencies_ns,
            elapsed,
        })
    }
}

/// The `q`-quantile of sorted values (0 when empty).
pub(crate) fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_picks_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 0.999), 100);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.999), 7);
    }
}
