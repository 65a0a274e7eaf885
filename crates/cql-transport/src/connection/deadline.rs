//! Request deadlines kept by the connection driver: one timer per connection instead of one
//! tokio timer per request.
//!
//! A request sent with a [`Deadline`] carries it in its response slot. The driver notes it
//! next to the stream id and keeps the earliest deadline it has seen on its one timer (the
//! heartbeat's). When that timer fires, it sweeps its in-flight table: a request past its
//! deadline gets [`ConnectionError::Timeout`] and its stream id stays reserved as an orphan
//! until the late response comes (as when a caller gives up). The earliest deadline is only
//! lowered as requests come in, never raised when they complete, so a sweep may find nothing to
//! do; with one timeout for every request that is one sweep per timeout period, against a
//! timer registered and removed per request before.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::slot::Delivery;

/// When a request stops waiting for its response, and the timeout that stands for (what
/// [`ConnectionError::Timeout`](crate::ConnectionError::Timeout) reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    /// A deadline at `at`, reported as `timeout` when it passes.
    pub fn new(at: Instant, timeout: Duration) -> Self {
        Self { at, timeout }
    }

    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self::new(Instant::now() + timeout, timeout)
    }

    /// When it passes.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The timeout it stands for.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The driver's view of the deadlines: the earliest one that may still be pending, and the
/// requests it took off the queue while it could not send them (no free stream id, or the
/// write buffer full), so that their deadlines are kept too.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// Not later than every pending deadline; may be earlier (requests completed since).
    pub(crate) earliest: Option<Instant>,
    /// Requests waiting for the driver to be able to send them, oldest first.
    pub(crate) parked: VecDeque<Delivery>,
}

impl Deadlines {
    /// Notes a request's deadline; true when it is the new earliest (the timer must move).
    pub(crate) fn note(&mut self, at: Option<Instant>) -> bool {
        match (at, self.earliest) {
            (Some(at), Some(e)) if at >= e => false,
            (Some(at), _) => {
                self.earliest = Some(at);
                true
            }
            (None, _) => false,
        }
    }

    /// Whether a sweep is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.earliest.is_some_and(|e| e <= now)
    }

    /// Times out the parked requests past their deadline (they hold no stream id); returns
    /// how many left, and how many of those the caller had already given up (counted as
    /// orphans by their callers). Lowers `earliest` to the earliest deadline of those left (a
    /// sweep resets `earliest` first, then notes what is still pending).
    pub(crate) fn expire_parked(&mut self, now: Instant) -> (usize, usize) {
        let (mut expired, mut abandoned) = (0, 0);
        let mut earliest = self.earliest;
        self.parked.retain_mut(|d| match d.deadline() {
            Some(at) if at <= now => {
                expired += 1;
                // Replaced by an inert one, and the real one completed.
                if !std::mem::take(d).expire() {
                    abandoned += 1;
                }
                false
            }
            Some(at) => {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
                true
            }
            None => true,
        });
        self.earliest = earliest;
        (expired, abandoned)
    }
}
