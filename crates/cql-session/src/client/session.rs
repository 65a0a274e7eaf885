//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use futures::future::{Either, join_all};
use proto::request::{
    Batch as BatchRequest, BatchStatement as WireBatchStatement, BatchStatementKind, Execute,
    Prepare, Query, QueryParameters,
};
use proto::response::{ColumnSpec, Response, ResultBody};
use proto::{Request, SerializedValues, Token};
use tokio::sync::Notify;
use transport::state::ClusterState;
use uuid::Uuid;

use super::backend::{ClusterBackend, NodeTarget, send_on};
use super::execute::{
    ExecOptions, Executed, Reprepare, Speculation, execute, execute_speculative, response_name,
};
use super::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
use super::pager::{PagerStatement, QueryPager};
use crate::errors::{
    BadKeyspaceName, BadQuery, ExecutionError, MetadataError, PagerExecutionError, PrepareError,
    RequestAttemptError, SchemaAgreementError, TracingError, UseKeyspaceError,
};
use crate::observability::metrics::Metrics;
use crate::observability::tracing::{TracingEvent, TracingInfo};
use crate::policies::load_balancing::{Plan, RoutingInfo};
use crate::policies::speculative_execution::Context as SpeculativeContext;
use crate::response::{PagingState, PagingStateResponse, QueryResult};
use crate::serialize::{BatchValues, RowSerializationContext, SerializeRow};
use crate::statement::prepared::{PartitionKeyError, serialize_row};
use crate::statement::{
    Batch, BatchStatement, Consistency, PreparedStatement, Statement, StatementConfig,
};
use crate::value::CqlTimestamp;

/// How the session waits for schema agreement and reads tracing sessions.
#[derive(Debug, Clone)]
pub(crate) struct SessionOptions {
    pub(crate) schema_agreement_interval: Duration,
    pub(crate) schema_agreement_timeout: Duration,
    pub(crate) auto_await_schema_agreement: bool,
    pub(crate) tracing_info_fetch_attempts: u32,
    pub(crate) tracing_info_fetch_interval: Duration,
    pub(crate) tracing_info_fetch_consistency: Consistency,
}

/// The driver's main object: connections to every node, and the methods that run statements.
///
/// Create one with [`SessionBuilder`](super::session_builder::SessionBuilder) or
/// [`Session::connect`], and share it (e.g. in an `Arc`) between tasks: every method takes
/// `&self`.
pub struct Session {
    pub(crate) inner: Arc<SessionInner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("keyspace", &self.inner.keyspace.load_full())
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The state shared by a session and its pagers.
pub(crate) struct SessionInner {
    pub(crate) cluster: Box<dyn ClusterBackend>,
    pub(crate) default_profile: ExecutionProfileHandle,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) keyspace: ArcSwapOption<String>,
    pub(crate) options: SessionOptions,
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Counts a request in flight while alive, so [`Session::close`] can wait for it.
pub(crate) struct InFlight<'a>(&'a SessionInner);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && self.0.closed.load(Ordering::Acquire)
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl Session {
    pub(crate) fn from_backend(
        cluster: Box<dyn ClusterBackend>,
        default_profile: ExecutionProfileHandle,
        options: SessionOptions,
    ) -> Self {
        Self {
            inner: Arc::new(SessionInner {
                cluster,
                default_profile,
                metrics: Arc::new(Metrics::new()),
                keyspace: ArcSwapOption::empty(),
                options,
                closed: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    /// Runs an unprepared statement and returns its whole result in one response.
    ///
    /// A statement with values is prepared first, so the values can be checked against the bind
    /// markers' types; prepare it yourself when you run it more than once. Use
    /// [`Session::query_iter`] for results that may be large.
    pub async fn query_unpaged(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
    ) -> Result<QueryResult, ExecutionError> {
        let statement = statement.into();
        let r = if values.is_empty() {
            self.inner.run_query(&statement, None, None).await
        } else {
            match self.prepare(statement.clone()).await {
                Ok(prepared) => {
                    self.inner
                        .run_prepared(&prepared, &values, None, None)
                        .await
                }
                Err(e) => Err(e.into()),
            }
        };
        self.inner.counted(r)
    }

    /// Runs an unprepared statement and returns one page of its result, starting at
    /// `paging_state`, and where to continue.
    pub async fn query_single_page(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
        paging_state: PagingState,
    ) -> Result<(QueryResult, PagingStateResponse), ExecutionError> {
        let statement = statement.into();
        let page_size = Some(statement.page_size);
        let r = if values.is_empty() {
            self.inner
                .run_query(&statement, page_size, paging_state.into_raw())
                .await
        } else {
            match self.prepare(statement.clone()).await {
                Ok(prepared) => {
                    self.inner
                        .run_prepared(&prepared, &values, page_size, paging_state.into_raw())
                        .await
                }
                Err(e) => Err(e.into()),
            }
        };
        let result = self.inner.counted(r)?;
        let paging = PagingStateResponse::from_raw(result.paging_state_raw());
        Ok((result, paging))
    }

    /// Runs an unprepared statement and pages through its result as a stream of rows.
    ///
    /// The first page is fetched before this returns; each next page is requested while the
    /// rows of the current one are consumed.
    pub async fn query_iter(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
    ) -> Result<QueryPager, PagerExecutionError> {
        let statement = statement.into();
        if values.is_empty() {
            QueryPager::start(
                Arc::clone(&self.inner),
                PagerStatement::Unprepared(statement),
            )
            .await
        } else {
            let prepared = self.prepare(statement).await?;
            self.execute_iter(prepared, values).await
        }
    }

    /// Prepares a statement on every node and returns it, ready to execute.
    ///
    /// Succeeds when at least one node prepared it; nodes that failed prepare it on demand when
    /// they answer UNPREPARED.
    pub async fn prepare(
        &self,
        statement: impl Into<Statement>,
    ) -> Result<PreparedStatement, PrepareError> {
        self.inner.prepare(statement.into()).await
    }

    /// Executes a prepared statement and returns its whole result in one response.
    pub async fn execute_unpaged(
        &self,
        prepared: &PreparedStatement,
        values: impl SerializeRow,
    ) -> Result<QueryResult, ExecutionError> {
        let r = self.inner.run_prepared(prepared, &values, None, None).await;
        self.inner.counted(r)
    }

    /// Executes a prepared statement and returns one page of its result, starting at
    /// `paging_state`, and where to continue.
    pub async fn execute_single_page(
        &self,
        prepared: &PreparedStatement,
        values: impl SerializeRow,
        paging_state: PagingState,
    ) -> Result<(QueryResult, PagingStateResponse), ExecutionError> {
        let r = self
            .inner
            .run_prepared(
                prepared,
                &values,
                Some(prepared.page_size),
                paging_state.into_raw(),
            )
            .await;
        let result = self.inner.counted(r)?;
        let paging = PagingStateResponse::from_raw(result.paging_state_raw());
        Ok((result, paging))
    }

    /// Executes a prepared statement and pages through its result as a stream of rows.
    ///
    /// The values are serialized once for all pages.
    pub async fn execute_iter(
        &self,
        prepared: impl Into<PreparedStatement>,
        values: impl SerializeRow,
    ) -> Result<QueryPager, PagerExecutionError> {
        let prepared = prepared.into();
        let (values, token) = prepared
            .serialize_with_token(&values)
            .map_err(|e| match e {
                PartitionKeyError::Serialization(e) => PagerExecutionError::SerializationError(e),
                e => PagerExecutionError::NextPageError(e.into()),
            })?;
        QueryPager::start(
            Arc::clone(&self.inner),
            PagerStatement::Prepared {
                prepared,
                values,
                token,
            },
        )
        .await
    }

    /// Runs a batch, with one row of values per statement.
    ///
    /// Unprepared statements that take values are prepared first.
    pub async fn batch(
        &self,
        batch: &Batch,
        values: impl BatchValues,
    ) -> Result<QueryResult, ExecutionError> {
        let r = self.inner.run_batch(batch, &values).await;
        self.inner.counted(r)
    }

    /// Returns a copy of `batch` with every statement prepared.
    pub async fn prepare_batch(&self, batch: &Batch) -> Result<Batch, PrepareError> {
        let mut prepared = batch.clone();
        for st in prepared.statements_mut() {
            if let BatchStatement::Query(s) = st {
                *st = BatchStatement::PreparedStatement(self.prepare(s.clone()).await?);
            }
        }
        Ok(prepared)
    }

    /// Sends `USE <keyspace>` on every connection, so statements may name tables without
    /// their keyspace.
    ///
    /// The name has 1 to 48 ASCII letters, digits and underscores. With `case_sensitive` it is
    /// used as given (quoted); otherwise it is lowercased, as CQL does with unquoted names.
    pub async fn use_keyspace(
        &self,
        keyspace_name: impl Into<String>,
        case_sensitive: bool,
    ) -> Result<(), UseKeyspaceError> {
        let name = keyspace_name.into();
        validate_keyspace_name(&name)?;
        let name = if case_sensitive {
            name
        } else {
            name.to_lowercase()
        };
        self.inner.use_keyspace(name).await
    }

    /// The keyspace set by [`Session::use_keyspace`] (or a `USE` statement), if any.
    pub fn get_keyspace(&self) -> Option<Arc<String>> {
        self.inner.keyspace.load_full()
    }

    /// Waits until every reachable node reports the same schema version, polling at the
    /// configured interval up to the configured limit (by default every 200 ms for 60 s).
    pub async fn await_schema_agreement(&self) -> Result<Uuid, SchemaAgreementError> {
        self.inner.await_schema_agreement().await
    }

    /// Whether every reachable node reports the same schema version now: `Some(version)` if so.
    pub async fn check_schema_agreement(&self) -> Result<Option<Uuid>, SchemaAgreementError> {
        self.inner.check_schema_agreement().await
    }

    /// Reads the cluster's topology and schema again. Rarely needed: the driver follows the
    /// cluster's events.
    pub async fn refresh_metadata(&self) -> Result<(), MetadataError> {
        self.inner.cluster.refresh_metadata().await
    }

    /// The cluster as the driver sees it now: nodes, keyspaces, token ring.
    pub fn get_cluster_state(&self) -> Arc<ClusterState> {
        self.inner.cluster.state()
    }

    /// The session's request counters and latency histogram.
    pub fn get_metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.inner.metrics)
    }

    /// The execution profile statements use unless they name another.
    pub fn get_default_execution_profile_handle(&self) -> &ExecutionProfileHandle {
        &self.inner.default_profile
    }

    /// Reads the tracing session of a traced request from `system_traces`, retrying while the
    /// server has not written it completely yet.
    pub async fn get_tracing_info(&self, tracing_id: &Uuid) -> Result<TracingInfo, TracingError> {
        let opts = &self.inner.options;
        for attempt in 0..opts.tracing_info_fetch_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(opts.tracing_info_fetch_interval).await;
            }
            if let Some(info) = self.try_tracing_info(tracing_id).await? {
                return Ok(info);
            }
        }
        Err(TracingError::EmptyResults(*tracing_id))
    }

    async fn try_tracing_info(&self, id: &Uuid) -> Result<Option<TracingInfo>, TracingError> {
        type SessionRow = (
            Option<IpAddr>,
            Option<String>,
            Option<IpAddr>,
            Option<i32>,
            Option<std::collections::HashMap<String, String>>,
            Option<String>,
            Option<CqlTimestamp>,
        );
        type EventRow = (
            Uuid,
            Option<String>,
            Option<IpAddr>,
            Option<i32>,
            Option<String>,
        );
        let consistency = self.inner.options.tracing_info_fetch_consistency;
        let mut sessions = Statement::new(
            "SELECT client, command, coordinator, duration, parameters, request, started_at \
             FROM system_traces.sessions WHERE session_id = ?",
        );
        sessions.set_consistency(consistency);
        let sessions = self
            .query_unpaged(sessions, (id,))
            .await?
            .into_rows_result()?;
        let Some(row) = sessions
            .maybe_first_row::<SessionRow>()
            .map_err(|e| match e {
                crate::response::query_result::MaybeFirstRowError::TypeCheckFailed(e) => {
                    TracingError::TypeCheck(e)
                }
                crate::response::query_result::MaybeFirstRowError::DeserializationFailed(e) => {
                    TracingError::Deserialization(e)
                }
            })?
        else {
            return Ok(None);
        };
        // The duration is written when the request finished; until then the session is partial.
        if row.3.is_none() {
            return Ok(None);
        }
        let mut events = Statement::new(
            "SELECT event_id, activity, source, source_elapsed, thread \
             FROM system_traces.events WHERE session_id = ?",
        );
        events.set_consistency(consistency);
        let events = self
            .query_unpaged(events, (id,))
            .await?
            .into_rows_result()?;
        let mut list = Vec::with_capacity(events.rows_num());
        for e in events.rows::<EventRow>()? {
            let (event_id, activity, source, source_elapsed, thread) = e?;
            list.push(TracingEvent {
                event_id,
                activity,
                source,
                source_elapsed,
                thread,
            });
        }
        Ok(Some(TracingInfo {
            client: row.0,
            command: row.1,
            coordinator: row.2,
            duration: row.3,
            parameters: row.4,
            request: row.5,
            started_at: row.6,
            events: list,
        }))
    }

    /// Closes the session gracefully: new requests fail with `SessionClosed`, requests in
    /// flight finish (waiting at most `timeout`), then every connection is closed.
    pub async fn close(&self, timeout: Duration) {
        self.inner.closed.store(true, Ordering::Release);
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.inner.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        if tokio::time::timeout(timeout, wait).await.is_err() {
            tracing::warn!("closing the session with requests still in flight");
        }
        self.inner.cluster.close();
    }

    /// Whether [`Session::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

impl Drop for SessionInner {
    fn drop(&mut self) {
        // The last owner (the session, or a pager outliving it) stops the cluster's tasks.
        self.cluster.close();
    }
}

/// Checks a keyspace name: 1 to 48 ASCII letters, digits and underscores.
pub(crate) fn validate_keyspace_name(name: &str) -> Result<(), BadKeyspaceName> {
    if name.is_empty() {
        return Err(BadKeyspaceName::Empty);
    }
    let len = name.chars().count();
    if len > 48 {
        return Err(BadKeyspaceName::TooLong(name.to_owned(), len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '_')
    {
        return Err(BadKeyspaceName::IllegalCharacter(name.to_owned(), c));
    }
    Ok(())
}

/// The values of an unprepared statement without bind markers.
const NO_VALUES: SerializedValues = SerializedValues::new();

impl SessionInner {
    /// Counts a request in flight, or fails when the session is closed.
    pub(crate) fn enter(&self) -> Result<InFlight<'_>, ExecutionError> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self);
        if self.closed.load(Ordering::Acquire) {
            return Err(ExecutionError::SessionClosed);
        }
        Ok(guard)
    }

    /// Counts a finished request (and its failure) in the metrics.
    fn counted<T>(&self, r: Result<T, ExecutionError>) -> Result<T, ExecutionError> {
        self.metrics.inc_queries();
        if r.is_err() {
            self.metrics.inc_errors();
        }
        r
    }

    fn profile(&self, config: &StatementConfig) -> Arc<ExecutionProfile> {
        config
            .execution_profile_handle
            .as_ref()
            .unwrap_or(&self.default_profile)
            .load_full()
    }

    fn params(
        config: &StatementConfig,
        profile: &ExecutionProfile,
        values: SerializedValues,
        page_size: Option<i32>,
        paging_state: Option<Bytes>,
        skip_metadata: bool,
    ) -> QueryParameters {
        QueryParameters {
            consistency: config.consistency.unwrap_or(profile.consistency).into(),
            values,
            skip_metadata,
            page_size: page_size.filter(|p| *p > 0),
            paging_state,
            serial_consistency: config
                .serial_consistency
                .unwrap_or(profile.serial_consistency)
                .map(Into::into),
            timestamp: config.timestamp,
            keyspace: None,
            now_in_seconds: None,
        }
    }

    /// Runs `request` through the profile's plan and retry policy.
    async fn run(
        &self,
        request: &mut Request,
        config: &StatementConfig,
        profile: &ExecutionProfile,
        routing: RoutingInfo<'_>,
        reprepare: Reprepare<'_>,
    ) -> Result<Executed, ExecutionError> {
        let _in_flight = self.enter()?;
        let state = self.cluster.state();
        let token = routing.token;
        let policy = &*profile.load_balancing_policy;
        let routing = &routing;
        let plan = Plan::new(policy, routing, &state).map(|(node, shard)| NodeTarget {
            node,
            shard,
            token,
            feedback: Some((policy, routing)),
        });
        let opts = ExecOptions {
            is_idempotent: config.is_idempotent,
            consistency: routing.consistency,
            retry_policy: &*profile.retry_policy,
            request_timeout: config.request_timeout.or(profile.request_timeout),
            attempt_timeout: profile.attempt_timeout,
            tracing: config.tracing,
            metrics: &self.metrics,
        };
        let speculation = profile.speculative_execution_policy.as_ref().map(|p| {
            let ctx = SpeculativeContext::new(Arc::clone(&self.metrics));
            Speculation {
                max_extra: p.max_retry_count(&ctx),
                interval: p.retry_interval(&ctx),
            }
        });
        match speculation {
            // Without speculation, skip its layer (a future moved whole at every layer).
            None => execute(plan, request, &opts, reprepare).await,
            // Boxed: its future is large and speculation is opt-in.
            Some(_) => {
                Box::pin(execute_speculative(
                    plan,
                    request,
                    &opts,
                    reprepare,
                    speculation,
                ))
                .await
            }
        }
    }

    /// Turns a successful response into a result, following `USE` and schema changes.
    async fn finish(
        &self,
        executed: Executed,
        shared_specs: Option<&Arc<[ColumnSpec]>>,
    ) -> Result<QueryResult, ExecutionError> {
        // The follow-ups are rare and their futures large: boxed, so that every request's
        // future (moved whole at each layer when it starts) does not carry their size.
        match &executed.body {
            ResultBody::SetKeyspace(ks) => {
                let ks = ks.clone();
                Box::pin(self.use_keyspace(ks))
                    .await
                    .map_err(|e| ExecutionError::UseKeyspaceError(Box::new(e)))?;
            }
            ResultBody::SchemaChange(_) if self.options.auto_await_schema_agreement => {
                Box::pin(async {
                    self.await_schema_agreement()
                        .await
                        .map_err(|e| ExecutionError::SchemaAgreementError(Box::new(e)))?;
                    // Routing needs the new keyspace or table now, not after the debounced
                    // event.
                    if let Err(e) = self.cluster.refresh_metadata().await {
                        tracing::warn!(error = %e, "metadata refresh after a schema change failed");
                    }
                    Ok::<(), ExecutionError>(())
                })
                .await?;
            }
            _ => {}
        }
        Ok(QueryResult::new(
            executed.body,
            shared_specs,
            executed.tracing_id,
            executed.warnings,
        ))
    }

    /// Runs an unprepared statement without values.
    pub(crate) async fn run_query(
        &self,
        statement: &Statement,
        page_size: Option<i32>,
        paging_state: Option<Bytes>,
    ) -> Result<QueryResult, ExecutionError> {
        let profile = self.profile(&statement.config);
        let params = Self::params(
            &statement.config,
            &profile,
            NO_VALUES,
            page_size,
            paging_state,
            false,
        );
        let mut request = Request::Query(Query {
            query: statement.contents.clone(),
            params,
        });
        let routing = RoutingInfo {
            consistency: statement.config.consistency.unwrap_or(profile.consistency),
            ..RoutingInfo::default()
        };
        let executed = self
            .run(
                &mut request,
                &statement.config,
                &profile,
                routing,
                &|_: &Bytes| None,
            )
            .await?;
        self.finish(executed, None).await
    }

    /// Serializes `values` for `prepared` (at once, before any await) and executes it.
    ///
    /// Not an `async fn`: the returned future is `run_serialized`'s own, not another layer
    /// around it (every layer is moved, whole, when the request starts).
    pub(crate) fn run_prepared<'a>(
        &'a self,
        prepared: &'a PreparedStatement,
        values: &(impl SerializeRow + ?Sized),
        page_size: Option<i32>,
        paging_state: Option<Bytes>,
    ) -> impl Future<Output = Result<QueryResult, ExecutionError>> + 'a {
        match prepared.serialize_with_token(values) {
            Ok((values, token)) => {
                Either::Left(self.run_serialized(prepared, values, token, page_size, paging_state))
            }
            Err(e) => Either::Right(std::future::ready(Err(match e {
                PartitionKeyError::Serialization(e) => ExecutionError::from(e),
                e => ExecutionError::BadQuery(BadQuery::PartitionKey(e)),
            }))),
        }
    }

    /// Executes `prepared` with already serialized values.
    pub(crate) async fn run_serialized(
        &self,
        prepared: &PreparedStatement,
        values: SerializedValues,
        token: Option<Token>,
        page_size: Option<i32>,
        paging_state: Option<Bytes>,
    ) -> Result<QueryResult, ExecutionError> {
        let shared = &prepared.shared;
        let profile = self.profile(&prepared.config);
        let skip_metadata = !shared.result_specs.is_empty();
        let params = Self::params(
            &prepared.config,
            &profile,
            values,
            page_size,
            paging_state,
            skip_metadata,
        );
        let mut request = Request::Execute(Execute {
            id: shared.id.clone(),
            result_metadata_id: shared.result_metadata_id.clone(),
            params,
        });
        let routing = RoutingInfo {
            consistency: prepared.config.consistency.unwrap_or(profile.consistency),
            token,
            keyspace: prepared.get_keyspace_name(),
            table: prepared.get_table_name(),
            is_confirmed_lwt: shared.is_lwt,
        };
        let reprepare = |id: &Bytes| (*id == shared.id).then(|| shared.statement.clone());
        let executed = self
            .run(
                &mut request,
                &prepared.config,
                &profile,
                routing,
                &reprepare,
            )
            .await?;
        if let (Some(payload), Some(ks), Some(table)) = (
            &executed.custom_payload,
            prepared.get_keyspace_name(),
            prepared.get_table_name(),
        ) {
            self.cluster.add_tablet_from_payload(ks, table, payload);
        }
        self.finish(executed, Some(&shared.result_specs)).await
    }

    async fn run_batch(
        &self,
        batch: &Batch,
        values: &(impl BatchValues + ?Sized),
    ) -> Result<QueryResult, ExecutionError> {
        let n = batch.statements.len();
        if n > usize::from(u16::MAX) {
            return Err(BadQuery::TooManyQueriesInBatchStatement(n).into());
        }
        if values.len() != n && values.len() != usize::MAX {
            return Err(BadQuery::BatchValuesCountMismatch {
                statements: n,
                values: values.len(),
            }
            .into());
        }
        // Unprepared statements with values are prepared, to type-check their values.
        let mut prepared_here: Vec<(usize, PreparedStatement)> = Vec::new();
        for (i, st) in batch.statements.iter().enumerate() {
            if let BatchStatement::Query(s) = st
                && !values.is_nth_empty(i)
            {
                prepared_here.push((i, self.prepare(s.clone()).await?));
            }
        }
        let find_prepared = |i: usize| -> Option<&PreparedStatement> {
            match &batch.statements[i] {
                BatchStatement::PreparedStatement(p) => Some(p),
                _ => prepared_here.iter().find(|(j, _)| *j == i).map(|(_, p)| p),
            }
        };
        // Every statement's values go into the thread's scratch buffer, then one exact-size
        // copy is split into zero-copy slices (no per-statement buffer, no growth).
        let mut token = None;
        let mut routing_stmt: Option<&PreparedStatement> = None;
        let mut statements = Vec::with_capacity(n);
        let all = transport::scratch::with_scratch(|buf| {
            for (i, st) in batch.statements.iter().enumerate() {
                let start = buf.len();
                let prepared = find_prepared(i);
                let count = match prepared {
                    Some(p) => {
                        let ctx = p.serialization_context();
                        let count = serialize_row(&ctx, &NthRow(values, i), buf)?;
                        if routing_stmt.is_none() {
                            token = p
                                .token_from_serialized(&buf[start..], count)
                                .map_err(|e| ExecutionError::BadQuery(BadQuery::PartitionKey(e)))?;
                            if token.is_some() {
                                routing_stmt = Some(p);
                            }
                        }
                        count
                    }
                    None => {
                        serialize_row(&RowSerializationContext::empty(), &NthRow(values, i), buf)?
                    }
                };
                let kind = match (st, prepared) {
                    (_, Some(p)) => BatchStatementKind::Prepared(p.shared.id.clone()),
                    (BatchStatement::Query(s), None) => {
                        BatchStatementKind::Query(s.contents.clone())
                    }
                    (_, None) => {
                        return Err(BadQuery::Other("unsupported batch statement".into()).into());
                    }
                };
                statements.push(WireBatchStatement {
                    kind,
                    values: SerializedValues {
                        count,
                        names: None,
                        // Sliced from the shared copy below.
                        bytes: Bytes::new(),
                    },
                });
            }
            Ok::<_, ExecutionError>(Bytes::copy_from_slice(buf))
        })?;
        split_batch_values(&mut statements, all);
        let profile = self.profile(&batch.config);
        let consistency = batch.config.consistency.unwrap_or(profile.consistency);
        let mut request = Request::Batch(BatchRequest {
            batch_type: proto::BatchType(batch.batch_type.code()),
            statements,
            consistency: consistency.into(),
            serial_consistency: batch
                .config
                .serial_consistency
                .unwrap_or(profile.serial_consistency)
                .map(Into::into),
            timestamp: batch.config.timestamp,
            keyspace: None,
            now_in_seconds: None,
        });
        let routing = RoutingInfo {
            consistency,
            token,
            keyspace: routing_stmt.and_then(PreparedStatement::get_keyspace_name),
            table: routing_stmt.and_then(PreparedStatement::get_table_name),
            is_confirmed_lwt: false,
        };
        let reprepare = |id: &Bytes| {
            (0..n)
                .filter_map(find_prepared)
                .find(|p| p.shared.id == *id)
                .map(|p| p.shared.statement.clone())
        };
        let executed = self
            .run(&mut request, &batch.config, &profile, routing, &reprepare)
            .await?;
        self.finish(executed, None).await
    }

    pub(crate) async fn prepare(
        &self,
        statement: Statement,
    ) -> Result<PreparedStatement, PrepareError> {
        let _in_flight = self.enter().map_err(|_| PrepareError::SessionClosed)?;
        let state = self.cluster.state();
        let profile = self.profile(&statement.config);
        let request = Request::Prepare(Prepare {
            query: statement.contents.clone(),
            keyspace: None,
        });
        let targets: Vec<NodeTarget<'_>> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up() && n.pool().is_some())
            .map(|node| NodeTarget {
                node,
                shard: None,
                token: None,
                feedback: None,
            })
            .collect();
        if targets.is_empty() {
            return Err(PrepareError::EmptyPlan);
        }
        let limit = statement.config.request_timeout.or(profile.request_timeout);
        let sends = join_all(targets.iter().map(|t| send_bounded(t, &request, limit))).await;
        let mut first_error = None;
        let mut prepared = None;
        // Scylla's LWT mark: a node that negotiated `SCYLLA_LWT_ADD_METADATA_MARK` sets that
        // bit in the metadata flags of a conditional statement; any such answer confirms it.
        let mut is_lwt = false;
        for (target, r) in targets.iter().zip(sends) {
            match r {
                Ok(env) => match env.response {
                    Response::Result(ResultBody::Prepared(p)) => {
                        is_lwt |= target
                            .node
                            .pool()
                            .and_then(|pool| pool.lwt_mark())
                            .is_some_and(|mask| p.metadata.has_flag(mask));
                        match &prepared {
                            None => prepared = Some(p),
                            Some(q) if q.id != p.id => {
                                return Err(PrepareError::PreparedStatementIdsMismatch);
                            }
                            Some(_) => {}
                        }
                    }
                    Response::Error(body) => {
                        first_error.get_or_insert(RequestAttemptError::DbError(
                            crate::errors::DbError::from_error_body(&body),
                            body.message,
                        ));
                    }
                    other => {
                        first_error.get_or_insert(RequestAttemptError::UnexpectedResponse {
                            request: "PREPARE",
                            got: response_name(&other),
                        });
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (prepared, first_error) {
            (Some(p), _) => Ok(PreparedStatement::new(
                p,
                statement.contents,
                is_lwt,
                statement.config,
                statement.page_size,
            )),
            (None, Some(first_attempt)) => Err(PrepareError::AllAttemptsFailed { first_attempt }),
            (None, None) => Err(PrepareError::EmptyPlan),
        }
    }

    /// Sets the keyspace on every connection, current and future.
    pub(crate) async fn use_keyspace(&self, name: String) -> Result<(), UseKeyspaceError> {
        if let Err(e) = self.cluster.use_keyspace(&name).await {
            let e = super::backend::attempt_error(e);
            // A server error (an unknown keyspace) is the answer; a broken connection is not:
            // it uses the keyspace once reconnected.
            if e.db_error().is_some() {
                return Err(UseKeyspaceError::RequestError(e));
            }
            tracing::warn!(error = %e, "USE failed on a connection; it is set again on reconnect");
        }
        self.keyspace.store(Some(Arc::new(name)));
        Ok(())
    }

    pub(crate) async fn await_schema_agreement(&self) -> Result<Uuid, SchemaAgreementError> {
        let limit = self.options.schema_agreement_timeout;
        let interval = self.options.schema_agreement_interval;
        let wait = async {
            loop {
                if let Some(v) = self.check_schema_agreement().await? {
                    return Ok(v);
                }
                tokio::time::sleep(interval).await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .unwrap_or(Err(SchemaAgreementError::Timeout(limit)))
    }

    pub(crate) async fn check_schema_agreement(
        &self,
    ) -> Result<Option<Uuid>, SchemaAgreementError> {
        let state = self.cluster.state();
        let conns: Vec<_> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up())
            .filter_map(|n| n.pool().and_then(|p| p.any_connection()))
            .collect();
        if conns.is_empty() {
            return Err(SchemaAgreementError::ConnectionPoolError(
                crate::errors::ConnectionPoolError::Initializing,
            ));
        }
        let request = Request::Query(Query {
            query: "SELECT schema_version FROM system.local WHERE key = 'local'".into(),
            params: QueryParameters::default(),
        });
        // A node that does not answer must not stall the check.
        let limit = self
            .default_profile
            .load_full()
            .request_timeout
            .unwrap_or(self.options.schema_agreement_timeout);
        let versions = join_all(conns.iter().map(|c| async {
            tokio::time::timeout(limit, schema_version(c, &request))
                .await
                .unwrap_or(Err(SchemaAgreementError::RequestError(
                    RequestAttemptError::Timeout(limit),
                )))
        }))
        .await;
        let mut agreed: Option<Uuid> = None;
        for v in versions {
            let v = v?;
            match agreed {
                None => agreed = Some(v),
                Some(a) if a != v => return Ok(None),
                Some(_) => {}
            }
        }
        Ok(agreed)
    }
}

/// Gives each batch statement its values: consecutive slices of `all`, each as long as its
/// `count` values.
fn split_batch_values(statements: &mut [WireBatchStatement], mut all: Bytes) {
    for st in statements {
        let len = values_len(&all, st.values.count);
        st.values.bytes = all.split_to(len);
    }
}

/// The byte length of the first `count` `[value]`s of `buf` (a negative length is null or
/// unset: no bytes follow), at most `buf.len()`.
fn values_len(buf: &[u8], count: u16) -> usize {
    let mut pos = 0usize;
    for _ in 0..count {
        let Some(len) = buf.get(pos..pos + 4) else {
            return buf.len();
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        pos += 4 + usize::try_from(len).unwrap_or(0);
    }
    pos.min(buf.len())
}

/// Reads one node's schema version.
async fn schema_version(
    conn: &transport::Connection,
    request: &Request,
) -> Result<Uuid, SchemaAgreementError> {
    let env = send_on(conn, request, false)
        .await
        .map_err(SchemaAgreementError::RequestError)?;
    let body = match env.response {
        Response::Result(body) => body,
        Response::Error(e) => {
            return Err(SchemaAgreementError::RequestError(
                RequestAttemptError::DbError(
                    crate::errors::DbError::from_error_body(&e),
                    e.message,
                ),
            ));
        }
        other => {
            return Err(SchemaAgreementError::BadResponse(format!(
                "{} to a schema version query",
                response_name(&other)
            )));
        }
    };
    let rows = QueryResult::new(body, None, None, Vec::new())
        .into_rows_result()
        .map_err(|e| SchemaAgreementError::BadResponse(e.to_string()))?;
    let (v,) = rows.single_row::<(Uuid,)>()?;
    Ok(v)
}

/// Sends with an overall time limit, for requests outside the retry loop.
async fn send_bounded(
    target: &NodeTarget<'_>,
    request: &Request,
    limit: Option<Duration>,
) -> Result<proto::frame::ResponseEnvelope, RequestAttemptError> {
    use super::execute::AttemptTarget;
    match limit {
        None => target.send(request, false).await,
        Some(l) => tokio::time::timeout(l, target.send(request, false))
            .await
            .unwrap_or(Err(RequestAttemptError::Timeout(l))),
    }
}

/// Row `n` of a batch's values as a row.
struct NthRow<'a, B: ?Sized>(&'a B, usize);

impl<B: BatchValues + ?Sized> SerializeRow for NthRow<'_, B> {
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut crate::serialize::RowWriter<'_>,
    ) -> Result<(), crate::serialize::SerializationError> {
        self.0.serialize_nth(self.1, ctx, writer)
    }

    fn is_empty(&self) -> bool {
        self.0.is_nth_empty(self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_names_are_validated() {
        assert!(validate_keyspace_name("my_ks_1").is_ok());
        assert_eq!(validate_keyspace_name(""), Err(BadKeyspaceName::Empty));
        let long = "k".repeat(49);
        assert_eq!(
            validate_keyspace_name(&long),
            Err(BadKeyspaceName::TooLong(long.clone(), 49))
        );
        assert!(validate_keyspace_name(&"k".repeat(48)).is_ok());
        assert_eq!(
            validate_keyspace_name("ks-1"),
            Err(BadKeyspaceName::IllegalCharacter("ks-1".into(), '-'))
        );
        assert!(matches!(
            validate_keyspace_name("ks\"; DROP"),
            Err(BadKeyspaceName::IllegalCharacter(_, '"'))
        ));
    }

    #[test]
    fn batch_values_are_split_by_their_value_lengths() {
        // Statement 1: two values, 3 bytes and null. Statement 2: none. Statement 3: one
        // unset value (-2). Statement 4: one empty value.
        let all: &[u8] = &[
            0, 0, 0, 3, b'a', b'b', b'c', 0xff, 0xff, 0xff, 0xff, // 1
            0xff, 0xff, 0xff, 0xfe, // 3
            0, 0, 0, 0, // 4
        ];
        let mut statements: Vec<WireBatchStatement> = [2u16, 0, 1, 1]
            .into_iter()
            .map(|count| WireBatchStatement {
                kind: BatchStatementKind::Query("q".into()),
                values: SerializedValues {
                    count,
                    names: None,
                    bytes: Bytes::new(),
                },
            })
            .collect();
        split_batch_values(&mut statements, Bytes::copy_from_slice(all));
        let got: Vec<&[u8]> = statements.iter().map(|s| &s.values.bytes[..]).collect();
        assert_eq!(got, vec![&all[..11], &[][..], &all[11..15], &all[15..]]);
        // A truncated buffer never reads past its end.
        assert_eq!(values_len(&[0, 0, 0, 9, 1], 1), 5);
        assert_eq!(values_len(&[0, 0], 3), 2);
    }
}
