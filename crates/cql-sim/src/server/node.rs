//! One simulated node: its identity, listeners, shards, counters, prepared ids, schema version
//! and faults (its listeners are started by [`super::listener`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::clients::{ClientRegistration, ClientRegistry, TlsFacts};
use super::faults::NodeFaults;

/// Locks a mutex, ignoring poisoning (a panicked holder leaves plain data behind).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The shared state of one node.
#[derive(Debug)]
pub(crate) struct NodeShared {
    pub(crate) id: usize,
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) shard_aware_port: Option<u16>,
    pub(crate) dc: String,
    pub(crate) rack: String,
    pub(crate) host_id: Uuid,
    pub(crate) tokens: Vec<i64>,
    pub(crate) shards: u32,
    pub(super) up: AtomicBool,
    /// Whether the node is still part of the ring (false after decommission).
    pub(crate) member: AtomicBool,
    pub(crate) paused: watch::Sender<bool>,
    /// Bumped on every stop: connections accepted under an older epoch close.
    pub(crate) epoch: watch::Sender<u64>,
    conns_per_shard: Vec<AtomicUsize>,
    round_robin: AtomicUsize,
    requests: AtomicU64,
    /// Requests by opcode (opcodes are below 0x20).
    by_opcode: [AtomicU64; 32],
    shard_requests: Vec<AtomicU64>,
    /// Statements whose first token the coordinator replicates / does not replicate, and
    /// whose token the connection's shard owns / does not own.
    routing: [AtomicU64; 4],
    /// Prepared statements this node knows: id to query text.
    pub(crate) prepared: Mutex<HashMap<[u8; 16], Arc<str>>>,
    pub(crate) schema_version: Mutex<Uuid>,
    pub(crate) faults: Mutex<NodeFaults>,
    /// Set when any fault (rule, delay, pause) might apply, so the hot path skips the lock.
    pub(crate) faulty: AtomicBool,
    pub(super) listeners: Mutex<Vec<JoinHandle<()>>>,
    /// Aborted listener tasks whose sockets may not be closed yet; `start` awaits them.
    pub(super) stopping: Mutex<Vec<JoinHandle<()>>>,
    /// The client addresses of the last accepted TCP connections (at most
    /// [`RECENT_CLIENTS`]), as `system.clients` would list them.
    pub(crate) recent_clients: Mutex<std::collections::VecDeque<SocketAddr>>,
    /// The STARTUP options of the last connections that sent one (at most
    /// [`RECENT_CLIENTS`]), as Cassandra keeps them for `system_views.clients.client_options`
    /// and `nodetool clientstats`.
    pub(crate) recent_startups: Mutex<std::collections::VecDeque<Vec<(String, String)>>>,
    /// The live client connections, for the clients table and [`NodeHandle::clients`].
    ///
    /// [`NodeHandle::clients`]: crate::NodeHandle::clients
    pub(crate) clients: Arc<ClientRegistry>,
}

/// How many client addresses a node remembers.
pub(crate) const RECENT_CLIENTS: usize = 256;

/// Identity of a node being created.
#[derive(Debug)]
pub(crate) struct NodeSpec {
    pub(crate) id: usize,
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) shard_aware_port: Option<u16>,
    pub(crate) dc: String,
    pub(crate) rack: String,
    pub(crate) host_id: Uuid,
    pub(crate) tokens: Vec<i64>,
    pub(crate) shards: u32,
    pub(crate) schema_version: Uuid,
}

impl NodeShared {
    pub(crate) fn new(spec: NodeSpec) -> Self {
        let shards = spec.shards.max(1);
        Self {
            id: spec.id,
            ip: spec.ip,
            port: spec.port,
            shard_aware_port: spec.shard_aware_port,
            dc: spec.dc,
            rack: spec.rack,
            host_id: spec.host_id,
            tokens: spec.tokens,
            shards,
            up: AtomicBool::new(false),
            member: AtomicBool::new(true),
            paused: watch::Sender::new(false),
            epoch: watch::Sender::new(0),
            conns_per_shard: (0..shards).map(|_| AtomicUsize::new(0)).collect(),
            round_robin: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            by_opcode: Default::default(),
            shard_requests: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            routing: Default::default(),
            prepared: Mutex::new(HashMap::new()),
            schema_version: Mutex::new(spec.schema_version),
            faults: Mutex::new(NodeFaults::default()),
            faulty: AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
            stopping: Mutex::new(Vec::new()),
            recent_clients: Mutex::new(std::collections::VecDeque::new()),
            recent_startups: Mutex::new(std::collections::VecDeque::new()),
            clients: Arc::default(),
        }
    }

    /// Records a connection's STARTUP options: in its registration, and in the recent
    /// STARTUPs (see [`NodeHandle::client_startup_options`]).
    ///
    /// [`NodeHandle::client_startup_options`]: crate::NodeHandle::client_startup_options
    pub(crate) fn record_startup(
        &self,
        client: &ClientRegistration,
        options: Vec<(String, String)>,
    ) {
        let mut recent = lock(&self.recent_startups);
        if recent.len() == RECENT_CLIENTS {
            recent.pop_front();
        }
        recent.push_back(options.clone());
        drop(recent);
        client.startup(options);
    }

    /// The native transport address.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    pub(crate) fn is_member(&self) -> bool {
        self.member.load(Ordering::Acquire)
    }

    pub(crate) fn schema_version(&self) -> Uuid {
        *lock(&self.schema_version)
    }

    pub(crate) fn set_schema_version(&self, v: Uuid) {
        *lock(&self.schema_version) = v;
    }

    pub(crate) fn count_request(&self, opcode: u8) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = self.by_opcode.get(usize::from(opcode)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn request_count_of(&self, opcode: u8) -> u64 {
        self.by_opcode
            .get(usize::from(opcode))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The shard of this node owning a vnode token (Scylla's biased-token-round-robin).
    pub(crate) fn shard_of(&self, token: i64) -> u32 {
        proto::token::shard_of(proto::Token(token), self.shards, 12)
    }

    /// Counts a token-routed statement that arrived on `shard`: whether this node replicates
    /// its token, and the shard owning it here (`None`: none does, as for a tablet this node
    /// does not replicate).
    pub(crate) fn record_routing(
        &self,
        coordinator_is_replica: bool,
        shard: u32,
        owner: Option<u32>,
    ) {
        let i = if coordinator_is_replica { 0 } else { 1 };
        let j = if owner == Some(shard) { 2 } else { 3 };
        self.routing[i].fetch_add(1, Ordering::Relaxed);
        self.routing[j].fetch_add(1, Ordering::Relaxed);
        if let Some(c) = self.shard_requests.get(shard as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The routing counters: (replica, non-replica, owner shard, other shard).
    pub(crate) fn routing(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.routing[i].load(Ordering::Relaxed))
    }

    pub(crate) fn shard_requests(&self) -> Vec<u64> {
        self.shard_requests
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn connections_per_shard(&self) -> Vec<usize> {
        self.conns_per_shard
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// Recomputes the `faulty` fast-path flag.
    pub(crate) fn refresh_faulty(&self) {
        let quiet = lock(&self.faults).is_quiet() && !*self.paused.borrow();
        self.faulty.store(!quiet, Ordering::Release);
    }

    pub(crate) fn knows_prepared(&self, id: &[u8]) -> Option<Arc<str>> {
        let key = <[u8; 16]>::try_from(id).ok()?;
        lock(&self.prepared).get(&key).cloned()
    }

    /// Closes the listeners and every connection.
    pub(crate) fn stop(&self) {
        self.up.store(false, Ordering::Release);
        let handles: Vec<_> = lock(&self.listeners).drain(..).collect();
        for h in &handles {
            h.abort();
        }
        lock(&self.stopping).extend(handles);
        self.epoch.send_modify(|e| *e += 1);
        // Every connection is closing: none is listed any more.
        self.clients.clear();
    }

    pub(super) fn pick_shard(&self, peer: SocketAddr, shard_aware: bool) -> u32 {
        if shard_aware {
            u32::from(peer.port()) % self.shards
        } else {
            (self.round_robin.fetch_add(1, Ordering::Relaxed) % self.shards as usize) as u32
        }
    }
}

/// Counts a connection on its shard while it lives: decrements the count when dropped.
pub(crate) struct ConnGuard {
    node: Arc<NodeShared>,
    shard: u32,
    /// The TLS facts of an encrypted connection, once its handshake completed.
    pub(crate) tls: Option<TlsFacts>,
}

impl ConnGuard {
    /// Counts a new connection of `node` on `shard`.
    pub(crate) fn new(node: &Arc<NodeShared>, shard: u32) -> Self {
        if let Some(c) = node.conns_per_shard.get(shard as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        Self {
            node: Arc::clone(node),
            shard,
            tls: None,
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(c) = self.node.conns_per_shard.get(self.shard as usize) {
            c.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Prepared ids a node forgot, for the report of `evict_prepared`.
pub(crate) fn evict_all(node: &NodeShared) -> usize {
    let mut p = lock(&node.prepared);
    let n = p.len();
    p.clear();
    n
}
