//! Latency awareness for [`DefaultPolicy`](super::DefaultPolicy): nodes whose recent average
//! latency falls far behind the fastest node's are penalised, that is put at the very end of
//! every plan, for a while.
//!
//! Each node's average is time-weighted: a measurement taken `dt` after the previous one keeps
//! `exp(-dt / scale)` of the old average, so the average describes roughly the last `scale` of
//! time whatever the request rate. Every `update_rate` (checked lazily by the plans, no task)
//! the fastest average among nodes with enough fresh measurements is found, and every node
//! whose average exceeds `exclusion_threshold` times it is penalised for `retry_period`. A
//! penalised node gets almost no requests, so its average goes stale; once stale (no
//! measurement for `retry_period`) it starts over, needing `minimum_measurements` new ones
//! before it can be penalised again. This gives it the second chance the option's name says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

/// Configures latency awareness, for
/// [`DefaultPolicyBuilder::latency_awareness`](super::DefaultPolicyBuilder::latency_awareness).
///
/// The defaults are the drivers' usual ones: threshold 2.0, scale 100 ms, retry period 10 s,
/// update rate 100 ms, 50 measurements. As the `scylla` crate warns, preferring a fast
/// non-replica to a slow replica may make latencies and throughput worse: measure first.
#[derive(Debug, Clone)]
pub struct LatencyAwarenessBuilder {
    exclusion_threshold: f64,
    update_rate: Duration,
    retry_period: Duration,
    scale: Duration,
    minimum_measurements: usize,
}

impl Default for LatencyAwarenessBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyAwarenessBuilder {
    /// The defaults (see the type's docs).
    pub fn new() -> Self {
        Self {
            exclusion_threshold: 2.0,
            update_rate: Duration::from_millis(100),
            retry_period: Duration::from_secs(10),
            scale: Duration::from_millis(100),
            minimum_measurements: 50,
        }
    }

    /// How many times the fastest node's average latency a node's may be before it is
    /// penalised (default 2.0; values below 1.0 are taken as 1.0).
    #[must_use]
    pub fn exclusion_threshold(mut self, threshold: f64) -> Self {
        self.exclusion_threshold = if threshold.is_finite() {
            threshold.max(1.0)
        } else {
            2.0
        };
        self
    }

    /// How often the fastest average is found again and the penalised nodes chosen
    /// (default 100 ms).
    #[must_use]
    pub fn update_rate(mut self, rate: Duration) -> Self {
        self.update_rate = rate;
        self
    }

    /// How long a penalised node stays at the end of the plans before it gets another chance
    /// (default 10 s).
    #[must_use]
    pub fn retry_period(mut self, period: Duration) -> Self {
        self.retry_period = period;
        self
    }

    /// The weight of older measurements: a bigger scale remembers longer (default 100 ms).
    #[must_use]
    pub fn scale(mut self, scale: Duration) -> Self {
        self.scale = scale.max(Duration::from_micros(1));
        self
    }

    /// How many measurements a node needs before its average counts (default 50).
    #[must_use]
    pub fn minimum_measurements(mut self, n: usize) -> Self {
        self.minimum_measurements = n.max(1);
        self
    }

    pub(super) fn build(self) -> LatencyAwareness {
        LatencyAwareness {
            config: self,
            measured: Mutex::new(HashMap::new()),
            penalised: ArcSwap::from_pointee(Vec::new()),
            updated: Mutex::new(None),
        }
    }
}

/// One node's measurements.
#[derive(Debug, Clone, Copy)]
struct Measured {
    /// The time-weighted average latency, in seconds.
    average: f64,
    count: usize,
    last: Instant,
}

/// The state of latency awareness in one policy.
#[derive(Debug)]
pub(super) struct LatencyAwareness {
    config: LatencyAwarenessBuilder,
    measured: Mutex<HashMap<SocketAddr, Measured>>,
    /// The penalised nodes and until when, as the last update chose them.
    penalised: ArcSwap<Vec<(SocketAddr, Instant)>>,
    /// When the penalised nodes were last chosen.
    updated: Mutex<Option<Instant>>,
}

/// The nodes a plan treats as penalised, read once per plan.
pub(super) type Penalised = Arc<Vec<(SocketAddr, Instant)>>;

impl LatencyAwareness {
    /// Records a successful attempt's latency on `node`.
    pub(super) fn record(&self, node: SocketAddr, latency: Duration) {
        self.record_at(node, latency, Instant::now());
    }

    fn record_at(&self, node: SocketAddr, latency: Duration, now: Instant) {
        let x = latency.as_secs_f64();
        let mut measured = self.measured.lock().unwrap_or_else(|e| e.into_inner());
        let m = measured.entry(node).or_insert(Measured {
            average: x,
            count: 0,
            last: now,
        });
        let since = now.saturating_duration_since(m.last);
        if since >= self.config.retry_period {
            // Stale: the node starts over.
            *m = Measured {
                average: x,
                count: 0,
                last: now,
            };
        } else {
            let keep = (-since.as_secs_f64() / self.config.scale.as_secs_f64()).exp();
            m.average = keep * m.average + (1.0 - keep) * x;
        }
        m.count += 1;
        m.last = now;
    }

    /// The penalised nodes for a new plan, choosing them again first when `update_rate` has
    /// passed since the last time.
    pub(super) fn penalised(&self) -> Penalised {
        self.penalised_at(Instant::now())
    }

    fn penalised_at(&self, now: Instant) -> Penalised {
        // One plan updates at a time; the others use the current set meanwhile.
        if let Ok(mut updated) = self.updated.try_lock()
            && updated.is_none_or(|at| now.saturating_duration_since(at) >= self.config.update_rate)
        {
            *updated = Some(now);
            self.update(now);
        }
        self.penalised.load_full()
    }

    /// Chooses the penalised nodes: those already penalised whose period has not ended, and
    /// those whose fresh average exceeds the threshold times the fastest fresh average.
    fn update(&self, now: Instant) {
        let c = &self.config;
        let fresh: Vec<(SocketAddr, f64)> = {
            let measured = self.measured.lock().unwrap_or_else(|e| e.into_inner());
            measured
                .iter()
                .filter(|(_, m)| {
                    m.count >= c.minimum_measurements
                        && now.saturating_duration_since(m.last) < c.retry_period
                })
                .map(|(a, m)| (*a, m.average))
                .collect()
        };
        let fastest = fresh
            .iter()
            .map(|&(_, avg)| avg)
            .fold(f64::INFINITY, f64::min);
        let old = self.penalised.load();
        let mut penalised: Vec<(SocketAddr, Instant)> = old
            .iter()
            .copied()
            .filter(|&(_, until)| until > now)
            .collect();
        for (addr, avg) in fresh {
            if avg > c.exclusion_threshold * fastest && !penalised.iter().any(|(a, _)| *a == addr) {
                tracing::debug!(node = %addr, average = ?Duration::from_secs_f64(avg),
                    fastest = ?Duration::from_secs_f64(fastest), "penalising a slow node");
                penalised.push((addr, now + c.retry_period));
            }
        }
        if penalised.as_slice() != old.as_slice() {
            self.penalised.store(Arc::new(penalised));
        }
    }
}

/// Whether `node` is in `penalised`.
pub(super) fn is_penalised(penalised: &[(SocketAddr, Instant)], node: SocketAddr) -> bool {
    penalised.iter().any(|(a, _)| *a == node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, i], 9042))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` measurements of `latency` on each node, one per millisecond, from `t`.
    fn feed(la: &LatencyAwareness, t: Instant, nodes: &[(u8, u64)], n: u64) -> Instant {
        for i in 0..n {
            for &(node, latency) in nodes {
                la.record_at(addr(node), ms(latency), t + ms(i));
            }
        }
        t + ms(n)
    }

    #[test]
    fn a_node_far_slower_than_the_fastest_is_penalised_for_the_retry_period() {
        let la = LatencyAwarenessBuilder::new().build();
        let t0 = Instant::now();
        let t = feed(&la, t0, &[(1, 2), (2, 3), (3, 10)], 100);
        let p = la.penalised_at(t);
        assert!(is_penalised(&p, addr(3)), "10 ms against 2 ms: over 2x");
        assert!(!is_penalised(&p, addr(2)), "3 ms against 2 ms: within 2x");
        assert!(!is_penalised(&p, addr(1)));

        // Still penalised within the period, though it is not measured any more.
        let later = feed(&la, t, &[(1, 2), (2, 3)], 5_000);
        assert!(is_penalised(&la.penalised_at(later), addr(3)));
        // After the retry period it gets its chance back, and its stale average is dropped.
        let after = t + Duration::from_secs(10) + ms(1);
        let after = feed(&la, after, &[(1, 2), (2, 3)], 1);
        assert!(!is_penalised(&la.penalised_at(after), addr(3)));
        // It needs the minimum of new measurements before it can be penalised again.
        let t = feed(&la, after, &[(1, 2), (3, 10)], 10);
        assert!(!is_penalised(&la.penalised_at(t + ms(200)), addr(3)));
        let t = feed(&la, t, &[(1, 2), (3, 10)], 60);
        assert!(is_penalised(&la.penalised_at(t + ms(400)), addr(3)));
    }

    #[test]
    fn nothing_is_penalised_without_enough_measurements_or_before_the_update_rate() {
        let la = LatencyAwarenessBuilder::new()
            .update_rate(Duration::from_secs(1))
            .build();
        let t0 = Instant::now();
        let t = feed(&la, t0, &[(1, 1), (2, 50)], 10);
        assert!(la.penalised_at(t).is_empty(), "10 measurements of 50");
        let t = feed(&la, t, &[(1, 1), (2, 50)], 100);
        assert!(
            la.penalised_at(t).is_empty(),
            "the last update was under a second ago"
        );
        assert!(is_penalised(
            &la.penalised_at(t0 + Duration::from_secs(2)),
            addr(2)
        ));
    }

    #[test]
    fn the_average_follows_recent_latency_at_the_scale() {
        let la = LatencyAwarenessBuilder::new().build();
        let t0 = Instant::now();
        // A slow start, then fast for ten scales: the average forgets the slow start.
        let t = feed(&la, t0, &[(1, 50)], 100);
        feed(&la, t, &[(1, 1)], 1_000);
        let avg = la.measured.lock().unwrap()[&addr(1)].average;
        assert!((avg - 0.001).abs() < 0.000_1, "average {avg}");
    }
}
