//! The attempt loop shared by every request: try the plan's nodes in order, apply the retry
//! policy after each failure, re-prepare on UNPREPARED, and bound everything by the timeouts.
//!
//! The loop is generic over [`AttemptTarget`], so it is tested here with scripted targets; the
//! session plugs in nodes of the cluster.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use proto::frame::ResponseEnvelope;
use proto::request::{Prepare, Request};
use proto::response::{Prepared, Response, ResultBody};
use tokio::time::Instant;
use transport::Deadline;

use crate::consistency::Consistency;
use crate::errors::{
    AttemptRecord, Attempts, DbError, ExecutionError, RequestAttemptError, RequestKind,
};
use crate::observability::history::FiberHistory;
use crate::observability::metrics::Metrics;
use crate::observability::spans;
use crate::policies::retry::{RequestInfo, RetryDecision, RetryPolicy, RetrySession};

/// A node (and shard) a request can be sent to.
pub(crate) trait AttemptTarget {
    /// The node's address, for errors and logs.
    fn address(&self) -> SocketAddr;

    /// Sends `request` and waits for the response, until `deadline` (then
    /// [`RequestAttemptError::Timeout`]).
    fn send<'a>(
        &'a self,
        request: &'a Request,
        tracing: bool,
        deadline: Option<&'a Deadline>,
    ) -> impl Future<Output = Result<ResponseEnvelope, RequestAttemptError>> + Send + 'a;

    /// Whether the node answers (see `transport::health`); an idempotent attempt on a node that
    /// does not moves to the next responsive target.
    fn is_responsive(&self) -> bool {
        true
    }

    /// The node and connection that answered the last request sent (none for scripted targets).
    fn coordinator(&self) -> Option<crate::response::Coordinator> {
        None
    }

    /// Reports an attempt's outcome (for the load-balancing policy's feedback hooks).
    fn on_attempt(&self, _latency: Duration, _error: Option<&RequestAttemptError>) {}

    /// The shard whose connection carried the last request sent (none for scripted targets).
    fn served_shard(&self) -> Option<u32> {
        None
    }

    /// The cluster's node behind this target, for the attempt span (none for scripted targets).
    fn node(&self) -> Option<&transport::state::NodeRef> {
        None
    }
}

/// The options of one request, resolved from the statement and its execution profile.
#[derive(Clone, Copy)]
pub(crate) struct ExecOptions<'a> {
    pub(crate) is_idempotent: bool,
    pub(crate) consistency: Consistency,
    pub(crate) retry_policy: &'a dyn RetryPolicy,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) tracing: bool,
    pub(crate) metrics: &'a Metrics,
    /// For idempotent requests: how often a waiting attempt looks whether its node still
    /// answers (`None`: never; the attempt waits for its timeouts).
    pub(crate) failover_check: Option<Duration>,
    /// The statement's history listener and this fiber's ids, when it has one.
    pub(crate) history: Option<&'a FiberHistory<'a>>,
}

/// What a successful request returned, and which node answered.
#[derive(Debug)]
pub(crate) struct SuccessfulResponse {
    pub(crate) body: ResultBody,
    pub(crate) tracing_id: Option<uuid::Uuid>,
    pub(crate) warnings: Vec<String>,
    // Boxed, as in the envelope it comes from: rare, and this struct is moved per request.
    #[allow(clippy::box_collection)]
    pub(crate) custom_payload: Option<Box<std::collections::HashMap<String, Option<Bytes>>>>,
    pub(crate) coordinator: Option<crate::response::Coordinator>,
}

/// When to race extra attempts: at most `max_extra`, one every `interval`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Speculation {
    pub(crate) max_extra: usize,
    pub(crate) interval: Duration,
}

/// Runs `request` like [`execute`], and for an idempotent request with `speculation`, starts
/// another attempt on the plan's next node whenever no answer came within the interval. The
/// first success wins; the other attempts are dropped (their stream ids stay reserved until
/// their responses arrive). Without speculation this is [`execute`] itself.
pub(crate) async fn execute_speculative<T, P>(
    plan: P,
    request: &mut Request,
    opts: &ExecOptions<'_>,
    reprepare: Reprepare<'_>,
    speculation: Option<Speculation>,
) -> Result<SuccessfulResponse, ExecutionError>
where
    T: AttemptTarget + Send,
    P: Iterator<Item = T> + Send,
{
    let spec = match speculation {
        Some(s) if opts.is_idempotent && s.max_extra > 0 => s,
        _ => return execute(plan, request, opts, reprepare).await,
    };
    // Fibers take targets from one shared plan, so no node is tried twice.
    let plan = std::sync::Mutex::new(plan);
    let exhausted = std::sync::atomic::AtomicBool::new(false);
    let shared = || SharedPlan {
        plan: &plan,
        exhausted: &exhausted,
    };
    // The first fiber runs with the request's history; each later one is a speculative fiber
    // of its own, with its own ids.
    let fiber = |mut req: Request, speculative: bool| {
        let plan = shared();
        async move {
            let history = opts
                .history
                .filter(|_| speculative)
                .map(FiberHistory::fiber);
            let opts = ExecOptions {
                history: history.as_ref().or(opts.history),
                ..*opts
            };
            execute(plan, &mut req, &opts, reprepare).await
        }
    };
    let mut fibers = futures::stream::FuturesUnordered::new();
    fibers.push(fiber(request.clone(), false));
    let mut extra = 0;
    let mut first_error: Option<ExecutionError> = None;
    loop {
        let can_launch =
            extra < spec.max_extra && !exhausted.load(std::sync::atomic::Ordering::Relaxed);
        tokio::select! {
            r = futures::StreamExt::next(&mut fibers) => match r {
                Some(Ok(done)) => return Ok(done),
                Some(Err(e)) => {
                    // A fiber that found the plan empty says nothing about the request.
                    if !matches!(e, ExecutionError::EmptyPlan) || first_error.is_none() {
                        first_error = Some(e);
                    }
                    if fibers.is_empty() {
                        return Err(first_error.unwrap_or(ExecutionError::EmptyPlan));
                    }
                }
                None => return Err(first_error.unwrap_or(ExecutionError::EmptyPlan)),
            },
            () = tokio::time::sleep(spec.interval), if can_launch => {
                extra += 1;
                opts.metrics.inc_speculative();
                tracing::debug!(extra, "starting a speculative attempt");
                fibers.push(fiber(request.clone(), true));
            }
        }
    }
}

/// A plan shared by speculative fibers.
struct SharedPlan<'a, P> {
    plan: &'a std::sync::Mutex<P>,
    exhausted: &'a std::sync::atomic::AtomicBool,
}

impl<T, P: Iterator<Item = T>> Iterator for SharedPlan<'_, P> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let next = self.plan.lock().ok()?.next();
        if next.is_none() {
            self.exhausted
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        next
    }
}

/// What re-preparing after UNPREPARED needs from the statements of a request.
pub(crate) trait Repreparer: Sync {
    /// The CQL text of the prepared statement `id`, if the request has it.
    fn statement(&self, id: &Bytes) -> Option<proto::Text>;

    /// Takes the PREPARED result of a statement prepared again: its result columns and
    /// metadata id may have changed with the schema.
    fn reprepared(&self, prepared: &Prepared);
}

/// A closure finding the text of an id, for requests whose statements keep no result columns.
impl<F: Fn(&Bytes) -> Option<proto::Text> + Sync> Repreparer for F {
    fn statement(&self, id: &Bytes) -> Option<proto::Text> {
        self(id)
    }

    fn reprepared(&self, _: &Prepared) {}
}

/// The statements of a request, for re-preparing after UNPREPARED.
pub(crate) type Reprepare<'a> = &'a dyn Repreparer;

/// Runs `request` over `plan` with retries; see the module docs.
pub(crate) async fn execute<T, P>(
    mut plan: P,
    request: &mut Request,
    opts: &ExecOptions<'_>,
    reprepare: Reprepare<'_>,
) -> Result<SuccessfulResponse, ExecutionError>
where
    T: AttemptTarget,
    P: Iterator<Item = T>,
{
    let started = Instant::now();
    // Allocated only when an attempt fails.
    let mut attempts: Vec<AttemptRecord> = Vec::new();
    let mut retry: Option<Box<dyn RetrySession>> = None;
    let mut consistency = opts.consistency;
    let Some(mut target) = plan.next() else {
        return Err(ExecutionError::EmptyPlan);
    };
    // A target taken from the plan while looking for a responsive one to fail over to.
    let mut spare: Option<T> = None;
    // Clock reads are a visible share of a request's CPU: one per attempt start, one at the end.
    let mut attempt_started = started;
    loop {
        // The attempt's limit, reported as the time from the request's start to it.
        let limit = match (deadline(started, opts), opts.attempt_timeout) {
            (Some(d), Some(a)) => Some((attempt_started + a).min(d)),
            (Some(d), None) => Some(d),
            (None, Some(a)) => Some(attempt_started + a),
            (None, None) => None,
        }
        .map(|at| Deadline::new(at, at - started.min(at)));
        let span = spans::attempt(attempts.len(), target.address(), target.node());
        if let Some(h) = opts.history {
            h.attempt_start(target.address());
        }
        // The attempt's limit goes down to the connection, whose driver keeps it on its one
        // timer: a tokio timer per attempt here cost every request its registration and removal.
        let work = attempt(&target, request, opts.tracing, reprepare, limit.as_ref());
        let outcome = match opts.failover_check {
            None => work.await,
            Some(check) => {
                // Wakes up every `check` while waiting (only slow attempts ever do) to look
                // whether the node still answers; if not, and a responsive target is next,
                // the attempt is given up and the request moves on.
                let mut work = std::pin::pin!(work);
                let mut check_at = attempt_started + check;
                loop {
                    let wake = limit.map_or(check_at, |l| l.at().min(check_at));
                    match tokio::time::timeout_at(wake, work.as_mut()).await {
                        Ok(r) => break r,
                        Err(_) if limit.is_some_and(|l| l.at() == wake) => {
                            break Err(RequestAttemptError::Timeout(wake - started.min(wake)));
                        }
                        Err(_) => {
                            if !target.is_responsive() {
                                if spare.is_none() {
                                    spare = plan.next();
                                }
                                if spare.as_ref().is_some_and(T::is_responsive) {
                                    break Err(RequestAttemptError::NodeUnresponsive(
                                        attempt_started.elapsed(),
                                    ));
                                }
                            }
                            check_at = Instant::now() + check;
                        }
                    }
                }
            }
        };
        let error = match outcome {
            Ok(env) => {
                let now = Instant::now();
                target.on_attempt(now - attempt_started, None);
                opts.metrics.record_latency(now - started);
                #[cfg(feature = "metrics")]
                opts.metrics.export.attempt(
                    target.address(),
                    target.served_shard(),
                    now - attempt_started,
                    None,
                );
                if let Some(span) = span {
                    spans::record_shard(&span, target.served_shard());
                }
                if let Some(h) = opts.history {
                    h.attempt_success();
                }
                return Ok(SuccessfulResponse {
                    body: match env.response {
                        Response::Result(body) => body,
                        // `attempt` only returns Ok for RESULT responses.
                        _ => ResultBody::Void,
                    },
                    tracing_id: env.tracing_id,
                    warnings: env.warnings,
                    custom_payload: env.custom_payload,
                    coordinator: target.coordinator(),
                });
            }
            Err(e) => e,
        };
        let error = match error {
            // Report the attempt's own limit, not the time since the request started.
            RequestAttemptError::Timeout(_) => {
                RequestAttemptError::Timeout(limit.map_or(Duration::ZERO, |l| l.timeout()))
            }
            e => e,
        };
        target.on_attempt(attempt_started.elapsed(), Some(&error));
        #[cfg(feature = "metrics")]
        opts.metrics.export.attempt(
            target.address(),
            target.served_shard(),
            attempt_started.elapsed(),
            Some(&error),
        );
        tracing::debug!(node = %target.address(), error = %error, "attempt failed");
        let timed_out = deadline(started, opts).is_some_and(|d| Instant::now() >= d);
        let decision = if timed_out {
            RetryDecision::DontRetry
        } else if matches!(error, RequestAttemptError::NodeUnresponsive(_)) {
            // Only idempotent requests fail over, and only to a responsive target.
            opts.metrics.inc_unresponsive_failovers();
            RetryDecision::RetryNextTarget(None)
        } else {
            retry
                .get_or_insert_with(|| opts.retry_policy.new_session())
                .decide_should_retry(RequestInfo::new(&error, opts.is_idempotent, consistency))
        };
        if let Some(span) = span {
            spans::record_shard(&span, target.served_shard());
            spans::record_attempt_error(&span, &error, &decision);
        }
        if let Some(h) = opts.history {
            h.attempt_error(&error, &decision);
        }
        attempts.push(AttemptRecord {
            node: target.address(),
            error,
        });
        if timed_out {
            return Err(ExecutionError::RequestTimeout {
                timeout: opts.request_timeout.unwrap_or_default(),
                attempts: Attempts::new(attempts, RequestKind::of(request)),
            });
        }
        match decision {
            RetryDecision::RetrySameTarget(c) => {
                if let Some(c) = c {
                    consistency = c;
                    set_consistency(request, c);
                }
            }
            RetryDecision::RetryNextTarget(c) => {
                if let Some(c) = c {
                    consistency = c;
                    set_consistency(request, c);
                }
                match spare.take().or_else(|| plan.next()) {
                    Some(t) => target = t,
                    None => return Err(last_attempt_error(attempts, request)),
                }
            }
            RetryDecision::DontRetry => return Err(last_attempt_error(attempts, request)),
            RetryDecision::IgnoreWriteError => {
                return Ok(SuccessfulResponse {
                    body: ResultBody::Void,
                    tracing_id: None,
                    warnings: Vec::new(),
                    custom_payload: None,
                    coordinator: target.coordinator(),
                });
            }
        }
        opts.metrics.inc_retries();
        attempt_started = Instant::now();
    }
}

/// When the request times out. Computed where needed rather than kept: every byte of the
/// request's future is moved at each layer when it starts.
fn deadline(started: Instant, opts: &ExecOptions<'_>) -> Option<Instant> {
    opts.request_timeout.map(|t| started + t)
}

fn last_attempt_error(attempts: Vec<AttemptRecord>, request: &Request) -> ExecutionError {
    // `attempts` is never empty here: the failed attempt was just pushed.
    let error = match attempts.last() {
        Some(a) => a.error.clone(),
        None => return ExecutionError::EmptyPlan,
    };
    ExecutionError::LastAttemptError {
        error,
        attempts: Attempts::new(attempts, RequestKind::of(request)),
    }
}

fn set_consistency(request: &mut Request, c: Consistency) {
    let c = proto::Consistency::from(c);
    match request {
        Request::Query(q) => q.params.consistency = c,
        Request::Execute(e) => e.params.consistency = c,
        Request::Batch(b) => b.consistency = c,
        _ => {}
    }
}

/// One attempt on one target, with a transparent re-prepare after UNPREPARED.
async fn attempt<T: AttemptTarget>(
    target: &T,
    request: &Request,
    tracing: bool,
    reprepare: Reprepare<'_>,
    deadline: Option<&Deadline>,
) -> Result<ResponseEnvelope, RequestAttemptError> {
    let env = target.send(request, tracing, deadline).await?;
    match check_result(env)? {
        Ok(env) => Ok(env),
        // Boxed: rare, and its future holds two more sends and a PREPARE request that every
        // attempt's future would otherwise carry.
        Err(id) => {
            Box::pin(reprepare_and_resend(
                target, request, tracing, reprepare, id, deadline,
            ))
            .await
        }
    }
}

/// How many times one attempt prepares a statement again after UNPREPARED. More than once:
/// a schema change that lands between the PREPARE and the resend (a burst of `ALTER TABLE`s,
/// for one) drops the statement again, and nothing was executed, so sending it again is safe
/// even for a non-idempotent request.
const MAX_REPREPARES: usize = 3;

/// After UNPREPARED: prepares the statement's text on the same target and sends it again, up
/// to [`MAX_REPREPARES`] times while the node keeps answering UNPREPARED.
async fn reprepare_and_resend<T: AttemptTarget>(
    target: &T,
    request: &Request,
    tracing: bool,
    reprepare: Reprepare<'_>,
    mut unprepared_id: Bytes,
    deadline: Option<&Deadline>,
) -> Result<ResponseEnvelope, RequestAttemptError> {
    for _ in 0..MAX_REPREPARES {
        let Some(text) = reprepare.statement(&unprepared_id) else {
            return Err(RequestAttemptError::DbError(
                DbError::Unprepared {
                    statement_id: unprepared_id,
                },
                "the node does not know the prepared statement and its text is unknown".into(),
            ));
        };
        tracing::debug!(node = %target.address(), "re-preparing an unprepared statement");
        let prepare = Request::Prepare(Prepare {
            query: text,
            keyspace: None,
        });
        let env = target.send(&prepare, false, deadline).await?;
        match env.response.into_result() {
            Ok(ResultBody::Prepared(p)) if p.id == unprepared_id => reprepare.reprepared(&p),
            Ok(ResultBody::Prepared(_)) => return Err(RequestAttemptError::RepreparedIdChanged),
            Ok(_) => {
                return Err(RequestAttemptError::UnexpectedResponse {
                    request: "PREPARE",
                    got: "a RESULT that is not PREPARED",
                });
            }
            Err(e) => return Err(RequestAttemptError::from_response("PREPARE", e)),
        }
        let env = target.send(request, tracing, deadline).await?;
        match check_result(env)? {
            Ok(env) => return Ok(env),
            Err(id) => unprepared_id = id,
        }
    }
    Err(RequestAttemptError::DbError(
        DbError::Unprepared {
            statement_id: unprepared_id,
        },
        format!("still unprepared after preparing it again {MAX_REPREPARES} times"),
    ))
}

/// `Ok(Ok(env))` for a RESULT, `Ok(Err(id))` for UNPREPARED, `Err` for other errors.
fn check_result(
    env: ResponseEnvelope,
) -> Result<Result<ResponseEnvelope, Bytes>, RequestAttemptError> {
    match env.response {
        Response::Result(_) => Ok(Ok(env)),
        Response::Error(body) => match DbError::from_error_body(&body) {
            DbError::Unprepared { statement_id } => Ok(Err(statement_id)),
            db => Err(RequestAttemptError::DbError(db, body.message)),
        },
        other => Err(RequestAttemptError::from_response(
            "a statement",
            other.into(),
        )),
    }
}

#[cfg(test)]
mod tests;
