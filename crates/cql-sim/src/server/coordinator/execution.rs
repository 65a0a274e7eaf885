//! Statements run under the data lock: a single statement or a batch, at its effective
//! consistency, with batch warnings, LWT results and schema-change side effects.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::sync::Arc;

use proto::codes::{Consistency, ErrorCode};
use proto::response::{ErrorBody, ErrorDetails, Event, Response, ResultBody, SchemaChange};

use super::batch_size;
use super::rate_limit::{self, Limited, RateLimiter};
use super::router::Router;
use super::tablets;
use super::{
    Reply, RequestContext, UNLOGGED_BATCH_WARN_PARTITIONS, bound_values, error_body, now_micros,
    read_nodes,
};
use crate::CqlError;
use crate::cql::ast::{BatchKind, Conditions, Selection, Selector, Statement};
use crate::exec::{BoundValue, CachedStatement, Outcome, QueryOptions};
use crate::server::node::{NodeShared, lock};
use crate::server::state::ClusterInner;

fn is_aggregate(st: &Statement) -> bool {
    let Statement::Select(s) = st else {
        return false;
    };
    let Selection::List(list) = &s.selection else {
        return false;
    };
    list.iter().any(|(sel, _)| match sel {
        Selector::CountAll => true,
        Selector::Function { name, .. } => {
            matches!(name.as_str(), "count" | "sum" | "avg" | "min" | "max")
        }
        _ => false,
    })
}

/// What to run under the data lock.
pub(super) enum Execution<'a> {
    Single {
        stmt: Arc<CachedStatement>,
        params: &'a proto::request::QueryParameters,
        skip_metadata: bool,
        /// The result metadata id an EXECUTE carried (v5, or Scylla's metadata id extension).
        result_metadata_id: Option<&'a [u8]>,
    },
    Batch {
        items: Vec<(Arc<CachedStatement>, Vec<BoundValue>)>,
        timestamp: Option<i64>,
        kind: BatchKind,
        serial_consistency: Option<Consistency>,
    },
}

/// Whether a statement is a lightweight transaction (checked at the serial consistency).
fn is_lwt(st: &Statement) -> bool {
    match st {
        Statement::Insert { if_not_exists, .. } => *if_not_exists,
        Statement::Update { conditions, .. } | Statement::Delete { conditions, .. } => {
            *conditions != Conditions::None
        }
        _ => false,
    }
}

impl Execution<'_> {
    /// The consistency level replicas are counted against: the serial one for LWTs.
    fn effective_consistency(&self, cl: Consistency) -> Consistency {
        let (lwt, serial) = match self {
            Self::Single { stmt, params, .. } => {
                (is_lwt(&stmt.parsed.statement), params.serial_consistency)
            }
            Self::Batch {
                items,
                serial_consistency,
                ..
            } => (
                items.iter().any(|(s, _)| is_lwt(&s.parsed.statement)),
                *serial_consistency,
            ),
        };
        if lwt {
            serial
                .filter(|c| c.is_serial())
                .unwrap_or(Consistency::SERIAL)
        } else {
            cl
        }
    }
}

/// Counts a limited operation on the partition the request touched; the error when it is
/// over its table's limit. Multi-partition reads and scans are not limited.
fn admit(
    limiter: &mut RateLimiter,
    l: &Limited,
    router: &Router<'_>,
    ctx: &RequestContext<'_>,
) -> Option<ErrorBody> {
    let seen = router.first_token.get()?;
    let (token, coordinator_is_replica) = (seen.token, seen.replica);
    if router.scanned.get() {
        return None;
    }
    let now = u64::try_from(now_micros() / 1_000_000).unwrap_or(0);
    if limiter.admit(&l.keyspace, &l.table, token, l.write, l.limit, now) {
        return None;
    }
    Some(rate_limit::rejection(
        &l.keyspace,
        &l.table,
        l.write,
        coordinator_is_replica,
        ctx.rate_limit_error,
    ))
}

/// Runs a statement or batch under the data lock and builds its reply.
pub(super) fn run_under_lock(ctx: &RequestContext<'_>, work: Execution<'_>) -> Reply {
    let gossip_generation = ctx.cluster.started_secs();
    let mut warnings = Vec::new();
    let mut custom_payload = None;
    let reached: Vec<usize>;
    let outcome = {
        // Lock order: the node list, then the data.
        let nodes = read_nodes(ctx.cluster);
        let mut guard = lock(&ctx.cluster.data);
        let data = &mut *guard;
        data.refresh_placements();
        let mut router = Router {
            stores: &mut data.stores,
            stale: &mut data.stale,
            ring: &data.ring,
            pending: data.pending.as_ref().map(|p| &p.ring),
            placements: &data.placements,
            tablets: &data.tablets,
            scylla: ctx.cluster.config.scylla_extensions,
            tablets_by_default: ctx.cluster.config.tablets_by_default,
            native_protocol: ctx.cluster.config.max_protocol_version.0,
            nodes: &nodes,
            coordinator: ctx.node.id,
            cluster_name: &ctx.cluster.config.cluster_name,
            gossip_generation,
            consistency: work.effective_consistency(ctx.consistency),
            count_partitions: matches!(work, Execution::Batch { .. }),
            error: RefCell::new(None),
            written: HashSet::new(),
            scanned: Cell::new(false),
            tombstones: Cell::new(0),
            reached: RefCell::new(Vec::new()),
            dry_run: false,
            first_token: Cell::new(None),
        };
        let now = now_micros();
        let (result, aggregate, unlogged) = match &work {
            Execution::Single { stmt, params, .. } => {
                let keyspace = stmt.keyspace.as_deref().or(ctx.keyspace);
                if is_lwt(&stmt.parsed.statement)
                    && let Some(e) =
                        tablets::refuse_lwt(&data.engine.catalog, &stmt.parsed.statement, keyspace)
                {
                    return Reply::error(error_body(&e, ctx.consistency));
                }
                let (values, names) = match bound_values(&params.values) {
                    Ok(v) => v,
                    Err(e) => return Reply::error(e),
                };
                let opts = QueryOptions {
                    keyspace,
                    values,
                    names,
                    now_micros: now,
                    timestamp: params.timestamp,
                    page_size: params.page_size,
                    paging_state: params.paging_state.clone(),
                    role: ctx.role,
                };
                let limited =
                    rate_limit::limited(&data.engine.catalog, &stmt.parsed.statement, keyspace);
                if let Some(l) = limited.as_ref().filter(|l| l.write) {
                    // A dry run finds the partition; a rejected write must write nothing.
                    router.dry_run = true;
                    let _ = data.engine.execute(&mut router, stmt, &opts);
                    router.dry_run = false;
                    router.written.clear();
                    if let Some(e) = admit(&mut data.rate_limiter, l, &router, ctx) {
                        return Reply::error(e);
                    }
                }
                let r = data.engine.execute(&mut router, stmt, &opts);
                if let Some(l) = limited.as_ref().filter(|l| !l.write)
                    && let Some(e) = admit(&mut data.rate_limiter, l, &router, ctx)
                {
                    return Reply::error(e);
                }
                (r, is_aggregate(&stmt.parsed.statement), false)
            }
            Execution::Batch {
                items,
                timestamp,
                kind,
                ..
            } => {
                let opts = QueryOptions {
                    keyspace: ctx.keyspace,
                    now_micros: now,
                    timestamp: *timestamp,
                    role: ctx.role,
                    ..QueryOptions::default()
                };
                let refused = items.iter().find_map(|(s, _)| {
                    let st = &s.parsed.statement;
                    let ks = s.keyspace.as_deref().or(ctx.keyspace);
                    is_lwt(st)
                        .then(|| tablets::refuse_lwt(&data.engine.catalog, st, ks))
                        .flatten()
                });
                if let Some(e) = refused {
                    return Reply::error(error_body(&e, ctx.consistency));
                }
                if items.len() > 1 {
                    router.dry_run = true;
                    let _ = data.engine.batch(&mut router, *kind, items, &opts);
                    router.dry_run = false;
                    let size = batch_size::data_size(items);
                    match batch_size::check(items, ctx.keyspace, router.written.len(), size) {
                        Ok(w) => warnings.extend(w),
                        Err(e) => return Reply::error(error_body(&e, ctx.consistency)),
                    }
                    router.written.clear();
                }
                let r = if router.error.borrow().is_some() {
                    Err(CqlError::Unavailable {
                        required: 0,
                        alive: 0,
                    })
                } else {
                    data.engine.batch(&mut router, *kind, items, &opts)
                };
                (r, false, *kind == BatchKind::Unlogged)
            }
        };
        if let Some(seen) = router.first_token.get() {
            // A tablet lives on one shard of each replica; a vnode token on the shard that
            // owns it.
            let owner = match seen.tablet {
                Some(t) => t.shard_on(ctx.node.id),
                None => Some(ctx.node.shard_of(seen.token)),
            };
            ctx.node.record_routing(seen.replica, ctx.shard, owner);
            if ctx.tablets_routing
                && let Some(t) = seen.tablet
                && owner != Some(ctx.shard)
            {
                custom_payload = tablets::routing_payload(t, &nodes);
            }
        }
        if let Execution::Single { stmt, .. } = &work
            && !ctx.cluster.config.scylla_extensions
            && let Ok(Outcome::Rows(rows)) = &result
        {
            let (warn, fail) = ctx.cluster.config.tombstone_thresholds;
            let scanned = router.tombstones.get();
            if scanned > fail {
                router.fail(tombstone_overwhelm(ctx));
            } else if scanned > warn {
                warnings.push(format!(
                    "Read {} live rows and {scanned} tombstone cells for query {} (see tombstone_warn_threshold)",
                    rows.rows.len(),
                    stmt.text
                ));
            }
        }
        if aggregate && router.scanned.get() {
            warnings.push("Aggregation query used without partition key".to_owned());
        }
        if unlogged && router.written.len() > UNLOGGED_BATCH_WARN_PARTITIONS {
            warnings.push(format!(
                "Unlogged batch covering {} partitions detected against table[s] [{}]. You should use a logged batch for atomicity, or asynchronous writes for performance.",
                router.written.len(),
                ctx.keyspace.unwrap_or("")
            ));
        }
        if let Ok(Outcome::SchemaChange(change)) = &result {
            // Under the same lock as the change: no EXECUTE runs a stale statement in between.
            invalidate_prepared(&mut data.engine, &nodes, change);
        }
        let mut others = router.reached.take();
        others.sort_unstable();
        others.dedup();
        others.retain(|r| *r != ctx.node.id);
        reached = others;
        match (result, router.error.take()) {
            // An availability failure wins even when the engine made do with fewer stores.
            (_, Some(e)) => Err(e),
            (Err(e), _) => Err(error_body(&e, ctx.consistency)),
            (Ok(o), _) => Ok(o),
        }
    };
    let metadata = match work {
        // A conditional statement's columns depend on the outcome: its rows always carry full
        // metadata and never report a change (as Cassandra does, CASSANDRA-13992).
        Execution::Single { stmt, .. } if is_lwt(&stmt.parsed.statement) => RowsMetadata::Full,
        Execution::Single {
            skip_metadata,
            result_metadata_id: Some(id),
            ..
        } => RowsMetadata::Checked { id, skip_metadata },
        Execution::Single { skip_metadata, .. } => RowsMetadata::Asked { skip_metadata },
        Execution::Batch { .. } => RowsMetadata::Full,
    };
    let mut reply = match outcome {
        Ok(o) => outcome_reply(ctx, o, metadata),
        Err(e) => Reply::error(e),
    };
    reply.warnings.extend(warnings);
    reply.replicas = reached;
    // Scylla sends tablet routing info with RESULT messages only.
    if matches!(reply.response, Response::Result(_)) {
        reply.custom_payload = custom_payload;
    }
    reply
}

/// How a Rows result describes its columns.
enum RowsMetadata<'a> {
    /// Full metadata.
    Full,
    /// NO_METADATA when the client asked for it (no metadata ids on the connection).
    Asked { skip_metadata: bool },
    /// Against the client's result metadata id: METADATA_CHANGED with the new id and full
    /// metadata when it is stale, else as asked.
    Checked { id: &'a [u8], skip_metadata: bool },
}

/// Drops the prepared statements `change` made invalid from the engine and every node.
fn invalidate_prepared(
    engine: &mut crate::exec::Engine,
    nodes: &[Arc<NodeShared>],
    change: &crate::SchemaChangeInfo,
) {
    let ids = engine.invalidate_prepared(change);
    if ids.is_empty() {
        return;
    }
    for n in nodes {
        let mut p = lock(&n.prepared);
        for id in &ids {
            p.remove(id);
        }
    }
}

fn outcome_reply(ctx: &RequestContext<'_>, outcome: Outcome, metadata: RowsMetadata<'_>) -> Reply {
    let mut set_keyspace = None;
    let body = match outcome {
        Outcome::Void => ResultBody::Void,
        Outcome::SetKeyspace(ks) => {
            set_keyspace = Some(ks.clone());
            ResultBody::SetKeyspace(ks)
        }
        Outcome::Rows(r) => {
            let rows = match metadata {
                RowsMetadata::Full => r.to_rows(false),
                RowsMetadata::Asked { skip_metadata } => r.to_rows(skip_metadata),
                RowsMetadata::Checked { id, skip_metadata } => r.to_rows_checked(id, skip_metadata),
            };
            match rows {
                Ok(rows) => ResultBody::Rows(rows),
                Err(e) => {
                    return Reply::error(error_body(
                        &CqlError::Server(e.to_string()),
                        ctx.consistency,
                    ));
                }
            }
        }
        Outcome::SchemaChange(info) => {
            let change = info.to_schema_change();
            schema_changed(ctx.cluster, ctx.node, change.clone());
            ResultBody::SchemaChange(change)
        }
    };
    Reply {
        response: Response::Result(body),
        tracing_id: None,
        warnings: Vec::new(),
        set_keyspace,
        custom_payload: None,
        replicas: Vec::new(),
    }
}

/// After a DDL: the coordinator adopts the new schema version at once, the other nodes after
/// the configured delay; registered connections get SCHEMA_CHANGE.
fn schema_changed(
    cluster: &Arc<ClusterInner>,
    coordinator: &Arc<NodeShared>,
    change: SchemaChange,
) {
    let version = lock(&cluster.data).schema_version();
    coordinator.set_schema_version(version);
    let delay = cluster.config.schema_agreement_delay;
    for n in cluster.node_list() {
        if n.id == coordinator.id {
            continue;
        }
        if delay.is_zero() {
            n.set_schema_version(version);
        } else {
            let weak = Arc::downgrade(cluster);
            // A node that stops meanwhile catches up when it starts: the task ends with it.
            let mut stopped = n.epoch.subscribe();
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {
                        if let Some(c) = weak.upgrade() {
                            let v = lock(&c.data).schema_version();
                            n.set_schema_version(v);
                        }
                    }
                    _ = stopped.changed() => {}
                }
            });
        }
    }
    cluster.publish(None, Event::SchemaChange(change));
}

/// The READ_FAILURE of a read that scanned more than `tombstone_failure_threshold`
/// tombstones: its replica (the coordinator here) failed with `READ_TOMBSTONE_OVERWHELM`.
fn tombstone_overwhelm(ctx: &RequestContext<'_>) -> ErrorBody {
    let ip = ctx.node.ip;
    ErrorBody {
        code: ErrorCode::READ_FAILURE,
        message: format!(
            "Operation failed - received 0 responses and 1 failures: READ_TOMBSTONE_OVERWHELM from /{ip}:7000"
        ),
        details: ErrorDetails::ReadFailure {
            consistency: ctx.consistency,
            received: 0,
            block_for: 1,
            num_failures: 1,
            reasons: vec![(ip, 0x0001)],
            data_present: false,
        },
    }
}
