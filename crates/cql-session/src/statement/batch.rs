//! [`Batch`]: several modifications sent as one request.

use super::{PreparedStatement, Statement, StatementConfig, impl_statement_config};

/// The kind of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BatchType {
    /// Atomic: all statements apply or none (through the batch log). The default.
    #[default]
    Logged,
    /// Not atomic; cheaper, best when all statements hit one partition.
    Unlogged,
    /// Counter updates only.
    Counter,
}

impl BatchType {
    /// The batch type as `cql-proto`'s wire value.
    pub fn to_wire(self) -> proto::BatchType {
        match self {
            Self::Logged => proto::BatchType::LOGGED,
            Self::Unlogged => proto::BatchType::UNLOGGED,
            Self::Counter => proto::BatchType::COUNTER,
        }
    }

    /// The batch type's byte on the wire.
    pub fn code(self) -> u8 {
        self.to_wire().0
    }
}

/// One statement of a batch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BatchStatement {
    /// A statement sent as text.
    Query(Statement),
    /// A prepared statement sent by id.
    PreparedStatement(PreparedStatement),
}

impl From<&str> for BatchStatement {
    fn from(text: &str) -> Self {
        Self::Query(Statement::new(text))
    }
}

impl From<Statement> for BatchStatement {
    fn from(s: Statement) -> Self {
        Self::Query(s)
    }
}

impl From<PreparedStatement> for BatchStatement {
    fn from(p: PreparedStatement) -> Self {
        Self::PreparedStatement(p)
    }
}

/// Several `INSERT`, `UPDATE` and `DELETE` statements sent as one request.
///
/// The batch's own options (consistency, idempotence, timestamp, ...) apply to the whole batch;
/// those of its statements are ignored. Values are passed to
/// [`Session::batch`](crate::client::session::Session::batch) as one row per statement.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The statements, in order (public, as in the `scylla` crate; see also
    /// [`Self::statements`]).
    pub statements: Vec<BatchStatement>,
    pub(crate) batch_type: BatchType,
    pub(crate) config: StatementConfig,
}

impl Batch {
    /// An empty batch of this type.
    pub fn new(batch_type: BatchType) -> Self {
        Self {
            statements: Vec::new(),
            batch_type,
            config: StatementConfig::default(),
        }
    }

    /// A batch of this type with these statements.
    pub fn new_with_statements(batch_type: BatchType, statements: Vec<BatchStatement>) -> Self {
        Self {
            statements,
            batch_type,
            config: StatementConfig::default(),
        }
    }

    /// Appends a statement.
    pub fn append_statement(&mut self, statement: impl Into<BatchStatement>) {
        self.statements.push(statement.into());
    }

    /// The batch's type.
    pub fn get_type(&self) -> BatchType {
        self.batch_type
    }

    /// The statements, in order.
    pub fn statements(&self) -> &[BatchStatement] {
        &self.statements
    }

    /// The statements, mutably.
    pub fn statements_mut(&mut self) -> &mut Vec<BatchStatement> {
        &mut self.statements
    }
}

impl_statement_config!(Batch);
