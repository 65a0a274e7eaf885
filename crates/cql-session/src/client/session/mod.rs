//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::Notify;
use transport::state::ClusterState;
use uuid::Uuid;

use super::execution_profile::ExecutionProfileHandle;
use crate::errors::{
    ExecutionError, MetadataError, PrepareError, SchemaAgreementError, UseKeyspaceError,
};
use crate::observability::metrics::Metrics;
use crate::policies::timestamp_generator::TimestampGenerator;
use crate::response::{PagingState, PagingStateResponse, QueryResult};
use crate::serialize::{BatchValues, SerializeRow};
use crate::statement::{Batch, BatchStatement, Consistency, PreparedStatement, Statement};

mod batch;
mod keyspace;
mod paging;
mod prepare;
mod run;
mod schema_agreement;
mod tracing_info;

#[cfg(test)]
mod future_size_tests;

pub(crate) use keyspace::validate_keyspace_name;

/// How the session waits for schema agreement, reads tracing sessions and stamps writes.
#[derive(Clone)]
pub(crate) struct SessionOptions {
    pub(crate) schema_agreement_interval: Duration,
    pub(crate) schema_agreement_timeout: Duration,
    pub(crate) auto_await_schema_agreement: bool,
    pub(crate) refresh_metadata_on_auto_schema_agreement: bool,
    pub(crate) tracing_info_fetch_attempts: u32,
    pub(crate) tracing_info_fetch_interval: Duration,
    pub(crate) tracing_info_fetch_consistency: Consistency,
    /// `SessionConfig::unresponsive_node_after`.
    pub(crate) unresponsive_node_after: Option<Duration>,
    /// `SessionConfig::request_throttler`.
    pub(crate) request_throttler: Option<Arc<dyn crate::policies::throttle::RequestThrottler>>,
    /// `SessionConfig::timestamp_generator`.
    pub(crate) timestamp_generator: Option<Arc<dyn TimestampGenerator>>,
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
    pub(crate) cluster: transport::Cluster,
    pub(crate) default_profile: ExecutionProfileHandle,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) keyspace: ArcSwapOption<String>,
    pub(crate) options: SessionOptions,
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Samples the `metrics` facade's gauges every [`SAMPLE_INTERVAL`] until the session is
/// dropped or closed.
///
/// [`SAMPLE_INTERVAL`]: crate::observability::metrics::export::SAMPLE_INTERVAL
#[cfg(feature = "metrics")]
fn spawn_metrics_sampler(session: std::sync::Weak<SessionInner>) {
    use crate::observability::metrics::export;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(export::SAMPLE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = session.upgrade() else {
                return;
            };
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            export::sample(&inner.cluster.state(), &inner.metrics);
        }
    });
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
    pub(crate) fn from_cluster(
        cluster: transport::Cluster,
        default_profile: ExecutionProfileHandle,
        options: SessionOptions,
    ) -> Self {
        let inner = Arc::new(SessionInner {
            cluster,
            default_profile,
            metrics: Arc::new(Metrics::new()),
            keyspace: ArcSwapOption::empty(),
            options,
            closed: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        });
        #[cfg(feature = "metrics")]
        spawn_metrics_sampler(Arc::downgrade(&inner));
        Self { inner }
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

    /// Prepares a statement on every node and returns it, ready to execute.
    ///
    /// Returns as soon as one node prepared it: the PREPAREs to the other nodes finish in the
    /// background, under the same request timeout (and holding the same throttler permit), so a
    /// slow or silent node does not delay it. Nodes that failed prepare it on demand when they
    /// answer UNPREPARED. Fails only when every node failed, or when answers that arrived
    /// together carry different ids ([`PrepareError::PreparedStatementIdsMismatch`]; a later
    /// answer with another id is logged).
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
        self.inner
            .cluster
            .refresh_metadata()
            .await
            .map_err(MetadataError::Refresh)
    }

    /// The cluster as the driver sees it now: nodes, keyspaces, token ring.
    pub fn get_cluster_state(&self) -> Arc<ClusterState> {
        self.inner.cluster.state()
    }

    /// The native protocol version the session speaks: that of the first node with an open
    /// connection (`None` while none is open). It is the highest version both the builder
    /// allows ([`crate::SessionBuilder::max_protocol_version`]) and the nodes serve.
    pub fn protocol_version(&self) -> Option<proto::frame::ProtocolVersion> {
        let cluster = &self.inner.cluster;
        cluster
            .state()
            .nodes()
            .iter()
            .find_map(|node| cluster.connection_for(node, None))
            .map(|conn| conn.version())
    }

    /// The session's request counters and latency histogram.
    pub fn get_metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.inner.metrics)
    }

    /// The execution profile statements use unless they name another.
    pub fn get_default_execution_profile_handle(&self) -> &ExecutionProfileHandle {
        &self.inner.default_profile
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
