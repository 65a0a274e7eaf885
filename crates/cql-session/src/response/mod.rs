//! Responses: [`QueryResult`] and paging state.

pub mod query_result;

use std::ops::ControlFlow;

use bytes::Bytes;

/// A result or bind-marker column, and the keyspace and table it belongs to
/// ([`ColumnSpec::name`], [`ColumnSpec::typ`], [`ColumnSpec::table_spec`]).
pub use proto::response::{ColumnSpec, TableSpec};
pub use query_result::{Coordinator, QueryResult, QueryRowsResult};

/// Where a paged query continues: an opaque token from the server.
///
/// [`PagingState::start`] asks for the first page; a state returned in
/// [`PagingStateResponse::HasMorePages`] asks for the page after it. Cloning is cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagingState(Option<Bytes>);

impl PagingState {
    /// The state asking for the first page.
    pub fn start() -> Self {
        Self(None)
    }

    /// A state from raw bytes saved from an earlier [`PagingState::as_bytes_slice`].
    pub fn new_from_raw_bytes(raw: impl Into<Bytes>) -> Self {
        Self(Some(raw.into()))
    }

    /// The raw bytes, or `None` for the first page.
    pub fn as_bytes_slice(&self) -> Option<&Bytes> {
        self.0.as_ref()
    }

    pub(crate) fn into_raw(self) -> Option<Bytes> {
        self.0
    }
}

/// Whether a paged result has more pages. Exhaustive (as in the `scylla` crate): a page is
/// the last one or it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingStateResponse {
    /// More pages follow; pass `state` to get the next one.
    HasMorePages {
        /// The state asking for the next page.
        state: PagingState,
    },
    /// This was the last page.
    NoMorePages,
}

impl PagingStateResponse {
    /// Whether this was the last page.
    pub fn finished(&self) -> bool {
        matches!(self, Self::NoMorePages)
    }

    /// `Continue(state)` for the next page, or `Break(())` after the last page.
    pub fn into_paging_control_flow(self) -> ControlFlow<(), PagingState> {
        match self {
            Self::HasMorePages { state } => ControlFlow::Continue(state),
            Self::NoMorePages => ControlFlow::Break(()),
        }
    }

    pub(crate) fn from_raw(raw: Option<Bytes>) -> Self {
        match raw {
            Some(b) => Self::HasMorePages {
                state: PagingState(Some(b)),
            },
            None => Self::NoMorePages,
        }
    }
}
