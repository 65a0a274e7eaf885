//! How the session reaches the cluster: the cluster snapshot, and a node (plus shard) as a
//! target of attempts.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use proto::frame::{RequestOptions, ResponseEnvelope};
use proto::request::Request;
use proto::response::{ErrorBody, ErrorDetails};
use proto::{ErrorCode, Token};
use transport::state::{ClusterState, NodeRef};
use transport::{Cluster, Connection, ConnectionError};

use super::execute::AttemptTarget;
use crate::errors::{ConnectionPoolError, DbError, MetadataError, RequestAttemptError};
use crate::policies::load_balancing::{LoadBalancingPolicy, RoutingInfo, Shard};

/// The cluster as the session sees it. Implemented over `cql-transport`'s [`Cluster`].
pub(crate) trait ClusterBackend: Send + Sync + 'static {
    /// The current snapshot (one atomic load); swapped atomically by metadata refreshes.
    fn state(&self) -> Arc<ClusterState>;

    /// Reads the topology and schema again.
    fn refresh_metadata(&self) -> BoxFuture<'_, Result<(), MetadataError>>;

    /// Runs `USE` on every connection and on every future one.
    fn use_keyspace<'a>(&'a self, keyspace: &'a str) -> BoxFuture<'a, Result<(), ConnectionError>>;

    /// Records the tablet a response's custom payload describes, if any.
    fn add_tablet_from_payload(
        &self,
        keyspace: &str,
        table: &str,
        payload: &HashMap<String, Option<Bytes>>,
    );

    /// Closes every connection.
    fn close(&self);
}

impl ClusterBackend for Cluster {
    fn state(&self) -> Arc<ClusterState> {
        Self::state(self)
    }

    fn refresh_metadata(&self) -> BoxFuture<'_, Result<(), MetadataError>> {
        Box::pin(async move {
            Self::refresh_metadata(self)
                .await
                .map_err(|e| MetadataError::Refresh(Arc::new(e)))
        })
    }

    fn use_keyspace<'a>(&'a self, keyspace: &'a str) -> BoxFuture<'a, Result<(), ConnectionError>> {
        Box::pin(Self::use_keyspace(self, keyspace))
    }

    fn add_tablet_from_payload(
        &self,
        keyspace: &str,
        table: &str,
        payload: &HashMap<String, Option<Bytes>>,
    ) {
        Self::add_tablet_from_payload(self, keyspace, table, payload);
    }

    fn close(&self) {
        Self::close(self);
    }
}

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
            return Err(RequestAttemptError::NotSent(Arc::new(
                ConnectionPoolError::NodeDisabledByHostFilter,
            )));
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
            _ => Err(RequestAttemptError::NotSent(Arc::new(
                ConnectionPoolError::Initializing,
            ))),
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
        // `request_untimed` awaited directly (not through `send_on`): one layer less, and no
        // timer, in a future moved whole when the request starts. `execute` bounds it.
        async move {
            let conn = self.connection()?;
            let opts = RequestOptions {
                tracing,
                ..RequestOptions::default()
            };
            conn.request_untimed(request, &opts)
                .await
                .map_err(attempt_error)
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

/// Sends `request` on `conn` without a transport-level timeout (the caller bounds it).
pub(crate) async fn send_on(
    conn: &Connection,
    request: &Request,
    tracing: bool,
) -> Result<ResponseEnvelope, RequestAttemptError> {
    let opts = RequestOptions {
        tracing,
        ..RequestOptions::default()
    };
    conn.request_untimed(request, &opts)
        .await
        .map_err(attempt_error)
}

/// Types a transport error as an attempt error.
pub(crate) fn attempt_error(e: ConnectionError) -> RequestAttemptError {
    match e {
        ConnectionError::Timeout(d) => RequestAttemptError::Timeout(d),
        ConnectionError::Server { code, message, .. } => {
            let body = ErrorBody {
                code: ErrorCode(code),
                message,
                details: ErrorDetails::None,
            };
            RequestAttemptError::DbError(DbError::from_error_body(&body), body.message)
        }
        ConnectionError::Decode(_) => RequestAttemptError::Decode(Arc::new(e)),
        ConnectionError::Invalid(_) => RequestAttemptError::Invalid(Arc::new(e)),
        ConnectionError::TooManyInFlight { .. }
        | ConnectionError::Connect { .. }
        | ConnectionError::ConnectTimeout(_) => RequestAttemptError::NotSent(Arc::new(e)),
        other => RequestAttemptError::BrokenConnection(Arc::new(other)),
    }
}
