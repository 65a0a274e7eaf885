//! Errors of the transport layer.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why a connection broke. Every in-flight request of the connection fails with
/// [`ConnectionError::Broken`] carrying this reason.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BrokenReason {
    /// The peer closed the connection (EOF), possibly in the middle of a frame.
    #[error("the peer closed the connection")]
    Eof,
    /// Reading or writing the socket failed.
    #[error("i/o error: {0}")]
    Io(Arc<io::Error>),
    /// A frame from the peer could not be parsed (bad header, too large, bad body).
    #[error("corrupt frame from the peer: {0}")]
    CorruptFrame(String),
    /// An OPTIONS heartbeat got no answer in time.
    #[error("heartbeat got no response within {0:?}")]
    HeartbeatTimeout(Duration),
    /// More stream ids were orphaned by timed-out requests than the configured limit.
    #[error("{orphans} orphaned stream ids exceed the limit of {limit}")]
    TooManyOrphans {
        /// Orphaned ids when the connection was closed.
        orphans: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The connection was closed on purpose ([`crate::Connection::close`]).
    #[error("the connection was closed")]
    Closed,
}

/// An error of one connection or of one request on it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The connection is broken; the request may be retried on another connection.
    #[error("connection broken: {0}")]
    Broken(BrokenReason),
    /// The request got no response within its timeout. Its stream id stays reserved until the
    /// late response arrives.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// The connection already has as many requests in flight as allowed and the configured
    /// backpressure mode is [`crate::Backpressure::Error`].
    #[error("connection has {limit} requests in flight, the configured limit")]
    TooManyInFlight {
        /// The configured limit.
        limit: usize,
    },
    /// Opening the TCP connection failed.
    #[error("connecting to {addr} failed: {source}")]
    Connect {
        /// The address we tried.
        addr: SocketAddr,
        /// The socket error.
        source: Arc<io::Error>,
    },
    /// Opening the connection and its handshake took longer than the connect timeout.
    #[error("connecting took longer than {0:?}")]
    ConnectTimeout(Duration),
    /// The TLS handshake or TLS configuration failed.
    #[error("tls error: {0}")]
    Tls(String),
    /// The server answered a handshake or control request with an ERROR.
    #[error("server error {code:#06x} during {during}: {message}")]
    Server {
        /// What we were doing (`"STARTUP"`, `"USE"`, ...).
        during: &'static str,
        /// The CQL error code.
        code: i32,
        /// The server's message.
        message: String,
    },
    /// Authentication failed or the authenticator gave up.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server sent a response that does not fit the request.
    #[error("unexpected response to {request}: {got}")]
    UnexpectedResponse {
        /// The request we sent.
        request: &'static str,
        /// What came back.
        got: String,
    },
    /// A response frame could not be decoded.
    #[error("malformed response: {0}")]
    Decode(String),
    /// The caller asked for something the configuration or the server does not allow.
    #[error("invalid request or configuration: {0}")]
    Invalid(String),
}

impl ConnectionError {
    /// Whether the request did not reach the server or the failure is of the connection, not the
    /// statement, so trying again (on another connection) is sensible. Idempotence is the
    /// caller's business.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Broken(_)
                | Self::Timeout(_)
                | Self::TooManyInFlight { .. }
                | Self::Connect { .. }
                | Self::ConnectTimeout(_)
        )
    }

    /// Whether this error means the connection is unusable from now on.
    pub fn is_broken(&self) -> bool {
        matches!(self, Self::Broken(_))
    }
}

impl From<io::Error> for BrokenReason {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Self::Eof
        } else {
            Self::Io(Arc::new(e))
        }
    }
}
