//! The coordinator: runs statements through the engine over the cluster's replicas, with
//! consistency checks, prepared ids per node, schema-change side effects and tracing.
//!
//! This file holds the request entry point ([`execute`]) and the QUERY / PREPARE / EXECUTE /
//! BATCH dispatch; the parts:
//! - [`data_plane`]: the engine and every node's store, with the ring and placements;
//! - [`router`]: the engine's [`Replicas`](crate::storage::Replicas) view of the cluster for one
//!   request (placement, liveness, consistency, `system.local`/`peers` rows);
//! - [`execution`]: a statement or batch run under the data lock, and its reply;
//! - [`traces`]: the `system_traces` rows of traced requests;
//! - [`streaming`]: a topology change's data moved in bounded steps.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use proto::codes::{Consistency, ErrorCode};
use proto::request::{BatchStatementKind, Request, SerializedValues};
use proto::response::{ErrorBody, ErrorDetails, Response, ResultBody};
use uuid::Uuid;

use crate::CqlError;
use crate::cql::ast::BatchKind;
use crate::exec::BoundValue;
use crate::server::faults;
use crate::server::node::{NodeShared, lock};
use crate::server::state::ClusterInner;
use execution::{Execution, run_under_lock};
use traces::{trace_session_id, write_trace};

mod batch_size;
pub(super) mod data_plane;
mod execution;
mod rate_limit;
mod router;
pub(super) mod streaming;
mod tablets;
mod traces;

pub(crate) use rate_limit::RATE_LIMIT_ERROR_CODE;

/// The version strings a node reports in `system.local`, `system.peers` and SUPPORTED.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Versions {
    /// `release_version`: drivers pick their schema queries by it (Cassandra 4.0+ adds
    /// `system_virtual_schema`).
    pub(crate) release: &'static str,
    /// `cql_version` and SUPPORTED's `CQL_VERSION`.
    pub(crate) cql: &'static str,
}

impl Versions {
    /// Scylla 6.x: the Cassandra-compatible release string Scylla reports, and its CQL
    /// version (`cql3::query_processor::CQL_VERSION`).
    pub(crate) const SCYLLA: Self = Self {
        release: "3.0.8",
        cql: "3.3.1",
    };
    /// Cassandra 4.1 (`FBUtilities.getReleaseVersionString`, `QueryProcessor.CQL_VERSION`).
    pub(crate) const CASSANDRA: Self = Self {
        release: "4.1.7",
        cql: "3.4.6",
    };

    /// The strings of the flavour.
    pub(crate) fn of(scylla: bool) -> Self {
        if scylla {
            Self::SCYLLA
        } else {
            Self::CASSANDRA
        }
    }
}
const PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";
/// `system.local.supported_features` of a Scylla node: the cluster feature names Scylla 6.x
/// gossips, comma-separated, `TABLETS` among them (tablets keyspaces can always be created).
pub(crate) const SUPPORTED_FEATURES: &str = "AGGREGATE_STORAGE_OPTIONS,ALTERNATOR_TTL,CDC,CDC_GENERATIONS_V2,COLLECTION_INDEXING,COMPUTED_COLUMNS,CORRECT_COUNTER_ORDER,CORRECT_IDX_TOKEN_IN_SECONDARY_INDEX,CORRECT_NON_COMPOUND_RANGE_TOMBSTONES,CORRECT_STATIC_COMPACT_IN_MC,COUNTERS,DIGEST_FOR_NULL_VALUES,DIGEST_INSENSITIVE_TO_EXPIRY,DIGEST_MULTIPARTITION_READ,HINTED_HANDOFF_SEPARATE_CONNECTION,INDEXES,LARGE_COLLECTION_DETECTION,LARGE_PARTITIONS,LA_SSTABLE_FORMAT,LWT,MATERIALIZED_VIEWS,MC_SSTABLE_FORMAT,MD_SSTABLE_FORMAT,ME_SSTABLE_FORMAT,NONFROZEN_UDTS,PARALLELIZED_AGGREGATION,PER_TABLE_CACHING,PER_TABLE_PARTITIONERS,RANGE_SCAN_DATA_VARIANT,RANGE_TOMBSTONES,ROLES,ROW_LEVEL_REPAIR,SCHEMA_TABLES_V3,SECONDARY_INDEXES_ON_STATIC_COLUMNS,SEPARATE_PAGE_SIZE_AND_SAFETY_LIMIT,STREAM_WITH_RPC_STREAM,SUPPORTS_CONSISTENT_TOPOLOGY_CHANGES,SUPPORTS_RAFT_CLUSTER_MANAGEMENT,TABLETS,TOMBSTONE_GC_OPTIONS,TRUNCATION_TABLE,TYPED_ERRORS_IN_READ_RPC,UDA,UDA_NATIVE_PARALLELIZED_AGGREGATION,UNBOUNDED_RANGE_TOMBSTONES,VIEW_VIRTUAL_COLUMNS,WRITE_FAILURE_REPLY,XXHASH";
/// Cassandra's `unlogged_batch_across_partitions_warn_threshold`.
const UNLOGGED_BATCH_WARN_PARTITIONS: usize = 10;

/// A response's custom payload: names to values (null allowed).
pub(crate) type CustomPayload = HashMap<String, Option<Bytes>>;

/// The coordinator's answer to one request.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) response: Response,
    pub(crate) tracing_id: Option<Uuid>,
    pub(crate) warnings: Vec<String>,
    /// The connection's new keyspace after `USE`.
    pub(crate) set_keyspace: Option<String>,
    /// The custom payload (Scylla's `tablets-routing-v1` to a client that is not routing to
    /// the tablet's replica and shard).
    pub(crate) custom_payload: Option<CustomPayload>,
    /// The other nodes the request read from or wrote to (their trace events' sources).
    pub(crate) replicas: Vec<usize>,
}

impl Reply {
    pub(crate) fn error(e: ErrorBody) -> Self {
        Self {
            response: Response::Error(e),
            tracing_id: None,
            warnings: Vec::new(),
            set_keyspace: None,
            custom_payload: None,
            replicas: Vec::new(),
        }
    }
}

/// The request-level inputs shared by every statement kind.
struct RequestContext<'a> {
    cluster: &'a Arc<ClusterInner>,
    node: &'a Arc<NodeShared>,
    keyspace: Option<&'a str>,
    consistency: Consistency,
    client: SocketAddr,
    shard: u32,
    lwt_mark: Option<u32>,
    metadata_id: bool,
    /// Whether the client enabled `SCYLLA_RATE_LIMIT_ERROR`.
    rate_limit_error: bool,
    tablets_routing: bool,
    role: Option<&'a str>,
}

/// The client connection a request came on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client<'a> {
    /// The client's address.
    pub(crate) addr: SocketAddr,
    /// The shard serving the connection.
    pub(crate) shard: u32,
    /// The LWT mark bit, when the client enabled `SCYLLA_LWT_ADD_METADATA_MARK`.
    pub(crate) lwt_mark: Option<u32>,
    /// Whether PREPARED and EXECUTE carry result metadata ids (v5, or Scylla's
    /// `SCYLLA_USE_METADATA_ID` enabled in STARTUP).
    pub(crate) metadata_id: bool,
    /// Whether the client enabled `SCYLLA_RATE_LIMIT_ERROR` (rate-limit rejections then carry
    /// its code, else they are CONFIG_ERRORs).
    pub(crate) rate_limit_error: bool,
    /// Whether the client enabled `TABLETS_ROUTING_V1` in STARTUP.
    pub(crate) tablets_routing: bool,
    /// The role the connection logged in as (`None` without authentication).
    pub(crate) role: Option<&'a str>,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Maps an engine error to an ERROR body.
pub(crate) fn error_body(e: &CqlError, consistency: Consistency) -> ErrorBody {
    e.to_error_body(consistency)
}

/// Bound values of a request, or a protocol error.
fn bound_values(
    values: &SerializedValues,
) -> Result<(Vec<BoundValue>, Option<Vec<String>>), ErrorBody> {
    crate::wire::bound_values(values).map_err(|e| e.to_error_body(Consistency::ONE))
}

fn unprepared(id: &[u8]) -> ErrorBody {
    error_body(&CqlError::Unprepared { id: id.to_vec() }, Consistency::ONE)
}

/// Executes a QUERY, PREPARE, EXECUTE or BATCH on `node` as coordinator.
pub(crate) fn execute(
    cluster: &Arc<ClusterInner>,
    node: &Arc<NodeShared>,
    request: &Request,
    keyspace: Option<&str>,
    tracing: bool,
    client: Client<'_>,
) -> Reply {
    let started = std::time::Instant::now();
    let started_at = now_micros();
    let consistency = match request {
        Request::Query(q) => q.params.consistency,
        Request::Execute(e) => e.params.consistency,
        Request::Batch(b) => b.consistency,
        _ => Consistency::ONE,
    };
    let ctx = RequestContext {
        cluster,
        node,
        keyspace,
        consistency,
        client: client.addr,
        shard: client.shard,
        lwt_mark: client.lwt_mark,
        metadata_id: client.metadata_id,
        rate_limit_error: client.rate_limit_error,
        tablets_routing: client.tablets_routing,
        role: client.role,
    };
    // An engine bug must not take the connection down: it becomes a SERVER_ERROR.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ctx, request)));
    let mut reply = outcome.unwrap_or_else(|_| {
        tracing::error!("the engine panicked while executing a request");
        Reply::error(faults::server_error(
            "internal error while executing the request",
        ))
    });
    if tracing {
        let session = trace_session_id(node, started_at);
        let (command, text): (&str, String) = match request {
            Request::Query(q) => ("QUERY", q.query.to_string()),
            Request::Prepare(p) => ("PREPARE", p.query.to_string()),
            Request::Execute(e) => (
                "EXECUTE",
                node.knows_prepared(&e.id)
                    .map_or_else(|| "EXECUTE".to_owned(), |t| t.to_string()),
            ),
            Request::Batch(b) => (
                "BATCH",
                format!("batch of {} statements", b.statements.len()),
            ),
            _ => ("", String::new()),
        };
        let elapsed = started.elapsed();
        write_trace(
            &ctx,
            session,
            command,
            &text,
            started_at,
            elapsed,
            &reply.replicas,
        );
        reply.tracing_id = Some(session);
    }
    reply
}

/// Cassandra has no `USING TIMEOUT` (a Scylla extension): its parser stops at `USING` after
/// a SELECT's clauses.
fn flavor_check(
    ctx: &RequestContext<'_>,
    parsed: &crate::cql::ast::Statement,
) -> Result<(), CqlError> {
    match parsed {
        crate::cql::ast::Statement::Select(s)
            if s.using_timeout && !ctx.cluster.config.scylla_extensions =>
        {
            Err(CqlError::Syntax(
                "line 1:0 mismatched input 'USING' expecting EOF".to_owned(),
            ))
        }
        _ => Ok(()),
    }
}

fn run(ctx: &RequestContext<'_>, request: &Request) -> Reply {
    match request {
        Request::Prepare(p) => {
            let parsed = lock(&ctx.cluster.data).engine.parse(&p.query);
            if let Err(e) = parsed.and_then(|s| flavor_check(ctx, &s.parsed.statement)) {
                return Reply::error(error_body(&e, ctx.consistency));
            }
            prepare(ctx, &p.query, p.keyspace.as_deref().or(ctx.keyspace))
        }
        Request::Query(q) => {
            let stmt = {
                let mut data = lock(&ctx.cluster.data);
                data.engine.parse(&q.query)
            }
            .and_then(|s| flavor_check(ctx, &s.parsed.statement).map(|()| s));
            match stmt {
                Ok(stmt) => run_under_lock(
                    ctx,
                    Execution::Single {
                        stmt,
                        params: &q.params,
                        skip_metadata: false,
                        result_metadata_id: None,
                    },
                ),
                Err(e) => Reply::error(error_body(&e, ctx.consistency)),
            }
        }
        Request::Execute(e) => {
            if ctx.node.knows_prepared(&e.id).is_none() {
                return Reply::error(unprepared(&e.id));
            }
            let stmt = lock(&ctx.cluster.data).engine.prepared(&e.id);
            match stmt {
                Ok(stmt) => run_under_lock(
                    ctx,
                    Execution::Single {
                        stmt,
                        params: &e.params,
                        skip_metadata: e.params.skip_metadata,
                        result_metadata_id: e
                            .result_metadata_id
                            .as_deref()
                            .filter(|_| ctx.metadata_id),
                    },
                ),
                Err(err) => Reply::error(error_body(&err, ctx.consistency)),
            }
        }
        Request::Batch(b) => {
            let mut items = Vec::with_capacity(b.statements.len());
            {
                let mut data = lock(&ctx.cluster.data);
                for s in &b.statements {
                    let stmt = match &s.kind {
                        BatchStatementKind::Query(q) => data.engine.parse(q),
                        BatchStatementKind::Prepared(id) => {
                            if ctx.node.knows_prepared(id).is_none() {
                                return Reply::error(unprepared(id));
                            }
                            data.engine.prepared(id)
                        }
                    };
                    let values = match bound_values(&s.values) {
                        Ok((v, _)) => v,
                        Err(e) => return Reply::error(e),
                    };
                    match stmt {
                        Ok(st) => items.push((st, values)),
                        Err(e) => return Reply::error(error_body(&e, ctx.consistency)),
                    }
                }
            }
            run_under_lock(
                ctx,
                Execution::Batch {
                    items,
                    timestamp: b.timestamp,
                    serial_consistency: b.serial_consistency,
                    kind: match b.batch_type {
                        proto::codes::BatchType::UNLOGGED => BatchKind::Unlogged,
                        proto::codes::BatchType::COUNTER => BatchKind::Counter,
                        _ => BatchKind::Logged,
                    },
                },
            )
        }
        _ => Reply::error(ErrorBody {
            code: ErrorCode::PROTOCOL_ERROR,
            message: "not a statement".into(),
            details: ErrorDetails::None,
        }),
    }
}

fn prepare(ctx: &RequestContext<'_>, query: &str, keyspace: Option<&str>) -> Reply {
    let info = lock(&ctx.cluster.data).engine.prepare(query, keyspace);
    match info {
        Ok(info) => {
            lock(&ctx.node.prepared).insert(info.id, Arc::from(query));
            Reply {
                response: Response::Result(ResultBody::Prepared(Box::new(
                    info.to_prepared_marked(ctx.metadata_id, ctx.lwt_mark),
                ))),
                tracing_id: None,
                warnings: Vec::new(),
                set_keyspace: None,
                custom_payload: None,
                replicas: Vec::new(),
            }
        }
        Err(e) => Reply::error(error_body(&e, ctx.consistency)),
    }
}

fn read_nodes(cluster: &ClusterInner) -> std::sync::RwLockReadGuard<'_, Vec<Arc<NodeShared>>> {
    cluster
        .nodes
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
