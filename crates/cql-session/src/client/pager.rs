//! [`QueryPager`]: a stream over every row of a paged result.
//!
//! The pager holds one page and, as soon as that page arrives, the request for the next one.
//! The request is polled together with the stream, so the next page is fetched while the rows of
//! the current one are consumed, without spawning a task.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use proto::response::ColumnSpec;
use proto::{SerializedValues, Token};

use super::session::SessionInner;
use crate::deserialize::TypeCheckError;
use crate::deserialize::row::DeserializeOwnedRow;
use crate::errors::{ExecutionError, NextPageError, NextRowError, PagerExecutionError};
use crate::response::{PagingStateResponse, QueryResult, QueryRowsResult};
use crate::statement::{PreparedStatement, Statement};
use crate::value::Row;

/// What a pager runs for each page.
pub(crate) enum PagerStatement {
    /// An unprepared statement without values.
    Unprepared(Statement),
    /// A prepared statement with its values, serialized once.
    Prepared {
        prepared: PreparedStatement,
        values: SerializedValues,
        token: Option<Token>,
    },
}

struct Source {
    session: Arc<SessionInner>,
    statement: PagerStatement,
}

type PageResult = Result<QueryResult, ExecutionError>;

impl Source {
    fn fetch(self: &Arc<Self>, paging_state: Option<Bytes>) -> BoxFuture<'static, PageResult> {
        let this = Arc::clone(self);
        Box::pin(async move {
            this.session.metrics.inc_queries_iter();
            let r = match &this.statement {
                PagerStatement::Unprepared(s) => {
                    this.session
                        .run_query(s, Some(s.page_size), paging_state)
                        .await
                }
                PagerStatement::Prepared {
                    prepared,
                    values,
                    token,
                } => {
                    this.session
                        .run_serialized(
                            prepared,
                            values.clone(),
                            *token,
                            Some(prepared.page_size),
                            paging_state,
                        )
                        .await
                }
            };
            if r.is_err() {
                this.session.metrics.inc_errors_iter();
            }
            r
        })
    }
}

/// A stream of every row of a paged result, as dynamic [`Row`]s; use
/// [`QueryPager::rows_stream`] for typed rows.
///
/// Created by [`Session::query_iter`](super::session::Session::query_iter) and
/// [`Session::execute_iter`](super::session::Session::execute_iter).
pub struct QueryPager {
    source: Arc<Source>,
    page: Option<QueryRowsResult>,
    /// The next page's request, started when the current page arrived.
    next: Option<BoxFuture<'static, PageResult>>,
    /// The next page, when it arrived before the current one was consumed.
    ready: Option<PageResult>,
    specs: Arc<[ColumnSpec]>,
    page_checked: bool,
    done: bool,
}

impl std::fmt::Debug for QueryPager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryPager")
            .field("columns", &self.specs.len())
            .field("fetching", &self.next.is_some())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl QueryPager {
    /// Fetches the first page and starts the pager.
    pub(crate) async fn start(
        session: Arc<SessionInner>,
        statement: PagerStatement,
    ) -> Result<Self, PagerExecutionError> {
        let source = Arc::new(Source { session, statement });
        let first = source
            .fetch(None)
            .await
            .map_err(|e| PagerExecutionError::NextPageError(NextPageError::RequestFailure(e)))?;
        let mut pager = Self {
            source,
            page: None,
            next: None,
            ready: None,
            specs: Arc::from(Vec::new()),
            page_checked: false,
            done: false,
        };
        pager.install(first);
        Ok(pager)
    }

    /// The result's columns (known from the first page).
    pub fn column_specs(&self) -> &[ColumnSpec] {
        &self.specs
    }

    /// A stream of typed rows. Fails at once when `T` does not fit the result's columns.
    pub fn rows_stream<T: DeserializeOwnedRow>(self) -> Result<TypedRowStream<T>, TypeCheckError> {
        T::type_check(&self.specs)?;
        Ok(TypedRowStream {
            pager: self,
            _row: PhantomData,
        })
    }

    /// Makes `result` the current page and starts fetching the one after it.
    fn install(&mut self, result: QueryResult) {
        let raw_state = result.paging_state_raw();
        match result.into_rows_result() {
            Ok(rows) => {
                if self.specs.is_empty() {
                    self.specs = rows.column_specs().as_slice().into();
                }
                self.page = Some(rows);
            }
            // A statement without rows: the stream is empty.
            Err(_) => self.page = None,
        }
        self.page_checked = false;
        self.next = match PagingStateResponse::from_raw(raw_state) {
            PagingStateResponse::HasMorePages { state } => {
                Some(self.source.fetch(state.into_raw()))
            }
            _ => None,
        };
    }

    fn has_rows(&self) -> bool {
        self.page.as_ref().is_some_and(|p| p.rows_num() > 0)
    }

    /// The next row, decoded as `T`.
    fn poll_next_row<T: DeserializeOwnedRow>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, NextRowError>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            // Keep the next page's request moving while rows remain.
            if self.has_rows() {
                if let Some(fut) = self.next.as_mut()
                    && let Poll::Ready(r) = fut.as_mut().poll(cx)
                {
                    self.next = None;
                    self.ready = Some(r);
                }
                if let Some(page) = self.page.as_mut() {
                    if !self.page_checked {
                        if let Err(e) = T::type_check(page.column_specs().as_slice()) {
                            self.done = true;
                            return Poll::Ready(Some(Err(NextRowError::TypeCheck(e))));
                        }
                        self.page_checked = true;
                    }
                    if let Some(row) = page.take_row::<T>() {
                        return Poll::Ready(Some(row.map_err(NextRowError::from)));
                    }
                }
            }
            let result = match self.ready.take() {
                Some(r) => r,
                None => match self.next.as_mut() {
                    None => {
                        self.done = true;
                        return Poll::Ready(None);
                    }
                    Some(fut) => match fut.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(r) => {
                            self.next = None;
                            r
                        }
                    },
                },
            };
            match result {
                Ok(page) => self.install(page),
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(NextRowError::NextPageError(
                        NextPageError::RequestFailure(e),
                    ))));
                }
            }
        }
    }
}

impl Stream for QueryPager {
    type Item = Result<Row, NextRowError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_row::<Row>(cx)
    }
}

/// A stream of every row of a paged result, decoded as `T`.
pub struct TypedRowStream<T> {
    pager: QueryPager,
    _row: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for TypedRowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRowStream")
            .field("pager", &self.pager)
            .finish()
    }
}

impl<T> TypedRowStream<T> {
    /// The result's columns.
    pub fn column_specs(&self) -> &[ColumnSpec] {
        self.pager.column_specs()
    }
}

impl<T: DeserializeOwnedRow> Stream for TypedRowStream<T> {
    type Item = Result<T, NextRowError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().pager.poll_next_row::<T>(cx)
    }
}
