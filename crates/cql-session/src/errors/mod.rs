//! Errors of the session API, one enum per operation, and [`DbError`]: a server error, typed.
//!
//! Every error says what failed and, where the user can act, what to do. Predicates such as
//! [`DbError::is_retryable`] and [`ExecutionError::is_timeout`] let callers branch without
//! matching every variant.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use proto::UnexpectedResponse;
use uuid::Uuid;

use crate::consistency::Consistency;
use crate::statement::prepared::PartitionKeyError;

/// The errors of reading results, serializing values and deserializing rows, also here as in
/// the `scylla` crate's `errors` module (programs import them from either path).
pub use crate::deserialize::{DeserializationError, TypeCheckError};
pub use crate::response::query_result::{
    FirstRowError, IntoRowsResultError, MaybeFirstRowError, RowsError, SingleRowError,
};
pub use crate::serialize::SerializationError;

mod db;

pub use db::{DbError, OperationType};

/// What kind of write timed out or failed (the server's `writeType`): `cql-proto`'s
/// open string enum, re-exported so the wire spelling has one owner.
pub use proto::WriteType;
/// The errors of custom [`SerializeValue`](crate::serialize::value::SerializeValue) and
/// [`DeserializeValue`](crate::deserialize::value::DeserializeValue) impls.
pub use proto::{DecodeError, EncodeError};

/// The per-connection error and the connect error of [`NewSessionError::Connect`], re-exported
/// so that callers can match them (a refused login is a [`ConnectionError::Server`] during
/// `AUTH_RESPONSE`, carrying the server's AuthenticationError code and message).
pub use transport::{ConnectionError, NewClusterError};

/// The error of `ClusterState::compute_token` and `get_endpoints` (the `scylla` crate's path).
pub use transport::ClusterStateTokenError;

/// The consistency level reported by a server error (an unknown code is kept as a number).
pub type ErrorConsistency = Result<Consistency, u16>;

/// Shows an [`ErrorConsistency`] as the server names it: `QUORUM`, or `0x00ff` when unknown.
pub(crate) struct ShowConsistency<'a>(pub(crate) &'a ErrorConsistency);

impl fmt::Display for ShowConsistency<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(c) => c.fmt(f),
            Err(code) => write!(f, "0x{code:04x}"),
        }
    }
}

/// One attempt of a request on one node failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestAttemptError {
    /// The server answered with an error.
    #[error("{0}: {1}")]
    DbError(DbError, String),
    /// The connection broke before the response arrived; the request may have been applied.
    /// (The connection error says `connection broken: <why>` itself.)
    #[error("{0}")]
    BrokenConnection(#[source] ConnectionError),
    /// The request could not be sent (no connection, no free stream id, ...); it was not applied.
    #[error("the request could not be sent: {0}")]
    NotSent(#[source] NotSentReason),
    /// The attempt timed out on the client; the request may have been applied.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The node stopped answering (its connection read nothing, not even a probe) while this
    /// idempotent attempt waited, so the request moved to the next node of its plan; the
    /// request may have been applied there.
    #[error(
        "the node stopped answering (nothing read, not even a probe) after {0:?}; moved to the next node"
    )]
    NodeUnresponsive(Duration),
    /// The request could not be serialized.
    #[error("the request could not be encoded: {0}")]
    Encode(#[source] EncodeError),
    /// The connection refused the request as invalid (e.g. it cannot be encoded for the
    /// negotiated protocol version); trying elsewhere will not help.
    #[error("{0}")]
    Invalid(#[source] ConnectionError),
    /// The response could not be decoded.
    #[error("the response could not be decoded: {0}")]
    Decode(#[source] ConnectionError),
    /// The server sent a response of a kind the request does not expect.
    #[error("unexpected response to {request}: {got}")]
    UnexpectedResponse {
        /// The request sent.
        request: &'static str,
        /// What came back.
        got: &'static str,
    },
    /// After an UNPREPARED error the statement was re-prepared, but the node gave another id.
    #[error("re-preparing the statement returned a different id; the schema changed under it")]
    RepreparedIdChanged,
}

/// Why a request was not sent: it was not applied, and another node may take it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NotSentReason {
    /// No connection of the node's pool could take it.
    #[error(transparent)]
    Pool(#[from] ConnectionPoolError),
    /// The connection refused it before sending (not connected, broken).
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The connection already had `limit` requests in flight, the per-connection limit, and
    /// its backpressure fails fast ([`Backpressure::Error`](transport::Backpressure::Error)).
    #[error(
        "the connection already has {limit} requests in flight, its limit; raise SessionBuilder::connection_max_in_flight, open more connections (SessionBuilder::pool_size), wait instead (Backpressure::Wait), or lower the load"
    )]
    InFlightLimitReached {
        /// The per-connection in-flight limit that was hit.
        limit: usize,
    },
}

impl RequestAttemptError {
    /// Types a response that is not the one `request` expects: the server's ERROR as
    /// [`RequestAttemptError::DbError`], anything else as
    /// [`RequestAttemptError::UnexpectedResponse`].
    pub(crate) fn from_response(request: &'static str, unexpected: UnexpectedResponse) -> Self {
        match unexpected {
            UnexpectedResponse::Error(body) => {
                Self::DbError(DbError::from_error_body(&body), body.message)
            }
            UnexpectedResponse::Other(opcode) => Self::UnexpectedResponse {
                request,
                got: opcode.name().unwrap_or("an unknown opcode"),
            },
            _ => Self::UnexpectedResponse {
                request,
                got: "an unexpected response",
            },
        }
    }

    /// The server error, if the attempt ended with one.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Self::DbError(e, _) => Some(e),
            _ => None,
        }
    }
}

/// One failed attempt: on which node, and why.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The node tried.
    pub node: SocketAddr,
    /// Why it failed.
    pub error: RequestAttemptError,
}

/// Every failed attempt of a request, in order, and what the request was.
#[derive(Debug, Clone, Default)]
pub struct Attempts {
    // A boxed slice, not a `Vec`: with the kind it keeps `ExecutionError` at its size.
    records: Box<[AttemptRecord]>,
    request: RequestKind,
}

/// What a request was, for errors: an unprepared statement, a prepared one, or a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RequestKind {
    /// An unprepared statement (QUERY).
    Query,
    /// A prepared statement (EXECUTE).
    Execute,
    /// A batch (BATCH).
    Batch,
    /// Another request (e.g. PREPARE), or one not known.
    #[default]
    Other,
}

impl RequestKind {
    /// The kind of `request`.
    pub(crate) fn of(request: &proto::Request) -> Self {
        match request {
            proto::Request::Query(_) => Self::Query,
            proto::Request::Execute(_) => Self::Execute,
            proto::Request::Batch(_) => Self::Batch,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Query => "query",
            Self::Execute => "prepared statement",
            Self::Batch => "batch",
            Self::Other => "request",
        })
    }
}

impl Attempts {
    /// The failed attempts of a request of kind `request`.
    pub(crate) fn new(records: Vec<AttemptRecord>, request: RequestKind) -> Self {
        Self {
            records: records.into_boxed_slice(),
            request,
        }
    }

    /// What the request was.
    pub fn request(&self) -> RequestKind {
        self.request
    }

    /// The attempts, in order, as a slice.
    pub fn as_slice(&self) -> &[AttemptRecord] {
        &self.records
    }

    /// The number of attempts.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no attempt was made.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The attempts, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, AttemptRecord> {
        self.records.iter()
    }
}

/// `node: error; node: error`, in order.
impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.records.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", a.node, a.error)?;
        }
        Ok(())
    }
}

/// The line of [`ExecutionError::LastAttemptError`]: the request, where each attempt went and
/// how it failed, in one line.
fn last_attempt_line(attempts: &Attempts, error: &RequestAttemptError) -> String {
    match &*attempts.records {
        [] => format!("{} failed: {error}", attempts.request),
        [one] => format!("{} failed on {}: {}", attempts.request, one.node, one.error),
        many => format!(
            "{} failed after {} attempts: {attempts}",
            attempts.request,
            many.len()
        ),
    }
}

/// The line of [`ExecutionError::RequestTimeout`].
fn timeout_line(attempts: &Attempts, timeout: &Duration) -> String {
    let failed = match attempts.records.len() {
        0 => String::new(),
        1 => format!(" (1 failed attempt: {attempts})"),
        n => format!(" ({n} failed attempts: {attempts})"),
    };
    format!(
        "{} timed out after {timeout:?}{failed}; raise the timeout or check the cluster's load",
        attempts.request
    )
}

/// A keyspace name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadKeyspaceName {
    /// The name is empty.
    #[error("the keyspace name is empty")]
    Empty,
    /// The name is longer than 48 characters.
    #[error("keyspace name `{0}` has {1} characters; at most 48 are allowed")]
    TooLong(String, usize),
    /// The name has a character other than ASCII letters, digits and `_`.
    #[error(
        "keyspace name `{0}` contains `{1}`; only ASCII letters, digits and underscores are allowed"
    )]
    IllegalCharacter(String, char),
}

/// A request was malformed on the client side and was not sent.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BadQuery {
    /// The bound values do not fit the statement.
    #[error("bound values do not fit the statement: {0}")]
    SerializationError(#[from] SerializationError),
    /// The partition key could not be computed for routing.
    #[error("the partition key could not be computed: {0}")]
    PartitionKey(#[from] PartitionKeyError),
    /// A batch's value rows do not match its statements.
    #[error("the batch has {statements} statements but {values} rows of values were given")]
    BatchValuesCountMismatch {
        /// Statements in the batch.
        statements: usize,
        /// Value rows given.
        values: usize,
    },
    /// A batch has more than 65535 statements.
    #[error("a batch may hold at most 65535 statements, this one holds {0}")]
    TooManyQueriesInBatchStatement(usize),
    /// A keyspace name is invalid.
    #[error(transparent)]
    BadKeyspaceName(#[from] BadKeyspaceName),
    /// The paging state may not be used here (e.g. a non-SELECT statement).
    #[error("{0}")]
    Other(String),
}

/// Why no connection to a node could be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionPoolError {
    /// The node's pool has no working connection; the last connection error is kept.
    #[error("no working connection to the node: {last_connection_error}")]
    Broken {
        /// Why the last connection failed.
        last_connection_error: ConnectionError,
    },
    /// The node's pool is still opening its first connections.
    #[error("the node's connection pool is still being opened")]
    Initializing,
    /// The node is excluded by the host filter.
    #[error("the node is excluded by the host filter")]
    NodeDisabledByHostFilter,
}

/// The session's request throttler refused a request: as many requests as it admits were
/// running or starting, and its queue was full. The request was not sent. See
/// [`crate::policies::throttle`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ThrottleError {
    /// [`ConcurrencyLimitingThrottler`](crate::policies::throttle::ConcurrencyLimitingThrottler)
    /// had `max_concurrent_requests` running and `queued` waiting, its queue's limit.
    #[error(
        "request throttled: {max_concurrent_requests} requests are running and {queued} waiting, the throttler's limits; lower the load or raise the throttler's max_concurrent_requests or max_queue_size"
    )]
    ConcurrencyLimit {
        /// The most requests the throttler runs at once.
        max_concurrent_requests: usize,
        /// The requests waiting when this one came, the queue's limit.
        queued: usize,
    },
    /// [`RateLimitingThrottler`](crate::policies::throttle::RateLimitingThrottler) starts
    /// `max_requests_per_second`, and `queued` requests were waiting, its queue's limit.
    #[error(
        "request throttled: {queued} requests wait to start at {max_requests_per_second} per second, the throttler's limits; lower the request rate or raise the throttler's max_requests_per_second or max_queue_size"
    )]
    RateLimit {
        /// The most requests the throttler starts per second.
        max_requests_per_second: u32,
        /// The requests waiting when this one came, the queue's limit.
        queued: usize,
    },
    /// A custom [`RequestThrottler`](crate::policies::throttle::RequestThrottler) refused the
    /// request.
    #[error("request throttled: {0}")]
    Custom(#[source] std::sync::Arc<dyn std::error::Error + Send + Sync>),
}

/// A request (statement, batch) failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutionError {
    /// The request was malformed on the client and was not sent.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
    /// The load-balancing policy gave no node to try; check the known nodes and the
    /// datacenter configured in the load-balancing policy.
    #[error(
        "no node to send the request to; check known nodes and the load-balancing policy's datacenter"
    )]
    EmptyPlan,
    /// No connection could be used.
    #[error(transparent)]
    ConnectionPoolError(#[from] ConnectionPoolError),
    /// Preparing the statement (needed to bind values) failed.
    #[error("preparing the statement failed: {0}")]
    PrepareError(#[source] Box<PrepareError>),
    /// The last attempt failed and the retry policy gave up; every attempt is kept. Shown as
    /// one line: the request's kind, and each attempt's node and error.
    #[error("{}", last_attempt_line(attempts, error))]
    LastAttemptError {
        /// The last attempt's error.
        error: RequestAttemptError,
        /// Every failed attempt, the last included.
        attempts: Attempts,
    },
    /// The whole request took longer than its request timeout.
    #[error("{}", timeout_line(attempts, timeout))]
    RequestTimeout {
        /// The request timeout.
        timeout: Duration,
        /// The attempts failed before the timeout.
        attempts: Attempts,
    },
    /// A DDL statement succeeded but the schema agreement wait after it failed.
    #[error("the statement succeeded but waiting for schema agreement failed: {0}")]
    SchemaAgreementError(#[source] Box<SchemaAgreementError>),
    /// A `USE` statement succeeded but setting the keyspace on every connection failed.
    #[error("setting the keyspace on the connections failed: {0}")]
    UseKeyspaceError(#[source] Box<UseKeyspaceError>),
    /// The session was closed.
    #[error("the session is closed")]
    SessionClosed,
    /// The session's request throttler refused the request (its queue was full); it was not
    /// sent.
    #[error(transparent)]
    Throttled(#[from] ThrottleError),
    /// Rows came without metadata (the statement uses its cached result specs, see
    /// `PreparedStatement::set_use_cached_result_metadata`) with another column count than the
    /// cached specs: decoding them would read the wrong columns.
    #[error(
        "the rows have {received} columns but the prepared statement's cached result has {cached}; the schema changed: prepare the statement again"
    )]
    ResultMetadataMismatch {
        /// The columns of the cached result specs.
        cached: usize,
        /// The columns of the rows received.
        received: usize,
    },
}

impl ExecutionError {
    /// The server error of the last attempt, if it ended with one.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Self::LastAttemptError { error, .. } => error.db_error(),
            _ => None,
        }
    }

    /// Whether the request timed out (on the client, or on the server waiting for replicas).
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::RequestTimeout { .. } => true,
            Self::LastAttemptError { error, .. } => {
                matches!(error, RequestAttemptError::Timeout(_))
                    || error.db_error().is_some_and(DbError::is_timeout)
            }
            _ => false,
        }
    }

    /// The failed attempts (empty when none was made).
    pub fn attempts(&self) -> &[AttemptRecord] {
        match self {
            Self::LastAttemptError { attempts, .. } | Self::RequestTimeout { attempts, .. } => {
                &attempts.records
            }
            _ => &[],
        }
    }
}

impl From<PrepareError> for ExecutionError {
    fn from(e: PrepareError) -> Self {
        Self::PrepareError(Box::new(e))
    }
}

impl From<SerializationError> for ExecutionError {
    fn from(e: SerializationError) -> Self {
        Self::BadQuery(BadQuery::SerializationError(e))
    }
}

/// Preparing a statement failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// No node to prepare on.
    #[error("no node to prepare the statement on; check known nodes")]
    EmptyPlan,
    /// Preparing failed on every node tried; the first failure is kept.
    #[error("preparing failed on every node; first error: {first_attempt}")]
    AllAttemptsFailed {
        /// The first node's error.
        first_attempt: RequestAttemptError,
    },
    /// Nodes returned different ids for the statement: their schemas differ. Only answers that
    /// arrived together with the first success are compared; later ones are logged.
    #[error("nodes returned different prepared ids; wait for schema agreement and retry")]
    PreparedStatementIdsMismatch,
    /// No connection could be used.
    #[error(transparent)]
    ConnectionPoolError(#[from] ConnectionPoolError),
    /// The session was closed.
    #[error("the session is closed")]
    SessionClosed,
    /// The request throttler refused the prepare (its queue was full); nothing was sent.
    #[error(transparent)]
    Throttled(#[from] ThrottleError),
    /// The prepare waited in the request throttler's queue for its whole request timeout;
    /// nothing was sent.
    #[error(
        "preparing did not start within the request timeout of {timeout:?}: it waited in the request throttler's queue; nothing was sent"
    )]
    RequestTimeout {
        /// The request timeout.
        timeout: Duration,
    },
}

/// Paging through a result failed before the first page.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PagerExecutionError {
    /// Preparing the statement (needed to bind values) failed.
    #[error("preparing the statement failed: {0}")]
    PrepareError(#[from] PrepareError),
    /// The bound values do not fit the statement.
    #[error("bound values do not fit the statement: {0}")]
    SerializationError(#[from] SerializationError),
    /// Fetching the first page failed.
    #[error("fetching the first page failed: {0}")]
    NextPageError(#[from] NextPageError),
}

/// Fetching a page failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NextPageError {
    /// The partition key could not be computed.
    #[error("the partition key could not be computed: {0}")]
    PartitionKeyError(#[from] PartitionKeyError),
    /// The request for the page failed.
    #[error(transparent)]
    RequestFailure(#[from] ExecutionError),
}

/// Getting the next row of a pager failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NextRowError {
    /// Fetching a page failed.
    #[error(transparent)]
    NextPageError(#[from] NextPageError),
    /// A row could not be decoded.
    #[error("a row could not be decoded: {0}")]
    RowDeserializationError(#[from] DeserializationError),
    /// A page's columns do not fit the row type (the schema changed while paging).
    #[error("a page's columns do not fit the row type: {0}")]
    TypeCheck(#[source] TypeCheckError),
}

/// `USE <keyspace>` failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum UseKeyspaceError {
    /// The keyspace name is invalid.
    #[error(transparent)]
    BadKeyspaceName(#[from] BadKeyspaceName),
    /// A connection's `USE` request failed.
    #[error("USE failed: {0}")]
    RequestError(#[source] RequestAttemptError),
    /// The server set a different keyspace than asked (a case-sensitivity mix-up?).
    #[error(
        "asked for keyspace `{expected}` but the server set `{got}`; check the case_sensitive flag"
    )]
    KeyspaceNameMismatch {
        /// The keyspace asked for.
        expected: String,
        /// The keyspace set.
        got: String,
    },
    /// Setting the keyspace timed out.
    #[error("USE timed out after {0:?}")]
    RequestTimeout(Duration),
    /// The session was closed.
    #[error("the session is closed")]
    SessionClosed,
}

/// Checking or awaiting schema agreement failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaAgreementError {
    /// A node's schema version could not be read.
    #[error("reading a node's schema version failed: {0}")]
    RequestError(#[source] RequestAttemptError),
    /// No connection could be used.
    #[error(transparent)]
    ConnectionPoolError(#[from] ConnectionPoolError),
    /// A node's schema version row was malformed.
    #[error("a node's schema version could not be read: {0}")]
    BadResponse(String),
    /// The nodes did not agree within the limit.
    #[error(
        "nodes did not agree on the schema within {0:?}; check for unreachable nodes or raise the limit"
    )]
    Timeout(Duration),
    /// The session was closed.
    #[error("the session is closed")]
    SessionClosed,
}

/// Refreshing the cluster metadata failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The control connection could not read the metadata.
    #[error("refreshing the cluster metadata failed: {0}")]
    Refresh(#[source] transport::MetadataError),
    /// The session was closed.
    #[error("the session is closed")]
    SessionClosed,
}

/// Reading tracing information failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TracingError {
    /// A query on `system_traces` failed.
    #[error("querying system_traces failed: {0}")]
    ExecutionError(#[from] ExecutionError),
    /// The tracing session was not written within the attempts made; try again later.
    #[error("tracing session {0} is not available yet; try again later")]
    EmptyResults(Uuid),
    /// The `system_traces` tables returned something unexpected.
    #[error("system_traces returned no rows result")]
    NotRows,
    /// A `system_traces` row did not have the expected columns.
    #[error("system_traces rows do not have the expected columns: {0}")]
    TypeCheck(#[from] TypeCheckError),
    /// A `system_traces` row could not be decoded.
    #[error("a system_traces row could not be decoded: {0}")]
    Deserialization(#[from] DeserializationError),
}

impl From<IntoRowsResultError> for TracingError {
    fn from(_: IntoRowsResultError) -> Self {
        Self::NotRows
    }
}

impl From<RowsError> for TracingError {
    fn from(RowsError::TypeCheckFailed(e): RowsError) -> Self {
        Self::TypeCheck(e)
    }
}

impl From<SingleRowError> for SchemaAgreementError {
    fn from(e: SingleRowError) -> Self {
        Self::BadResponse(e.to_string())
    }
}

/// Creating a session failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NewSessionError {
    /// No known node was given.
    #[error("no known nodes were given; call SessionBuilder::known_node")]
    EmptyKnownNodesList,
    /// None of the known nodes' host names could be resolved.
    #[error("none of the known nodes could be resolved: {0:?}")]
    FailedToResolveAnyHostname(Vec<String>),
    /// No known node could be connected to. (The cluster error says `could not connect to any
    /// known node: <node>: <why>; ...` itself.)
    #[error("{0}")]
    Connect(#[source] NewClusterError),
    /// Reading the cluster metadata failed.
    #[error(transparent)]
    MetadataError(#[from] MetadataError),
    /// Setting the initial keyspace failed.
    #[error(transparent)]
    UseKeyspaceError(#[from] UseKeyspaceError),
    /// The configuration is invalid.
    #[error("invalid session configuration: {0}")]
    InvalidConfig(String),
}

#[cfg(test)]
mod tests;
