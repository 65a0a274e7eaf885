//! The cluster: builder, handles, topology changes and events.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use proto::codes::{StatusChangeType, TopologyChangeType};
use proto::response::Event;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::coordinator::Data;
use super::faults::{FaultAction, FaultRule, RequestMatcher};
use super::node::{self, NodeShared, NodeSpec, lock};
use super::topology::{self, NodeTopo};
use proto::response::ErrorBody;

/// An error starting or changing a simulated cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A listener could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The builder's settings are inconsistent.
    #[error("invalid cluster configuration: {0}")]
    InvalidConfig(String),
    /// No node has this index.
    #[error("no node with index {0}")]
    NoSuchNode(usize),
}

/// Cluster-wide settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) cluster_name: String,
    pub(crate) shards: u32,
    pub(crate) vnodes: usize,
    pub(crate) seed: u64,
    pub(crate) port: u16,
    pub(crate) shard_aware_port: Option<u16>,
    pub(crate) auth: Option<(String, String)>,
    pub(crate) schema_agreement_delay: Duration,
    pub(crate) max_frame_size: usize,
    pub(crate) base: Ipv4Addr,
    /// The bit advertised under `SCYLLA_LWT_ADD_METADATA_MARK` (None: the extension is off).
    pub(crate) lwt_mark: Option<u32>,
}

impl Config {
    /// The address of the node with index `i`: the base address plus `i`.
    pub(crate) fn node_ip(&self, i: usize) -> IpAddr {
        let base = u32::from(self.base);
        IpAddr::V4(Ipv4Addr::from(base.wrapping_add(i as u32)))
    }
}

/// An event pushed to registered connections; `about` names the node the event concerns
/// (that node does not announce it).
#[derive(Debug, Clone)]
pub(crate) struct ClusterEvent {
    pub(crate) about: Option<usize>,
    pub(crate) event: Event,
}

/// State shared by every node, connection and handle.
#[derive(Debug)]
pub(crate) struct ClusterInner {
    pub(crate) config: Config,
    pub(crate) nodes: RwLock<Vec<Arc<NodeShared>>>,
    pub(crate) data: Mutex<Data>,
    pub(crate) events: broadcast::Sender<ClusterEvent>,
    pub(crate) started_unix: u64,
}

impl ClusterInner {
    pub(crate) fn node_list(&self) -> Vec<Arc<NodeShared>> {
        self.nodes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn node(&self, i: usize) -> Option<Arc<NodeShared>> {
        self.nodes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(i)
            .cloned()
    }

    /// Seconds since the epoch when the cluster started (the nodes' gossip generation).
    pub(crate) fn started_secs(&self) -> i32 {
        self.started_unix as i32
    }

    pub(crate) fn publish(&self, about: Option<usize>, event: Event) {
        let _ = self.events.send(ClusterEvent { about, event });
    }

    fn ring_members(&self) -> Vec<NodeTopo> {
        self.node_list()
            .iter()
            .filter(|n| n.is_member())
            .map(|n| NodeTopo {
                id: n.id,
                dc: n.dc.clone(),
                rack: n.rack.clone(),
                tokens: n.tokens.clone(),
            })
            .collect()
    }

    fn rebuild_ring(&self) {
        let members = self.ring_members();
        let mut data = lock(&self.data);
        data.set_ring(members);
        data.stream();
    }
}

/// A data centre of the builder.
#[derive(Debug, Clone)]
struct DcSpec {
    name: String,
    nodes: usize,
    racks: Vec<String>,
}

/// Builds and starts a [`SimCluster`].
#[derive(Debug, Clone)]
#[must_use = "call start() to run the cluster"]
pub struct SimClusterBuilder {
    dcs: Vec<DcSpec>,
    explicit_dcs: bool,
    shards: u32,
    vnodes: usize,
    seed: Option<u64>,
    port: u16,
    shard_aware_port: Option<u16>,
    auth: Option<(String, String)>,
    schema_agreement_delay: Duration,
    address_base: Option<Ipv4Addr>,
    cluster_name: String,
    max_frame_size: usize,
    lwt_mark: Option<u32>,
}

impl Default for SimClusterBuilder {
    fn default() -> Self {
        Self {
            dcs: vec![DcSpec {
                name: "datacenter1".into(),
                nodes: 1,
                racks: vec!["rack1".into()],
            }],
            explicit_dcs: false,
            shards: 1,
            vnodes: 16,
            seed: None,
            port: 9042,
            shard_aware_port: Some(19042),
            auth: None,
            schema_agreement_delay: Duration::ZERO,
            address_base: None,
            cluster_name: "cql-sim".into(),
            max_frame_size: proto::frame::DEFAULT_MAX_FRAME_SIZE,
            lwt_mark: Some(LWT_MARK),
        }
    }
}

/// The prepared-metadata flag bit Scylla uses to mark LWT statements (`0x80000000`).
pub const LWT_MARK: u32 = 0x8000_0000;

/// A process-wide counter giving every isolated cluster its own loopback subnet.
static SUBNET: AtomicU32 = AtomicU32::new(0);

fn isolated_base() -> Ipv4Addr {
    let pid = std::process::id();
    let n = SUBNET.fetch_add(1, Ordering::Relaxed);
    let second = (pid % 200 + 20) as u8;
    let third = (n % 250 + 1) as u8;
    Ipv4Addr::new(127, second, third, 1)
}

impl SimClusterBuilder {
    /// A builder for one node in `datacenter1`/`rack1`, one shard, ports 9042 and 19042, on an
    /// isolated loopback subnet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of nodes, all in one data centre `datacenter1` (replaces earlier data centres).
    pub fn nodes(mut self, n: usize) -> Self {
        self.dcs = vec![DcSpec {
            name: "datacenter1".into(),
            nodes: n,
            racks: vec!["rack1".into()],
        }];
        self.explicit_dcs = false;
        self
    }

    /// Adds a data centre of `nodes` nodes (the first call replaces the default one).
    pub fn datacenter(mut self, name: &str, nodes: usize) -> Self {
        if !self.explicit_dcs {
            self.dcs.clear();
            self.explicit_dcs = true;
        }
        self.dcs.push(DcSpec {
            name: name.to_owned(),
            nodes,
            racks: Vec::new(),
        });
        self
    }

    /// Adds a rack to the last data centre; its nodes are spread over its racks round-robin.
    pub fn rack(mut self, name: &str) -> Self {
        if let Some(dc) = self.dcs.last_mut() {
            if dc.racks == ["rack1"] && !self.explicit_dcs {
                dc.racks.clear();
            }
            dc.racks.push(name.to_owned());
        }
        self
    }

    /// Shards per node (default 1).
    pub fn shards(mut self, n: u32) -> Self {
        self.shards = n.max(1);
        self
    }

    /// Tokens per node (default 16).
    pub fn vnodes(mut self, n: usize) -> Self {
        self.vnodes = n.max(1);
        self
    }

    /// The seed of every random choice (tokens, host ids); random when not set.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The native transport port of every node (default 9042).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The shard-aware port of every node (default 19042).
    pub fn shard_aware_port(mut self, port: u16) -> Self {
        self.shard_aware_port = Some(port);
        self
    }

    /// Disables the shard-aware port (as a Cassandra node would have none).
    pub fn no_shard_aware_port(mut self) -> Self {
        self.shard_aware_port = None;
        self
    }

    /// Requires PasswordAuthenticator authentication with these credentials.
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// How long nodes other than the coordinator take to adopt a new schema version
    /// (default zero: immediately).
    pub fn schema_agreement_delay(mut self, d: Duration) -> Self {
        self.schema_agreement_delay = d;
        self
    }

    /// Puts node `i` on `base + i` (e.g. `127.0.0.1`, `127.0.0.2`, …) instead of an isolated
    /// subnet.
    pub fn address_base(mut self, base: Ipv4Addr) -> Self {
        self.address_base = Some(base);
        self
    }

    /// Puts the nodes on a loopback subnet unique to this cluster (the default), so many
    /// clusters can run at once in threads and processes: `127.<pid-derived>.<counter>.<1+i>`.
    pub fn isolated(mut self) -> Self {
        self.address_base = None;
        self
    }

    /// The cluster name in `system.local` (default `cql-sim`).
    pub fn cluster_name(mut self, name: &str) -> Self {
        self.cluster_name = name.to_owned();
        self
    }

    /// The largest accepted frame body (default 256 MiB).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Disables Scylla's `SCYLLA_LWT_ADD_METADATA_MARK` extension: SUPPORTED does not offer it
    /// and prepared LWT statements are never marked (as with Cassandra or an old Scylla). By
    /// default it is offered with `LWT_OPTIMIZATION_META_BIT_MASK=2147483648`, as Scylla does.
    pub fn no_lwt_metadata_mark(mut self) -> Self {
        self.lwt_mark = None;
        self
    }

    /// Starts every node and returns once all listen.
    pub async fn start(self) -> Result<SimCluster, SimError> {
        let total: usize = self.dcs.iter().map(|d| d.nodes).sum();
        if total == 0 {
            return Err(SimError::InvalidConfig(
                "a cluster needs at least one node".into(),
            ));
        }
        if total > 250 {
            return Err(SimError::InvalidConfig(format!(
                "{total} nodes is more than 250"
            )));
        }
        let seed = self.seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            t ^ u64::from(std::process::id()).rotate_left(32)
        });
        let attempts = if self.address_base.is_some() { 1 } else { 20 };
        let mut last_err = None;
        for _ in 0..attempts {
            let base = self.address_base.unwrap_or_else(isolated_base);
            match self.try_start(seed, base).await {
                Ok(c) => return Ok(c),
                Err(e @ SimError::Bind { .. }) => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| SimError::InvalidConfig("no address available".into())))
    }

    async fn try_start(&self, seed: u64, base: Ipv4Addr) -> Result<SimCluster, SimError> {
        let config = Config {
            cluster_name: self.cluster_name.clone(),
            shards: self.shards,
            vnodes: self.vnodes,
            seed,
            port: self.port,
            shard_aware_port: self.shard_aware_port,
            auth: self.auth.clone(),
            schema_agreement_delay: self.schema_agreement_delay,
            max_frame_size: self.max_frame_size,
            base,
            lwt_mark: self.lwt_mark,
        };
        let data = Data::new();
        let version = data.schema_version();
        let (events, _) = broadcast::channel(1024);
        let mut nodes = Vec::new();
        let mut taken = HashSet::new();
        for dc in &self.dcs {
            let racks = if dc.racks.is_empty() {
                vec!["rack1".to_owned()]
            } else {
                dc.racks.clone()
            };
            for k in 0..dc.nodes {
                let id = nodes.len();
                let tokens = topology::node_tokens(seed, id, config.vnodes, &taken);
                taken.extend(tokens.iter().copied());
                nodes.push(Arc::new(NodeShared::new(NodeSpec {
                    id,
                    ip: config.node_ip(id),
                    port: config.port,
                    shard_aware_port: config.shard_aware_port,
                    dc: dc.name.clone(),
                    rack: racks[k % racks.len()].clone(),
                    host_id: topology::host_id(seed, id),
                    tokens,
                    shards: config.shards,
                    schema_version: version,
                })));
            }
        }
        let inner = Arc::new(ClusterInner {
            config,
            nodes: RwLock::new(nodes.clone()),
            data: Mutex::new(data),
            events,
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        });
        inner.rebuild_ring();
        lock(&inner.data).ensure_stores(nodes.len());
        for n in &nodes {
            if let Err(e) = n.start(&inner).await {
                for m in &nodes {
                    m.stop();
                }
                return Err(e);
            }
        }
        Ok(SimCluster { inner })
    }
}

/// A running simulated cluster. Dropping it stops every node.
#[derive(Debug)]
pub struct SimCluster {
    inner: Arc<ClusterInner>,
}

impl SimCluster {
    /// A builder (see [`SimClusterBuilder`]).
    pub fn builder() -> SimClusterBuilder {
        SimClusterBuilder::new()
    }

    /// Handles of every node, by index (decommissioned ones included).
    pub fn nodes(&self) -> Vec<NodeHandle> {
        self.inner
            .node_list()
            .into_iter()
            .map(|node| NodeHandle {
                cluster: Arc::clone(&self.inner),
                node,
            })
            .collect()
    }

    /// The handle of node `i`.
    ///
    /// # Panics
    /// When there is no node `i` (like slice indexing); see [`SimCluster::try_node`].
    pub fn node(&self, i: usize) -> NodeHandle {
        match self.try_node(i) {
            Some(n) => n,
            None => panic!("cql-sim cluster has no node {i}"),
        }
    }

    /// The handle of node `i`, if it exists.
    pub fn try_node(&self, i: usize) -> Option<NodeHandle> {
        self.inner.node(i).map(|node| NodeHandle {
            cluster: Arc::clone(&self.inner),
            node,
        })
    }

    /// The native transport address of every node, by index.
    pub fn node_addrs(&self) -> Vec<SocketAddr> {
        self.inner.node_list().iter().map(|n| n.addr()).collect()
    }

    /// The address of the first live node.
    pub fn contact_point(&self) -> SocketAddr {
        let nodes = self.inner.node_list();
        nodes
            .iter()
            .find(|n| n.is_up())
            .or_else(|| nodes.first())
            .map_or_else(
                || SocketAddr::new(self.inner.config.node_ip(0), self.inner.config.port),
                |n| n.addr(),
            )
    }

    /// The seed every random choice was drawn from.
    pub fn seed(&self) -> u64 {
        self.inner.config.seed
    }

    /// The cluster name.
    pub fn cluster_name(&self) -> &str {
        &self.inner.config.cluster_name
    }

    /// The cluster-wide schema version (what every node converges to).
    pub fn schema_version(&self) -> Uuid {
        lock(&self.inner.data).schema_version()
    }

    /// Whether every live node reports the cluster-wide schema version.
    pub fn schema_in_agreement(&self) -> bool {
        let v = self.schema_version();
        self.inner
            .node_list()
            .iter()
            .filter(|n| n.is_up())
            .all(|n| n.schema_version() == v)
    }

    /// Waits until every live node reports the same schema version; false after `timeout`.
    pub async fn await_schema_agreement(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.schema_in_agreement() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Adds a node to data centre `dc` (the first data centre when `None`), streams it the
    /// partitions it now replicates, starts it and announces it with TOPOLOGY_CHANGE NEW_NODE.
    pub async fn add_node(&self, dc: Option<&str>) -> Result<NodeHandle, SimError> {
        let nodes = self.inner.node_list();
        let id = nodes.len();
        if id >= 250 {
            return Err(SimError::InvalidConfig("too many nodes".into()));
        }
        let dc = dc
            .map(str::to_owned)
            .or_else(|| nodes.first().map(|n| n.dc.clone()))
            .unwrap_or_else(|| "datacenter1".into());
        let rack = nodes
            .iter()
            .find(|n| n.dc == dc)
            .map_or_else(|| "rack1".to_owned(), |n| n.rack.clone());
        let taken: HashSet<i64> = nodes
            .iter()
            .flat_map(|n| n.tokens.iter().copied())
            .collect();
        let c = &self.inner.config;
        let node = Arc::new(NodeShared::new(NodeSpec {
            id,
            ip: c.node_ip(id),
            port: c.port,
            shard_aware_port: c.shard_aware_port,
            dc,
            rack,
            host_id: topology::host_id(c.seed, id),
            tokens: topology::node_tokens(c.seed, id, c.vnodes, &taken),
            shards: c.shards,
            schema_version: self.schema_version(),
        }));
        lock(&self.inner.data).ensure_stores(id + 1);
        self.inner
            .nodes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::clone(&node));
        self.inner.rebuild_ring();
        if let Err(e) = node.start(&self.inner).await {
            // Leave the failed node in the list (indices stay stable) but out of the ring.
            node.member.store(false, Ordering::Release);
            self.inner.rebuild_ring();
            return Err(e);
        }
        let addr = node.addr();
        self.inner.publish(
            Some(id),
            Event::TopologyChange {
                change: TopologyChangeType::NewNode,
                addr,
            },
        );
        Ok(NodeHandle {
            cluster: Arc::clone(&self.inner),
            node,
        })
    }

    /// Removes node `i` from the ring (its partitions are streamed to their new replicas),
    /// stops it and announces TOPOLOGY_CHANGE REMOVED_NODE.
    pub fn decommission(&self, i: usize) -> Result<(), SimError> {
        let node = self.inner.node(i).ok_or(SimError::NoSuchNode(i))?;
        node.member.store(false, Ordering::Release);
        node.stop();
        self.inner.rebuild_ring();
        self.inner.publish(
            Some(i),
            Event::TopologyChange {
                change: TopologyChangeType::RemovedNode,
                addr: node.addr(),
            },
        );
        Ok(())
    }

    /// Stops every node.
    pub fn shutdown(&self) {
        for n in self.inner.node_list() {
            n.stop();
        }
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where a node's token-routed statements belonged (see [`NodeHandle::routing_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoutingStats {
    /// Statements whose token this node replicates.
    pub replica: u64,
    /// Statements whose token this node does not replicate (it had to forward them).
    pub non_replica: u64,
    /// Statements that arrived on the shard owning their token.
    pub owner_shard: u64,
    /// Statements that arrived on another shard.
    pub other_shard: u64,
}

/// A handle to one node: identity, counters and fault injection.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    cluster: Arc<ClusterInner>,
    node: Arc<NodeShared>,
}

impl NodeHandle {
    /// The node's index in the cluster.
    pub fn index(&self) -> usize {
        self.node.id
    }

    /// The native transport address (`ip:port`).
    pub fn addr(&self) -> SocketAddr {
        self.node.addr()
    }

    /// The node's IP address.
    pub fn ip(&self) -> IpAddr {
        self.node.ip
    }

    /// The shard-aware port's address, when enabled.
    pub fn shard_aware_addr(&self) -> Option<SocketAddr> {
        self.node
            .shard_aware_port
            .map(|p| SocketAddr::new(self.node.ip, p))
    }

    /// The host id (stable for a seed).
    pub fn host_id(&self) -> Uuid {
        self.node.host_id
    }

    /// The data centre.
    pub fn datacenter(&self) -> &str {
        &self.node.dc
    }

    /// The rack.
    pub fn rack(&self) -> &str {
        &self.node.rack
    }

    /// The node's tokens, sorted.
    pub fn tokens(&self) -> &[i64] {
        &self.node.tokens
    }

    /// The number of shards.
    pub fn shard_count(&self) -> u32 {
        self.node.shards
    }

    /// Whether the node is running.
    pub fn is_up(&self) -> bool {
        self.node.is_up()
    }

    /// Open connections per shard.
    pub fn connections_per_shard(&self) -> Vec<usize> {
        self.node.connections_per_shard()
    }

    /// Open connections on all shards.
    pub fn open_connections(&self) -> usize {
        self.node.connections_per_shard().iter().sum()
    }

    /// Requests received (every frame after decoding, handshake included).
    pub fn request_count(&self) -> u64 {
        self.node.request_count()
    }

    /// Requests received with this opcode (e.g. `Opcode::EXECUTE`, `Opcode::PREPARE`).
    pub fn request_count_of(&self, opcode: proto::codes::Opcode) -> u64 {
        self.node.request_count_of(opcode.0)
    }

    /// Token-routed statements (those touching a user table's partition) received per shard.
    pub fn token_requests_per_shard(&self) -> Vec<u64> {
        self.node.shard_requests()
    }

    /// Where this node's token-routed statements belonged: lets tests check token- and
    /// shard-aware routing.
    pub fn routing_stats(&self) -> RoutingStats {
        let [replica, non_replica, owner_shard, other_shard] = self.node.routing();
        RoutingStats {
            replica,
            non_replica,
            owner_shard,
            other_shard,
        }
    }

    /// The shard of this node owning `token` (Scylla's biased-token-round-robin, ignore_msb 12).
    pub fn shard_of_token(&self, token: i64) -> u32 {
        proto::token::shard_of(proto::Token(token), self.node.shards, 12)
    }

    /// Whether this node replicates `token` for a keyspace (by name), as the ring places it.
    pub fn is_replica(&self, keyspace: &str, token: i64) -> bool {
        lock(&self.cluster.data)
            .replicas(keyspace, token, self.node.id)
            .contains(&self.node.id)
    }

    /// The schema version this node reports.
    pub fn schema_version(&self) -> Uuid {
        self.node.schema_version()
    }

    /// Stops the node: closes its listeners and connections, and the other live nodes push
    /// STATUS_CHANGE DOWN to their registered connections.
    pub fn stop(&self) {
        if !self.node.is_up() {
            return;
        }
        self.node.stop();
        self.cluster.publish(
            Some(self.node.id),
            Event::StatusChange {
                change: StatusChangeType::Down,
                addr: self.node.addr(),
            },
        );
    }

    /// Starts a stopped node again with an empty prepared-statement cache; the other nodes push
    /// STATUS_CHANGE UP.
    pub async fn start(&self) -> Result<(), SimError> {
        if self.node.is_up() || !self.node.is_member() {
            return Ok(());
        }
        // Like Scylla, a restarted node has lost its prepared statements (drivers re-prepare
        // on UNPREPARED) and has caught up with the schema.
        node::evict_all(&self.node);
        self.node.start(&self.cluster).await?;
        self.node.set_schema_version(self.cluster_schema_version());
        self.cluster.publish(
            Some(self.node.id),
            Event::StatusChange {
                change: StatusChangeType::Up,
                addr: self.node.addr(),
            },
        );
        Ok(())
    }

    fn cluster_schema_version(&self) -> Uuid {
        lock(&self.cluster.data).schema_version()
    }

    /// Pauses the node: it keeps accepting connections and reading requests but answers
    /// nothing until [`NodeHandle::resume`].
    pub fn pause(&self) {
        self.node.paused.send_replace(true);
        self.node.refresh_faulty();
    }

    /// Resumes a paused node; held requests are then executed and answered.
    pub fn resume(&self) {
        self.node.paused.send_replace(false);
        self.node.refresh_faulty();
    }

    /// Whether the node is paused.
    pub fn is_paused(&self) -> bool {
        *self.node.paused.borrow()
    }

    /// Delays every response of this node (`None` removes the delay).
    pub fn set_delay(&self, delay: Option<Duration>) {
        lock(&self.node.faults).delay = delay.filter(|d| !d.is_zero());
        self.node.refresh_faulty();
    }

    /// Adds a fault rule; rules are tried in the order they were added.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.node.faults).add(rule);
        self.node.refresh_faulty();
    }

    /// Removes every fault rule and the delay (a pause stays until resumed).
    pub fn clear_faults(&self) {
        lock(&self.node.faults).clear();
        self.node.refresh_faulty();
    }

    /// Drops the responses to the next `n` statements.
    pub fn drop_next(&self, n: usize) {
        self.add_fault(FaultRule::times(
            RequestMatcher::AnyStatement,
            FaultAction::Drop,
            n,
        ));
    }

    /// Drops the responses to every statement whose text contains `substring`.
    pub fn drop_matching(&self, substring: &str) {
        self.add_fault(FaultRule::always(
            RequestMatcher::QueryContains(substring.to_owned()),
            FaultAction::Drop,
        ));
    }

    /// Answers the next `times` requests matched by `matcher` with `error` (`None`: forever).
    pub fn inject_error(&self, matcher: RequestMatcher, error: ErrorBody, times: Option<usize>) {
        self.add_fault(FaultRule {
            matcher,
            action: FaultAction::Error(error),
            remaining: times,
        });
    }

    /// Writes half of the response to the next statement, then closes the connection.
    pub fn close_mid_frame_next(&self) {
        self.add_fault(FaultRule::times(
            RequestMatcher::AnyStatement,
            FaultAction::CloseMidFrame,
            1,
        ));
    }

    /// Answers the next statement with a malformed frame.
    pub fn send_malformed_next(&self) {
        self.add_fault(FaultRule::times(
            RequestMatcher::AnyStatement,
            FaultAction::MalformedFrame,
            1,
        ));
    }

    /// Forgets every prepared statement on this node (the next EXECUTE gets UNPREPARED);
    /// returns how many were forgotten.
    pub fn evict_prepared(&self) -> usize {
        node::evict_all(&self.node)
    }
}
