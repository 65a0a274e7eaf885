//! A node (plus shard) of a query plan as the target of attempts, and the typing of transport
//! errors as attempt errors.

use std::future::Future;
use std::net::SocketAddr;

use proto::Token;
use proto::frame::{RequestOptions, ResponseEnvelope};
use proto::request::Request;
use transport::state::NodeRef;
use transport::{Connection, ConnectionError};

use super::execute::AttemptTarget;
use crate::errors::{ConnectionPoolError, DbError, RequestAttemptError};
use crate::policies::load_balancing::{LoadBalancingPolicy, RoutingInfo, Shard};

/// One node (and shard) of a plan.
pub(crate) struct NodeTarget<'a> {
    pub(crate) node: &'a NodeRef,
    pub(crate) shard: Option<Shard>,
    pub(crate) token: Option<Token>,
    /// The policy that chose the node and the request it routed, for its feedback hooks.
    pub(crate) feedback: Option<(&'a dyn LoadBalancingPolicy, &'a RoutingInfo<'a>)>,
}

impl NodeTarget<'_> {
    /// The connection to use: the shard's, else the token's shard's, else any.
    pub(crate) fn connection(&self) -> Result<Connection, RequestAttemptError> {
        let Some(pool) = self.node.pool() else {
            return Err(RequestAttemptError::NotSent(
                ConnectionPoolError::NodeDisabledByHostFilter.into(),
            ));
        };
        let conn = match (self.shard, self.token) {
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
    ) -> impl Future<Output = Result<ResponseEnvelope, RequestAttemptError>> + Send + 'a {
        // `Connection::send` has no timer, in a future moved whole when the request starts;
        // `execute` bounds it.
        async move {
            let conn = self.connection()?;
            let opts = RequestOptions {
                tracing,
                ..RequestOptions::default()
            };
            conn.send(request, &opts).await.map_err(attempt_error)
        }
    }

    fn on_attempt(&self, latency: std::time::Duration, error: Option<&RequestAttemptError>) {
        if let Some((policy, info)) = self.feedback {
            match error {
                None => policy.on_request_success(info, latency, self.node),
                Some(e) => policy.on_request_failure(info, latency, self.node, e),
            }
        }
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
        ConnectionError::Invalid(_) => RequestAttemptError::Invalid(e),
        ConnectionError::TooManyInFlight { .. }
        | ConnectionError::Connect { .. }
        | ConnectionError::ConnectTimeout(_) => RequestAttemptError::NotSent(e.into()),
        other => RequestAttemptError::BrokenConnection(other),
    }
}
