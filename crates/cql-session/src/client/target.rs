//! A node (plus shard) of a query plan as the target of attempts, and the typing of transport
//! errors as attempt errors.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use proto::Token;
use proto::frame::{RequestOptions, ResponseEnvelope};
use proto::request::{Execute, QueryParameters, Request};
use proto::response::Response;
use transport::state::NodeRef;
use transport::{Connection, ConnectionError, ConnectionInfo, Deadline};

use super::execute::AttemptTarget;
use crate::errors::{ConnectionPoolError, DbError, NotSentReason, RequestAttemptError};
use crate::policies::load_balancing::{LoadBalancingPolicy, RoutingInfo, Shard};
use crate::response::Coordinator;

/// One node (and shard) of a plan. Small: the request's future holds the current target and
/// maybe a spare one.
pub(crate) struct NodeTarget<'a> {
    pub(crate) node: &'a NodeRef,
    /// What every target of the plan shares.
    pub(crate) plan: &'a PlanContext<'a>,
    /// The shard the plan chose, and the connection the last request went out on (for
    /// [`AttemptTarget::coordinator`]): per target, as speculative attempts run on others at
    /// the same time.
    pub(crate) shard: TargetShard,
}

/// What the targets of one plan share.
#[derive(Default)]
pub(crate) struct PlanContext<'a> {
    /// The policy that chose the nodes and the request it routed (with its token), for its
    /// feedback hooks.
    pub(crate) feedback: Option<(&'a dyn LoadBalancingPolicy, &'a RoutingInfo<'a>)>,
}

impl PlanContext<'_> {
    /// The request's token, if routed by one. Read from the routing info, not copied: every
    /// request's future holds this context.
    fn token(&self) -> Option<Token> {
        self.feedback.and_then(|(_, routing)| routing.token)
    }
}

/// A target's chosen shard and the connection it last sent on, in one atomic: eight bytes in
/// every target instead of the sixteen of `Option<Shard>` plus a record, so the request's
/// future keeps its budget (`future_size_tests`).
///
/// Bits 0..32: the chosen shard (`u32::MAX` for none). Bits 32..48: the port of the last
/// connection. Bits 48..64: its shard plus one, `0` before any send and `0xffff` for a
/// connection without a shard (or one past 65,533, which no server has).
#[derive(Debug)]
pub(crate) struct TargetShard(AtomicU64);

const NO_SHARD: u64 = 0xffff_ffff;
const SERVED_NO_SHARD: u64 = 0xffff;

impl TargetShard {
    /// A target on `shard` (any shard when `None`), nothing sent yet.
    pub(crate) fn new(shard: Option<Shard>) -> Self {
        Self(AtomicU64::new(shard.map_or(NO_SHARD, u64::from)))
    }

    /// The shard the plan chose.
    fn chosen(&self) -> Option<Shard> {
        let low = self.0.load(Ordering::Relaxed) & 0xffff_ffff;
        // Masked to 32 bits: the cast cannot truncate.
        (low != NO_SHARD).then_some(low as u32)
    }

    fn record(&self, conn: &Connection) {
        let port = conn.info().peer.map_or(0, |p| p.port());
        let served = match conn.shard() {
            Some(s) if u64::from(s) < SERVED_NO_SHARD - 1 => u64::from(s) + 1,
            _ => SERVED_NO_SHARD,
        };
        let chosen = self.0.load(Ordering::Relaxed) & 0xffff_ffff;
        let packed = served << 48 | u64::from(port) << 32 | chosen;
        self.0.store(packed, Ordering::Relaxed);
    }

    /// `(port, shard)` of the last connection, if a request was sent.
    fn served(&self) -> Option<(u16, Option<Shard>)> {
        let packed = self.0.load(Ordering::Relaxed);
        let served = packed >> 48;
        if served == 0 {
            return None;
        }
        // Masked to 16 bits: the casts cannot truncate.
        let port = ((packed >> 32) & 0xffff) as u16;
        let shard = (served != SERVED_NO_SHARD).then_some((served - 1) as u32);
        Some((port, shard))
    }
}

impl NodeTarget<'_> {
    /// The connection to use: the shard's, else the token's shard's, else any.
    pub(crate) fn connection(&self) -> Result<Connection, RequestAttemptError> {
        let Some(pool) = self.node.pool() else {
            return Err(RequestAttemptError::NotSent(
                ConnectionPoolError::NodeDisabledByHostFilter.into(),
            ));
        };
        let conn = match (self.shard.chosen(), self.plan.token()) {
            (Some(s), _) => pool
                .connection_for_shard(s)
                .or_else(|| pool.any_connection()),
            (None, Some(t)) => pool.connection_for_token(t),
            (None, None) => pool.any_connection(),
        };
        match conn {
            Some(c) if !c.is_broken() => Ok(c),
            _ => Err(RequestAttemptError::NotSent(
                ConnectionPoolError::Initializing.into(),
            )),
        }
    }
}

impl AttemptTarget for NodeTarget<'_> {
    fn address(&self) -> SocketAddr {
        self.node.address
    }

    #[allow(clippy::manual_async_fn)] // The trait requires the future to be `Send`.
    fn send<'a>(
        &'a self,
        request: &'a Request,
        tracing: bool,
        deadline: Option<&'a Deadline>,
    ) -> impl Future<Output = Result<ResponseEnvelope, RequestAttemptError>> + Send + 'a {
        // The connection's driver keeps the deadline: no timer in this future, which is moved
        // whole when the request starts.
        async move {
            let conn = self.connection()?;
            self.shard.record(&conn);
            if !fits_connection(request, conn.info()) {
                return send_adapted(conn, request, tracing, deadline).await;
            }
            let opts = RequestOptions {
                tracing,
                ..RequestOptions::default()
            };
            let env = conn
                .send_until(request, &opts, deadline)
                .await
                .map_err(attempt_error)?;
            rate_limit_error(env, conn.info())
        }
    }

    fn is_responsive(&self) -> bool {
        self.node.pool().is_none_or(|p| p.is_responsive())
    }

    fn coordinator(&self) -> Option<Coordinator> {
        let (port, shard) = self.shard.served()?;
        // The connection's own peer address; the node's address (same IP) if it had none.
        let port = if port == 0 {
            self.node.address.port()
        } else {
            port
        };
        let address = SocketAddr::new(self.node.address.ip(), port);
        Some(Coordinator::new(NodeRef::clone(self.node), address, shard))
    }

    fn node(&self) -> Option<&NodeRef> {
        Some(self.node)
    }

    fn served_shard(&self) -> Option<u32> {
        self.shard.served().and_then(|(_, shard)| shard)
    }

    fn on_attempt(&self, latency: std::time::Duration, error: Option<&RequestAttemptError>) {
        if let Some((policy, info)) = self.plan.feedback {
            match error {
                None => policy.on_request_success(info, latency, self.node),
                Some(e) => policy.on_request_failure(info, latency, self.node, e),
            }
        }
    }
}

/// Whether `request` has the layout of `info`'s connection: an EXECUTE carries a result
/// metadata id exactly when the connection has them. A statement gets an id when prepared on such
/// a connection, so only mixed clusters (a rolling upgrade) see a mismatch.
fn fits_connection(request: &Request, info: &ConnectionInfo) -> bool {
    match request {
        Request::Execute(e) => e.result_metadata_id.is_some() == info.has_result_metadata_id(),
        _ => true,
    }
}

/// Sends a copy of the EXECUTE `request` in the connection's layout. Without metadata ids the
/// id is dropped and the metadata asked for (the cached specs would be unchecked); with them an
/// empty id is sent, which the server answers with METADATA_CHANGED and the current id. Boxed:
/// rare, and the copy would enlarge every attempt's future.
fn send_adapted<'a>(
    conn: Connection,
    request: &'a Request,
    tracing: bool,
    deadline: Option<&'a Deadline>,
) -> Pin<Box<dyn Future<Output = Result<ResponseEnvelope, RequestAttemptError>> + Send + 'a>> {
    Box::pin(async move {
        let with_id = conn.info().has_result_metadata_id();
        let adapted = match request {
            Request::Execute(e) => Request::Execute(Execute {
                id: e.id.clone(),
                result_metadata_id: with_id
                    .then(|| e.result_metadata_id.clone().unwrap_or_default()),
                params: QueryParameters {
                    skip_metadata: e.params.skip_metadata && with_id,
                    ..e.params.clone()
                },
            }),
            other => other.clone(),
        };
        let opts = RequestOptions {
            tracing,
            ..RequestOptions::default()
        };
        let env = conn
            .send_until(&adapted, &opts, deadline)
            .await
            .map_err(attempt_error)?;
        rate_limit_error(env, conn.info())
    })
}

/// Types an ERROR under the connection's negotiated rate-limit code (Scylla's
/// `SCYLLA_RATE_LIMIT_ERROR`) as [`DbError::RateLimitReached`]: only the connection knows the
/// code, so the attempt's error is made here; other responses pass through.
fn rate_limit_error(
    env: ResponseEnvelope,
    info: &ConnectionInfo,
) -> Result<ResponseEnvelope, RequestAttemptError> {
    match (&env.response, info.rate_limit_error_code) {
        (Response::Error(body), Some(code)) if body.code.0 == code => {
            Err(RequestAttemptError::DbError(
                DbError::from_error_body_on(body, Some(code)),
                body.message.clone(),
            ))
        }
        _ => Ok(env),
    }
}

/// Types a transport error as an attempt error.
pub(crate) fn attempt_error(e: ConnectionError) -> RequestAttemptError {
    match e {
        ConnectionError::Timeout(d) => RequestAttemptError::Timeout(d),
        ConnectionError::Server { error, .. } => {
            RequestAttemptError::DbError(DbError::from_error_body(&error), error.message)
        }
        ConnectionError::Encode(e) => RequestAttemptError::Encode(e),
        ConnectionError::Decode(_) => RequestAttemptError::Decode(e),
        ConnectionError::Invalid(_) | ConnectionError::RequestTooLarge { .. } => {
            RequestAttemptError::Invalid(e)
        }
        ConnectionError::TooManyInFlight { limit } => {
            RequestAttemptError::NotSent(NotSentReason::InFlightLimitReached { limit })
        }
        ConnectionError::Connect { .. } | ConnectionError::ConnectTimeout(_) => {
            RequestAttemptError::NotSent(e.into())
        }
        other => RequestAttemptError::BrokenConnection(other),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proto::request::Query;

    use super::*;

    fn execute(result_metadata_id: Option<Bytes>) -> Request {
        Request::Execute(Execute {
            id: Bytes::from_static(b"id"),
            result_metadata_id,
            params: QueryParameters::default(),
        })
    }

    #[test]
    fn an_execute_fits_a_connection_when_both_have_metadata_ids_or_neither() {
        let plain = ConnectionInfo::default();
        let mut scylla = ConnectionInfo::default();
        scylla.scylla_metadata_id = true;
        let with_id = execute(Some(Bytes::from_static(b"m")));
        assert!(fits_connection(&with_id, &scylla));
        assert!(!fits_connection(&with_id, &plain));
        assert!(fits_connection(&execute(None), &plain));
        assert!(!fits_connection(&execute(None), &scylla));
        let query = Request::Query(Query {
            query: "SELECT 1".into(),
            params: QueryParameters::default(),
        });
        assert!(fits_connection(&query, &scylla) && fits_connection(&query, &plain));
    }
}
