//! PREPARE on every node that is up, with one time limit for the whole fan-out.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::time::Duration;

use futures::future::join_all;
use proto::Request;
use proto::request::Prepare;
use proto::response::{Response, ResultBody};

use crate::client::backend::NodeTarget;
use crate::client::execute::response_name;
use crate::errors::{PrepareError, RequestAttemptError};
use crate::statement::{PreparedStatement, Statement};

use super::SessionInner;

impl SessionInner {
    pub(crate) async fn prepare(
        &self,
        statement: Statement,
    ) -> Result<PreparedStatement, PrepareError> {
        let _in_flight = self.enter().map_err(|_| PrepareError::SessionClosed)?;
        let state = self.cluster.state();
        let profile = self.profile(&statement.config);
        let request = Request::Prepare(Prepare {
            query: statement.contents.clone(),
            keyspace: None,
        });
        let targets: Vec<NodeTarget<'_>> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up() && n.pool().is_some())
            .map(|node| NodeTarget {
                node,
                shard: None,
                token: None,
                feedback: None,
            })
            .collect();
        if targets.is_empty() {
            return Err(PrepareError::EmptyPlan);
        }
        let limit = statement.config.request_timeout.or(profile.request_timeout);
        let sends = join_all(targets.iter().map(|t| send_bounded(t, &request, limit))).await;
        let mut first_error = None;
        let mut prepared = None;
        // Scylla's LWT mark: a node that negotiated `SCYLLA_LWT_ADD_METADATA_MARK` sets that
        // bit in the metadata flags of a conditional statement; any such answer confirms it.
        let mut is_lwt = false;
        for (target, r) in targets.iter().zip(sends) {
            match r {
                Ok(env) => match env.response {
                    Response::Result(ResultBody::Prepared(p)) => {
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
                    Response::Error(body) => {
                        first_error.get_or_insert(RequestAttemptError::DbError(
                            crate::errors::DbError::from_error_body(&body),
                            body.message,
                        ));
                    }
                    other => {
                        first_error.get_or_insert(RequestAttemptError::UnexpectedResponse {
                            request: "PREPARE",
                            got: response_name(&other),
                        });
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (prepared, first_error) {
            (Some(p), _) => Ok(PreparedStatement::new(
                p,
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

/// Sends with an overall time limit, for requests outside the retry loop.
async fn send_bounded(
    target: &NodeTarget<'_>,
    request: &Request,
    limit: Option<Duration>,
) -> Result<proto::frame::ResponseEnvelope, RequestAttemptError> {
    use crate::client::execute::AttemptTarget;
    match limit {
        None => target.send(request, false).await,
        Some(l) => tokio::time::timeout(l, target.send(request, false))
            .await
            .unwrap_or(Err(RequestAttemptError::Timeout(l))),
    }
}
