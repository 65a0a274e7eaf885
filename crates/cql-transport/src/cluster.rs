//! `Cluster`: the control connection, metadata refresh on events, node pools, and the
//! atomically swapped `ClusterState` snapshot the session layer reads.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use proto::codes::StatusChangeType;
use proto::response::Event;
use proto::{TabletRoutingInfo, Token};
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::Instrument;

use crate::config::ConnectionConfig;
use crate::connection::Connection;
use crate::error::ConnectionError;
use crate::metadata::{self, AddressTranslator, MetadataError, NodeFilter, Peer};
use crate::pool::{Connector, NodePool, PoolConfig, tcp_connector};
use crate::state::{ClusterState, Keyspace, Node, NodeRef};

/// How to reach and track a cluster.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Contact points: `"127.0.0.1:9042"`, `"[::1]:9042"`, `"host:port"` or `"host"` (port 9042).
    pub known_nodes: Vec<String>,
    /// Per-connection settings (auth, compression, TLS, keyspace, timeouts, heartbeats).
    pub connection: ConnectionConfig,
    /// Pool sizing, shard awareness and reconnection backoff.
    pub pool: PoolConfig,
    /// Rewrites peer addresses read from `system.peers(_v2)`.
    pub address_translator: Option<Arc<dyn AddressTranslator>>,
    /// Receives a copy of every server event seen by the control connection.
    pub event_sender: Option<mpsc::Sender<Event>>,
    /// Events are collected for this long before acting on them.
    pub metadata_debounce: Duration,
    /// Read the full schema from `system_schema.*` (tables, types, views, functions). The
    /// keyspaces and their replication, which replica lookup needs, are read either way.
    pub fetch_schema: bool,
    /// Keyspaces whose full schema is read (empty: every keyspace). The replication of every
    /// keyspace is read regardless, so token-aware routing works for all of them.
    pub keyspaces_to_fetch: Vec<String>,
    /// Peers this rejects get no pool (they stay in the [`ClusterState`], marked
    /// [`Node::is_enabled`] false) and are not used for the control connection after the
    /// first; `None` accepts every peer.
    pub node_filter: Option<NodeFilter>,
    /// How often the control connection reads the topology and schema again even without
    /// events (events can be lost while it reconnects); `None` never. Default 60 s, as the
    /// `scylla` crate's.
    pub metadata_refresh_interval: Option<Duration>,
    /// How long resolving a known node's host name may take; `None` waits as long as the
    /// resolver does. Default 5 s.
    pub hostname_resolution_timeout: Option<Duration>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            known_nodes: Vec::new(),
            connection: ConnectionConfig::default(),
            pool: PoolConfig::default(),
            address_translator: None,
            event_sender: None,
            metadata_debounce: Duration::from_secs(1),
            fetch_schema: true,
            keyspaces_to_fetch: Vec::new(),
            node_filter: None,
            metadata_refresh_interval: Some(Duration::from_secs(60)),
            hostname_resolution_timeout: Some(Duration::from_secs(5)),
        }
    }
}

setters! {
    ClusterConfig {
        known_nodes: Vec<String>,
        connection: ConnectionConfig,
        pool: PoolConfig,
        address_translator: Option<Arc<dyn AddressTranslator>>,
        event_sender: Option<mpsc::Sender<Event>>,
        metadata_debounce: Duration,
        fetch_schema: bool,
        keyspaces_to_fetch: Vec<String>,
        node_filter: Option<NodeFilter>,
        metadata_refresh_interval: Option<Duration>,
        hostname_resolution_timeout: Option<Duration>,
    }
}

/// Why [`Cluster::connect`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NewClusterError {
    /// `known_nodes` was empty.
    #[error("no known nodes were given")]
    NoKnownNodes,
    /// A contact point could not be parsed or resolved.
    #[error("cannot resolve known node {node:?}: {reason}")]
    Resolve {
        /// The contact point as given.
        node: String,
        /// Why.
        reason: String,
    },
    /// No contact point accepted a control connection.
    #[error("could not connect to any known node: {}", .0.iter().map(|(a, e)| format!("{a}: {e}")).collect::<Vec<_>>().join("; "))]
    AllNodesFailed(Vec<(SocketAddr, ConnectionError)>),
    /// The initial metadata read failed.
    #[error("initial metadata read failed: {0}")]
    Metadata(#[from] MetadataError),
}

enum Command {
    Refresh(oneshot::Sender<Result<(), MetadataError>>),
}

struct Inner {
    state: ArcSwap<ClusterState>,
    pools: Mutex<HashMap<SocketAddr, Arc<NodePool>>>,
    config: ClusterConfig,
    connector: Connector,
    keyspace: Mutex<Option<String>>,
    commands: mpsc::Sender<Command>,
    closed: AtomicBool,
    close_notify: Notify,
}

/// A connected cluster: control connection, pools and the current [`ClusterState`].
/// Cheap to clone; all clones share the same cluster.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("nodes", &self.inner.state.load().nodes().len())
            .finish()
    }
}

impl Cluster {
    /// Connects a control connection to the first reachable known node, reads topology and
    /// schema, starts a pool per node and waits (up to the connect timeout) for the pools' first
    /// connections.
    pub async fn connect(config: ClusterConfig) -> Result<Self, NewClusterError> {
        Self::connect_with_connector(config, tcp_connector()).await
    }

    pub(crate) async fn connect_with_connector(
        config: ClusterConfig,
        connector: Connector,
    ) -> Result<Self, NewClusterError> {
        if config.known_nodes.is_empty() {
            return Err(NewClusterError::NoKnownNodes);
        }
        let mut contacts = Vec::new();
        for node in &config.known_nodes {
            contacts.extend(resolve(node, config.hostname_resolution_timeout).await?);
        }
        let (events_tx, events_rx) = mpsc::channel(1024);
        let mut control_config = config.connection.clone();
        control_config.keyspace = None;
        control_config.event_sender = Some(events_tx.clone());
        // The per-connection in-flight limit is for the pools' user requests: the control
        // connection's reads run concurrently and keep the defaults.
        let defaults = crate::config::ConnectionTuning::default();
        control_config.tuning.max_in_flight = defaults.max_in_flight;
        control_config.tuning.max_streams = defaults.max_streams;
        control_config.tuning.backpressure = defaults.backpressure;
        let mut errors = Vec::new();
        let mut control = None;
        for addr in &contacts {
            match open_control(&connector, *addr, &control_config).await {
                Ok(c) => {
                    control = Some(c);
                    break;
                }
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "control connection failed");
                    errors.push((*addr, e));
                }
            }
        }
        let Some(control) = control else {
            return Err(NewClusterError::AllNodesFailed(errors));
        };
        // The nodes of a cluster speak the same versions: start every pool at the version the
        // control connection settled on rather than have each node refuse a higher one first.
        let mut config = config;
        config.connection.protocol_version = control.conn.version();
        let (commands, commands_rx) = mpsc::channel(16);
        let inner = Arc::new(Inner {
            state: ArcSwap::from_pointee(ClusterState::default()),
            pools: Mutex::new(HashMap::new()),
            keyspace: Mutex::new(config.connection.keyspace.clone()),
            config,
            connector,
            commands,
            closed: AtomicBool::new(false),
            close_notify: Notify::new(),
        });
        full_refresh(&inner, &control).await?;
        let task = ControlTask {
            inner: Arc::clone(&inner),
            control,
            contacts,
            control_config,
            events_rx,
            commands_rx,
        };
        tokio::spawn(task.run().instrument(tracing::info_span!("control")));
        let cluster = Self { inner };
        let pools: Vec<_> = cluster.pools();
        let wait = cluster.inner.config.connection.connect_timeout;
        futures::future::join_all(pools.iter().map(|p| p.wait_for_connection(wait))).await;
        Ok(cluster)
    }

    /// The current snapshot (one atomic load and a reference-count increment).
    pub fn state(&self) -> Arc<ClusterState> {
        self.inner.state.load_full()
    }

    /// The current snapshot without touching its reference count (the cheapest read, for the
    /// per-request path; do not hold the guard across `.await`).
    pub fn load_state(&self) -> arc_swap::Guard<Arc<ClusterState>> {
        self.inner.state.load()
    }

    /// Reads topology and schema again now.
    pub async fn refresh_metadata(&self) -> Result<(), MetadataError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .commands
            .send(Command::Refresh(tx))
            .await
            .map_err(|_| MetadataError::Closed)?;
        rx.await.map_err(|_| MetadataError::Closed)?
    }

    /// Runs `USE keyspace` on every current connection and on every future one.
    /// A keyspace the server rejects (e.g. it does not exist) is reported and not remembered.
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<(), ConnectionError> {
        // Validate on one connection first, so a bad name is not applied to future connections.
        if let Some(conn) = self.pools().iter().find_map(|p| p.any_connection()) {
            conn.use_keyspace(keyspace).await?;
        }
        if let Ok(mut k) = self.inner.keyspace.lock() {
            *k = Some(keyspace.to_owned());
        }
        let pools = self.pools();
        let results =
            futures::future::join_all(pools.iter().map(|p| p.use_keyspace(keyspace))).await;
        results
            .into_iter()
            .collect::<Result<Vec<()>, _>>()
            .map(|_| ())
    }

    /// The keyspace set by [`Self::use_keyspace`] (or the configured one).
    pub fn keyspace(&self) -> Option<String> {
        self.inner.keyspace.lock().ok().and_then(|k| k.clone())
    }

    /// The pool of the node at `addr`.
    pub fn pool(&self, addr: SocketAddr) -> Option<Arc<NodePool>> {
        self.inner
            .pools
            .lock()
            .ok()
            .and_then(|p| p.get(&addr).cloned())
    }

    /// Every node pool.
    pub fn pools(&self) -> Vec<Arc<NodePool>> {
        self.inner
            .pools
            .lock()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The least loaded connection to `node`, on `shard` when given (falling back to any shard).
    pub fn connection_for(&self, node: &Node, shard: Option<u32>) -> Option<Connection> {
        let pool = node.pool()?;
        shard
            .and_then(|s| pool.connection_for_shard(s))
            .or_else(|| pool.any_connection())
    }

    /// The least loaded connection to the shard of `node` owning `token`.
    pub fn connection_for_token(&self, node: &Node, token: Token) -> Option<Connection> {
        node.pool()?.connection_for_token(token)
    }

    /// Records a tablet from a `tablets-routing-v1` custom payload (swaps in a new snapshot).
    pub fn add_tablet(&self, keyspace: &str, table: &str, info: &TabletRoutingInfo) {
        self.inner
            .state
            .rcu(|s| Arc::new(s.with_tablet(keyspace, table, info)));
    }

    /// Records the tablet of a response's custom payload (`tablets-routing-v1`), if present and
    /// well formed; returns whether one was recorded.
    pub fn add_tablet_from_payload(
        &self,
        keyspace: &str,
        table: &str,
        payload: &HashMap<String, Option<bytes::Bytes>>,
    ) -> bool {
        match TabletRoutingInfo::from_custom_payload(payload) {
            Some(Ok(info)) => {
                self.add_tablet(keyspace, table, &info);
                true
            }
            Some(Err(e)) => {
                tracing::warn!(keyspace, table, error = %e, "malformed tablets-routing-v1 payload ignored");
                false
            }
            None => false,
        }
    }

    /// Stops the control connection and closes every pool.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.close_notify.notify_one();
        for p in self.pools() {
            p.close();
        }
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

/// Parses or resolves a contact point.
async fn resolve(
    node: &str,
    timeout: Option<Duration>,
) -> Result<Vec<SocketAddr>, NewClusterError> {
    if let Ok(a) = node.parse::<SocketAddr>() {
        return Ok(vec![a]);
    }
    if let Ok(ip) = node.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, 9042)]);
    }
    let with_port = if node
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        node.to_owned()
    } else {
        format!("{node}:9042")
    };
    let lookup = tokio::net::lookup_host(&with_port);
    let looked_up = match timeout {
        None => lookup.await,
        Some(t) => tokio::time::timeout(t, lookup)
            .await
            .map_err(|_| NewClusterError::Resolve {
                node: node.to_owned(),
                reason: format!("no answer from the resolver within {t:?}"),
            })?,
    };
    let addrs: Vec<SocketAddr> = looked_up
        .map_err(|e| NewClusterError::Resolve {
            node: node.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(NewClusterError::Resolve {
            node: node.to_owned(),
            reason: "no addresses".into(),
        });
    }
    Ok(addrs)
}

/// A control connection plus a signal that fires when its driver ends.
struct Control {
    conn: Connection,
    addr: SocketAddr,
    ended: Arc<Notify>,
}

async fn open_control(
    connector: &Connector,
    addr: SocketAddr,
    config: &ConnectionConfig,
) -> Result<Control, ConnectionError> {
    let (conn, driver) = crate::pool::connect_via(connector, addr, None, config.clone()).await?;
    let ended = Arc::new(Notify::new());
    let signal = Arc::clone(&ended);
    tokio::spawn(async move {
        driver.await;
        signal.notify_one();
    });
    tracing::info!(%addr, "control connection established");
    Ok(Control { conn, addr, ended })
}

/// Attaches pools to the nodes (reusing pools by address, closing pools of removed nodes).
fn build_nodes(inner: &Inner, peers: Vec<Peer>) -> Vec<NodeRef> {
    let Ok(mut pools) = inner.pools.lock() else {
        return Vec::new();
    };
    let keyspace = inner.keyspace.lock().ok().and_then(|k| k.clone());
    let mut seen = HashSet::new();
    let mut pooled = HashSet::new();
    let mut nodes = Vec::with_capacity(peers.len());
    for p in peers {
        if !seen.insert(p.address) {
            continue;
        }
        if let Some(filter) = &inner.config.node_filter
            && !filter.accepts(&p)
        {
            tracing::debug!(node = %p.address, dc = ?p.datacenter, "node rejected by the host filter");
            let node = Node::new(p.address, p.host_id, p.datacenter, p.rack, p.tokens).disabled();
            nodes.push(Arc::new(node));
            continue;
        }
        pooled.insert(p.address);
        let pool = pools.entry(p.address).or_insert_with(|| {
            tracing::info!(node = %p.address, dc = ?p.datacenter, "new node");
            let mut cfg = inner.config.connection.clone();
            cfg.keyspace.clone_from(&keyspace);
            NodePool::with_connector(
                p.address,
                cfg,
                inner.config.pool.clone(),
                Arc::clone(&inner.connector),
            )
        });
        let node = Node::new(p.address, p.host_id, p.datacenter, p.rack, p.tokens)
            .with_pool(Arc::clone(pool));
        nodes.push(Arc::new(node));
    }
    pools.retain(|addr, pool| {
        let keep = pooled.contains(addr);
        if !keep {
            tracing::info!(node = %addr, "node removed");
            pool.close();
        }
        keep
    });
    nodes
}

async fn full_refresh(inner: &Inner, control: &Control) -> Result<(), MetadataError> {
    let peers = metadata::fetch_topology(
        &control.conn,
        control.addr,
        inner.config.address_translator.as_ref(),
    )
    .await?;
    let keyspaces = read_schema(inner, control, None).await?;
    let nodes = build_nodes(inner, peers);
    tracing::debug!(
        nodes = nodes.len(),
        keyspaces = keyspaces.len(),
        "metadata refreshed"
    );
    let fresh = ClusterState::new(nodes, keyspaces);
    inner
        .state
        .rcu(|old| Arc::new(fresh.clone().with_known_tablets(old)));
    Ok(())
}

/// Reads the keyspaces (all, or `only`): every keyspace's replication, and the full schema of
/// those the configuration asks for (`fetch_schema`, `keyspaces_to_fetch`).
async fn read_schema(
    inner: &Inner,
    control: &Control,
    only: Option<&str>,
) -> Result<HashMap<String, Keyspace>, MetadataError> {
    let config = &inner.config;
    let wanted = |ks: &str| {
        config.fetch_schema
            && (config.keyspaces_to_fetch.is_empty()
                || config.keyspaces_to_fetch.iter().any(|k| k == ks))
    };
    if let Some(ks) = only {
        return metadata::fetch_schema(&control.conn, Some(ks), wanted(ks)).await;
    }
    if config.keyspaces_to_fetch.is_empty() {
        return metadata::fetch_schema(&control.conn, None, config.fetch_schema).await;
    }
    let mut keyspaces = metadata::fetch_schema(&control.conn, None, false).await?;
    if config.fetch_schema {
        for ks in &config.keyspaces_to_fetch {
            if keyspaces.contains_key(ks) {
                keyspaces.extend(metadata::fetch_schema(&control.conn, Some(ks), true).await?);
            }
        }
    }
    Ok(keyspaces)
}

async fn topology_refresh(inner: &Inner, control: &Control) -> Result<(), MetadataError> {
    let peers = metadata::fetch_topology(
        &control.conn,
        control.addr,
        inner.config.address_translator.as_ref(),
    )
    .await?;
    let nodes = build_nodes(inner, peers);
    inner.state.rcu(|s| Arc::new(s.with_nodes(nodes.clone())));
    Ok(())
}

async fn keyspace_refresh(
    inner: &Inner,
    control: &Control,
    keyspace: &str,
) -> Result<(), MetadataError> {
    let mut ks = read_schema(inner, control, Some(keyspace)).await?;
    let new: Option<Keyspace> = ks.remove(keyspace);
    tracing::debug!(
        keyspace,
        exists = new.is_some(),
        "keyspace schema refreshed"
    );
    inner
        .state
        .rcu(|s| Arc::new(s.with_keyspace(keyspace, new.clone())));
    Ok(())
}

struct ControlTask {
    inner: Arc<Inner>,
    control: Control,
    contacts: Vec<SocketAddr>,
    control_config: ConnectionConfig,
    events_rx: mpsc::Receiver<Event>,
    commands_rx: mpsc::Receiver<Command>,
}

#[derive(Default)]
struct Pending {
    topology: bool,
    keyspaces: HashSet<String>,
}

impl ControlTask {
    async fn run(mut self) {
        let mut pending = Pending::default();
        let mut deadline: Option<tokio::time::Instant> = None;
        let every = self.inner.config.metadata_refresh_interval;
        let mut periodic = every.map(|e| tokio::time::Instant::now() + e);
        loop {
            let periodic_at = periodic
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
            let sleep_until = deadline
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
            tokio::select! {
                () = self.inner.close_notify.notified() => break,
                cmd = self.commands_rx.recv() => match cmd {
                    Some(Command::Refresh(tx)) => {
                        let r = full_refresh(&self.inner, &self.control).await;
                        let _ = tx.send(r);
                    }
                    None => break,
                },
                ev = self.events_rx.recv() => {
                    let Some(ev) = ev else { continue };
                    if let Some(tx) = &self.inner.config.event_sender {
                        let _ = tx.try_send(ev.clone());
                    }
                    self.on_event(ev, &mut pending);
                    if deadline.is_none() && (pending.topology || !pending.keyspaces.is_empty()) {
                        deadline = Some(tokio::time::Instant::now() + self.inner.config.metadata_debounce);
                    }
                }
                () = tokio::time::sleep_until(periodic_at), if periodic.is_some() => {
                    if let Err(e) = full_refresh(&self.inner, &self.control).await {
                        tracing::warn!(error = %e, "periodic metadata refresh failed");
                    }
                    periodic = every.map(|e| tokio::time::Instant::now() + e);
                }
                () = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                    deadline = None;
                    let work = std::mem::take(&mut pending);
                    self.apply(work).await;
                }
                () = self.control.ended.notified() => {
                    tracing::warn!(addr = %self.control.addr, "control connection lost");
                    if !self.reconnect().await {
                        break;
                    }
                }
            }
            if self.inner.closed.load(Ordering::Acquire) {
                break;
            }
        }
        self.control.conn.close();
    }

    fn on_event(&self, ev: Event, pending: &mut Pending) {
        match ev {
            Event::TopologyChange { change, addr } => {
                tracing::info!(%change, %addr, "topology change");
                pending.topology = true;
            }
            Event::StatusChange { change, addr } => {
                tracing::info!(%change, %addr, "status change");
                let state = self.inner.state.load();
                if let Some(pool) = state.node(addr).and_then(|n| n.pool()) {
                    if change == StatusChangeType::Up {
                        pool.set_up(true);
                    } else if pool.connection_count() == 0 {
                        pool.set_up(false);
                    }
                } else if change == StatusChangeType::Up {
                    pending.topology = true;
                }
            }
            Event::SchemaChange(sc) => {
                tracing::debug!(keyspace = sc.target.keyspace(), change = %sc.change_type, "schema change");
                pending.keyspaces.insert(sc.target.keyspace().to_owned());
            }
            other => tracing::debug!(?other, "unhandled event"),
        }
    }

    async fn apply(&mut self, work: Pending) {
        if work.topology
            && let Err(e) = topology_refresh(&self.inner, &self.control).await
        {
            tracing::warn!(error = %e, "topology refresh failed");
        }
        // Every keyspace's replication is kept, whatever the schema settings.
        for ks in work.keyspaces {
            if let Err(e) = keyspace_refresh(&self.inner, &self.control, &ks).await {
                tracing::warn!(keyspace = %ks, error = %e, "schema refresh failed");
            }
        }
    }

    /// Opens a control connection to another node (known nodes first by liveness, then the
    /// contact points), with backoff; false if the cluster closed meanwhile.
    async fn reconnect(&mut self) -> bool {
        let mut attempt: u32 = 0;
        loop {
            if self.inner.closed.load(Ordering::Acquire) {
                return false;
            }
            let state = self.inner.state.load_full();
            let mut candidates: Vec<SocketAddr> = state
                .nodes()
                .iter()
                .filter(|n| n.is_enabled() && n.is_up())
                .map(|n| n.address)
                .collect();
            candidates.extend(
                state
                    .nodes()
                    .iter()
                    .filter(|n| n.is_enabled() && !n.is_up())
                    .map(|n| n.address),
            );
            // Contact points the host filter rejected are avoided too.
            candidates.extend(
                self.contacts
                    .iter()
                    .copied()
                    .filter(|a| state.node(*a).is_none_or(|n| n.is_enabled())),
            );
            // Prefer nodes other than the one that just failed.
            let failed = self.control.addr;
            candidates.sort_by_key(|a| *a == failed);
            candidates.dedup();
            for addr in candidates {
                match open_control(&self.inner.connector, addr, &self.control_config).await {
                    Ok(c) => {
                        self.control = c;
                        if let Err(e) = full_refresh(&self.inner, &self.control).await {
                            tracing::warn!(error = %e, "metadata refresh after reconnect failed");
                        }
                        return true;
                    }
                    Err(e) => tracing::debug!(%addr, error = %e, "control reconnect failed"),
                }
            }
            attempt = attempt.saturating_add(1);
            let delay = self
                .inner
                .config
                .pool
                .reconnect_base_delay
                .saturating_mul(1 << attempt.min(8))
                .min(self.inner.config.pool.reconnect_max_delay);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.inner.close_notify.notified() => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
