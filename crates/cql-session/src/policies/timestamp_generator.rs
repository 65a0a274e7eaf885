//! Client-side write timestamps: the session asks a [`TimestampGenerator`] for the timestamp
//! of every statement and batch that has none of its own, and sends it as the request's default
//! timestamp, so the order of a client's writes does not depend on the coordinators' clocks. Set
//! one with [`SessionBuilder::timestamp_generator`](crate::SessionBuilder::timestamp_generator).

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Produces write timestamps (microseconds since the Unix epoch).
pub trait TimestampGenerator: Send + Sync {
    /// The timestamp of the next request.
    fn next_timestamp(&self) -> i64;
}

/// The clock a generator reads: wall-clock microseconds (`None` when the clock is before the
/// epoch) and a monotonic instant for rate-limiting warnings. A seam for tests.
trait Clock: Send + Sync {
    fn now_micros(&self) -> Option<i64>;
    fn instant(&self) -> Instant;
}

/// The system clock.
struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> Option<i64> {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        i64::try_from(since.as_micros()).ok()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// When to warn that timestamps run ahead of the clock.
#[derive(Debug, Clone, Copy)]
struct Warnings {
    threshold: Duration,
    interval: Duration,
}

/// Timestamps from the system clock in microseconds, strictly increasing across every thread:
/// when the clock stalls or goes back, each timestamp is the previous one plus one. When the
/// timestamps run more than a threshold ahead of the clock (default 1 s), a warning is logged
/// through `tracing`, at most once per interval (default 1 s).
pub struct MonotonicTimestampGenerator {
    last: AtomicI64,
    last_warning: Mutex<Option<Instant>>,
    warnings: Option<Warnings>,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for MonotonicTimestampGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonotonicTimestampGenerator")
            .field("last", &self.last.load(Ordering::Relaxed))
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Default for MonotonicTimestampGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl MonotonicTimestampGenerator {
    /// A generator on the system clock, warning when it runs 1 s ahead, at most once a second.
    pub fn new() -> Self {
        Self::with_clock(Box::new(SystemClock))
    }

    fn with_clock(clock: Box<dyn Clock>) -> Self {
        Self {
            last: AtomicI64::new(0),
            last_warning: Mutex::new(None),
            warnings: Some(Warnings {
                threshold: Duration::from_secs(1),
                interval: Duration::from_secs(1),
            }),
            clock,
        }
    }

    /// Warns when the timestamps run more than `warning_threshold` ahead of the clock, at most
    /// once per `warning_interval`.
    #[must_use]
    pub fn with_warning_times(
        mut self,
        warning_threshold: Duration,
        warning_interval: Duration,
    ) -> Self {
        self.warnings = Some(Warnings {
            threshold: warning_threshold,
            interval: warning_interval,
        });
        self
    }

    /// Never warns about clock drift.
    #[must_use]
    pub fn without_warnings(mut self) -> Self {
        self.warnings = None;
        self
    }

    /// The timestamp after `last`: the clock, or `last + 1` if the clock is not past it.
    fn compute_next(&self, last: i64) -> i64 {
        let Some(now) = self.clock.now_micros() else {
            tracing::error!(
                "the system clock is before the Unix epoch; write timestamps continue from the \
                 last one generated"
            );
            return last.saturating_add(1);
        };
        if now > last {
            return now;
        }
        if let Some(w) = self.warnings {
            let ahead = last - now;
            let threshold = i64::try_from(w.threshold.as_micros()).unwrap_or(i64::MAX);
            if ahead > threshold && self.warning_due(w.interval) {
                tracing::warn!(
                    ahead_us = ahead,
                    last_timestamp = last,
                    "the clock is {ahead} µs behind the last write timestamp generated; \
                     timestamps are incremented by one to stay monotonic (check the clock)"
                );
            }
        }
        last.saturating_add(1)
    }

    /// Whether a warning may be logged now (one per `interval`); records it if so.
    fn warning_due(&self, interval: Duration) -> bool {
        let Ok(mut last) = self.last_warning.lock() else {
            return false;
        };
        let now = self.clock.instant();
        if last.is_some_and(|t| now.duration_since(t) < interval) {
            return false;
        }
        *last = Some(now);
        true
    }
}

impl TimestampGenerator for MonotonicTimestampGenerator {
    fn next_timestamp(&self) -> i64 {
        let mut last = self.last.load(Ordering::SeqCst);
        loop {
            let next = self.compute_next(last);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next,
                Err(current) => last = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU32;

    use super::*;

    /// A clock the test sets; its instant advances only when told.
    struct FakeClock {
        micros: AtomicI64,
        base: Instant,
        elapsed_ms: AtomicI64,
        reads: AtomicU32,
    }

    impl FakeClock {
        fn new(micros: i64) -> Arc<Self> {
            Arc::new(Self {
                micros: AtomicI64::new(micros),
                base: Instant::now(),
                elapsed_ms: AtomicI64::new(0),
                reads: AtomicU32::new(0),
            })
        }

        fn set(&self, micros: i64) {
            self.micros.store(micros, Ordering::SeqCst);
        }
    }

    impl Clock for Arc<FakeClock> {
        fn now_micros(&self) -> Option<i64> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let m = self.micros.load(Ordering::SeqCst);
            (m >= 0).then_some(m)
        }

        fn instant(&self) -> Instant {
            let ms = self.elapsed_ms.load(Ordering::SeqCst).unsigned_abs();
            self.base + Duration::from_millis(ms)
        }
    }

    fn generator(clock: &Arc<FakeClock>) -> MonotonicTimestampGenerator {
        MonotonicTimestampGenerator::with_clock(Box::new(Arc::clone(clock)))
    }

    #[test]
    fn follows_the_clock_while_it_advances() {
        let clock = FakeClock::new(1_000);
        let g = generator(&clock);
        assert_eq!(g.next_timestamp(), 1_000);
        clock.set(5_000);
        assert_eq!(g.next_timestamp(), 5_000);
    }

    #[test]
    fn a_stalled_clock_still_gives_strictly_increasing_timestamps() {
        let clock = FakeClock::new(1_000);
        let g = generator(&clock);
        let ts: Vec<i64> = (0..5).map(|_| g.next_timestamp()).collect();
        assert_eq!(ts, [1_000, 1_001, 1_002, 1_003, 1_004]);
        // Once the clock passes the generated timestamps, it is followed again.
        clock.set(2_000);
        assert_eq!(g.next_timestamp(), 2_000);
    }

    #[test]
    fn a_clock_going_back_does_not_move_timestamps_back() {
        let clock = FakeClock::new(10_000_000);
        let g = generator(&clock).without_warnings();
        assert_eq!(g.next_timestamp(), 10_000_000);
        clock.set(3_000_000);
        assert_eq!(g.next_timestamp(), 10_000_001);
        assert_eq!(g.next_timestamp(), 10_000_002);
        // A clock before the epoch is treated as stalled.
        clock.set(-1);
        assert_eq!(g.next_timestamp(), 10_000_003);
    }

    #[test]
    fn warnings_respect_the_threshold_and_the_interval() {
        let clock = FakeClock::new(5_000_000);
        let g = generator(&clock)
            .with_warning_times(Duration::from_millis(500), Duration::from_secs(1));
        g.next_timestamp();
        // 0.1 s behind: under the threshold, no warning recorded.
        clock.set(4_900_000);
        g.next_timestamp();
        assert!(g.last_warning.lock().expect("lock").is_none());
        // 2 s behind: one warning, then none within the interval.
        clock.set(3_000_000);
        g.next_timestamp();
        let first = g.last_warning.lock().expect("lock").expect("warned");
        clock.elapsed_ms.store(500, Ordering::SeqCst);
        g.next_timestamp();
        assert_eq!(g.last_warning.lock().expect("lock").expect("warned"), first);
        clock.elapsed_ms.store(1_500, Ordering::SeqCst);
        g.next_timestamp();
        assert!(g.last_warning.lock().expect("lock").expect("warned") > first);
    }

    #[test]
    fn timestamps_are_unique_across_threads() {
        let clock = FakeClock::new(1_000);
        let g = Arc::new(generator(&clock).without_warnings());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = Arc::clone(&g);
                std::thread::spawn(move || {
                    (0..1_000).map(|_| g.next_timestamp()).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<i64> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        for per_thread in all.chunks(1_000) {
            assert!(per_thread.windows(2).all(|w| w[0] < w[1]));
        }
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4_000);
        assert!(clock.reads.load(Ordering::SeqCst) >= 4_000);
    }
}
