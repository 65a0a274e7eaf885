//! The engine's error: one variant per CQL server error code it can produce.

/// An error of the CQL engine, mapping one-to-one to a server ERROR response.
///
/// [`CqlError::code`] gives the protocol error code (section 9 of the v4 spec), and the
/// `Display` text is the message a server would send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CqlError {
    /// Unparseable query text (`0x2000`).
    #[error("{0}")]
    Syntax(String),
    /// A semantically invalid query: unknown table or column, bad type, missing key (`0x2200`).
    #[error("{0}")]
    Invalid(String),
    /// The query is not allowed for the user (`0x2100`).
    #[error("{0}")]
    Unauthorized(String),
    /// An invalid configuration, e.g. a bad replication strategy (`0x2300`).
    #[error("{0}")]
    Config(String),
    /// A keyspace or table already exists (`0x2400`).
    #[error("{message}")]
    AlreadyExists {
        /// The keyspace.
        keyspace: String,
        /// The table, or empty when the keyspace itself exists.
        table: String,
        /// The message.
        message: String,
    },
    /// A prepared statement id is not known (`0x2500`).
    #[error("prepared statement {} not found", hex(.id))]
    Unprepared {
        /// The unknown id.
        id: Vec<u8>,
    },
    /// Not enough replicas are alive (`0x1000`).
    #[error("cannot achieve consistency level: {required} required but {alive} alive")]
    Unavailable {
        /// How many replicas the request needed.
        required: i32,
        /// How many were alive.
        alive: i32,
    },
    /// A protocol-level misuse, e.g. a garbage paging state (`0x000A`).
    #[error("{0}")]
    Protocol(String),
    /// A user-defined function failed while executing (`0x1400`).
    #[error("{message}")]
    FunctionFailure {
        /// The function's keyspace.
        keyspace: String,
        /// The function's name.
        function: String,
        /// The function's argument types as CQL text.
        arg_types: Vec<String>,
        /// The message.
        message: String,
    },
    /// An internal failure (`0x0000`).
    #[error("{0}")]
    Server(String),
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl CqlError {
    /// The protocol error code of this error.
    pub fn code(&self) -> i32 {
        match self {
            Self::Syntax(_) => 0x2000,
            Self::Invalid(_) => 0x2200,
            Self::Unauthorized(_) => 0x2100,
            Self::Config(_) => 0x2300,
            Self::AlreadyExists { .. } => 0x2400,
            Self::Unprepared { .. } => 0x2500,
            Self::Unavailable { .. } => 0x1000,
            Self::Protocol(_) => 0x000A,
            Self::FunctionFailure { .. } => 0x1400,
            Self::Server(_) => 0x0000,
        }
    }

    /// Shorthand for [`CqlError::Invalid`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}

/// The engine's result type.
pub type Result<T, E = CqlError> = std::result::Result<T, E>;
