//! Errors of the transport layer.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use proto::frame::{FrameError, ProtocolVersion};
use proto::response::ErrorBody;
use proto::{EncodeError, Opcode, UnexpectedResponse};

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
    /// Boxed: rare, and it would make every request's result larger.
    #[error("corrupt frame from the peer: {0}")]
    CorruptFrame(#[source] Box<FrameError>),
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
    /// Outgoing frames could not be packed into v5 segments (a request frame that is not a
    /// whole frame). Boxed: rare.
    #[error("cannot frame the outgoing requests: {0}")]
    Framing(#[source] Box<FrameError>),
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
    #[cfg(feature = "tls")]
    #[error("{0}")]
    Tls(#[source] TlsError),
    /// The server answered a handshake or control request with an ERROR.
    #[error("server error {} during {during}: {}", error.code, error.message)]
    Server {
        /// What we were doing (`"STARTUP"`, `"USE"`, ...).
        during: &'static str,
        /// The server's error: code, message and the code's details (boxed: rare, and it
        /// would make every result of every request larger).
        error: Box<ErrorBody>,
    },
    /// Authentication failed or the authenticator gave up.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server sent a response that does not fit the request.
    #[error("unexpected response to {request}: {got}")]
    UnexpectedResponse {
        /// The request we sent.
        request: &'static str,
        /// The opcode that came back.
        got: Opcode,
    },
    /// A response frame could not be decoded.
    /// Boxed: rare, and it would make every request's result larger.
    #[error("malformed response: {0}")]
    Decode(#[source] Box<FrameError>),
    /// The request could not be encoded (e.g. a value too long for its length field).
    #[error("cannot encode the request: {0}")]
    Encode(#[source] EncodeError),
    /// The caller asked for something the configuration or the server does not allow.
    #[error("invalid request or configuration: {0}")]
    Invalid(String),
    /// The encoded request is larger than the frame limit
    /// ([`crate::ConnectionTuning::max_frame_size`], the server's own limit by default), so it
    /// was not sent: the server would refuse it, and another node too.
    #[error(
        "the request is {size} bytes, over the {max}-byte frame limit; it was not sent: split the values (smaller batches, smaller blobs)"
    )]
    RequestTooLarge {
        /// The encoded frame's size.
        size: usize,
        /// The frame limit.
        max: usize,
    },
    /// The server does not speak the protocol version offered. Connections retry with the next
    /// lower version by themselves unless the version is pinned
    /// ([`crate::ConnectionConfig::protocol_version_fallback`] off).
    #[error("the server does not speak protocol {offered}: {message}")]
    UnsupportedProtocolVersion {
        /// The version offered.
        offered: ProtocolVersion,
        /// The server's protocol error message.
        message: String,
    },
}

/// Why TLS could not be set up or the TLS handshake failed.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls refused the configuration (a certificate, a key, the protocol versions).
    /// Shared: it keeps every connection error, and so every request's result, small.
    #[error("TLS configuration refused: {0}")]
    Config(Arc<rustls::Error>),
    /// The configured server name is not a valid DNS name or IP address.
    #[error("TLS: {0:?} is not a valid DNS name or IP address to verify the server against")]
    ServerName(String),
    /// The handshake with the server failed (certificate rejected, protocol mismatch, ...).
    /// The message leaves the address out: the connect error that carries it names the node.
    #[error("TLS handshake failed: {source}")]
    Handshake {
        /// The server's address.
        addr: SocketAddr,
        /// The i/o error rustls reported (it wraps the TLS alert or verification error).
        source: Arc<io::Error>,
    },
}

#[cfg(feature = "tls")]
impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        Self::Config(Arc::new(e))
    }
}

impl ConnectionError {
    /// Types a response that is not the expected one: the server's ERROR as
    /// [`ConnectionError::Server`], anything else as [`ConnectionError::UnexpectedResponse`].
    pub fn from_response(during: &'static str, unexpected: UnexpectedResponse) -> Self {
        match unexpected {
            UnexpectedResponse::Error(error) => Self::Server { during, error },
            UnexpectedResponse::Other(got) => Self::UnexpectedResponse {
                request: during,
                got,
            },
            // A kind `cql-proto` adds later: report it rather than lose it.
            _ => Self::Invalid(format!("unexpected response to {during}")),
        }
    }
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
