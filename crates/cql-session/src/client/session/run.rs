//! The run path every statement takes: profile, plan, [`execute`] with retries and
//! speculation, then the follow-ups of `USE` and schema changes.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures::future::Either;
use proto::request::{Execute, Query, QueryParameters};
use proto::response::{ColumnSpec, Prepared, ResultBody};
use proto::{Request, SerializedValues, Token};

use crate::client::execute::{
    AttemptTarget, ExecOptions, Reprepare, Repreparer, Speculation, SuccessfulResponse, execute,
    execute_speculative,
};
use crate::client::execution_profile::ExecutionProfile;
use crate::client::target::{NodeTarget, PlanContext, TargetShard};
use crate::errors::{Attempts, BadQuery, ExecutionError, RequestKind};
use crate::observability::history::FiberHistory;
use crate::observability::spans;
use crate::policies::load_balancing::{Plan, RoutingInfo};
use crate::policies::speculative_execution::Context as SpeculativeContext;
use crate::policies::throttle::{self, NotAdmitted, RequestThrottler, ThrottlePermit};
use crate::response::QueryResult;
use crate::serialize::SerializeRow;
use crate::statement::prepared::{PartitionKeyError, PreparedShared};
use crate::statement::{PreparedStatement, Statement, StatementConfig};

use super::{InFlight, SessionInner};

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

    /// Admits a user request: counts it in flight and waits for one of `throttler`'s permits
    /// within `timeout`. Returns the guards and what is left of `timeout`.
    async fn admit_throttled<'a>(
        &'a self,
        throttler: &'a dyn RequestThrottler,
        timeout: Option<Duration>,
        kind: RequestKind,
    ) -> Result<(Admitted<'a>, ThrottlePermit<'a>, Option<Duration>), ExecutionError> {
        let in_flight = self.enter()?;
        match throttle::admit(throttler, timeout, &self.metrics).await {
            Ok((permit, left)) => Ok((
                Admitted {
                    _in_flight: in_flight,
                },
                permit,
                left,
            )),
            Err(NotAdmitted::Refused(e)) => Err(e.into()),
            Err(NotAdmitted::TimedOut(timeout)) => Err(ExecutionError::RequestTimeout {
                timeout,
                attempts: Attempts::new(Vec::new(), kind),
            }),
        }
    }

    /// Counts a finished request (and its failure) in the metrics.
    pub(super) fn counted<T>(&self, r: Result<T, ExecutionError>) -> Result<T, ExecutionError> {
        self.metrics.inc_queries();
        if r.is_err() {
            self.metrics.inc_errors();
        }
        r
    }

    pub(super) fn profile(&self, config: &StatementConfig) -> Arc<ExecutionProfile> {
        config
            .execution_profile_handle
            .as_ref()
            .unwrap_or(&self.default_profile)
            .load_full()
    }

    /// The request's own timestamp, else the generator's (if one is configured).
    pub(super) fn timestamp(&self, own: Option<i64>) -> Option<i64> {
        own.or_else(|| {
            self.options
                .timestamp_generator
                .as_ref()
                .map(|g| g.next_timestamp())
        })
    }

    pub(super) fn params(
        &self,
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
            timestamp: self.timestamp(config.timestamp),
            keyspace: None,
            now_in_seconds: None,
        }
    }

    /// Runs `request` through the profile's plan and retry policy.
    ///
    /// Not an `async fn`: without a request throttler the returned future is
    /// `run_admitted`'s own, not another layer around it (every layer is moved, whole, when
    /// the request starts); the throttled path is boxed.
    pub(super) fn run<'a>(
        &'a self,
        request: &'a mut Request,
        config: &'a StatementConfig,
        profile: &'a ExecutionProfile,
        routing: RoutingInfo<'a>,
        reprepare: Reprepare<'a>,
    ) -> impl Future<Output = Result<SuccessfulResponse, ExecutionError>> + Send + 'a {
        let throttler = profile
            .request_throttler
            .as_ref()
            .or(self.options.request_throttler.as_ref());
        let Some(throttler) = throttler else {
            return match self.enter() {
                Ok(in_flight) => Either::Left(self.run_admitted(
                    Admitted {
                        _in_flight: in_flight,
                    },
                    request,
                    config,
                    profile,
                    routing,
                    reprepare,
                )),
                Err(e) => Either::Right(thin(Box::pin(std::future::ready(Err(e))))),
            };
        };
        Either::Right(thin(Box::pin(async move {
            let timeout = config.request_timeout.or(profile.request_timeout);
            let (admitted, _permit, left) = self
                .admit_throttled(&**throttler, timeout, RequestKind::of(request))
                .await?;
            // The time queued counts against the request timeout: the attempts get the rest.
            let mut config = config.clone();
            config.request_timeout = left;
            let r = self
                .run_admitted(admitted, request, &config, profile, routing, reprepare)
                .await;
            match r {
                // Report the whole timeout, not what was left of it.
                Err(ExecutionError::RequestTimeout { attempts, .. }) => {
                    Err(ExecutionError::RequestTimeout {
                        timeout: timeout.unwrap_or_default(),
                        attempts,
                    })
                }
                r => r,
            }
        })))
    }

    /// [`SessionInner::run`] once the request is admitted; the guard lives as long as the
    /// request.
    async fn run_admitted(
        &self,
        _admitted: Admitted<'_>,
        request: &mut Request,
        config: &StatementConfig,
        profile: &ExecutionProfile,
        routing: RoutingInfo<'_>,
        reprepare: Reprepare<'_>,
    ) -> Result<SuccessfulResponse, ExecutionError> {
        let state = self.cluster.state();
        let policy = &*profile.load_balancing_policy;
        let routing = &routing;
        let shared = PlanContext {
            feedback: Some((policy, routing)),
        };
        let shared = &shared;
        let plan = Plan::new(policy, routing, &state).map(move |(node, shard)| NodeTarget {
            node,
            plan: shared,
            shard: TargetShard::new(shard),
        });
        let opts = ExecOptions {
            is_idempotent: config.is_idempotent,
            consistency: routing.consistency,
            retry_policy: config.retry_policy().unwrap_or(&*profile.retry_policy),
            request_timeout: config.request_timeout.or(profile.request_timeout),
            attempt_timeout: profile.attempt_timeout,
            tracing: config.tracing,
            metrics: &self.metrics,
            failover_check: self
                .options
                .unresponsive_node_after
                .filter(|_| config.is_idempotent),
            history: None,
        };
        // Nothing but a bool decides the fast path: a span or `Speculation` local would live
        // across its await too, in every request's future.
        if profile.speculative_execution_policy.is_none()
            && config.history_listener().is_none()
            && !spans::enabled()
        {
            return execute(plan, request, &opts, reprepare).await;
        }
        // Boxed: spans and speculation are opt-in, and their futures are larger.
        Box::pin(self.run_observed(plan, request, &opts, reprepare, config, profile, routing)).await
    }

    /// The opt-in paths of [`SessionInner::run_admitted`]: a request span when a subscriber
    /// wants one (see [`spans`]), the statement's history listener, and speculative execution.
    #[allow(clippy::too_many_arguments)] // The parts of one request, passed on from one place.
    async fn run_observed<T, P>(
        &self,
        plan: P,
        request: &mut Request,
        opts: &ExecOptions<'_>,
        reprepare: Reprepare<'_>,
        config: &StatementConfig,
        profile: &ExecutionProfile,
        routing: &RoutingInfo<'_>,
    ) -> Result<SuccessfulResponse, ExecutionError>
    where
        T: AttemptTarget + Send,
        P: Iterator<Item = T> + Send,
    {
        let span = self.request_span(request, config, routing, reprepare);
        let listener = config.history_listener();
        let request_id = listener.map(|l| l.log_request_start());
        let history = listener
            .zip(request_id)
            .map(|(l, id)| FiberHistory::new(l, id, None));
        let opts = &ExecOptions {
            history: history.as_ref(),
            ..*opts
        };
        let work = async {
            match profile.speculative_execution_policy.as_ref() {
                None => execute(plan, request, opts, reprepare).await,
                Some(p) => {
                    let ctx = SpeculativeContext::new(Arc::clone(&self.metrics));
                    let speculation = Speculation {
                        max_extra: p.max_retry_count(&ctx),
                        interval: p.retry_interval(&ctx),
                    };
                    execute_speculative(plan, request, opts, reprepare, Some(speculation)).await
                }
            }
        };
        let r = match span {
            None => work.await,
            Some(span) => {
                let r = tracing::Instrument::instrument(work, span.clone()).await;
                spans::record_request(&span, &r);
                r
            }
        };
        if let (Some(l), Some(id)) = (listener, request_id) {
            match &r {
                Ok(_) => l.log_request_success(id),
                Err(e) => l.log_request_error(id, e),
            }
        }
        r
    }

    /// The request span of `request`, if a subscriber wants it.
    fn request_span(
        &self,
        request: &Request,
        config: &StatementConfig,
        routing: &RoutingInfo<'_>,
        reprepare: Reprepare<'_>,
    ) -> Option<tracing::Span> {
        let session_keyspace = self.keyspace.load_full();
        let prepared_text = match request {
            Request::Execute(e) => reprepare.statement(&e.id),
            _ => None,
        };
        spans::request(spans::RequestFields {
            keyspace: routing
                .keyspace
                .or(session_keyspace.as_deref().map(String::as_str)),
            request,
            prepared_text,
            consistency: routing.consistency,
            idempotent: config.is_idempotent,
        })
    }

    /// Turns a successful response into a result, following `USE` and schema changes.
    pub(super) async fn finish(
        &self,
        executed: SuccessfulResponse,
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
                    if self.options.refresh_metadata_on_auto_schema_agreement
                        && let Err(e) = self.cluster.refresh_metadata().await
                    {
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
        )
        .with_coordinator(executed.coordinator))
    }

    /// Runs an unprepared statement without values.
    pub(crate) async fn run_query(
        &self,
        statement: &Statement,
        page_size: Option<i32>,
        paging_state: Option<Bytes>,
    ) -> Result<QueryResult, ExecutionError> {
        let profile = self.profile(&statement.config);
        let params = self.params(
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
    ///
    /// The result columns: with a result metadata id the server compares it and answers
    /// METADATA_CHANGED with the new columns when it is stale, so skipping the metadata is safe;
    /// without one, the metadata is skipped only when the user opted in. The rows are decoded
    /// with the response's own specs, or with the specs of the id that was sent.
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
        let columns = shared.result.load_full();
        let with_id = columns.metadata_id.is_some();
        let skip_metadata =
            !columns.specs.is_empty() && (with_id || prepared.use_cached_result_metadata);
        let params = self.params(
            &prepared.config,
            &profile,
            values,
            page_size,
            paging_state,
            skip_metadata,
        );
        let mut request = Request::Execute(Execute {
            id: shared.id.clone(),
            result_metadata_id: columns.metadata_id.clone(),
            params,
        });
        let routing = RoutingInfo {
            consistency: prepared.config.consistency.unwrap_or(profile.consistency),
            token,
            keyspace: prepared.get_keyspace_name(),
            table: prepared.get_table_name(),
            is_confirmed_lwt: shared.is_lwt,
        };
        let executed = self
            .run(&mut request, &prepared.config, &profile, routing, &**shared)
            .await?;
        if let (Some(payload), Some(ks), Some(table)) = (
            &executed.custom_payload,
            prepared.get_keyspace_name(),
            prepared.get_table_name(),
        ) {
            self.cluster.add_tablet_from_payload(ks, table, payload);
        }
        let columns = match &executed.body {
            ResultBody::Rows(rows) => {
                if let Some(id) = &rows.metadata.new_metadata_id {
                    // Before the rows are decoded (with these same specs, the response's own).
                    shared.update_result(Some(id), &rows.metadata.col_specs);
                }
                // Without an id, a re-prepare during the request may have refreshed the specs
                // the server skipped.
                if rows.metadata.is_no_metadata() && !with_id {
                    shared.result.load_full()
                } else {
                    columns
                }
            }
            _ => columns,
        };
        check_cached_specs(&executed.body, &columns.specs)?;
        self.finish(executed, Some(&columns.specs)).await
    }
}

/// The boxed future of [`SessionInner::run`]'s rare paths: throttled, or refused at once.
type RunFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SuccessfulResponse, ExecutionError>> + Send + 'a>>;

/// A thin pointer to a boxed run: a fat one would make [`SessionInner::run`]'s future larger
/// than the unthrottled path's own, and with it every request's.
fn thin(f: RunFuture<'_>) -> Pin<Box<RunFuture<'_>>> {
    Box::pin(f)
}

/// A user request admitted by [`SessionInner::run`]: counted in flight until dropped.
struct Admitted<'a> {
    _in_flight: InFlight<'a>,
}

/// Fails a NO_METADATA result whose column count is not that of the specs it would be decoded
/// with: they are not its columns.
fn check_cached_specs(body: &ResultBody, specs: &[ColumnSpec]) -> Result<(), ExecutionError> {
    match body {
        ResultBody::Rows(rows)
            if rows.metadata.is_no_metadata() && rows.metadata.col_count != specs.len() =>
        {
            Err(ExecutionError::ResultMetadataMismatch {
                cached: specs.len(),
                received: rows.metadata.col_count,
            })
        }
        _ => Ok(()),
    }
}

impl Repreparer for PreparedShared {
    fn statement(&self, id: &Bytes) -> Option<proto::Text> {
        (*id == self.id).then(|| self.statement.clone())
    }

    fn reprepared(&self, prepared: &Prepared) {
        self.adopt_reprepared(prepared);
    }
}
