use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use proto::request::{Execute, Query, QueryParameters};
use proto::response::{ErrorBody, ErrorDetails, Prepared, PreparedMetadata, ResultMetadata};
use proto::{ErrorCode, ProtocolVersion};

use super::*;
use crate::policies::retry::{DefaultRetryPolicy, FallthroughRetryPolicy};

enum Step {
    Reply(Response),
    Fail(RequestAttemptError),
    Hang,
}

#[derive(Clone)]
struct Scripted {
    addr: SocketAddr,
    steps: Arc<Mutex<VecDeque<Step>>>,
    log: Log,
    responsive: Arc<std::sync::atomic::AtomicBool>,
}

impl AttemptTarget for Scripted {
    fn address(&self) -> SocketAddr {
        self.addr
    }

    fn is_responsive(&self) -> bool {
        self.responsive.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        _tracing: bool,
        deadline: Option<&'a Deadline>,
    ) -> impl Future<Output = Result<ResponseEnvelope, RequestAttemptError>> + Send + 'a {
        let (kind, cl) = match request {
            Request::Query(q) => ("QUERY", q.params.consistency),
            Request::Execute(e) => ("EXECUTE", e.params.consistency),
            Request::Prepare(_) => ("PREPARE", proto::Consistency::ANY),
            _ => ("OTHER", proto::Consistency::ANY),
        };
        self.log.lock().unwrap().push((self.addr, kind, cl));
        let step = self.steps.lock().unwrap().pop_front();
        // A connection gives the request up at its deadline; a scripted target does the same.
        let reply = async move {
            match step {
                Some(Step::Reply(response)) => Ok(ResponseEnvelope {
                    stream: 0,
                    version: ProtocolVersion::V4,
                    tracing_id: None,
                    warnings: vec![],
                    custom_payload: None,
                    response,
                }),
                Some(Step::Fail(e)) => Err(e),
                Some(Step::Hang) | None => std::future::pending().await,
            }
        };
        let deadline = deadline.copied();
        async move {
            match deadline {
                None => reply.await,
                Some(d) => tokio::time::timeout_at(d.at(), reply)
                    .await
                    .unwrap_or(Err(RequestAttemptError::Timeout(d.timeout()))),
            }
        }
    }
}

type Log = Arc<Mutex<Vec<(SocketAddr, &'static str, proto::Consistency)>>>;

fn cluster(scripts: Vec<Vec<Step>>) -> (Vec<Scripted>, Log) {
    let log: Log = Arc::default();
    let targets = scripts
        .into_iter()
        .enumerate()
        .map(|(i, steps)| Scripted {
            addr: SocketAddr::from(([127, 0, 0, i as u8 + 1], 9042)),
            steps: Arc::new(Mutex::new(steps.into())),
            log: Arc::clone(&log),
            responsive: Arc::new(true.into()),
        })
        .collect();
    (targets, log)
}

fn error(code: ErrorCode, details: ErrorDetails) -> Step {
    Step::Reply(Response::Error(ErrorBody {
        code,
        message: "scripted".into(),
        details,
    }))
}

fn void() -> Step {
    Step::Reply(Response::Result(ResultBody::Void))
}

fn query() -> Request {
    Request::Query(Query {
        query: "INSERT".into(),
        params: QueryParameters {
            consistency: proto::Consistency::QUORUM,
            ..QueryParameters::default()
        },
    })
}

fn opts<'a>(
    policy: &'a dyn RetryPolicy,
    metrics: &'a Metrics,
    idempotent: bool,
) -> ExecOptions<'a> {
    ExecOptions {
        is_idempotent: idempotent,
        consistency: Consistency::Quorum,
        retry_policy: policy,
        request_timeout: Some(Duration::from_secs(10)),
        attempt_timeout: Some(Duration::from_secs(2)),
        tracing: false,
        metrics,
        failover_check: None,
        history: None,
    }
}

fn no_reprepare(_: &Bytes) -> Option<proto::Text> {
    None
}

/// Runs `query()` over the plan `targets`, with nothing to re-prepare.
async fn run(
    targets: Vec<Scripted>,
    opts: &ExecOptions<'_>,
) -> Result<SuccessfulResponse, ExecutionError> {
    execute(targets.into_iter(), &mut query(), opts, &no_reprepare).await
}

/// [`run`] with `speculation`.
async fn run_speculative(
    targets: Vec<Scripted>,
    opts: &ExecOptions<'_>,
    speculation: Option<Speculation>,
) -> Result<SuccessfulResponse, ExecutionError> {
    execute_speculative(
        targets.into_iter(),
        &mut query(),
        opts,
        &no_reprepare,
        speculation,
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn first_success_returns_with_one_attempt() {
    let (targets, log) = cluster(vec![vec![void()], vec![]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let out = run(targets, &opts(&policy, &m, false)).await.unwrap();
    assert!(matches!(out.body, ResultBody::Void));
    assert_eq!(log.lock().unwrap().len(), 1);
    assert_eq!(m.get_retries_num(), 0);
}

#[tokio::test(start_paused = true)]
async fn unavailable_moves_to_the_next_node_and_records_attempts() {
    let unavailable = || {
        error(
            ErrorCode::UNAVAILABLE,
            ErrorDetails::Unavailable {
                consistency: proto::Consistency::QUORUM,
                required: 2,
                alive: 1,
            },
        )
    };
    let (targets, log) = cluster(vec![vec![unavailable()], vec![unavailable()], vec![void()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let err = run(targets, &opts(&policy, &m, false)).await.unwrap_err();
    // Unavailable is retried once only: node 1, node 2, then give up.
    let ExecutionError::LastAttemptError { error, attempts } = &err else {
        panic!("unexpected {err}");
    };
    assert!(matches!(
        error.db_error(),
        Some(DbError::Unavailable { .. })
    ));
    let nodes: Vec<String> = attempts.iter().map(|a| a.node.ip().to_string()).collect();
    assert_eq!(nodes, ["127.0.0.1", "127.0.0.2"]);
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(m.get_retries_num(), 1);
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_write_is_not_retried_after_a_timeout() {
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let err = run(targets, &opts(&policy, &m, false)).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(log.lock().unwrap().len(), 1);

    // The same failure on an idempotent statement moves on to node 2.
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()]]);
    run(targets, &opts(&policy, &m, true)).await.unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].0.ip().to_string(), "127.0.0.2");
}

#[tokio::test(start_paused = true)]
async fn request_timeout_bounds_all_attempts() {
    let (targets, _log) = cluster(vec![vec![Step::Hang]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let mut o = opts(&policy, &m, true);
    o.attempt_timeout = None;
    o.request_timeout = Some(Duration::from_millis(300));
    let start = Instant::now();
    let err = run(targets, &o).await.unwrap_err();
    assert!(
        matches!(&err, ExecutionError::RequestTimeout { timeout, attempts } if *timeout == Duration::from_millis(300) && attempts.len() == 1),
        "{err}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn read_timeout_retries_same_node_and_broken_connection_is_recorded() {
    let rt = error(
        ErrorCode::READ_TIMEOUT,
        ErrorDetails::ReadTimeout {
            consistency: proto::Consistency::QUORUM,
            received: 2,
            block_for: 2,
            data_present: false,
        },
    );
    let (targets, log) = cluster(vec![vec![rt, void()], vec![]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    run(targets, &opts(&policy, &m, false)).await.unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].0, log[1].0, "retried on the same node");
}

#[tokio::test(start_paused = true)]
async fn fallthrough_policy_gives_up_at_once() {
    let (targets, log) = cluster(vec![
        vec![error(ErrorCode::OVERLOADED, ErrorDetails::None)],
        vec![void()],
    ]);
    let m = Metrics::new();
    let policy = FallthroughRetryPolicy::new();
    let err = run(targets, &opts(&policy, &m, true)).await.unwrap_err();
    assert_eq!(err.db_error(), Some(&DbError::Overloaded));
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn empty_plan_is_its_own_error() {
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let err = execute(
        Vec::<Scripted>::new().into_iter(),
        &mut query(),
        &opts(&policy, &m, true),
        &no_reprepare,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ExecutionError::EmptyPlan));
}

fn prepared(id: &'static [u8]) -> Step {
    Step::Reply(Response::Result(ResultBody::Prepared(Box::new(Prepared {
        id: Bytes::from_static(id),
        result_metadata_id: None,
        metadata: PreparedMetadata::default(),
        result_metadata: ResultMetadata::default(),
    }))))
}

/// Records the PREPARED results a re-prepare hands back.
#[derive(Default)]
struct Recorder(Mutex<Vec<Option<Bytes>>>);

impl Repreparer for Recorder {
    fn statement(&self, id: &Bytes) -> Option<proto::Text> {
        (id.as_ref() == b"ID").then(|| "SELECT * FROM ks.t".into())
    }

    fn reprepared(&self, prepared: &Prepared) {
        self.0
            .lock()
            .unwrap()
            .push(prepared.result_metadata_id.clone());
    }
}

#[tokio::test(start_paused = true)]
async fn a_reprepare_hands_the_new_result_metadata_to_the_statement() {
    let unprepared = error(
        ErrorCode::UNPREPARED,
        ErrorDetails::Unprepared {
            id: Bytes::from_static(b"ID"),
        },
    );
    let new_id = Bytes::from_static(b"NEW");
    let reprepared = Step::Reply(Response::Result(ResultBody::Prepared(Box::new(Prepared {
        id: Bytes::from_static(b"ID"),
        result_metadata_id: Some(new_id.clone()),
        metadata: PreparedMetadata::default(),
        result_metadata: ResultMetadata::default(),
    }))));
    let (targets, log) = cluster(vec![vec![unprepared, reprepared, void()]]);
    let m = Metrics::new();
    let policy = FallthroughRetryPolicy::new();
    let mut req = Request::Execute(Execute {
        id: Bytes::from_static(b"ID"),
        result_metadata_id: Some(Bytes::from_static(b"OLD")),
        params: QueryParameters::default(),
    });
    let recorder = Recorder::default();
    execute(
        targets.into_iter(),
        &mut req,
        &opts(&policy, &m, false),
        &recorder,
    )
    .await
    .unwrap();
    let kinds: Vec<&str> = log.lock().unwrap().iter().map(|l| l.1).collect();
    assert_eq!(kinds, ["EXECUTE", "PREPARE", "EXECUTE"]);
    assert_eq!(*recorder.0.lock().unwrap(), [Some(new_id)]);
}

#[tokio::test(start_paused = true)]
async fn unprepared_is_reprepared_on_the_same_node_and_retried() {
    let unprepared = || {
        error(
            ErrorCode::UNPREPARED,
            ErrorDetails::Unprepared {
                id: Bytes::from_static(b"ID"),
            },
        )
    };
    let (targets, log) = cluster(vec![vec![unprepared(), prepared(b"ID"), void()]]);
    let m = Metrics::new();
    let policy = FallthroughRetryPolicy::new();
    let mut req = Request::Execute(Execute {
        id: Bytes::from_static(b"ID"),
        result_metadata_id: None,
        params: QueryParameters::default(),
    });
    let texts = |id: &Bytes| (id.as_ref() == b"ID").then(|| "SELECT 1".into());
    execute(
        targets.into_iter(),
        &mut req,
        &opts(&policy, &m, false),
        &texts,
    )
    .await
    .unwrap();
    let kinds: Vec<&str> = log.lock().unwrap().iter().map(|l| l.1).collect();
    assert_eq!(kinds, ["EXECUTE", "PREPARE", "EXECUTE"]);

    // A different id after re-preparing is an error, not a loop.
    let (targets, _) = cluster(vec![vec![unprepared(), prepared(b"OTHER")]]);
    let err = execute(
        targets.into_iter(),
        &mut req,
        &opts(&policy, &m, false),
        &texts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &err,
            ExecutionError::LastAttemptError {
                error: RequestAttemptError::RepreparedIdChanged,
                ..
            }
        ),
        "{err}"
    );
}

#[derive(Debug)]
struct Downgrade;

impl RetryPolicy for Downgrade {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(DowngradeSession)
    }
}

struct DowngradeSession;

impl RetrySession for DowngradeSession {
    fn decide_should_retry(&mut self, info: RequestInfo<'_>) -> RetryDecision {
        if info.consistency == Consistency::One {
            RetryDecision::DontRetry
        } else {
            RetryDecision::RetrySameTarget(Some(Consistency::One))
        }
    }

    fn reset(&mut self) {}
}

#[tokio::test(start_paused = true)]
async fn a_policy_can_change_the_consistency() {
    let (targets, log) = cluster(vec![vec![
        error(ErrorCode::SERVER_ERROR, ErrorDetails::None),
        void(),
    ]]);
    let m = Metrics::new();
    run(targets, &opts(&Downgrade, &m, false)).await.unwrap();
    let cls: Vec<proto::Consistency> = log.lock().unwrap().iter().map(|l| l.2).collect();
    assert_eq!(cls, [proto::Consistency::QUORUM, proto::Consistency::ONE]);
}

#[tokio::test(start_paused = true)]
async fn a_request_that_was_not_sent_moves_on_even_when_not_idempotent() {
    let not_sent = Step::Fail(RequestAttemptError::NotSent(
        crate::errors::ConnectionPoolError::Initializing.into(),
    ));
    let (targets, log) = cluster(vec![vec![not_sent], vec![void()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    run(targets, &opts(&policy, &m, false)).await.unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].0.ip().to_string(), "127.0.0.2");
}

#[tokio::test(start_paused = true)]
async fn speculation_races_the_next_node_for_idempotent_requests() {
    let spec = Some(Speculation {
        max_extra: 1,
        interval: Duration::from_millis(100),
    });
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()], vec![void()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let start = Instant::now();
    run_speculative(targets, &opts(&policy, &m, true), spec)
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(m.get_speculative_executions_num(), 1);
    let nodes: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.0.ip().to_string())
        .collect();
    assert_eq!(nodes, ["127.0.0.1", "127.0.0.2"]);

    // Not idempotent: no speculation, the attempt times out.
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()]]);
    let err = run_speculative(targets, &opts(&policy, &m, false), spec)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(log.lock().unwrap().len(), 1);
    assert_eq!(m.get_speculative_executions_num(), 1);
}

#[tokio::test(start_paused = true)]
async fn speculation_returns_an_error_only_when_every_fiber_failed() {
    let spec = Some(Speculation {
        max_extra: 2,
        interval: Duration::from_millis(10),
    });
    let syntax = || error(ErrorCode::SYNTAX_ERROR, ErrorDetails::None);
    let (targets, log) = cluster(vec![vec![syntax()], vec![syntax()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let err = run_speculative(targets, &opts(&policy, &m, true), spec)
        .await
        .unwrap_err();
    assert_eq!(err.db_error(), Some(&DbError::SyntaxError));
    // The first fiber failed at once, before any speculation.
    assert_eq!(log.lock().unwrap().len(), 1);
}

fn silence(t: &Scripted) {
    t.responsive
        .store(false, std::sync::atomic::Ordering::Relaxed);
}

#[tokio::test(start_paused = true)]
async fn an_idempotent_attempt_on_an_unresponsive_node_moves_to_a_responsive_one() {
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()]]);
    silence(&targets[0]);
    let m = Metrics::new();
    let policy = FallthroughRetryPolicy::new();
    let mut o = opts(&policy, &m, true);
    o.failover_check = Some(Duration::from_millis(100));
    let start = Instant::now();
    let out = run(targets, &o).await.unwrap();
    assert!(matches!(out.body, ResultBody::Void));
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100),
        "moved at the first check, not at the 2 s attempt timeout"
    );
    let sent: Vec<_> = log.lock().unwrap().iter().map(|(a, ..)| *a).collect();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1]);
    // The move is the driver's own, even under a policy that never retries.
    assert_eq!(m.get_unresponsive_failovers_num(), 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_responsive_node_to_move_to_the_attempt_keeps_waiting() {
    let (targets, _log) = cluster(vec![vec![Step::Hang], vec![Step::Hang]]);
    silence(&targets[0]);
    silence(&targets[1]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let mut o = opts(&policy, &m, true);
    o.failover_check = Some(Duration::from_millis(100));
    let start = Instant::now();
    let err = run(targets, &o).await.unwrap_err();
    // Each attempt waited its whole 2 s: moving between silent nodes would only give up early.
    assert_eq!(start.elapsed(), Duration::from_secs(4));
    let ExecutionError::LastAttemptError { attempts, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|a| matches!(a.error, RequestAttemptError::Timeout(_))),
        "{err}"
    );
    assert_eq!(m.get_unresponsive_failovers_num(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_node_that_answers_again_keeps_its_attempt() {
    let (targets, log) = cluster(vec![vec![Step::Hang], vec![void()]]);
    let m = Metrics::new();
    let policy = DefaultRetryPolicy::new();
    let mut o = opts(&policy, &m, true);
    o.failover_check = Some(Duration::from_millis(100));
    // A slow but responsive node: the attempt waits for its own timeout, then retries.
    let start = Instant::now();
    run(targets, &o).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(m.get_unresponsive_failovers_num(), 0);
}
