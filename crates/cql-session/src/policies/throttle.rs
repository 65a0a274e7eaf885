//! Request throttlers, as the Java driver's: a session-wide bound on the requests that run at
//! once ([`ConcurrencyLimitingThrottler`]) or start per second ([`RateLimitingThrottler`]),
//! behind the small [`RequestThrottler`] trait. Set one with
//! [`SessionBuilder::request_throttler`](crate::SessionBuilder::request_throttler); a session
//! has none by default, and then pays one branch per request.
//!
//! A throttler admits each user request once, before its first attempt: retries and
//! speculative attempts of an admitted request are not throttled again. Each page a pager
//! fetches is a request of its own, and so is preparing a statement (`Session::prepare`, each
//! statement of `Session::prepare_batch`, and the statements a batch or a query with values
//! prepares first), as in the Java driver: a prepare holds one permit while it prepares on
//! every node. A request waits in the throttler's queue within its request timeout (a request
//! that runs out of time there fails with `ExecutionError::RequestTimeout` and no attempts, a
//! prepare with `PrepareError::RequestTimeout`), and one that would overflow the queue fails at
//! once with [`ThrottleError`] (`ExecutionError::Throttled`, `PrepareError::Throttled`). The
//! session gives the permit back exactly once whatever ends the request: success, error,
//! timeout, or the caller dropping its future.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::num::NonZeroUsize;
//! use std::sync::Arc;
//!
//! use cql_session::SessionBuilder;
//! use cql_session::policies::throttle::ConcurrencyLimitingThrottler;
//!
//! let limit = NonZeroUsize::new(1024).ok_or("zero")?;
//! let session = SessionBuilder::new()
//!     .known_node("127.0.0.1:9042")
//!     .request_throttler(Arc::new(ConcurrencyLimitingThrottler::new(limit, 100_000)))
//!     .build()
//!     .await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

pub use crate::errors::ThrottleError;
use crate::observability::metrics::Metrics;

/// The future of [`RequestThrottler::acquire`].
pub type ThrottleFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ThrottleError>> + Send + 'a>>;

/// Decides when a user request may start: at once, after waiting in a queue, or never.
///
/// The session calls [`RequestThrottler::acquire`] once per user request and, when it resolved
/// with `Ok`, [`RequestThrottler::release`] exactly once when the request ends (however it
/// ends). An implementation must give up a queued request's place when its `acquire` future is
/// dropped before it resolves: that is how a timed-out or cancelled request leaves the queue.
pub trait RequestThrottler: fmt::Debug + Send + Sync {
    /// Resolves with `Ok` once the request may start (it then holds one permit), or with
    /// [`ThrottleError`] when it must not.
    fn acquire(&self) -> ThrottleFuture<'_>;

    /// Gives back the permit of a request that [`RequestThrottler::acquire`] admitted.
    fn release(&self);
}

/// A permit of a throttler, held while a request runs; dropping it gives the permit back,
/// once, on every path (success, error, timeout, the caller dropping its future).
pub(crate) struct ThrottlePermit<'a>(&'a dyn RequestThrottler);

impl Drop for ThrottlePermit<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl ThrottlePermit<'_> {
    /// The same permit, owning its throttler: for work that outlives the request's borrow of
    /// it (the PREPAREs still on the wire after `prepare` returned). `throttler` must be the
    /// throttler that gave this permit.
    pub(crate) fn into_owned(self, throttler: Arc<dyn RequestThrottler>) -> OwnedThrottlePermit {
        debug_assert!(std::ptr::addr_eq(Arc::as_ptr(&throttler), self.0));
        std::mem::forget(self);
        OwnedThrottlePermit(throttler)
    }
}

/// A [`ThrottlePermit`] that owns its throttler; dropping it gives the permit back.
pub(crate) struct OwnedThrottlePermit(Arc<dyn RequestThrottler>);

impl Drop for OwnedThrottlePermit {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Why [`admit`] did not admit a request.
#[derive(Debug)]
pub(crate) enum NotAdmitted {
    /// The throttler refused it.
    Refused(ThrottleError),
    /// It waited in the queue for the whole timeout, given here.
    TimedOut(Duration),
}

/// Waits for one of `throttler`'s permits within `timeout`, counting a request that had to
/// wait and one that was refused in `metrics`. Returns the permit and what is left of
/// `timeout`.
pub(crate) async fn admit<'a>(
    throttler: &'a dyn RequestThrottler,
    timeout: Option<Duration>,
    metrics: &Metrics,
) -> Result<(ThrottlePermit<'a>, Option<Duration>), NotAdmitted> {
    let started = Instant::now();
    let mut acquire = throttler.acquire();
    let acquired = match futures::poll!(&mut acquire) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => {
            metrics.inc_throttle_queued();
            match timeout {
                None => acquire.await,
                Some(t) => tokio::time::timeout(t, acquire)
                    .await
                    .map_err(|_| NotAdmitted::TimedOut(t))?,
            }
        }
    };
    if let Err(e) = acquired {
        metrics.inc_throttle_rejected();
        return Err(NotAdmitted::Refused(e));
    }
    let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
    Ok((ThrottlePermit(throttler), left))
}

/// Gives a queued request's place back when its future ends or is dropped.
struct QueueSlot<'a>(&'a AtomicUsize);

impl QueueSlot<'_> {
    /// Takes a place in a queue of at most `max` requests; `Err(queued)` when it is full.
    fn take(queue: &AtomicUsize, max: usize) -> Result<QueueSlot<'_>, usize> {
        let queued = queue.fetch_add(1, Ordering::AcqRel);
        let slot = QueueSlot(queue);
        if queued >= max {
            return Err(queued);
        }
        Ok(slot)
    }
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Lets at most `max_concurrent_requests` requests run at once; up to `max_queue_size` more
/// wait, first come first served, and the rest fail with
/// [`ThrottleError::ConcurrencyLimit`]. The Java driver's `ConcurrencyLimitingRequestThrottler`.
#[derive(Debug)]
pub struct ConcurrencyLimitingThrottler {
    max_concurrent_requests: usize,
    max_queue_size: usize,
    permits: Semaphore,
    queued: AtomicUsize,
}

impl ConcurrencyLimitingThrottler {
    /// A throttler running at most `max_concurrent_requests` requests (capped at
    /// `tokio::sync::Semaphore::MAX_PERMITS`) with at most `max_queue_size` waiting; with a
    /// queue of 0, a request fails at once when the limit is reached.
    pub fn new(max_concurrent_requests: NonZeroUsize, max_queue_size: usize) -> Self {
        let max = max_concurrent_requests.get().min(Semaphore::MAX_PERMITS);
        Self {
            max_concurrent_requests: max,
            max_queue_size,
            permits: Semaphore::new(max),
            queued: AtomicUsize::new(0),
        }
    }

    /// The most requests that run at once.
    pub fn max_concurrent_requests(&self) -> usize {
        self.max_concurrent_requests
    }

    /// The most requests that wait.
    pub fn max_queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// Requests admitted and not yet ended.
    pub fn in_flight(&self) -> usize {
        self.max_concurrent_requests - self.permits.available_permits()
    }

    /// Requests waiting to start.
    pub fn queue_size(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

impl RequestThrottler for ConcurrencyLimitingThrottler {
    fn acquire(&self) -> ThrottleFuture<'_> {
        Box::pin(async move {
            // Free permits go to queued requests first, so this never jumps the queue.
            if let Ok(permit) = self.permits.try_acquire() {
                permit.forget();
                return Ok(());
            }
            let full = |queued| ThrottleError::ConcurrencyLimit {
                max_concurrent_requests: self.max_concurrent_requests,
                queued,
            };
            let _slot = QueueSlot::take(&self.queued, self.max_queue_size).map_err(full)?;
            match self.permits.acquire().await {
                Ok(permit) => {
                    // Given back by `release`, when the session's guard drops.
                    permit.forget();
                    Ok(())
                }
                // The semaphore is never closed.
                Err(_) => Err(full(self.queue_size())),
            }
        })
    }

    fn release(&self) {
        self.permits.add_permits(1);
    }
}

/// Starts at most `max_requests_per_second` requests per second, from a token bucket that
/// holds a burst of [`RateLimitingThrottler::burst`] requests (by default a tenth of a
/// second's worth, at least one) and starts full. Up to `max_queue_size` requests wait, first
/// come first served, and the rest fail with [`ThrottleError::RateLimit`]. Requests are not
/// limited in how long they run. The Java driver's `RateLimitingRequestThrottler`.
#[derive(Debug)]
pub struct RateLimitingThrottler {
    max_requests_per_second: u32,
    max_queue_size: usize,
    burst: u32,
    bucket: Mutex<Bucket>,
    /// The queue: its holder waits for the next token, the others for it (FIFO, and a dropped
    /// waiter leaves without taking a token).
    head: tokio::sync::Mutex<()>,
    queued: AtomicUsize,
}

/// Tokens, refilled at the rate up to the burst on every take.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    /// When the tokens were last counted (`None` until the first request).
    counted: Option<Instant>,
}

impl RateLimitingThrottler {
    /// A throttler starting at most `max_requests_per_second` requests per second, with at
    /// most `max_queue_size` waiting.
    pub fn new(max_requests_per_second: NonZeroU32, max_queue_size: usize) -> Self {
        let rate = max_requests_per_second.get();
        let burst = (rate / 10).max(1);
        Self {
            max_requests_per_second: rate,
            max_queue_size,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(burst),
                counted: None,
            }),
            head: tokio::sync::Mutex::new(()),
            queued: AtomicUsize::new(0),
        }
    }

    /// The same throttler with a bucket of `burst` requests, which may start at once after a
    /// quiet spell (and do, right after it is made).
    #[must_use]
    pub fn with_burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = burst.get();
        self.bucket = Mutex::new(Bucket {
            tokens: f64::from(self.burst),
            counted: None,
        });
        self
    }

    /// The most requests started per second.
    pub fn max_requests_per_second(&self) -> u32 {
        self.max_requests_per_second
    }

    /// The most requests that wait.
    pub fn max_queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// The most requests that start at once after a quiet spell.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Requests waiting to start.
    pub fn queue_size(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Takes a token, or says how long until the next one.
    fn take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        // A poisoned lock only means another thread panicked between two plain float writes.
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let rate = f64::from(self.max_requests_per_second);
        if let Some(counted) = bucket.counted {
            let refill = (now - counted).as_secs_f64() * rate;
            bucket.tokens = (bucket.tokens + refill).min(f64::from(self.burst));
        }
        bucket.counted = Some(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        // At least a microsecond, so a rounding error cannot spin.
        let wait = ((1.0 - bucket.tokens) / rate).max(1e-6);
        Err(Duration::from_secs_f64(wait))
    }
}

impl RequestThrottler for RateLimitingThrottler {
    fn acquire(&self) -> ThrottleFuture<'_> {
        Box::pin(async move {
            if self.queued.load(Ordering::Acquire) == 0 && self.take().is_ok() {
                return Ok(());
            }
            let _slot = QueueSlot::take(&self.queued, self.max_queue_size).map_err(|queued| {
                ThrottleError::RateLimit {
                    max_requests_per_second: self.max_requests_per_second,
                    queued,
                }
            })?;
            let _head = self.head.lock().await;
            // Ends: each sleep lasts until the bucket holds a token again.
            loop {
                match self.take() {
                    Ok(()) => return Ok(()),
                    Err(wait) => tokio::time::sleep(wait).await,
                }
            }
        })
    }

    fn release(&self) {}
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::FutureExt;

    use super::*;

    fn nz(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).expect("non-zero")
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_limit_queues_in_order_and_rejects_beyond_the_queue() {
        let t = Arc::new(ConcurrencyLimitingThrottler::new(nz(2), 2));
        t.acquire().await.expect("first");
        t.acquire().await.expect("second");
        assert_eq!(t.in_flight(), 2);
        let third = tokio::spawn({
            let t = Arc::clone(&t);
            async move { t.acquire().await }
        });
        let fourth = tokio::spawn({
            let t = Arc::clone(&t);
            async move { t.acquire().await }
        });
        tokio::task::yield_now().await;
        assert_eq!(t.queue_size(), 2);
        let fifth = t.acquire().await.expect_err("queue full");
        assert!(
            matches!(
                fifth,
                ThrottleError::ConcurrencyLimit {
                    max_concurrent_requests: 2,
                    queued: 2
                }
            ),
            "{fifth:?}"
        );
        t.release();
        third.await.expect("join").expect("third");
        assert_eq!(t.queue_size(), 1);
        t.release();
        fourth.await.expect("join").expect("fourth");
        assert_eq!((t.in_flight(), t.queue_size()), (2, 0));
        t.release();
        t.release();
        assert_eq!(t.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_leaves_the_queue_and_takes_no_permit() {
        let t = ConcurrencyLimitingThrottler::new(nz(1), 10);
        t.acquire().await.expect("first");
        let mut waiting = t.acquire();
        assert!((&mut waiting).now_or_never().is_none());
        assert_eq!(t.queue_size(), 1);
        drop(waiting);
        assert_eq!(t.queue_size(), 0);
        t.release();
        assert_eq!(t.in_flight(), 0);
        t.acquire().await.expect("the permit is free again");
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_requests_after_the_burst() {
        let rate = NonZeroU32::new(100).expect("non-zero");
        let t = RateLimitingThrottler::new(rate, 1000);
        assert_eq!(t.burst(), 10);
        let start = Instant::now();
        for _ in 0..10 {
            t.acquire().await.expect("burst");
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..50 {
            t.acquire().await.expect("paced");
        }
        // 50 more at 100/s: half a second (tokio's timer rounds each sleep up to a millisecond).
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(495) && took <= Duration::from_millis(560),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_rejects_beyond_the_queue_and_refills_to_the_burst_only() {
        let rate = NonZeroU32::new(10).expect("non-zero");
        let t = RateLimitingThrottler::new(rate, 0).with_burst(NonZeroU32::MIN);
        t.acquire().await.expect("the one token");
        let err = t.acquire().await.expect_err("no queue");
        assert!(
            matches!(
                err,
                ThrottleError::RateLimit {
                    max_requests_per_second: 10,
                    queued: 0
                }
            ),
            "{err:?}"
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        t.acquire().await.expect("refilled");
        assert!(
            t.acquire().await.is_err(),
            "the bucket holds one token only"
        );
        assert_eq!(t.queue_size(), 0);
    }
}
