//! Connection pools: per node, and per shard when the node is Scylla.
//!
//! A pool keeps `connections_per_shard` connections to every shard of a Scylla node (or
//! `connections_per_host` to other nodes). A background task refills it: through the
//! shard-aware port with a source port chosen so that `port % nr_shards == shard`, falling back
//! to the normal port (where the server picks the shard, and connections landing on a shard that
//! needs one are kept). Failures back off as the pool's [`reconnect::ReconnectPolicy`] says
//! (by default exponentially, with jitter).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use futures::future::BoxFuture;
use proto::{ShardingInfo, Token};
use rand::Rng;
use tokio::sync::{Notify, watch};
use tracing::Instrument;

use crate::config::ConnectionConfig;
use crate::connection::{Connection, ConnectionDriver};
use crate::error::ConnectionError;
use crate::health::NodeHealth;

pub mod reconnect;

use reconnect::{ExponentialReconnectPolicy, ReconnectPolicy, ReconnectPolicySession};

/// Pool sizing and reconnection policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Connections per shard on Scylla nodes.
    pub connections_per_shard: usize,
    /// Connections per node on nodes without sharding information.
    pub connections_per_host: usize,
    /// Use Scylla's shard-aware port when advertised.
    pub shard_aware: bool,
    /// Local source ports tried for the shard-aware port, inclusive.
    pub source_port_range: (u16, u16),
    /// How many source ports to try per shard-aware connection before falling back.
    pub source_port_attempts: usize,
    /// First reconnection delay of the default policy (and of the control connection).
    pub reconnect_base_delay: Duration,
    /// Longest reconnection delay of the default policy (and of the control connection).
    pub reconnect_max_delay: Duration,
    /// How long a pool waits between fill rounds that open nothing; `None` (the default):
    /// [`ExponentialReconnectPolicy`] from [`Self::reconnect_base_delay`] to
    /// [`Self::reconnect_max_delay`], with jitter.
    pub reconnect_policy: Option<Arc<dyn ReconnectPolicy>>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            connections_per_shard: 1,
            connections_per_host: 1,
            shard_aware: true,
            source_port_range: (49152, 65535),
            source_port_attempts: 16,
            reconnect_base_delay: Duration::from_millis(100),
            reconnect_max_delay: Duration::from_secs(10),
            reconnect_policy: None,
        }
    }
}

impl PoolConfig {
    /// The reconnection state of a new pool under this configuration.
    fn reconnect_session(&self) -> Box<dyn ReconnectPolicySession> {
        match &self.reconnect_policy {
            Some(policy) => policy.new_session(),
            None => ExponentialReconnectPolicy::new()
                .with_min_fill_backoff(self.reconnect_base_delay)
                .with_max_fill_backoff(self.reconnect_max_delay)
                .new_session(),
        }
    }
}

setters! {
    PoolConfig {
        connections_per_shard: usize,
        connections_per_host: usize,
        shard_aware: bool,
        source_port_range: (u16, u16),
        source_port_attempts: usize,
        reconnect_base_delay: Duration,
        reconnect_max_delay: Duration,
        reconnect_policy: Option<Arc<dyn ReconnectPolicy>>,
    }
}

/// Opens one connection: `(address, optional source port, config)`. Tests plug in a fake.
pub(crate) type Connector = Arc<
    dyn Fn(
            SocketAddr,
            Option<u16>,
            ConnectionConfig,
        ) -> BoxFuture<'static, Result<(Connection, ConnectionDriver), ConnectionError>>
        + Send
        + Sync,
>;

/// One TCP (+TLS) connection attempt at the configured protocol version; [`connect_via`] adds
/// the version fallback.
pub(crate) fn tcp_connector() -> Connector {
    Arc::new(|addr, port, config| {
        Box::pin(async move { crate::tcp::open_tcp_once(addr, port, &config).await })
    })
}

/// Opens a connection through `connector`, asking again one protocol version lower while the
/// node refuses the one offered.
pub(crate) async fn connect_via(
    connector: &Connector,
    addr: SocketAddr,
    source_port: Option<u16>,
    config: ConnectionConfig,
) -> Result<(Connection, ConnectionDriver), ConnectionError> {
    crate::tcp::with_version_fallback(&config, |c| connector(addr, source_port, c)).await
}

/// The connections of a pool, per shard (one bucket for non-Scylla nodes).
#[derive(Debug, Default)]
struct Slots {
    shards: Vec<Vec<Connection>>,
}

/// The connection pool of one node. Cheap to share (`Arc`); lookups are lock-free.
pub struct NodePool {
    address: SocketAddr,
    config: ArcSwap<ConnectionConfig>,
    pool_config: PoolConfig,
    connector: Connector,
    slots: ArcSwap<Slots>,
    sharding: ArcSwapOption<ShardingInfo>,
    /// The LWT mark negotiated by the latest connection added (0: none).
    lwt_mark: AtomicU32,
    up: Arc<AtomicBool>,
    health: Arc<NodeHealth>,
    closed: AtomicBool,
    wake: Notify,
    count_tx: watch::Sender<usize>,
}

impl std::fmt::Debug for NodePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodePool")
            .field("address", &self.address)
            .field("connections", &self.connection_count())
            .field("up", &self.up.load(Ordering::Relaxed))
            .finish()
    }
}

impl NodePool {
    /// Creates a pool for `address` and starts its refill task.
    pub fn new(
        address: SocketAddr,
        config: ConnectionConfig,
        pool_config: PoolConfig,
    ) -> Arc<Self> {
        Self::with_connector(address, config, pool_config, tcp_connector())
    }

    pub(crate) fn with_connector(
        address: SocketAddr,
        mut config: ConnectionConfig,
        pool_config: PoolConfig,
        connector: Connector,
    ) -> Arc<Self> {
        // Only the control connection listens to events.
        config.event_sender = None;
        let health = Arc::new(NodeHealth::default());
        config.tuning.node_health = Some(Arc::clone(&health));
        let (count_tx, _) = watch::channel(0);
        let pool = Arc::new(Self {
            address,
            config: ArcSwap::from_pointee(config),
            pool_config,
            connector,
            slots: ArcSwap::from_pointee(Slots::default()),
            sharding: ArcSwapOption::empty(),
            lwt_mark: AtomicU32::new(0),
            up: Arc::new(AtomicBool::new(true)),
            health,
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            count_tx,
        });
        let weak = Arc::downgrade(&pool);
        let span = tracing::info_span!("pool", node = %address);
        tokio::spawn(refill_loop(weak).instrument(span));
        pool
    }

    /// The node's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub(crate) fn up_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.up)
    }

    /// Whether the pool currently believes the node is reachable.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Whether the node answers: false while one of its connections waits on requests and
    /// reads nothing, not even a probe (see [`crate::health`]). One atomic load.
    pub fn is_responsive(&self) -> bool {
        self.health.is_responsive()
    }

    /// The node's answering state, shared by its connections.
    pub fn health(&self) -> &NodeHealth {
        &self.health
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
        if up {
            self.wake.notify_one();
        }
    }

    /// The node's sharding parameters, once a connection has reported them.
    pub fn sharding(&self) -> Option<Arc<ShardingInfo>> {
        self.sharding.load_full()
    }

    /// The bit marking lightweight transactions in the prepared metadata flags of this node's
    /// answers (Scylla's `SCYLLA_LWT_ADD_METADATA_MARK`, as negotiated by the pool's latest
    /// connection, see [`crate::ConnectionInfo::lwt_mark`]); `None` when not negotiated or
    /// before any connection.
    pub fn lwt_mark(&self) -> Option<u32> {
        Some(self.lwt_mark.load(Ordering::Relaxed)).filter(|m| *m != 0)
    }

    /// Usable (not broken) connections.
    pub fn connection_count(&self) -> usize {
        self.slots
            .load()
            .shards
            .iter()
            .flatten()
            .filter(|c| !c.is_broken())
            .count()
    }

    /// The least loaded connection to `shard`, or `None` if that shard has none.
    pub fn connection_for_shard(&self, shard: u32) -> Option<Connection> {
        let slots = self.slots.load();
        least_loaded(slots.shards.get(usize::try_from(shard).ok()?)?.iter())
    }

    /// The least loaded connection to the shard owning `token` (any connection if that shard
    /// has none, or the node is not sharded).
    pub fn connection_for_token(&self, token: Token) -> Option<Connection> {
        if let Some(s) = self.sharding.load().as_ref()
            && let Some(c) = self.connection_for_shard(s.shard_of(token))
        {
            return Some(c);
        }
        self.any_connection()
    }

    /// The least loaded connection of the pool.
    pub fn any_connection(&self) -> Option<Connection> {
        least_loaded(self.slots.load().shards.iter().flatten())
    }

    /// Every usable connection.
    pub fn connections(&self) -> Vec<Connection> {
        self.slots
            .load()
            .shards
            .iter()
            .flatten()
            .filter(|c| !c.is_broken())
            .cloned()
            .collect()
    }

    /// Waits until the pool has at least one connection, up to `timeout`.
    pub async fn wait_for_connection(&self, timeout: Duration) -> Option<Connection> {
        let mut rx = self.count_tx.subscribe();
        let wait = rx.wait_for(|n| *n > 0);
        let _ = tokio::time::timeout(timeout, wait).await;
        self.any_connection()
    }

    /// Sets the keyspace for future connections and runs `USE` on every current one.
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<(), ConnectionError> {
        let mut cfg = ConnectionConfig::clone(&self.config.load());
        cfg.keyspace = Some(keyspace.to_owned());
        self.config.store(Arc::new(cfg));
        let conns = self.connections();
        let results =
            futures::future::join_all(conns.iter().map(|c| c.use_keyspace(keyspace))).await;
        results
            .into_iter()
            .find(|r| matches!(r, Err(e) if !e.is_broken()))
            .unwrap_or(Ok(()))
    }

    /// Closes every connection and stops refilling.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for c in self.slots.load().shards.iter().flatten() {
            c.close();
        }
        self.wake.notify_one();
    }

    /// Wake the refill task (a connection broke, or the node came back).
    pub(crate) fn notify(&self) {
        self.wake.notify_one();
    }

    fn target_per_shard(&self) -> usize {
        if self.sharding.load().is_some() {
            self.pool_config.connections_per_shard
        } else {
            self.pool_config.connections_per_host
        }
    }

    /// Drops broken connections; returns the shard indexes that need connections (repeated per
    /// missing connection).
    fn prune_and_missing(&self) -> Vec<Option<u32>> {
        let current = self.slots.load();
        let nr = self
            .sharding
            .load()
            .as_ref()
            .map_or(1, |s| s.nr_shards as usize)
            .max(1);
        let mut shards: Vec<Vec<Connection>> = (0..nr)
            .map(|i| {
                current
                    .shards
                    .get(i)
                    .map(|v| v.iter().filter(|c| !c.is_broken()).cloned().collect())
                    .unwrap_or_default()
            })
            .collect();
        let target = self.target_per_shard();
        let sharded = self.sharding.load().is_some();
        let mut missing = Vec::new();
        for (i, conns) in shards.iter_mut().enumerate() {
            conns.truncate(target.max(1));
            for _ in conns.len()..target {
                missing.push(if sharded { u32::try_from(i).ok() } else { None });
            }
        }
        let count = shards.iter().map(Vec::len).sum();
        self.slots.store(Arc::new(Slots { shards }));
        self.count_tx.send_replace(count);
        missing
    }

    /// Adds a connection to its shard's bucket if that bucket wants more; otherwise closes it.
    fn add(self: &Arc<Self>, conn: Connection) -> bool {
        self.lwt_mark
            .store(conn.info().lwt_mark.unwrap_or(0), Ordering::Relaxed);
        if let Some(info) = conn.info().sharding.clone() {
            let known = self.sharding.load();
            if known.as_ref().is_none_or(|k| k.nr_shards != info.nr_shards) {
                self.sharding.store(Some(Arc::new(info)));
            }
        }
        let nr = self
            .sharding
            .load()
            .as_ref()
            .map_or(1, |s| s.nr_shards as usize)
            .max(1);
        let shard = conn.shard().map_or(0, |s| s as usize);
        let target = self.target_per_shard();
        let current = self.slots.load();
        let mut shards: Vec<Vec<Connection>> = (0..nr)
            .map(|i| current.shards.get(i).cloned().unwrap_or_default())
            .collect();
        let Some(bucket) = shards.get_mut(shard.min(nr - 1)) else {
            return false;
        };
        if bucket.iter().filter(|c| !c.is_broken()).count() >= target {
            conn.close();
            return false;
        }
        bucket.push(conn);
        let count = shards.iter().flatten().filter(|c| !c.is_broken()).count();
        self.slots.store(Arc::new(Slots { shards }));
        self.count_tx.send_replace(count);
        true
    }

    /// Opens one connection, to `shard` through the shard-aware port when possible. The
    /// protocol version the node settled on is remembered, so its next connections start there
    /// instead of being refused first.
    async fn open_one(
        self: &Arc<Self>,
        shard: Option<u32>,
    ) -> Result<(Connection, ConnectionDriver), ConnectionError> {
        let opened = self.open_one_at(shard).await;
        if let Ok((conn, _)) = &opened {
            let version = conn.version();
            let config = self.config.load();
            if version < config.protocol_version {
                tracing::debug!(node = %self.address, %version, "node speaks a lower protocol version");
                let mut lowered = ConnectionConfig::clone(&config);
                lowered.protocol_version = version;
                self.config.store(Arc::new(lowered));
            }
        }
        opened
    }

    async fn open_one_at(
        self: &Arc<Self>,
        shard: Option<u32>,
    ) -> Result<(Connection, ConnectionDriver), ConnectionError> {
        let mut config = ConnectionConfig::clone(&self.config.load());
        let sharding = self.sharding.load_full();
        if let (Some(shard), Some(info), true) =
            (shard, sharding.as_ref(), self.pool_config.shard_aware)
        {
            #[cfg(feature = "tls")]
            let port = if config.tls.is_some() {
                info.shard_aware_port_ssl
            } else {
                info.shard_aware_port
            };
            #[cfg(not(feature = "tls"))]
            let port = info.shard_aware_port;
            if let Some(port) = port {
                let target = SocketAddr::new(self.address.ip(), port);
                for source in source_ports(
                    shard,
                    info.nr_shards,
                    self.pool_config.source_port_range,
                    self.pool_config.source_port_attempts,
                ) {
                    match (self.connector)(target, Some(source), config.clone()).await {
                        Ok(pair) => return Ok(pair),
                        Err(e) if crate::tcp::is_port_in_use(&e) => continue,
                        // One version lower from the next port: the refused connection may
                        // still hold this one.
                        Err(ConnectionError::UnsupportedProtocolVersion { offered, .. })
                            if let Some(lower) = crate::tcp::fallback_version(&config, offered) =>
                        {
                            config.protocol_version = lower;
                            continue;
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "shard-aware port failed; falling back to the normal port");
                            break;
                        }
                    }
                }
            }
        }
        connect_via(&self.connector, self.address, None, config).await
    }
}

fn least_loaded<'a>(conns: impl Iterator<Item = &'a Connection>) -> Option<Connection> {
    conns
        .filter(|c| !c.is_broken())
        .min_by_key(|c| c.in_flight())
        .cloned()
}

/// Source ports `p` in `range` with `p % nr_shards == shard`, starting at a random one and
/// wrapping around; at most `attempts` of them.
pub(crate) fn source_ports(
    shard: u32,
    nr_shards: u32,
    range: (u16, u16),
    attempts: usize,
) -> impl Iterator<Item = u16> {
    let (lo, hi) = (u32::from(range.0), u32::from(range.1.max(range.0)));
    let n = nr_shards.max(1);
    let first = lo + (shard % n + n - lo % n) % n;
    let count = if first > hi { 0 } else { (hi - first) / n + 1 };
    let k0 = if count == 0 {
        0
    } else {
        rand::thread_rng().gen_range(0..count)
    };
    let take = usize::try_from(count).unwrap_or(usize::MAX).min(attempts);
    (0..take).filter_map(move |i| {
        let k = (k0 + u32::try_from(i).unwrap_or(0)) % count.max(1);
        u16::try_from(first + k * n).ok()
    })
}

async fn refill_loop(weak: std::sync::Weak<NodePool>) {
    let Some(mut reconnect) = weak.upgrade().map(|p| p.pool_config.reconnect_session()) else {
        return;
    };
    // Fill rounds in a row that added nothing, for the logs.
    let mut failures: u32 = 0;
    loop {
        let Some(pool) = weak.upgrade() else { return };
        if pool.closed.load(Ordering::Acquire) {
            return;
        }
        let missing = pool.prune_and_missing();
        if missing.is_empty() {
            // Re-check periodically so a dropped pool ends its task (the task holds the pool
            // only while waiting here).
            let _ = tokio::time::timeout(Duration::from_secs(1), pool.wake.notified()).await;
            continue;
        }
        let opened = futures::future::join_all(missing.iter().map(|s| pool.open_one(*s))).await;
        let mut any_ok = false;
        let mut added = false;
        let mut last_err = None;
        for r in opened {
            match r {
                Ok((conn, driver)) => {
                    any_ok = true;
                    let w = std::sync::Weak::clone(&weak);
                    tokio::spawn(async move {
                        driver.await;
                        if let Some(p) = w.upgrade() {
                            p.notify();
                        }
                    });
                    if pool.add(conn) {
                        added = true;
                        tracing::debug!("connection added");
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        if any_ok {
            failures = 0;
            reconnect.on_successful_fill();
            pool.up.store(true, Ordering::Relaxed);
        }
        if !added {
            // No progress (errors, or every connection landed on a full shard): back off.
            failures = failures.saturating_add(1);
            if !any_ok && pool.connection_count() == 0 {
                pool.up.store(false, Ordering::Relaxed);
            }
            reconnect.on_fill_error();
            let delay = reconnect.get_delay();
            match &last_err {
                Some(e) => {
                    tracing::info!(error = %e, attempt = failures, ?delay, "reconnecting after a delay")
                }
                None => tracing::debug!(
                    attempt = failures,
                    ?delay,
                    "no needed shard reached; retrying after a delay"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = pool.wake.notified() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
