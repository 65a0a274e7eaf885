//! [`DbError`]: a server's ERROR response, typed, with its code-specific details.

use bytes::Bytes;
use proto::ErrorCode;
use proto::response::{ErrorBody, ErrorDetails, RateLimitReached};

use super::{ErrorConsistency, WriteType};
use crate::consistency::Consistency;

/// A server's ERROR response, typed. The server's message is kept next to it in
/// [`RequestAttemptError::DbError`](super::RequestAttemptError::DbError).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The server failed internally (0x0000).
    #[error("the server failed with an internal error")]
    ServerError,
    /// The server says the request breaks the protocol (0x000A): a driver bug.
    #[error("the server rejected the request as a protocol violation")]
    ProtocolError,
    /// Authentication failed (0x0100): check the user name and password.
    #[error("authentication failed; check the credentials")]
    AuthenticationError,
    /// Not enough replicas are alive to reach the consistency level (0x1000).
    #[error(
        "not enough replicas alive for consistency {}: {alive} alive, {required} required",
        super::ShowConsistency(.consistency)
    )]
    Unavailable {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Replicas required.
        required: i32,
        /// Replicas alive.
        alive: i32,
    },
    /// The coordinator is overloaded (0x1001): slow down or add capacity.
    #[error("the coordinator is overloaded")]
    Overloaded,
    /// The coordinator is still bootstrapping (0x1002).
    #[error("the coordinator is bootstrapping")]
    IsBootstrapping,
    /// A TRUNCATE failed (0x1003).
    #[error("truncate failed")]
    TruncateError,
    /// Replicas did not acknowledge a write in time (0x1100); it may or may not have applied.
    #[error(
        "write timed out at consistency {} ({write_type}): {received} of {required} replicas acknowledged",
        super::ShowConsistency(.consistency)
    )]
    WriteTimeout {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        required: i32,
        /// The kind of write.
        write_type: WriteType,
    },
    /// Replicas did not answer a read in time (0x1200).
    #[error(
        "read timed out at consistency {}: {received} of {required} replicas answered (data present: {data_present})",
        super::ShowConsistency(.consistency)
    )]
    ReadTimeout {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Answers received.
        received: i32,
        /// Answers required.
        required: i32,
        /// Whether the replica asked for the data answered.
        data_present: bool,
    },
    /// A read failed on replicas (0x1300).
    #[error(
        "read failed at consistency {}: {received} of {required} answered, {numfailures} failed",
        super::ShowConsistency(.consistency)
    )]
    ReadFailure {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Answers received.
        received: i32,
        /// Answers required.
        required: i32,
        /// Replicas that failed.
        numfailures: i32,
        /// Whether the replica asked for the data answered.
        data_present: bool,
    },
    /// A user-defined function failed (0x1400).
    #[error("function {keyspace}.{function} failed")]
    FunctionFailure {
        /// The function's keyspace.
        keyspace: String,
        /// The function's name.
        function: String,
        /// Its argument types.
        arg_types: Vec<String>,
    },
    /// A write failed on replicas (0x1500).
    #[error(
        "write failed at consistency {} ({write_type}): {received} of {required} acknowledged, {numfailures} failed",
        super::ShowConsistency(.consistency)
    )]
    WriteFailure {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        required: i32,
        /// Replicas that failed.
        numfailures: i32,
        /// The kind of write.
        write_type: WriteType,
    },
    /// A CDC write failed (0x1600).
    #[error("CDC write failed")]
    CdcWriteFailure,
    /// A conditional write's outcome is unknown (0x1700).
    #[error(
        "conditional write outcome unknown at consistency {}: {received} of {required}",
        super::ShowConsistency(.consistency)
    )]
    CasWriteUnknown {
        /// The requested consistency.
        consistency: ErrorConsistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        required: i32,
    },
    /// The statement has a syntax error (0x2000): fix the CQL.
    #[error("CQL syntax error")]
    SyntaxError,
    /// The user may not run the statement (0x2100): grant the permission.
    #[error("not authorized")]
    Unauthorized,
    /// The statement is syntactically valid but invalid (0x2200): e.g. an unknown table.
    #[error("invalid request")]
    Invalid,
    /// A configuration problem (0x2300).
    #[error("configuration error")]
    ConfigError,
    /// The keyspace or table to create exists (0x2400); use `IF NOT EXISTS` to ignore it.
    #[error("{keyspace}.{table} already exists; use IF NOT EXISTS to ignore this")]
    AlreadyExists {
        /// The keyspace.
        keyspace: String,
        /// The table (empty when a keyspace exists).
        table: String,
    },
    /// The node does not know the prepared statement id (0x2500); the driver re-prepares.
    #[error("the node does not know prepared statement {statement_id:02x?}")]
    Unprepared {
        /// The statement id.
        statement_id: Bytes,
    },
    /// Scylla's per-partition rate limit (the table's `per_partition_rate_limit`) was reached:
    /// the operation was not applied. The driver does not retry it; back off, or spread the
    /// load over more partitions.
    #[error(
        "per-partition rate limit reached for a {op_type} (rejected by coordinator: {rejected_by_coordinator}); back off before retrying"
    )]
    RateLimitReached {
        /// The limited operation.
        op_type: OperationType,
        /// Whether the coordinator rejected the operation (rather than the replicas).
        rejected_by_coordinator: bool,
    },
    /// An error code this driver does not know.
    #[error("server error code 0x{0:04x}")]
    Other(i32),
}

impl DbError {
    /// The protocol's error code.
    pub fn code(&self) -> i32 {
        self.error_code().0
    }

    /// The server's error code as `cql-proto`'s [`ErrorCode`], the one table of code numbers.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::ServerError => ErrorCode::SERVER_ERROR,
            Self::ProtocolError => ErrorCode::PROTOCOL_ERROR,
            Self::AuthenticationError => ErrorCode::BAD_CREDENTIALS,
            Self::Unavailable { .. } => ErrorCode::UNAVAILABLE,
            Self::Overloaded => ErrorCode::OVERLOADED,
            Self::IsBootstrapping => ErrorCode::IS_BOOTSTRAPPING,
            Self::TruncateError => ErrorCode::TRUNCATE_ERROR,
            Self::WriteTimeout { .. } => ErrorCode::WRITE_TIMEOUT,
            Self::ReadTimeout { .. } => ErrorCode::READ_TIMEOUT,
            Self::ReadFailure { .. } => ErrorCode::READ_FAILURE,
            Self::FunctionFailure { .. } => ErrorCode::FUNCTION_FAILURE,
            Self::WriteFailure { .. } => ErrorCode::WRITE_FAILURE,
            Self::CdcWriteFailure => ErrorCode::CDC_WRITE_FAILURE,
            Self::CasWriteUnknown { .. } => ErrorCode::CAS_WRITE_UNKNOWN,
            Self::SyntaxError => ErrorCode::SYNTAX_ERROR,
            Self::Unauthorized => ErrorCode::UNAUTHORIZED,
            Self::Invalid => ErrorCode::INVALID,
            Self::ConfigError => ErrorCode::CONFIG_ERROR,
            Self::AlreadyExists { .. } => ErrorCode::ALREADY_EXISTS,
            Self::Unprepared { .. } => ErrorCode::UNPREPARED,
            // The real code is negotiated per connection (SUPPORTED `ERROR_CODE`); this is the
            // fixed value this driver has always reported for it.
            Self::RateLimitReached { .. } => ErrorCode(0x4321),
            Self::Other(code) => ErrorCode(*code),
        }
    }

    /// Whether another attempt may succeed (possibly on another node): unavailable, overloaded,
    /// bootstrapping, timeouts, server errors, truncate errors and unprepared.
    ///
    /// Whether a retry is *safe* also depends on the statement's idempotence; see
    /// [`crate::policies::retry`].
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ServerError
                | Self::Unavailable { .. }
                | Self::Overloaded
                | Self::IsBootstrapping
                | Self::TruncateError
                | Self::WriteTimeout { .. }
                | Self::ReadTimeout { .. }
                | Self::Unprepared { .. }
        )
    }

    /// Whether the server timed out waiting for replicas.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::WriteTimeout { .. } | Self::ReadTimeout { .. })
    }

    /// Whether the statement itself is wrong (syntax, invalid, unauthorized, already exists):
    /// retrying it cannot help.
    pub fn is_statement_error(&self) -> bool {
        matches!(
            self,
            Self::SyntaxError
                | Self::Invalid
                | Self::Unauthorized
                | Self::AlreadyExists { .. }
                | Self::ConfigError
                | Self::FunctionFailure { .. }
        )
    }
}

/// The kind of operation a rate limit rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationType {
    /// A read.
    Read,
    /// A write.
    Write,
    /// A kind this driver does not know, as sent.
    Other(u8),
}

impl std::fmt::Display for OperationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read => f.write_str("read"),
            Self::Write => f.write_str("write"),
            Self::Other(b) => write!(f, "operation of type {b}"),
        }
    }
}

impl From<u8> for OperationType {
    fn from(b: u8) -> Self {
        match b {
            RateLimitReached::READ => Self::Read,
            RateLimitReached::WRITE => Self::Write,
            other => Self::Other(other),
        }
    }
}

impl DbError {
    /// Types a server ERROR body received on a connection whose Scylla rate-limit error code
    /// is `rate_limit_code` (negotiated in SUPPORTED/STARTUP; see
    /// `ConnectionInfo::rate_limit_error_code`): that code is [`DbError::RateLimitReached`],
    /// every other as [`DbError::from_error_body`] types it.
    pub fn from_error_body_on(body: &ErrorBody, rate_limit_code: Option<i32>) -> Self {
        match rate_limit_code.and_then(|c| RateLimitReached::from_error(body, c)) {
            Some(r) => Self::RateLimitReached {
                op_type: r.op_type.into(),
                rejected_by_coordinator: r.rejected_by_coordinator,
            },
            None => Self::from_error_body(body),
        }
    }

    /// Types a server ERROR body.
    pub fn from_error_body(body: &ErrorBody) -> Self {
        let cl = |c: proto::Consistency| Consistency::try_from(c);
        match &body.details {
            ErrorDetails::Unavailable {
                consistency,
                required,
                alive,
            } => Self::Unavailable {
                consistency: cl(*consistency),
                required: *required,
                alive: *alive,
            },
            ErrorDetails::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
                ..
            } => Self::WriteTimeout {
                consistency: cl(*consistency),
                received: *received,
                required: *block_for,
                write_type: write_type.clone(),
            },
            ErrorDetails::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => Self::ReadTimeout {
                consistency: cl(*consistency),
                received: *received,
                required: *block_for,
                data_present: *data_present,
            },
            ErrorDetails::ReadFailure {
                consistency,
                received,
                block_for,
                num_failures,
                data_present,
                ..
            } => Self::ReadFailure {
                consistency: cl(*consistency),
                received: *received,
                required: *block_for,
                numfailures: *num_failures,
                data_present: *data_present,
            },
            ErrorDetails::FunctionFailure {
                keyspace,
                function,
                arg_types,
            } => Self::FunctionFailure {
                keyspace: keyspace.clone(),
                function: function.clone(),
                arg_types: arg_types.clone(),
            },
            ErrorDetails::WriteFailure {
                consistency,
                received,
                block_for,
                num_failures,
                write_type,
                ..
            } => Self::WriteFailure {
                consistency: cl(*consistency),
                received: *received,
                required: *block_for,
                numfailures: *num_failures,
                write_type: write_type.clone(),
            },
            ErrorDetails::CasWriteUnknown {
                consistency,
                received,
                block_for,
            } => Self::CasWriteUnknown {
                consistency: cl(*consistency),
                received: *received,
                required: *block_for,
            },
            ErrorDetails::AlreadyExists { keyspace, table } => Self::AlreadyExists {
                keyspace: keyspace.clone(),
                table: table.clone(),
            },
            ErrorDetails::Unprepared { id } => Self::Unprepared {
                statement_id: id.clone(),
            },
            _ => match body.code {
                ErrorCode::SERVER_ERROR => Self::ServerError,
                ErrorCode::PROTOCOL_ERROR => Self::ProtocolError,
                ErrorCode::BAD_CREDENTIALS => Self::AuthenticationError,
                ErrorCode::OVERLOADED => Self::Overloaded,
                ErrorCode::IS_BOOTSTRAPPING => Self::IsBootstrapping,
                ErrorCode::TRUNCATE_ERROR => Self::TruncateError,
                ErrorCode::CDC_WRITE_FAILURE => Self::CdcWriteFailure,
                ErrorCode::SYNTAX_ERROR => Self::SyntaxError,
                ErrorCode::UNAUTHORIZED => Self::Unauthorized,
                ErrorCode::INVALID => Self::Invalid,
                ErrorCode::CONFIG_ERROR => Self::ConfigError,
                other => Self::Other(other.0),
            },
        }
    }
}
