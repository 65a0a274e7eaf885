//! PREPARE on every node that is up, with one time limit for the whole fan-out, admitted by
//! the request throttler as one request.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use futures::future::join_all;
use proto::Request;
use proto::frame::RequestOptions;
use proto::request::Prepare;
use proto::response::ResultBody;

use crate::client::target::{NodeTarget, PlanContext, TargetShard, attempt_error};
use crate::errors::{PrepareError, RequestAttemptError};
use crate::policies::throttle::{self, NotAdmitted};
use crate::statement::{PreparedStatement, Statement};

use super::SessionInner;

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
        // Held until every node answered: the throttler bounds the PREPAREs on the wire too.
        let _permit = match throttler {
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
                Some(permit)
            }
        };
        // Read after the wait: the nodes up now, not when the prepare was queued.
        let state = self.cluster.state();
        let request = Request::Prepare(Prepare {
            query: statement.contents.clone(),
            keyspace: None,
        });
        static NO_PLAN: PlanContext<'static> = PlanContext { feedback: None };
        let targets: Vec<NodeTarget<'_>> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up() && n.pool().is_some())
            .map(|node| NodeTarget {
                node,
                plan: &NO_PLAN,
                shard: TargetShard::new(None),
            })
            .collect();
        if targets.is_empty() {
            return Err(PrepareError::EmptyPlan);
        }
        let request = &request;
        let sends = join_all(targets.iter().map(|target| async move {
            let conn = target.connection()?;
            transport::with_timeout(limit, conn.send(request, &RequestOptions::default()))
                .await
                .map_err(attempt_error)
        }))
        .await;
        let mut first_error = None;
        let mut prepared = None;
        // Scylla's LWT mark: a node that negotiated `SCYLLA_LWT_ADD_METADATA_MARK` sets that
        // bit in the metadata flags of a conditional statement; any such answer confirms it.
        let mut is_lwt = false;
        for (target, r) in targets.iter().zip(sends) {
            match r {
                Ok(env) => match env.response.into_result() {
                    Ok(ResultBody::Prepared(p)) => {
                        is_lwt |= target
                            .node
                            .pool()
                            .and_then(|pool| pool.lwt_mark())
                            .is_some_and(|mask| p.metadata.has_flag(mask));
                        match &prepared {
                            None => prepared = Some(p),
                            Some(q) if q.id != p.id => {
                                return Err(PrepareError::PreparedStatementIdsMismatch);
                            }
                            Some(_) => {}
                        }
                    }
                    Ok(_) => {
                        first_error.get_or_insert(RequestAttemptError::UnexpectedResponse {
                            request: "PREPARE",
                            got: "a RESULT that is not PREPARED",
                        });
                    }
                    Err(e) => {
                        first_error.get_or_insert(RequestAttemptError::from_response("PREPARE", e));
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (prepared, first_error) {
            (Some(p), _) => Ok(PreparedStatement::new(
                *p,
                statement.contents,
                is_lwt,
                statement.config,
                statement.page_size,
            )),
            (None, Some(first_attempt)) => Err(PrepareError::AllAttemptsFailed { first_attempt }),
            (None, None) => Err(PrepareError::EmptyPlan),
        }
    }
}
