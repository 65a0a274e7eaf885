//! [`CachingSession`]: a session that prepares each statement text once and reuses it.

use std::collections::HashMap;
use std::sync::Mutex;

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
    session: Session,
    max_capacity: usize,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, (PreparedStatement, u64)>,
    clock: u64,
}

impl CachingSession {
    /// Wraps `session` with a cache of at most `cache_size` prepared statements.
    pub fn from(session: Session, cache_size: usize) -> Self {
        Self {
            session,
            max_capacity: cache_size.max(1),
            cache: Mutex::new(Cache::default()),
        }
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
        let prepared = self.session.prepare(statement.clone()).await?;
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
        let mut prepared = batch.clone();
        for st in prepared.statements_mut() {
            if let BatchStatement::Query(s) = st {
                *st = BatchStatement::PreparedStatement(self.add_prepared_statement(s).await?);
            }
        }
        self.session.batch(&prepared, values).await
    }
}

/// A clone of the cached `prepared` carrying `statement`'s options.
fn with_options(mut prepared: PreparedStatement, statement: &Statement) -> PreparedStatement {
    prepared.config = statement.config.clone();
    prepared.page_size = statement.page_size;
    prepared
}
