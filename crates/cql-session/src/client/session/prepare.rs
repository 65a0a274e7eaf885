//! PREPARE on every node that is up, with one time limit for the whole fan-out, admitted by
//! the request throttler as one request. `prepare` returns with the first node's PREPARED
//! answer; the other nodes' PREPAREs finish in the background under the same limit, so one
//! slow or stuck node never stalls it.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use proto::Request;
use proto::frame::RequestOptions;
use proto::request::Prepare;
use proto::response::{Prepared, ResultBody};
use transport::Node;

use crate::client::target::{NodeTarget, PlanContext, TargetShard, attempt_error};
use crate::errors::{PrepareError, RequestAttemptError};
use crate::policies::throttle::{self, NotAdmitted, OwnedThrottlePermit};
use crate::statement::{PreparedStatement, Statement};

use super::SessionInner;

/// One node's answer to the fan-out's PREPARE.
type Answer = (Arc<Node>, Result<Box<Prepared>, RequestAttemptError>);

impl SessionInner {
    pub(crate) async fn prepare(
        &self,
        statement: Statement,
    ) -> Result<PreparedStatement, PrepareError> {
        let _in_flight = self.enter().map_err(|_| PrepareError::SessionClosed)?;
        let profile = self.profile(&statement.config);
        let mut limit = statement.config.request_timeout.or(profile.request_timeout);
        let throttler = profile
            .request_throttler
            .as_ref()
            .or(self.options.request_throttler.as_ref());
        // Held until every node answered (in the background after `prepare` returned): the
        // throttler bounds the PREPAREs on the wire too.
        let permit = match throttler {
            None => None,
            Some(t) => {
                let (permit, left) =
                    throttle::admit(&**t, limit, &self.metrics)
                        .await
                        .map_err(|e| match e {
                            NotAdmitted::Refused(e) => PrepareError::Throttled(e),
                            NotAdmitted::TimedOut(timeout) => {
                                PrepareError::RequestTimeout { timeout }
                            }
                        })?;
                // The time queued counts against the request timeout: the fan-out gets the rest.
                limit = left;
                Some(permit.into_owned(t.clone()))
            }
        };
        // Read after the wait: the nodes up now, not when the prepare was queued.
        let state = self.cluster.state();
        let request = Arc::new(Request::Prepare(Prepare {
            query: statement.contents.clone(),
            keyspace: None,
        }));
        static NO_PLAN: PlanContext<'static> = PlanContext { feedback: None };
        let mut answers: FuturesUnordered<_> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up() && n.pool().is_some())
            .map(|node| {
                let conn = NodeTarget {
                    node,
                    plan: &NO_PLAN,
                    shard: TargetShard::new(None),
                }
                .connection();
                prepare_on(node.clone(), conn, request.clone(), limit)
            })
            .collect();
        if answers.is_empty() {
            return Err(PrepareError::EmptyPlan);
        }
        let mut first_error = None;
        let (node, prepared) = loop {
            match answers.next().await {
                Some((node, Ok(p))) => break (node, p),
                Some((_, Err(e))) => {
                    first_error.get_or_insert(e);
                }
                None => {
                    return Err(match first_error {
                        Some(first_attempt) => PrepareError::AllAttemptsFailed { first_attempt },
                        None => PrepareError::EmptyPlan,
                    });
                }
            }
        };
        // Scylla's LWT mark: a node that negotiated `SCYLLA_LWT_ADD_METADATA_MARK` sets that
        // bit in the metadata flags of a conditional statement; any such answer confirms it.
        let mut is_lwt = is_lwt_mark(&node, &prepared);
        // Answers that are already in count as if they had come together with the first one.
        while let Some(Some((node, answer))) = answers.next().now_or_never() {
            if let Ok(p) = answer {
                if p.id != prepared.id {
                    return Err(PrepareError::PreparedStatementIdsMismatch);
                }
                is_lwt |= is_lwt_mark(&node, &p);
            }
        }
        if !answers.is_empty() {
            finish_in_background(answers, prepared.id.clone(), permit);
        }
        Ok(PreparedStatement::new(
            *prepared,
            statement.contents,
            is_lwt,
            statement.config,
            statement.page_size,
        ))
    }
}

/// Whether `node`'s answer carries Scylla's LWT mark.
fn is_lwt_mark(node: &Node, p: &Prepared) -> bool {
    node.pool()
        .and_then(|pool| pool.lwt_mark())
        .is_some_and(|mask| p.metadata.has_flag(mask))
}

/// PREPAREs `request` on `conn` (`node`'s connection, or why there is none) within `limit`.
async fn prepare_on(
    node: Arc<Node>,
    conn: Result<transport::Connection, RequestAttemptError>,
    request: Arc<Request>,
    limit: Option<Duration>,
) -> Answer {
    let answer = async {
        let env = transport::with_timeout(limit, conn?.send(&request, &RequestOptions::default()))
            .await
            .map_err(attempt_error)?;
        match env.response.into_result() {
            Ok(ResultBody::Prepared(p)) => Ok(p),
            Ok(_) => Err(RequestAttemptError::UnexpectedResponse {
                request: "PREPARE",
                got: "a RESULT that is not PREPARED",
            }),
            Err(e) => Err(RequestAttemptError::from_response("PREPARE", e)),
        }
    }
    .await;
    (node, answer)
}

/// Lets the PREPAREs still on the wire finish on their own task (each is bounded by the
/// request's limit, or by the connection's end), holding the throttler's permit until the
/// last one is done. A node that fails or answers with another id is reported in the log: the
/// statement is prepared again on it if an EXECUTE there meets UNPREPARED.
fn finish_in_background(
    mut answers: FuturesUnordered<impl Future<Output = Answer> + Send + 'static>,
    id: bytes::Bytes,
    permit: Option<OwnedThrottlePermit>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        // No runtime to finish on (the caller polled `prepare` outside one): dropping the
        // futures abandons their stream ids as orphans, as a cancelled request does.
        return;
    };
    runtime.spawn(async move {
        let _permit = permit;
        while let Some((node, answer)) = answers.next().await {
            match answer {
                Ok(p) if p.id != id => tracing::warn!(
                    node = %node.address,
                    "PREPARE answered with another statement id than the first node's"
                ),
                Ok(_) => {}
                Err(error) => tracing::debug!(
                    node = %node.address,
                    %error,
                    "PREPARE failed on a node after another prepared the statement"
                ),
            }
        }
    });
}
