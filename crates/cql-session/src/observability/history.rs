//! Request history, as the `scylla` crate's: a [`HistoryListener`] set on a statement
//! (`set_history_listener`) hears when the request starts and ends, each speculative fiber, and
//! each attempt with its node, error and the retry decision after it. [`HistoryCollector`]
//! keeps them and shows them as a [`StructuredHistory`].
//!
//! Differences from the `scylla` crate: a request's error is an
//! [`ExecutionError`] (the `scylla` crate has a `RequestError` of its own), and times are
//! [`SystemTime`]s (not `chrono` types, which are an optional feature here).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::errors::{ExecutionError, RequestAttemptError};
use crate::policies::retry::RetryDecision;

/// A request's id, given by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub usize);

/// A speculative fiber's id, given by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpeculativeId(pub usize);

/// An attempt's id, given by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptId(pub usize);

/// Hears what happens to the requests of the statements it is set on. Called on the request's
/// task: keep each call short.
pub trait HistoryListener: fmt::Debug + Send + Sync {
    /// A request starts (before its first attempt).
    fn log_request_start(&self) -> RequestId;

    /// The request succeeded (right before its result is returned).
    fn log_request_success(&self, request_id: RequestId);

    /// The request failed (right before its error is returned).
    fn log_request_error(&self, request_id: RequestId, error: &ExecutionError);

    /// A speculative fiber starts: each fiber after the first, when the request runs with a
    /// speculative execution policy (the first fiber's attempts have no speculative id).
    fn log_new_speculative_fiber(&self, request_id: RequestId) -> SpeculativeId;

    /// An attempt is sent to `node_addr`.
    fn log_attempt_start(
        &self,
        request_id: RequestId,
        speculative_id: Option<SpeculativeId>,
        node_addr: SocketAddr,
    ) -> AttemptId;

    /// The attempt succeeded.
    fn log_attempt_success(&self, attempt_id: AttemptId);

    /// The attempt failed with `error`, and the retry policy decided `retry_decision`.
    fn log_attempt_error(
        &self,
        attempt_id: AttemptId,
        error: &RequestAttemptError,
        retry_decision: &RetryDecision,
    );
}

/// The listener and ids of one fiber of one request, shared by its attempts.
pub(crate) struct FiberHistory<'a> {
    listener: &'a dyn HistoryListener,
    request: RequestId,
    speculative: Option<SpeculativeId>,
    /// The current attempt's id plus one (0: none): the attempt loop keeps no id of its own.
    attempt: AtomicUsize,
}

impl<'a> FiberHistory<'a> {
    pub(crate) fn new(
        listener: &'a dyn HistoryListener,
        request: RequestId,
        speculative: Option<SpeculativeId>,
    ) -> Self {
        Self {
            listener,
            request,
            speculative,
            attempt: AtomicUsize::new(0),
        }
    }

    /// A new speculative fiber of the same request.
    pub(crate) fn fiber(&self) -> Self {
        let id = self.listener.log_new_speculative_fiber(self.request);
        Self::new(self.listener, self.request, Some(id))
    }

    pub(crate) fn attempt_start(&self, node: SocketAddr) {
        let id = self
            .listener
            .log_attempt_start(self.request, self.speculative, node);
        self.attempt.store(id.0.wrapping_add(1), Ordering::Relaxed);
    }

    fn current(&self) -> Option<AttemptId> {
        match self.attempt.swap(0, Ordering::Relaxed) {
            0 => None,
            n => Some(AttemptId(n - 1)),
        }
    }

    pub(crate) fn attempt_success(&self) {
        if let Some(id) = self.current() {
            self.listener.log_attempt_success(id);
        }
    }

    pub(crate) fn attempt_error(&self, error: &RequestAttemptError, decision: &RetryDecision) {
        if let Some(id) = self.current() {
            self.listener.log_attempt_error(id, error, decision);
        }
    }
}

/// A [`HistoryListener`] that keeps every event, for [`HistoryCollector::clone_structured_history`].
#[derive(Debug, Default)]
pub struct HistoryCollector {
    data: Mutex<Collected>,
}

#[derive(Debug, Default)]
struct Collected {
    requests: Vec<RequestHistory>,
    /// Every fiber: (request index, fiber index within it; 0 is the first).
    fibers: Vec<(usize, usize)>,
    /// Every attempt: (request index, fiber index, attempt index).
    attempts: Vec<(usize, usize, usize)>,
}

impl HistoryCollector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The requests heard so far, each with its fibers and attempts.
    pub fn clone_structured_history(&self) -> StructuredHistory {
        let data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        StructuredHistory {
            requests: data.requests.clone(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Collected) -> T) -> T {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut data)
    }
}

impl Collected {
    fn fiber(&mut self, request: usize, fiber: usize) -> Option<&mut FiberRecord> {
        let r = self.requests.get_mut(request)?;
        match fiber {
            0 => Some(&mut r.non_speculative_fiber),
            n => r.speculative_fibers.get_mut(n - 1),
        }
    }

    fn attempt(&mut self, id: AttemptId) -> Option<&mut AttemptHistory> {
        let (request, fiber, attempt) = *self.attempts.get(id.0)?;
        self.fiber(request, fiber)?.attempts.get_mut(attempt)
    }
}

impl HistoryListener for HistoryCollector {
    fn log_request_start(&self) -> RequestId {
        self.with(|d| {
            let now = SystemTime::now();
            d.requests.push(RequestHistory {
                start_time: now,
                non_speculative_fiber: FiberRecord {
                    start_time: now,
                    attempts: Vec::new(),
                },
                speculative_fibers: Vec::new(),
                result: None,
            });
            RequestId(d.requests.len() - 1)
        })
    }

    fn log_request_success(&self, request_id: RequestId) {
        self.with(|d| {
            if let Some(r) = d.requests.get_mut(request_id.0) {
                r.result = Some(RequestResult::Success(SystemTime::now()));
            }
        });
    }

    fn log_request_error(&self, request_id: RequestId, error: &ExecutionError) {
        self.with(|d| {
            if let Some(r) = d.requests.get_mut(request_id.0) {
                r.result = Some(RequestResult::Error(SystemTime::now(), error.clone()));
            }
        });
    }

    fn log_new_speculative_fiber(&self, request_id: RequestId) -> SpeculativeId {
        self.with(|d| {
            let fiber = match d.requests.get_mut(request_id.0) {
                Some(r) => {
                    r.speculative_fibers.push(FiberRecord {
                        start_time: SystemTime::now(),
                        attempts: Vec::new(),
                    });
                    r.speculative_fibers.len()
                }
                None => 0,
            };
            d.fibers.push((request_id.0, fiber));
            SpeculativeId(d.fibers.len() - 1)
        })
    }

    fn log_attempt_start(
        &self,
        request_id: RequestId,
        speculative_id: Option<SpeculativeId>,
        node_addr: SocketAddr,
    ) -> AttemptId {
        self.with(|d| {
            let fiber = speculative_id
                .and_then(|s| d.fibers.get(s.0))
                .map_or(0, |&(_, f)| f);
            let index = d.fiber(request_id.0, fiber).map_or(0, |f| {
                f.attempts.push(AttemptHistory {
                    send_time: SystemTime::now(),
                    node_addr,
                    result: None,
                });
                f.attempts.len() - 1
            });
            d.attempts.push((request_id.0, fiber, index));
            AttemptId(d.attempts.len() - 1)
        })
    }

    fn log_attempt_success(&self, attempt_id: AttemptId) {
        self.with(|d| {
            if let Some(a) = d.attempt(attempt_id) {
                a.result = Some(AttemptResult::Success(SystemTime::now()));
            }
        });
    }

    fn log_attempt_error(
        &self,
        attempt_id: AttemptId,
        error: &RequestAttemptError,
        retry_decision: &RetryDecision,
    ) {
        self.with(|d| {
            if let Some(a) = d.attempt(attempt_id) {
                a.result = Some(AttemptResult::Error(
                    SystemTime::now(),
                    error.clone(),
                    *retry_decision,
                ));
            }
        });
    }
}

/// What a [`HistoryCollector`] heard: every request, in order.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StructuredHistory {
    /// The requests.
    pub requests: Vec<RequestHistory>,
}

/// One request: its fibers and how it ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestHistory {
    /// When it started.
    pub start_time: SystemTime,
    /// The first fiber's attempts.
    pub non_speculative_fiber: FiberRecord,
    /// The speculative fibers' attempts, in the order they started.
    pub speculative_fibers: Vec<FiberRecord>,
    /// How it ended (`None` while it runs).
    pub result: Option<RequestResult>,
}

/// One fiber of a request: its attempts in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FiberRecord {
    /// When it started.
    pub start_time: SystemTime,
    /// Its attempts.
    pub attempts: Vec<AttemptHistory>,
}

/// One attempt: where it went and how it ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttemptHistory {
    /// When it was sent.
    pub send_time: SystemTime,
    /// The node it went to.
    pub node_addr: SocketAddr,
    /// How it ended (`None` while it waits, or if it was dropped: a lost speculative race).
    pub result: Option<AttemptResult>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AttemptResult {
    /// It succeeded, at this time.
    Success(SystemTime),
    /// It failed with this error, and the retry policy decided this.
    Error(SystemTime, RequestAttemptError, RetryDecision),
}

/// How a request ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RequestResult {
    /// It succeeded, at this time.
    Success(SystemTime),
    /// It failed with this error.
    Error(SystemTime, ExecutionError),
}

fn fiber_lines(f: &mut fmt::Formatter<'_>, fiber: &FiberRecord) -> fmt::Result {
    for a in &fiber.attempts {
        write!(f, "  - attempt to {}: ", a.node_addr)?;
        match &a.result {
            None => writeln!(f, "no result")?,
            Some(AttemptResult::Success(_)) => writeln!(f, "success")?,
            Some(AttemptResult::Error(_, e, d)) => writeln!(f, "error: {e}; then {d:?}")?,
        }
    }
    Ok(())
}

/// One line per request and per attempt.
impl fmt::Display for StructuredHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requests.iter().enumerate() {
            write!(f, "request {i}: ")?;
            match &r.result {
                None => writeln!(f, "no result")?,
                Some(RequestResult::Success(_)) => writeln!(f, "success")?,
                Some(RequestResult::Error(_, e)) => writeln!(f, "error: {e}")?,
            }
            fiber_lines(f, &r.non_speculative_fiber)?;
            for (n, s) in r.speculative_fibers.iter().enumerate() {
                writeln!(f, "  speculative fiber {n}:")?;
                fiber_lines(f, s)?;
            }
        }
        Ok(())
    }
}
