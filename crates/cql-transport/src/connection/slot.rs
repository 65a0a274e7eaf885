//! Reusable response slots: what a request travels in to the driver and its outcome comes back
//! in, kept per thread for the next request instead of a new frame buffer and a new oneshot
//! channel per request.
//!
//! A slot holds the encoded request frame (the caller writes it, the driver copies it into its
//! write buffer and clears it, keeping the allocation), the outcome, the caller's waker and an
//! "abandoned" mark. Every transition happens under the slot's lock, so exactly one of
//! "the driver delivers the outcome" and "the caller abandons the request" wins, which is what
//! keeps one outcome per request and the orphan count right. When the caller has its outcome
//! and is the slot's last owner (the driver drops its reference before waking it), the slot
//! goes back to this thread's free list.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::BytesMut;
use tokio::time::Instant;

use super::Deadline;
use crate::error::{BrokenReason, ConnectionError};
use proto::frame::Frame;

/// Slots kept per thread for reuse; more are dropped when they come back. A caller's task may
/// finish on another worker than it started on, so a thread's list must absorb the imbalance at
/// high concurrency (with 256, 1,024 concurrent inserts on 2 workers made 1.1 allocations per
/// request instead of 1.0); a kept slot is a few hundred bytes.
const MAX_KEPT: usize = 1024;
/// A slot whose frame buffer grew beyond this is dropped rather than kept (a large batch would
/// otherwise pin its buffer for as long as the thread lives).
const MAX_KEPT_FRAME: usize = 64 * 1024;
/// A new slot's frame buffer: room for a typical request frame.
const INITIAL_FRAME: usize = 256;

/// What a request's outcome is: the response frame or the connection's error.
pub(crate) type Outcome = Result<Frame, ConnectionError>;

thread_local! {
    static FREE: RefCell<Vec<Arc<ResponseSlot>>> = const { RefCell::new(Vec::new()) };
}

/// One request's frame on the way out and outcome on the way back. Shared by the caller
/// (waiting) and the driver (delivering).
#[derive(Debug)]
pub(crate) struct ResponseSlot {
    state: Mutex<SlotState>,
}

#[derive(Debug)]
struct SlotState {
    frame: BytesMut,
    outcome: Option<Outcome>,
    waker: Option<Waker>,
    /// The caller stopped waiting before an outcome came.
    abandoned: bool,
    /// When the driver gives the request up (`None`: the caller bounds it, if at all).
    deadline: Option<Deadline>,
}

impl ResponseSlot {
    /// A slot with an empty frame and no outcome: this thread's last returned one, or a new one.
    pub(crate) fn take() -> Arc<Self> {
        FREE.try_with(|free| free.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                Arc::new(Self {
                    state: Mutex::new(SlotState {
                        frame: BytesMut::with_capacity(INITIAL_FRAME),
                        outcome: None,
                        waker: None,
                        abandoned: false,
                        deadline: None,
                    }),
                })
            })
    }

    /// Puts a slot whose outcome was taken back on this thread's free list, when nobody else
    /// holds it (otherwise it is simply dropped).
    pub(crate) fn recycle(mut slot: Arc<Self>) {
        let Some(this) = Arc::get_mut(&mut slot) else {
            return;
        };
        let st = this.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if st.frame.capacity() > MAX_KEPT_FRAME || st.abandoned {
            return;
        }
        st.frame.clear();
        st.outcome = None;
        st.waker = None;
        st.deadline = None;
        let _ = FREE.try_with(|free| {
            if let Ok(mut free) = free.try_borrow_mut()
                && free.len() < MAX_KEPT
            {
                free.push(slot);
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the (empty) frame buffer: the caller encodes its request here, to be given
    /// up by the driver at `deadline`.
    pub(crate) fn with_frame<R>(
        &self,
        deadline: Option<Deadline>,
        f: impl FnOnce(&mut BytesMut) -> R,
    ) -> R {
        let mut st = self.lock();
        st.frame.clear();
        st.deadline = deadline;
        f(&mut st.frame)
    }

    /// The driver's side when it takes the request off the queue: `Some(f(frame, deadline))`
    /// (the frame is cleared afterwards, keeping its allocation) unless the caller already
    /// abandoned it.
    pub(crate) fn take_frame<R>(
        &self,
        f: impl FnOnce(&mut BytesMut, Option<Instant>) -> R,
    ) -> Option<R> {
        let mut st = self.lock();
        if st.abandoned {
            return None;
        }
        let at = st.deadline.map(|d| d.at());
        let r = f(&mut st.frame, at);
        st.frame.clear();
        Some(r)
    }

    /// When the driver gives the request up, if it does.
    pub(crate) fn deadline(&self) -> Option<Deadline> {
        self.lock().deadline
    }

    /// The outcome of a request past its deadline.
    fn timed_out(&self) -> Outcome {
        let timeout = self.lock().deadline.map_or(Duration::ZERO, |d| d.timeout());
        Err(ConnectionError::Timeout(timeout))
    }

    /// Whether the caller abandoned the request.
    #[cfg(test)]
    fn is_abandoned(&self) -> bool {
        self.lock().abandoned
    }

    /// The driver's side: delivers `outcome` and wakes the caller; false when the caller had
    /// abandoned the request (the outcome is dropped). Consumes the driver's reference before
    /// waking, so the woken caller finds itself the slot's only owner and can reuse it.
    pub(crate) fn complete(self: Arc<Self>, outcome: Outcome) -> bool {
        let waker = {
            let mut st = self.lock();
            if st.abandoned {
                return false;
            }
            st.outcome = Some(outcome);
            st.waker.take()
        };
        drop(self);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// The caller's side: the outcome once delivered; registers the waker otherwise.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut st = self.lock();
        if let Some(outcome) = st.outcome.take() {
            return Poll::Ready(outcome);
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The caller's side when it stops waiting: true when no outcome had come (the request is
    /// now an orphan, and the driver will drop its outcome), false when one had.
    pub(crate) fn abandon(&self) -> bool {
        let mut st = self.lock();
        st.waker = None;
        if st.outcome.take().is_some() {
            return false;
        }
        st.abandoned = true;
        true
    }
}

/// The driver's reference to a slot: delivers the outcome once. Dropped without delivering
/// (the driver future dropped mid-run, or a request left in the channel), it delivers
/// [`BrokenReason::Closed`], so no caller waits for an outcome that cannot come.
#[derive(Debug, Default)]
pub(crate) struct Delivery(Option<Arc<ResponseSlot>>);

impl Delivery {
    /// The driver's reference to `slot`.
    pub(crate) fn new(slot: Arc<ResponseSlot>) -> Self {
        Self(Some(slot))
    }

    /// See [`ResponseSlot::take_frame`].
    pub(crate) fn take_frame<R>(
        &self,
        f: impl FnOnce(&mut BytesMut, Option<Instant>) -> R,
    ) -> Option<R> {
        self.0.as_ref().and_then(|s| s.take_frame(f))
    }

    /// When the driver gives the request up, if it does.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.0.as_ref().and_then(|s| s.deadline()).map(|d| d.at())
    }

    /// Delivers [`ConnectionError::Timeout`] with the deadline's timeout; false when the caller
    /// had already given up (or the delivery is inert).
    pub(crate) fn expire(self) -> bool {
        let outcome = match &self.0 {
            Some(s) => s.timed_out(),
            None => return false,
        };
        self.complete(outcome)
    }

    /// See [`ResponseSlot::complete`].
    pub(crate) fn complete(mut self, outcome: Outcome) -> bool {
        self.0.take().is_some_and(|s| s.complete(outcome))
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.complete(Err(ConnectionError::Broken(BrokenReason::Closed)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed() -> Outcome {
        Err(ConnectionError::Broken(BrokenReason::Closed))
    }

    #[test]
    fn a_completed_slot_is_reused_with_its_buffer() {
        let slot = ResponseSlot::take();
        slot.with_frame(None, |f| f.extend_from_slice(&[7; 100]));
        let ptr = slot.with_frame(None, |f| f.as_ptr() as usize);
        let driver = Arc::clone(&slot);
        assert_eq!(
            driver.take_frame(|f, _| f.len()),
            Some(0),
            "with_frame starts empty"
        );
        assert!(driver.complete(closed()));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(slot.poll_outcome(&mut cx).is_ready());
        let addr = Arc::as_ptr(&slot) as usize;
        ResponseSlot::recycle(slot);
        let again = ResponseSlot::take();
        assert_eq!(
            Arc::as_ptr(&again) as usize,
            addr,
            "the same slot comes back"
        );
        assert_eq!(
            again.with_frame(None, |f| f.as_ptr() as usize),
            ptr,
            "with its buffer"
        );
        assert!(
            again.poll_outcome(&mut cx).is_pending(),
            "and no stale outcome"
        );
    }

    #[test]
    fn abandon_and_complete_have_exactly_one_winner() {
        // Abandoned first: the driver's outcome is refused.
        let slot = ResponseSlot::take();
        let driver = Arc::clone(&slot);
        assert!(slot.abandon(), "no outcome yet: an orphan");
        assert!(driver.is_abandoned());
        assert_eq!(driver.take_frame(|_, _| ()), None);
        assert!(!driver.complete(closed()));
        // Dropped by the driver without an outcome: the caller still gets one.
        let slot = ResponseSlot::take();
        drop(Delivery::new(Arc::clone(&slot)));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            slot.poll_outcome(&mut cx),
            Poll::Ready(Err(ConnectionError::Broken(BrokenReason::Closed)))
        ));
        // Completed first: abandoning finds the outcome, so no orphan.
        let slot = ResponseSlot::take();
        assert!(Arc::clone(&slot).complete(closed()));
        assert!(!slot.abandon());
    }

    fn kept() -> usize {
        FREE.with(|free| free.borrow().len())
    }

    #[test]
    fn a_slot_still_shared_or_abandoned_is_not_reused() {
        let slot = ResponseSlot::take();
        let other = Arc::clone(&slot);
        let before = kept();
        ResponseSlot::recycle(slot);
        assert_eq!(kept(), before, "the driver still holds it");
        assert!(other.abandon());
        ResponseSlot::recycle(other);
        assert_eq!(kept(), before, "abandoned");
        let done = ResponseSlot::take();
        let before = kept();
        assert!(Arc::clone(&done).complete(closed()));
        ResponseSlot::recycle(done);
        assert_eq!(kept(), before + 1, "completed and unshared: kept");
    }
}
