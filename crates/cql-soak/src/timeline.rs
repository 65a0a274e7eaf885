//! What happened when, on one clock: the faults, the runtime's stalls and the hung requests, so
//! that the report can put each hang next to what was going on while it waited.
//!
//! A stall is a timer that fired late: a ticker asks to wake every [`TICK`] and records how
//! late it woke. Everything in the process (driver, in-process cluster, load) shares the
//! runtime, so a stall delays every deadline at once. A request that completes on its first
//! poll after a stall is not delayed by it beyond the stall itself; one made of several
//! requests in a row (a paged read) can be, which is why each page has its own watchdog.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::stats::Kind;

/// How often the stall ticker asks to wake.
pub(crate) const TICK: Duration = Duration::from_millis(20);
/// A timer this late counts as a stall.
pub(crate) const STALL: Duration = Duration::from_millis(250);

/// A fault, from its start to its end (`None` while it runs).
#[derive(Debug, Clone)]
pub(crate) struct FaultSpan {
    pub(crate) name: &'static str,
    pub(crate) target: Option<usize>,
    pub(crate) from: Duration,
    pub(crate) to: Option<Duration>,
}

/// A request that outlived its watchdog: when it started and when it was given up.
#[derive(Debug, Clone)]
pub(crate) struct Hang {
    pub(crate) kind: Kind,
    pub(crate) from: Duration,
    pub(crate) to: Duration,
}

/// The run's events, each at its time since the run began.
#[derive(Debug)]
pub(crate) struct Timeline {
    began: Instant,
    faults: Mutex<Vec<FaultSpan>>,
    /// (when the late timer fired, how late).
    stalls: Mutex<Vec<(Duration, Duration)>>,
    hangs: Mutex<Vec<Hang>>,
    /// The latest timer seen, in microseconds.
    max_lag_us: AtomicU64,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            began: Instant::now(),
            faults: Mutex::default(),
            stalls: Mutex::default(),
            hangs: Mutex::default(),
            max_lag_us: AtomicU64::new(0),
        }
    }
}

impl Timeline {
    /// The time since the run began.
    pub(crate) fn now(&self) -> Duration {
        self.began.elapsed()
    }

    /// Records a fault's start; pass the returned index to [`Timeline::fault_ended`].
    pub(crate) fn fault_started(&self, name: &'static str, target: Option<usize>) -> usize {
        let mut faults = lock(&self.faults);
        faults.push(FaultSpan {
            name,
            target,
            from: self.now(),
            to: None,
        });
        faults.len() - 1
    }

    /// Records the end of the fault `index` started.
    pub(crate) fn fault_ended(&self, index: usize) {
        let now = self.now();
        if let Some(f) = lock(&self.faults).get_mut(index) {
            f.to = Some(now);
        }
    }

    /// Records a hung request of `kind` that started at `from` (a [`Timeline::now`] reading).
    pub(crate) fn hung(&self, kind: Kind, from: Duration) {
        let to = self.now();
        lock(&self.hangs).push(Hang { kind, from, to });
    }

    /// Records a timer that fired `lag` late.
    pub(crate) fn late_timer(&self, lag: Duration) {
        let us = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
        self.max_lag_us.fetch_max(us, Ordering::Relaxed);
        if lag >= STALL {
            let at = self.now();
            lock(&self.stalls).push((at, lag));
        }
    }

    /// Wakes every [`TICK`] until the runtime shuts down, recording how late each wake-up was.
    pub(crate) async fn watch_stalls(&self) {
        let mut expected = Instant::now() + TICK;
        loop {
            tokio::time::sleep_until(expected).await;
            let now = Instant::now();
            self.late_timer(now.saturating_duration_since(expected));
            expected = now + TICK;
        }
    }

    /// The latest any ticker wake-up was.
    pub(crate) fn max_lag(&self) -> Duration {
        Duration::from_micros(self.max_lag_us.load(Ordering::Relaxed))
    }

    /// Every stall: (when, how long).
    pub(crate) fn stalls(&self) -> Vec<(Duration, Duration)> {
        lock(&self.stalls).clone()
    }

    /// Every hang.
    pub(crate) fn hangs(&self) -> Vec<Hang> {
        lock(&self.hangs).clone()
    }

    /// The faults that ran at some time in `from..=to`.
    pub(crate) fn faults_during(&self, from: Duration, to: Duration) -> Vec<FaultSpan> {
        lock(&self.faults)
            .iter()
            .filter(|f| f.from <= to && f.to.is_none_or(|end| end >= from))
            .cloned()
            .collect()
    }

    /// The stalls that overlap `from..=to`: a stall seen at `at` (when the late timer fired)
    /// lasted from `at - lag` to `at`.
    pub(crate) fn stalls_during(&self, from: Duration, to: Duration) -> Vec<(Duration, Duration)> {
        lock(&self.stalls)
            .iter()
            .filter(|(at, lag)| *at >= from && at.saturating_sub(*lag) <= to)
            .copied()
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hang_is_put_next_to_the_faults_and_stalls_around_it() {
        let t = Timeline::default();
        let early = t.fault_started("pause", Some(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        t.fault_ended(early);
        tokio::time::advance(Duration::from_secs(1)).await;
        let during = t.fault_started("add-node", None);
        let hang_from = t.now();
        tokio::time::advance(Duration::from_secs(2)).await;
        t.late_timer(Duration::from_millis(1_500));
        t.late_timer(Duration::from_millis(10));
        t.hung(Kind::Page, hang_from);
        t.fault_ended(during);

        let [hang] = t.hangs().try_into().expect("one hang");
        let faults: Vec<_> = t
            .faults_during(hang.from, hang.to)
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(
            faults,
            ["add-node"],
            "the pause ended before the hang began"
        );
        let stalls = t.stalls_during(hang.from, hang.to);
        assert_eq!(
            stalls,
            [(Duration::from_secs(4), Duration::from_millis(1_500))]
        );
        assert_eq!(t.max_lag(), Duration::from_millis(1_500));
        assert_eq!(t.stalls().len(), 1, "a 10 ms late timer is no stall");
    }
}
