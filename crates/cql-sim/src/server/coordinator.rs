//! The coordinator: runs statements through the engine over the cluster's replicas, with
//! consistency checks, prepared ids per node, schema-change side effects and tracing.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use proto::codes::{Consistency, ErrorCode};
use proto::request::{BatchStatementKind, Request, SerializedValues};
use proto::response::{ErrorBody, ErrorDetails, Event, Response, ResultBody, SchemaChange};
use proto::{ColumnType, CqlValue};
use uuid::Uuid;

use super::cluster::ClusterInner;
use super::node::{NodeShared, lock};
use super::topology::{NodeTopo, Placement, Ring};
use crate::CqlError;
use crate::cql::ast::{BatchKind, Conditions, Selection, Selector, Statement};
use crate::exec::{BoundValue, CachedStatement, Engine, Outcome, QueryOptions};
use crate::schema::ReplicationStrategy;
use crate::storage::{Replicas, Store};

/// The release version nodes report (Scylla's CQL-compatible version string).
pub(crate) const RELEASE_VERSION: &str = "3.0.8";
/// The CQL version nodes report.
pub(crate) const CQL_VERSION: &str = "3.4.5";
const PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";
/// Cassandra's `unlogged_batch_across_partitions_warn_threshold`.
const UNLOGGED_BATCH_WARN_PARTITIONS: usize = 10;

/// The engine and every node's store, behind one mutex held only for synchronous work.
#[derive(Debug)]
pub(crate) struct Data {
    engine: Engine,
    stores: Vec<Store>,
    /// Nodes that missed a write while down: reads prefer other replicas (no read repair).
    stale: Vec<bool>,
    ring: Ring,
    placements: HashMap<String, Placement>,
    placements_gen: Option<u64>,
}

impl Data {
    pub(crate) fn new() -> Self {
        Self {
            engine: Engine::new(),
            stores: Vec::new(),
            stale: Vec::new(),
            ring: Ring::default(),
            placements: HashMap::new(),
            placements_gen: None,
        }
    }

    pub(crate) fn schema_version(&self) -> Uuid {
        self.engine.catalog.version()
    }

    pub(crate) fn set_ring(&mut self, members: Vec<NodeTopo>) {
        self.ring = Ring::new(members);
        self.placements_gen = None;
    }

    pub(crate) fn ensure_stores(&mut self, n: usize) {
        while self.stores.len() < n {
            self.stores.push(Store::new());
            self.stale.push(false);
        }
    }

    /// Streams partitions to replicas that lack them after the ring changed (a node joined or
    /// left): every partition a node holds is copied to each of its current replicas that does
    /// not have it. Nothing is deleted (as before Cassandra's `nodetool cleanup`).
    pub(crate) fn stream(&mut self) {
        self.refresh_placements();
        let mut table_keyspace = HashMap::new();
        for (name, ks) in self.engine.catalog.keyspaces() {
            for t in ks.tables.values() {
                table_keyspace.insert(t.id, name.clone());
            }
        }
        let mut copies = Vec::new();
        for (src, store) in self.stores.iter().enumerate() {
            for (table_id, table) in &store.tables {
                let Some(placement) = table_keyspace
                    .get(table_id)
                    .and_then(|ks| self.placements.get(ks))
                else {
                    continue;
                };
                if matches!(placement, Placement::Local) {
                    continue;
                }
                for (key, partition) in &table.partitions {
                    for r in self.ring.replicas(key.token, placement, src) {
                        let has = self
                            .stores
                            .get(r)
                            .and_then(|s| s.tables.get(table_id))
                            .is_some_and(|t| t.partitions.contains_key(key));
                        if r != src && !has {
                            copies.push((r, *table_id, key.clone(), partition.clone()));
                        }
                    }
                }
            }
        }
        for (r, table_id, key, partition) in copies {
            if let Some(store) = self.stores.get_mut(r) {
                store
                    .tables
                    .entry(table_id)
                    .or_default()
                    .partitions
                    .entry(key)
                    .or_insert(partition);
            }
        }
    }

    /// The replicas of `token` in `keyspace` (the coordinator alone for local keyspaces).
    pub(crate) fn replicas(
        &mut self,
        keyspace: &str,
        token: i64,
        coordinator: usize,
    ) -> Vec<usize> {
        self.refresh_placements();
        let placement = self
            .placements
            .get(keyspace)
            .cloned()
            .unwrap_or(Placement::Local);
        self.ring.replicas(token, &placement, coordinator)
    }

    fn refresh_placements(&mut self) {
        let generation = self.engine.catalog.generation();
        if self.placements_gen == Some(generation) {
            return;
        }
        self.placements = self
            .engine
            .catalog
            .keyspaces()
            .iter()
            .map(|(name, ks)| {
                let p = match &ks.replication.strategy {
                    ReplicationStrategy::Simple { replication_factor } => {
                        Placement::Simple(*replication_factor as usize)
                    }
                    ReplicationStrategy::NetworkTopology { data_centers } => Placement::Nts(
                        data_centers
                            .iter()
                            .map(|(dc, rf)| (dc.clone(), *rf as usize))
                            .collect(),
                    ),
                    _ => Placement::Local,
                };
                (name.clone(), p)
            })
            .collect();
        self.placements_gen = Some(generation);
    }
}

/// The coordinator's answer to one request.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) response: Response,
    pub(crate) tracing_id: Option<Uuid>,
    pub(crate) warnings: Vec<String>,
    /// The connection's new keyspace after `USE`.
    pub(crate) set_keyspace: Option<String>,
}

impl Reply {
    pub(crate) fn error(e: ErrorBody) -> Self {
        Self {
            response: Response::Error(e),
            tracing_id: None,
            warnings: Vec::new(),
            set_keyspace: None,
        }
    }
}

/// The engine's window on the cluster for one request: replica placement, liveness and
/// consistency checks.
struct Router<'a> {
    stores: &'a mut [Store],
    stale: &'a mut [bool],
    ring: &'a Ring,
    placements: &'a HashMap<String, Placement>,
    nodes: &'a [Arc<NodeShared>],
    /// Whether distinct written partitions are counted (for the unlogged batch warning).
    count_partitions: bool,
    coordinator: usize,
    cluster_name: &'a str,
    gossip_generation: i32,
    consistency: Consistency,
    /// The first availability error, reported instead of the engine's generic one.
    error: RefCell<Option<ErrorBody>>,
    written: HashSet<i64>,
    scanned: Cell<bool>,
    /// Writes only check availability (the first pass over a batch, so a batch that cannot
    /// reach its consistency level writes nothing).
    dry_run: bool,
    /// The first user-table token the request touched, and whether the coordinator replicates it.
    first_token: Cell<Option<(i64, bool)>>,
}

/// The placement of keyspaces the catalog does not replicate.
static LOCAL: Placement = Placement::Local;

impl<'a> Router<'a> {
    fn placement(&self, keyspace: &str) -> &'a Placement {
        self.placements.get(keyspace).unwrap_or(&LOCAL)
    }

    fn is_fresh(&self, id: usize) -> bool {
        self.is_live(id) && !self.stale.get(id).copied().unwrap_or(false)
    }

    fn is_live(&self, id: usize) -> bool {
        self.nodes
            .get(id)
            .is_some_and(|n| n.is_up() && n.is_member())
    }

    fn dc_of(&self, id: usize) -> &str {
        self.nodes.get(id).map_or("", |n| n.dc.as_str())
    }

    fn local_dc(&self) -> &str {
        self.dc_of(self.coordinator)
    }

    /// Checks the consistency level against the live replicas of one range.
    fn check(
        &self,
        replicas: &[usize],
        placement: &Placement,
        write: bool,
    ) -> Result<(), ErrorBody> {
        if matches!(placement, Placement::Local) {
            return Ok(());
        }
        let cl = self.consistency;
        let alive_in = |dc: Option<&str>| {
            replicas
                .iter()
                .filter(|r| self.is_live(**r) && dc.is_none_or(|d| self.dc_of(**r) == d))
                .count()
        };
        let all = alive_in(None);
        let total = replicas.len();
        let local = self.local_dc();
        let local_rf = match placement {
            Placement::Nts(_) => replicas.iter().filter(|r| self.dc_of(**r) == local).count(),
            _ => total,
        };
        let unavailable = |required: usize, alive: usize| -> Result<(), ErrorBody> {
            if alive < required {
                Err(super::faults::unavailable(
                    cl,
                    required as i32,
                    alive as i32,
                ))
            } else {
                Ok(())
            }
        };
        match cl {
            Consistency::ANY => {
                if write {
                    Ok(())
                } else {
                    Err(ErrorBody {
                        code: ErrorCode::INVALID,
                        message: "ANY ConsistencyLevel is only supported for writes".into(),
                        details: ErrorDetails::None,
                    })
                }
            }
            Consistency::ONE => unavailable(1, all),
            Consistency::TWO => unavailable(2, all),
            Consistency::THREE => unavailable(3, all),
            Consistency::QUORUM | Consistency::SERIAL => unavailable(total / 2 + 1, all),
            Consistency::ALL => unavailable(total, all),
            Consistency::LOCAL_ONE => unavailable(1, alive_in(Some(local))),
            Consistency::LOCAL_QUORUM | Consistency::LOCAL_SERIAL => {
                unavailable(local_rf / 2 + 1, alive_in(Some(local)))
            }
            Consistency::EACH_QUORUM => match placement {
                Placement::Nts(dcs) => {
                    for dc in dcs.keys() {
                        let rf = replicas.iter().filter(|r| self.dc_of(**r) == dc).count();
                        if rf > 0 {
                            unavailable(rf / 2 + 1, alive_in(Some(dc)))?;
                        }
                    }
                    Ok(())
                }
                _ => unavailable(total / 2 + 1, all),
            },
            _ => unavailable(1, all),
        }
    }

    fn note_token(&self, token: i64, placement: &Placement, replicas: &[usize]) {
        if self.first_token.get().is_none() && !matches!(placement, Placement::Local) {
            self.first_token
                .set(Some((token, replicas.contains(&self.coordinator))));
        }
    }

    fn fail(&self, e: ErrorBody) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn node_row(&self, n: &NodeShared) -> Vec<(String, CqlValue)> {
        vec![
            ("data_center".into(), CqlValue::Text(n.dc.clone())),
            ("host_id".into(), CqlValue::Uuid(n.host_id)),
            ("rack".into(), CqlValue::Text(n.rack.clone())),
            (
                "release_version".into(),
                CqlValue::Text(RELEASE_VERSION.into()),
            ),
            ("schema_version".into(), CqlValue::Uuid(n.schema_version())),
            (
                "tokens".into(),
                CqlValue::Set(
                    n.tokens
                        .iter()
                        .map(|t| CqlValue::Text(t.to_string()))
                        .collect(),
                ),
            ),
        ]
    }
}

impl Replicas for Router<'_> {
    fn read(&self, keyspace: &str, token: i64) -> Option<&Store> {
        let placement = self.placement(keyspace);
        let replicas = self.ring.replicas(token, placement, self.coordinator);
        self.note_token(token, placement, &replicas);
        if let Err(e) = self.check(&replicas, placement, false) {
            self.fail(e);
            return None;
        }
        let local = self.local_dc();
        // Prefer the coordinator, then its data centre, and replicas that missed no write.
        let pick = |ok: &dyn Fn(usize) -> bool| {
            replicas
                .iter()
                .copied()
                .find(|r| *r == self.coordinator && ok(*r))
                .or_else(|| {
                    replicas
                        .iter()
                        .copied()
                        .find(|r| ok(*r) && self.dc_of(*r) == local)
                })
                .or_else(|| replicas.iter().copied().find(|r| ok(*r)))
        };
        let pick = pick(&|r| self.is_fresh(r))
            .or_else(|| pick(&|r| self.is_live(r)))
            .or_else(|| matches!(placement, Placement::Local).then_some(self.coordinator))?;
        self.stores.get(pick)
    }

    fn write(&mut self, keyspace: &str, token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        let placement = self.placement(keyspace);
        let replicas = self.ring.replicas(token, placement, self.coordinator);
        self.note_token(token, placement, &replicas);
        if let Err(e) = self.check(&replicas, placement, true) {
            self.fail(e);
            return 0;
        }
        if self.count_partitions {
            self.written.insert(token);
        }
        if self.dry_run {
            return replicas.len().max(1);
        }
        let mut n = 0;
        for r in replicas {
            if !(self.is_live(r) || matches!(placement, Placement::Local)) {
                if let Some(stale) = self.stale.get_mut(r) {
                    *stale = true;
                }
                continue;
            }
            if let Some(s) = self.stores.get_mut(r) {
                f(s);
                n += 1;
            }
        }
        // ANY succeeds with every replica down: the coordinator keeps a hint.
        if n == 0 && self.consistency == Consistency::ANY {
            1
        } else {
            n
        }
    }

    fn scan(&self, keyspace: &str) -> Vec<&Store> {
        let placement = self.placement(keyspace);
        if matches!(placement, Placement::Local) {
            return self.stores.get(self.coordinator).into_iter().collect();
        }
        self.scanned.set(true);
        for pos in 0..self.ring.len() {
            let replicas = self.ring.replicas_at(pos, placement, self.coordinator);
            if let Err(e) = self.check(&replicas, placement, false) {
                self.fail(e);
                return Vec::new();
            }
        }
        // The engine keeps the first store's copy of a partition: fresh replicas go first.
        let fresh = (0..self.stores.len()).filter(|i| self.is_fresh(*i));
        let stale = (0..self.stores.len()).filter(|i| self.is_live(*i) && !self.is_fresh(*i));
        fresh
            .chain(stale)
            .filter_map(|i| self.stores.get(i))
            .collect()
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        for s in self.stores.iter_mut() {
            f(s);
        }
    }

    fn system_rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        let Some(me) = self.nodes.get(self.coordinator) else {
            return Vec::new();
        };
        match table {
            "local" => {
                let ip = CqlValue::Inet(me.ip);
                let mut row = vec![
                    ("key".into(), CqlValue::Text("local".into())),
                    ("bootstrapped".into(), CqlValue::Text("COMPLETED".into())),
                    ("broadcast_address".into(), ip.clone()),
                    ("broadcast_port".into(), CqlValue::Int(7000)),
                    (
                        "cluster_name".into(),
                        CqlValue::Text(self.cluster_name.to_owned()),
                    ),
                    ("cql_version".into(), CqlValue::Text(CQL_VERSION.into())),
                    (
                        "gossip_generation".into(),
                        CqlValue::Int(self.gossip_generation),
                    ),
                    ("listen_address".into(), ip.clone()),
                    ("listen_port".into(), CqlValue::Int(7000)),
                    ("native_protocol_version".into(), CqlValue::Text("4".into())),
                    ("partitioner".into(), CqlValue::Text(PARTITIONER.into())),
                    ("rpc_address".into(), ip),
                    ("rpc_port".into(), CqlValue::Int(i32::from(me.port))),
                ];
                row.extend(self.node_row(me));
                vec![row]
            }
            "peers" | "peers_v2" => self
                .nodes
                .iter()
                .filter(|n| n.id != self.coordinator && n.is_member())
                .map(|n| {
                    let ip = CqlValue::Inet(n.ip);
                    let mut row = vec![("peer".into(), ip.clone())];
                    if table == "peers" {
                        row.push(("rpc_address".into(), ip));
                    } else {
                        row.push(("peer_port".into(), CqlValue::Int(7000)));
                        row.push(("native_address".into(), ip));
                        row.push(("native_port".into(), CqlValue::Int(i32::from(n.port))));
                    }
                    row.extend(self.node_row(n));
                    row
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The request-level inputs shared by every statement kind.
struct Ctx<'a> {
    cluster: &'a Arc<ClusterInner>,
    node: &'a Arc<NodeShared>,
    keyspace: Option<&'a str>,
    consistency: Consistency,
    client: SocketAddr,
    shard: u32,
    lwt_mark: Option<u32>,
}

/// The client connection a request came on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client {
    /// The client's address.
    pub(crate) addr: SocketAddr,
    /// The shard serving the connection.
    pub(crate) shard: u32,
    /// The LWT mark bit, when the client enabled `SCYLLA_LWT_ADD_METADATA_MARK`.
    pub(crate) lwt_mark: Option<u32>,
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
enum Work<'a> {
    Single {
        stmt: Arc<CachedStatement>,
        params: &'a proto::request::QueryParameters,
        skip_metadata: bool,
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

impl Work<'_> {
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

/// Executes a QUERY, PREPARE, EXECUTE or BATCH on `node` as coordinator.
pub(crate) fn execute(
    cluster: &Arc<ClusterInner>,
    node: &Arc<NodeShared>,
    request: &Request,
    keyspace: Option<&str>,
    tracing: bool,
    client: Client,
) -> Reply {
    let started = std::time::Instant::now();
    let started_at = now_micros();
    let consistency = match request {
        Request::Query(q) => q.params.consistency,
        Request::Execute(e) => e.params.consistency,
        Request::Batch(b) => b.consistency,
        _ => Consistency::ONE,
    };
    let ctx = Ctx {
        cluster,
        node,
        keyspace,
        consistency,
        client: client.addr,
        shard: client.shard,
        lwt_mark: client.lwt_mark,
    };
    // An engine bug must not take the connection down: it becomes a SERVER_ERROR.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ctx, request)));
    let mut reply = outcome.unwrap_or_else(|_| {
        tracing::error!("the engine panicked while executing a request");
        Reply::error(super::faults::server_error(
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
        write_trace(&ctx, session, command, &text, started_at, elapsed);
        reply.tracing_id = Some(session);
    }
    reply
}

fn run(ctx: &Ctx<'_>, request: &Request) -> Reply {
    match request {
        Request::Prepare(p) => prepare(ctx, &p.query, p.keyspace.as_deref().or(ctx.keyspace)),
        Request::Query(q) => {
            let stmt = {
                let mut data = lock(&ctx.cluster.data);
                data.engine.parse(&q.query)
            };
            match stmt {
                Ok(stmt) => run_work(
                    ctx,
                    Work::Single {
                        stmt,
                        params: &q.params,
                        skip_metadata: false,
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
                Ok(stmt) => run_work(
                    ctx,
                    Work::Single {
                        stmt,
                        params: &e.params,
                        skip_metadata: e.params.skip_metadata,
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
            run_work(
                ctx,
                Work::Batch {
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

fn prepare(ctx: &Ctx<'_>, query: &str, keyspace: Option<&str>) -> Reply {
    let info = lock(&ctx.cluster.data).engine.prepare(query, keyspace);
    match info {
        Ok(info) => {
            lock(&ctx.node.prepared).insert(info.id, Arc::from(query));
            Reply {
                response: Response::Result(ResultBody::Prepared(
                    info.to_prepared_marked(false, ctx.lwt_mark),
                )),
                tracing_id: None,
                warnings: Vec::new(),
                set_keyspace: None,
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

fn run_work(ctx: &Ctx<'_>, work: Work<'_>) -> Reply {
    let gossip_generation = ctx.cluster.started_secs();
    let mut warnings = Vec::new();
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
            placements: &data.placements,
            nodes: &nodes,
            coordinator: ctx.node.id,
            cluster_name: &ctx.cluster.config.cluster_name,
            gossip_generation,
            consistency: work.effective_consistency(ctx.consistency),
            count_partitions: matches!(
                work,
                Work::Batch {
                    kind: BatchKind::Unlogged,
                    ..
                }
            ),
            error: RefCell::new(None),
            written: HashSet::new(),
            scanned: Cell::new(false),
            dry_run: false,
            first_token: Cell::new(None),
        };
        let now = now_micros();
        let (result, aggregate, unlogged) = match &work {
            Work::Single { stmt, params, .. } => {
                let keyspace = stmt.keyspace.as_deref().or(ctx.keyspace);
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
                };
                let r = data.engine.execute(&mut router, stmt, &opts);
                (r, is_aggregate(&stmt.parsed.statement), false)
            }
            Work::Batch {
                items,
                timestamp,
                kind,
                ..
            } => {
                let opts = QueryOptions {
                    keyspace: ctx.keyspace,
                    now_micros: now,
                    timestamp: *timestamp,
                    ..QueryOptions::default()
                };
                if items.len() > 1 {
                    router.dry_run = true;
                    let _ = data.engine.batch(&mut router, *kind, items, &opts);
                    router.dry_run = false;
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
        if let Some((token, replica)) = router.first_token.get() {
            ctx.node.record_routing(token, replica, ctx.shard);
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
        match (result, router.error.take()) {
            // An availability failure wins even when the engine made do with fewer stores.
            (_, Some(e)) => Err(e),
            (Err(e), _) => Err(error_body(&e, ctx.consistency)),
            (Ok(o), _) => Ok(o),
        }
    };
    let skip_metadata = matches!(
        work,
        Work::Single {
            skip_metadata: true,
            ..
        }
    );
    let mut reply = match outcome {
        Ok(o) => outcome_reply(ctx, o, skip_metadata),
        Err(e) => Reply::error(e),
    };
    reply.warnings.extend(warnings);
    reply
}

fn outcome_reply(ctx: &Ctx<'_>, outcome: Outcome, skip_metadata: bool) -> Reply {
    let mut set_keyspace = None;
    let body = match outcome {
        Outcome::Void => ResultBody::Void,
        Outcome::SetKeyspace(ks) => {
            set_keyspace = Some(ks.clone());
            ResultBody::SetKeyspace(ks)
        }
        Outcome::Rows(r) => match r.to_rows(skip_metadata) {
            Ok(rows) => ResultBody::Rows(rows),
            Err(e) => {
                return Reply::error(error_body(
                    &CqlError::Server(e.to_string()),
                    ctx.consistency,
                ));
            }
        },
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
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(c) = weak.upgrade() {
                    let v = lock(&c.data).schema_version();
                    n.set_schema_version(v);
                }
            });
        }
    }
    cluster.publish(None, Event::SchemaChange(change));
}

/// A time-based (version 1) session id.
fn trace_session_id(node: &NodeShared, now_micros: i64) -> Uuid {
    time_uuid(node, now_micros, 0)
}

fn time_uuid(node: &NodeShared, micros: i64, seq: u16) -> Uuid {
    let secs = (micros / 1_000_000) as u64;
    let nanos = ((micros % 1_000_000) * 1000) as u32;
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
    let h = node.host_id.as_bytes();
    let node_id = [h[10], h[11], h[12], h[13], h[14], h[15]];
    let mut u = *Uuid::new_v1(ts, &node_id).as_bytes();
    // The clock sequence distinguishes events of the same microsecond.
    let seq = seq & 0x3fff;
    u[8] = 0x80 | (seq >> 8) as u8;
    u[9] = seq as u8;
    Uuid::from_bytes(u)
}

fn encode_value(v: &CqlValue, typ: &ColumnType) -> BoundValue {
    let mut buf = BytesMut::new();
    match v.encode_bytes(typ, &mut buf) {
        Ok(()) => BoundValue::Value(buf.freeze()),
        Err(_) => BoundValue::Null,
    }
}

/// The `request` column of a trace session, as Cassandra names the message kinds.
fn request_kind(command: &str) -> &'static str {
    match command {
        "EXECUTE" => "Execute CQL3 prepared query",
        "BATCH" => "Execute batch of CQL3 queries",
        "PREPARE" => "Preparing CQL3 query",
        _ => "Execute CQL3 query",
    }
}

/// Writes the `system_traces` rows of a traced request.
fn write_trace(
    ctx: &Ctx<'_>,
    session: Uuid,
    command: &str,
    request: &str,
    started_at: i64,
    elapsed: Duration,
) {
    let coordinator = ctx.node.addr();
    let duration = elapsed.as_micros().clamp(1, i32::MAX as u128) as i32;
    let params = CqlValue::Map(vec![
        (
            CqlValue::Text("consistency_level".into()),
            CqlValue::Text(format!("{:?}", ctx.consistency)),
        ),
        (
            CqlValue::Text("query".into()),
            CqlValue::Text(request.to_owned()),
        ),
    ]);
    let text_map = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text));
    let session_values = vec![
        encode_value(&CqlValue::Uuid(session), &ColumnType::Uuid),
        encode_value(&CqlValue::Inet(ctx.client.ip()), &ColumnType::Inet),
        encode_value(&CqlValue::Text(command.to_owned()), &ColumnType::Text),
        encode_value(&CqlValue::Inet(coordinator.ip()), &ColumnType::Inet),
        encode_value(
            &CqlValue::Int(i32::from(coordinator.port())),
            &ColumnType::Int,
        ),
        encode_value(&CqlValue::Int(duration), &ColumnType::Int),
        encode_value(&params, &text_map),
        encode_value(
            &CqlValue::Text(request_kind(command).to_owned()),
            &ColumnType::Text,
        ),
        encode_value(
            &CqlValue::Timestamp(proto::value::CqlTimestamp(started_at / 1000)),
            &ColumnType::Timestamp,
        ),
    ];
    let activities = [
        (format!("Parsing {request}"), 5),
        ("Preparing statement".to_owned(), 10),
        ("Request complete".to_owned(), duration),
    ];
    let nodes = read_nodes(ctx.cluster);
    let mut data = lock(&ctx.cluster.data);
    let data = &mut *data;
    data.refresh_placements();
    let mut router = Router {
        stores: &mut data.stores,
        stale: &mut data.stale,
        ring: &data.ring,
        placements: &data.placements,
        nodes: &nodes,
        coordinator: ctx.node.id,
        cluster_name: &ctx.cluster.config.cluster_name,
        gossip_generation: 0,
        consistency: Consistency::ANY,
        count_partitions: false,
        error: RefCell::new(None),
        written: HashSet::new(),
        scanned: Cell::new(false),
        dry_run: false,
        first_token: Cell::new(None),
    };
    let opts = QueryOptions {
        values: session_values,
        now_micros: started_at,
        ..QueryOptions::default()
    };
    if let Err(e) = data.engine.query(
        &mut router,
        "INSERT INTO system_traces.sessions (session_id, client, command, coordinator, coordinator_port, duration, parameters, request, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &opts,
    ) {
        tracing::warn!(error = %e, "cannot write trace session");
    }
    for (i, (activity, elapsed_us)) in activities.iter().enumerate() {
        let event_id = time_uuid(ctx.node, started_at + i64::from(*elapsed_us), i as u16);
        let values = vec![
            encode_value(&CqlValue::Uuid(session), &ColumnType::Uuid),
            encode_value(&CqlValue::Timeuuid(event_id), &ColumnType::Timeuuid),
            encode_value(&CqlValue::Text(activity.clone()), &ColumnType::Text),
            encode_value(&CqlValue::Inet(coordinator.ip()), &ColumnType::Inet),
            encode_value(&CqlValue::Int(*elapsed_us), &ColumnType::Int),
            encode_value(
                &CqlValue::Text(format!("shard {}", ctx.node.id)),
                &ColumnType::Text,
            ),
        ];
        let opts = QueryOptions {
            values,
            now_micros: started_at,
            ..QueryOptions::default()
        };
        if let Err(e) = data.engine.query(
            &mut router,
            "INSERT INTO system_traces.events (session_id, event_id, activity, source, source_elapsed, thread) VALUES (?, ?, ?, ?, ?, ?)",
            &opts,
        ) {
            tracing::warn!(error = %e, "cannot write trace event");
        }
    }
}
