//! Recovery time after a fault: from the fault's end until a request coordinated by the
//! faulted node succeeds again.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// A fault that ended and whose node has not answered a request successfully since.
#[derive(Debug)]
struct Pending {
    node: IpAddr,
    since: Instant,
    fault: &'static str,
}

/// Faults waiting for their node to serve again, and the recovery times measured.
#[derive(Debug, Default)]
pub(crate) struct Recovery {
    /// How many faults wait: the hot path (every successful request) reads only this.
    waiting: AtomicUsize,
    pending: Mutex<Vec<Pending>>,
    measured: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
}

impl Recovery {
    /// A fault on `node` ended now: wait for the node to serve a request.
    pub(crate) fn fault_ended(&self, node: IpAddr, fault: &'static str) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push(Pending {
            node,
            since: Instant::now(),
            fault,
        });
        self.waiting.store(pending.len(), Ordering::Release);
    }

    /// A request coordinated by `node` succeeded now.
    pub(crate) fn served(&self, node: IpAddr) {
        if self.waiting.load(Ordering::Acquire) == 0 {
            return;
        }
        let now = Instant::now();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut measured = self.measured.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|p| {
            if p.node != node {
                return true;
            }
            measured
                .entry(p.fault)
                .or_default()
                .push(now.saturating_duration_since(p.since));
            false
        });
        self.waiting.store(pending.len(), Ordering::Release);
    }

    /// The recovery times measured, by fault.
    pub(crate) fn measured(&self) -> BTreeMap<&'static str, Vec<Duration>> {
        self.measured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Faults whose node never served again, by fault.
    pub(crate) fn unrecovered(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for p in self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            *out.entry(p.fault).or_default() += 1;
        }
        out
    }
}

/// The `q` quantile (0.0..=1.0) of `samples`, nearest rank.
pub(crate) fn quantile(samples: &[Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn recovery_is_measured_from_the_fault_end_to_the_nodes_next_success() {
        let r = Recovery::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        r.fault_ended(a, "stop");
        tokio::time::sleep(Duration::from_millis(300)).await;
        r.served(b);
        assert_eq!(r.unrecovered().get("stop"), Some(&1));
        tokio::time::sleep(Duration::from_millis(200)).await;
        r.served(a);
        assert!(r.unrecovered().is_empty());
        assert_eq!(r.measured()["stop"], vec![Duration::from_millis(500)]);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&ms, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&ms, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
