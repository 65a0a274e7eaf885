//! [`CachingSession`]: a session that prepares each statement text once and reuses it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::pager::QueryPager;
use super::session::Session;
use crate::errors::{ExecutionError, PagerExecutionError, PrepareError};
use crate::response::{PagingState, PagingStateResponse, QueryResult};
use crate::serialize::{BatchValues, SerializeRow};
use crate::statement::{Batch, BatchStatement, PreparedStatement, Statement};

/// A [`Session`] with a bounded cache of prepared statements keyed by CQL text.
///
/// Every `execute_*` takes a statement (or its text), prepares it on first use and executes the
/// cached prepared statement afterwards. When the cache is full, the least recently used entry is
/// dropped.
#[derive(Debug)]
pub struct CachingSession {
    session: Arc<Session>,
    max_capacity: usize,
    use_cached_result_metadata: bool,
    cache: Mutex<Cache>,
}

/// Builds a [`CachingSession`] (the `scylla` crate's `CachingSessionBuilder`).
#[derive(Debug)]
pub struct CachingSessionBuilder {
    session: Arc<Session>,
    max_capacity: usize,
    use_cached_result_metadata: bool,
}

impl CachingSessionBuilder {
    /// A builder wrapping `session`, with a cache of 128 statements.
    pub fn new(session: Session) -> Self {
        Self::new_shared(Arc::new(session))
    }

    /// A builder wrapping a shared `session` (other owners keep using it directly).
    pub fn new_shared(session: Arc<Session>) -> Self {
        Self {
            session,
            max_capacity: DEFAULT_MAX_CAPACITY,
            use_cached_result_metadata: false,
        }
    }

    /// The most prepared statements the cache keeps (at least 1).
    #[must_use]
    pub fn max_capacity(mut self, max_capacity: usize) -> Self {
        self.max_capacity = max_capacity;
        self
    }

    /// Whether cached statements skip the result metadata in responses (see
    /// [`PreparedStatement::set_use_cached_result_metadata`]).
    #[must_use]
    pub fn use_cached_result_metadata(mut self, on: bool) -> Self {
        self.use_cached_result_metadata = on;
        self
    }

    /// The caching session.
    pub fn build(self) -> CachingSession {
        CachingSession {
            session: self.session,
            max_capacity: self.max_capacity.max(1),
            use_cached_result_metadata: self.use_cached_result_metadata,
            cache: Mutex::new(Cache::default()),
        }
    }
}

/// The cache size of [`CachingSessionBuilder::new`].
const DEFAULT_MAX_CAPACITY: usize = 128;

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, (PreparedStatement, u64)>,
    clock: u64,
}

impl CachingSession {
    /// Wraps `session` with a cache of at most `cache_size` prepared statements.
    pub fn from(session: Session, cache_size: usize) -> Self {
        CachingSessionBuilder::new(session)
            .max_capacity(cache_size)
            .build()
    }

    /// The most prepared statements the cache keeps.
    pub fn get_max_capacity(&self) -> usize {
        self.max_capacity
    }

    /// The wrapped session.
    pub fn get_session(&self) -> &Session {
        &self.session
    }

    /// The number of cached statements.
    pub fn cached_statements(&self) -> usize {
        self.cache.lock().map(|c| c.entries.len()).unwrap_or(0)
    }

    /// The cached prepared statement for `statement`'s text, preparing it when missing. The
    /// statement's options (consistency, page size, ...) apply to the returned copy.
    pub async fn add_prepared_statement(
        &self,
        statement: &Statement,
    ) -> Result<PreparedStatement, PrepareError> {
        if let Some(p) = self.lookup(statement.contents()) {
            return Ok(with_options(p, statement));
        }
        let mut prepared = self.session.prepare(statement.clone()).await?;
        if self.use_cached_result_metadata {
            prepared.set_use_cached_result_metadata(true);
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.clock += 1;
            let now = cache.clock;
            if cache.entries.len() >= self.max_capacity {
                let oldest = cache
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    cache.entries.remove(&k);
                }
            }
            cache
                .entries
                .insert(statement.contents().to_owned(), (prepared.clone(), now));
        }
        Ok(prepared)
    }

    fn lookup(&self, text: &str) -> Option<PreparedStatement> {
        let mut cache = self.cache.lock().ok()?;
        cache.clock += 1;
        let now = cache.clock;
        let (p, used) = cache.entries.get_mut(text)?;
        *used = now;
        Some(p.clone())
    }

    /// Executes `statement` (prepared once) and returns its whole result.
    pub async fn execute_unpaged(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
    ) -> Result<QueryResult, ExecutionError> {
        let p = self.add_prepared_statement(&statement.into()).await?;
        self.session.execute_unpaged(&p, values).await
    }

    /// Executes `statement` (prepared once) and returns one page.
    pub async fn execute_single_page(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
        paging_state: PagingState,
    ) -> Result<(QueryResult, PagingStateResponse), ExecutionError> {
        let p = self.add_prepared_statement(&statement.into()).await?;
        self.session
            .execute_single_page(&p, values, paging_state)
            .await
    }

    /// Executes `statement` (prepared once) and pages through its result.
    pub async fn execute_iter(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
    ) -> Result<QueryPager, PagerExecutionError> {
        let p = self.add_prepared_statement(&statement.into()).await?;
        self.session.execute_iter(p, values).await
    }

    /// Runs `batch` with its unprepared statements replaced by cached prepared ones.
    pub async fn batch(
        &self,
        batch: &Batch,
        values: impl BatchValues,
    ) -> Result<QueryResult, ExecutionError> {
        let prepared = self.prepare_batch(batch).await?;
        self.session.batch(&prepared, values).await
    }

    /// A copy of `batch` with each unprepared statement replaced by its cached prepared one
    /// (prepared now when missing).
    pub async fn prepare_batch(&self, batch: &Batch) -> Result<Batch, ExecutionError> {
        let mut prepared = batch.clone();
        for st in prepared.statements_mut() {
            if let BatchStatement::Query(s) = st {
                *st = BatchStatement::PreparedStatement(self.add_prepared_statement(s).await?);
            }
        }
        Ok(prepared)
    }
}

/// A clone of the cached `prepared` carrying `statement`'s options.
fn with_options(mut prepared: PreparedStatement, statement: &Statement) -> PreparedStatement {
    prepared.config = statement.config.clone();
    prepared.page_size = statement.page_size;
    prepared
}
