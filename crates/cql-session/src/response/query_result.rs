//! [`QueryResult`] and [`QueryRowsResult`]: what a statement returned.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

use proto::response::{ColumnSpec, ResultBody, Rows, SchemaChange};
use transport::routing::Shard;
use transport::state::{Node, NodeRef};
use uuid::Uuid;

use bytes::Buf;

use crate::deserialize::{
    ColumnIterator, DeserializationError, DeserializeOwnedRow, DeserializeRow, TypeCheckError,
    TypedRowIterator,
};

/// The column specs of a result: the response's own, or the prepared statement's shared ones
/// when the response skipped its metadata.
#[derive(Debug, Clone)]
enum Specs {
    InResponse,
    Shared(Arc<[ColumnSpec]>),
}

/// The coordinator of a request: the node (and shard) that received it and sent the response,
/// as the `scylla` crate's `Coordinator` describes it.
#[derive(Debug, Clone)]
pub struct Coordinator {
    connection_address: SocketAddr,
    node: NodeRef,
    shard: Option<Shard>,
}

impl Coordinator {
    pub(crate) fn new(node: NodeRef, connection_address: SocketAddr, shard: Option<Shard>) -> Self {
        Self {
            connection_address,
            node,
            shard,
        }
    }

    /// The address the connection was opened to: the node's address, or its shard-aware port.
    /// Identify nodes by [`Node::host_id`], not by this.
    pub fn connection_address(&self) -> SocketAddr {
        self.connection_address
    }

    /// The node that coordinated the request.
    pub fn node(&self) -> &NodeRef {
        &self.node
    }

    /// The shard of the connection (Scylla), or `None` for a node without shards (Cassandra).
    pub fn shard(&self) -> Option<Shard> {
        self.shard
    }
}

/// The coordinator of results not returned by a session (built with
/// [`QueryResult::from_result_body`]): an unspecified address, no host id.
static NO_COORDINATOR: LazyLock<Coordinator> = LazyLock::new(|| {
    let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    let node = Arc::new(Node::new(address, None, None, None, Vec::new()));
    Coordinator::new(node, address, None)
});

/// The result of one statement (one page of it, for a paged query).
///
/// Rows stay in the response's bytes until asked for: call [`into_rows_result`] and then
/// [`QueryRowsResult::rows`].
///
/// [`into_rows_result`]: QueryResult::into_rows_result
#[derive(Debug, Clone)]
pub struct QueryResult {
    body: ResultBody,
    specs: Specs,
    tracing_id: Option<Uuid>,
    warnings: Vec<String>,
    coordinator: Option<Coordinator>,
}

impl QueryResult {
    pub(crate) fn new(
        body: ResultBody,
        shared_specs: Option<&Arc<[ColumnSpec]>>,
        tracing_id: Option<Uuid>,
        warnings: Vec<String>,
    ) -> Self {
        let specs = match (&body, shared_specs) {
            // The server omits the column specs only when asked to (skip_metadata); then the
            // prepared statement's result specs describe the rows.
            (ResultBody::Rows(rows), Some(shared)) if rows.metadata.is_no_metadata() => {
                Specs::Shared(Arc::clone(shared))
            }
            _ => Specs::InResponse,
        };
        Self {
            body,
            specs,
            tracing_id,
            warnings,
            coordinator: None,
        }
    }

    /// The result with the node that answered.
    pub(crate) fn with_coordinator(mut self, coordinator: Option<Coordinator>) -> Self {
        self.coordinator = coordinator;
        self
    }

    /// The node and shard that coordinated the request (the `scylla` crate's accessor). A
    /// result not returned by a session (see [`Self::from_result_body`]) names an unspecified
    /// address `0.0.0.0:0` without host id; [`Self::coordinator`] tells the two apart.
    pub fn request_coordinator(&self) -> &Coordinator {
        self.coordinator.as_ref().unwrap_or(&NO_COORDINATOR)
    }

    /// The node and shard that coordinated the request, or `None` for a result not returned
    /// by a session.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// A result from a decoded RESULT body, without tracing id or warnings (for tests and
    /// tools that decode frames themselves).
    pub fn from_result_body(body: ResultBody) -> Self {
        Self::new(body, None, None, Vec::new())
    }

    /// Whether the result has rows (a `SELECT`, or a conditional statement).
    pub fn is_rows(&self) -> bool {
        matches!(self.body, ResultBody::Rows(_))
    }

    /// Fails with [`ResultNotRowsError`] when the result has rows; for statements that should not
    /// return any.
    pub fn result_not_rows(&self) -> Result<(), ResultNotRowsError> {
        if self.is_rows() {
            Err(ResultNotRowsError)
        } else {
            Ok(())
        }
    }

    /// The warnings the server sent with the result.
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.warnings.iter().map(String::as_str)
    }

    /// The tracing session id, when the statement was traced. See
    /// [`Session::get_tracing_info`](crate::client::session::Session::get_tracing_info).
    pub fn tracing_id(&self) -> Option<Uuid> {
        self.tracing_id
    }

    /// The schema change this result reports (after DDL), if any.
    pub fn schema_change(&self) -> Option<&SchemaChange> {
        match &self.body {
            ResultBody::SchemaChange(c) => Some(c),
            _ => None,
        }
    }

    /// The keyspace set by a `USE` statement, if this is its result.
    pub fn set_keyspace(&self) -> Option<&str> {
        match &self.body {
            ResultBody::SetKeyspace(ks) => Some(ks),
            _ => None,
        }
    }

    /// Turns the result into one with rows, or fails when the statement returned none.
    pub fn into_rows_result(self) -> Result<QueryRowsResult, IntoRowsResultError> {
        match self.body {
            ResultBody::Rows(rows) => Ok(QueryRowsResult {
                rows,
                specs: self.specs,
                tracing_id: self.tracing_id,
                warnings: self.warnings,
            }),
            _ => Err(IntoRowsResultError::ResultNotRows(Box::new(self))),
        }
    }

    pub(crate) fn paging_state_raw(&self) -> Option<bytes::Bytes> {
        match &self.body {
            ResultBody::Rows(rows) => rows.metadata.paging_state.clone(),
            _ => None,
        }
    }
}

/// A result with rows.
#[derive(Debug, Clone)]
pub struct QueryRowsResult {
    rows: Rows,
    specs: Specs,
    tracing_id: Option<Uuid>,
    warnings: Vec<String>,
}

impl QueryRowsResult {
    fn specs(&self) -> &[ColumnSpec] {
        match &self.specs {
            Specs::InResponse => &self.rows.metadata.col_specs,
            Specs::Shared(s) => s,
        }
    }

    /// The number of rows.
    pub fn rows_num(&self) -> usize {
        self.rows.rows_count
    }

    /// The number of bytes of the rows in the response.
    pub fn rows_bytes_size(&self) -> usize {
        self.rows.rows_content.len()
    }

    /// The result's columns.
    pub fn column_specs(&self) -> ColumnSpecs<'_> {
        ColumnSpecs(self.specs())
    }

    /// The warnings the server sent with the result.
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.warnings.iter().map(String::as_str)
    }

    /// The tracing session id, when the statement was traced.
    pub fn tracing_id(&self) -> Option<Uuid> {
        self.tracing_id
    }

    /// The rows, decoded as `R` on demand.
    ///
    /// `R` is checked against the column specs once, here; a mismatch is
    /// [`RowsError::TypeCheckFailed`].
    pub fn rows<'frame, R: DeserializeRow<'frame>>(
        &'frame self,
    ) -> Result<TypedRowIterator<'frame, R>, RowsError> {
        let specs = self.specs();
        R::type_check(specs).map_err(RowsError::TypeCheckFailed)?;
        Ok(TypedRowIterator::new(
            specs,
            self.rows.rows(),
            self.rows.rows_count,
        ))
    }

    /// Decodes the first remaining row as `T` and drops it from the result (for pagers).
    pub(crate) fn take_row<T: DeserializeOwnedRow>(
        &mut self,
    ) -> Option<Result<T, DeserializationError>> {
        if self.rows.rows_count == 0 {
            return None;
        }
        let (row, used) = {
            let specs = self.specs();
            match self.rows.rows().next()? {
                Ok(raw) => (
                    T::deserialize(ColumnIterator::new(specs, raw)),
                    raw.as_bytes().len(),
                ),
                Err(e) => (Err(DeserializationError::Malformed(e)), usize::MAX),
            }
        };
        if used == usize::MAX {
            self.rows.rows_count = 0;
        } else {
            self.rows.rows_content.advance(used);
            self.rows.rows_count -= 1;
        }
        Some(row)
    }

    /// The first row, or `None` when there are no rows.
    pub fn maybe_first_row<'frame, R: DeserializeRow<'frame>>(
        &'frame self,
    ) -> Result<Option<R>, MaybeFirstRowError> {
        let mut rows = self
            .rows::<R>()
            .map_err(|RowsError::TypeCheckFailed(e)| MaybeFirstRowError::TypeCheckFailed(e))?;
        rows.next()
            .transpose()
            .map_err(MaybeFirstRowError::DeserializationFailed)
    }

    /// The first row; fails when there are no rows.
    pub fn first_row<'frame, R: DeserializeRow<'frame>>(&'frame self) -> Result<R, FirstRowError> {
        match self.maybe_first_row::<R>() {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(FirstRowError::RowsEmpty),
            Err(MaybeFirstRowError::TypeCheckFailed(e)) => Err(FirstRowError::TypeCheckFailed(e)),
            Err(MaybeFirstRowError::DeserializationFailed(e)) => {
                Err(FirstRowError::DeserializationFailed(e))
            }
        }
    }

    /// The only row; fails unless there is exactly one.
    pub fn single_row<'frame, R: DeserializeRow<'frame>>(
        &'frame self,
    ) -> Result<R, SingleRowError> {
        let n = self.rows_num();
        if n != 1 {
            return Err(SingleRowError::UnexpectedRowCount(n));
        }
        match self.first_row::<R>() {
            Ok(r) => Ok(r),
            Err(FirstRowError::TypeCheckFailed(e)) => Err(SingleRowError::TypeCheckFailed(e)),
            Err(FirstRowError::DeserializationFailed(e)) => {
                Err(SingleRowError::DeserializationFailed(e))
            }
            Err(FirstRowError::RowsEmpty) => Err(SingleRowError::UnexpectedRowCount(0)),
        }
    }
}

/// The column specs of a result.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpecs<'a>(&'a [ColumnSpec]);

impl<'a> ColumnSpecs<'a> {
    /// The number of columns.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The column at `index`.
    pub fn get_by_index(&self, index: usize) -> Option<&'a ColumnSpec> {
        self.0.get(index)
    }

    /// The first column named `name`, with its index.
    pub fn get_by_name(&self, name: &str) -> Option<(usize, &'a ColumnSpec)> {
        self.0.iter().enumerate().find(|(_, c)| c.name == name)
    }

    /// The columns, in order.
    pub fn iter(&self) -> std::slice::Iter<'a, ColumnSpec> {
        self.0.iter()
    }

    /// The columns as a slice.
    pub fn as_slice(&self) -> &'a [ColumnSpec] {
        self.0
    }
}

impl<'a> IntoIterator for ColumnSpecs<'a> {
    type Item = &'a ColumnSpec;
    type IntoIter = std::slice::Iter<'a, ColumnSpec>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The result has rows, but the caller expected none.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the statement returned rows where none were expected")]
pub struct ResultNotRowsError;

/// [`QueryResult::into_rows_result`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IntoRowsResultError {
    /// The statement returned no rows (it was not a `SELECT`); the result is given back.
    #[error("the statement returned no rows (it is not a SELECT); do not call into_rows_result")]
    ResultNotRows(Box<QueryResult>),
}

/// [`QueryRowsResult::rows`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RowsError {
    /// The Rust row type does not fit the result's columns.
    #[error("the row type does not fit the result: {0}")]
    TypeCheckFailed(#[source] TypeCheckError),
}

/// [`QueryRowsResult::maybe_first_row`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MaybeFirstRowError {
    /// The Rust row type does not fit the result's columns.
    #[error("the row type does not fit the result: {0}")]
    TypeCheckFailed(#[source] TypeCheckError),
    /// The row could not be decoded.
    #[error("the first row could not be decoded: {0}")]
    DeserializationFailed(#[source] DeserializationError),
}

/// [`QueryRowsResult::first_row`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FirstRowError {
    /// There were no rows.
    #[error("the result has no rows; use maybe_first_row when none is a valid answer")]
    RowsEmpty,
    /// The Rust row type does not fit the result's columns.
    #[error("the row type does not fit the result: {0}")]
    TypeCheckFailed(#[source] TypeCheckError),
    /// The row could not be decoded.
    #[error("the first row could not be decoded: {0}")]
    DeserializationFailed(#[source] DeserializationError),
}

/// [`QueryRowsResult::single_row`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SingleRowError {
    /// There was not exactly one row.
    #[error("expected exactly one row, got {0}")]
    UnexpectedRowCount(usize),
    /// The Rust row type does not fit the result's columns.
    #[error("the row type does not fit the result: {0}")]
    TypeCheckFailed(#[source] TypeCheckError),
    /// The row could not be decoded.
    #[error("the row could not be decoded: {0}")]
    DeserializationFailed(#[source] DeserializationError),
}
