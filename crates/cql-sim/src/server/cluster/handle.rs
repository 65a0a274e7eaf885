//! [`NodeHandle`]: one node's identity, placement, counters and routing statistics, and its
//! controls (stop, start, pause, delays and injected faults).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use proto::codes::StatusChangeType;
use proto::response::{ErrorBody, Event};
use uuid::Uuid;

use crate::server::error::SimError;
use crate::server::faults::{FaultAction, FaultRule, RequestMatcher};
use crate::server::listener;
use crate::server::node;
use crate::server::node::{NodeShared, lock};
use crate::server::state::ClusterInner;

/// Where a node's token-routed statements belonged (see [`NodeHandle::routing_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoutingStats {
    /// Statements whose token this node replicates (for a tablets table: whose tablet).
    pub replica: u64,
    /// Statements whose token this node does not replicate (it had to forward them).
    pub non_replica: u64,
    /// Statements that arrived on the shard owning their token. For a tablets table that is
    /// the tablet's shard on this node, so it counts only statements on a tablet replica and
    /// on its shard.
    pub owner_shard: u64,
    /// Statements that arrived on another shard.
    pub other_shard: u64,
}

/// A handle to one node: identity, counters and fault injection.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(super) cluster: Arc<ClusterInner>,
    pub(super) node: Arc<NodeShared>,
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

    /// The SSL (TLS) address, when the cluster serves TLS.
    pub fn ssl_addr(&self) -> Option<SocketAddr> {
        let tls = self.cluster.config.tls.as_ref()?;
        Some(SocketAddr::new(self.node.ip, tls.port))
    }

    /// The shard-aware SSL address, when the cluster serves TLS on one.
    pub fn ssl_shard_aware_addr(&self) -> Option<SocketAddr> {
        let tls = self.cluster.config.tls.as_ref()?;
        Some(SocketAddr::new(self.node.ip, tls.shard_aware_port?))
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

    /// The client addresses (IP and source port) of the TCP connections this node accepted
    /// most recently, oldest first (at most 256).
    pub fn client_addrs(&self) -> Vec<SocketAddr> {
        self.node
            .recent_clients
            .lock()
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The STARTUP options (key, value, in the client's order) of the connections that most
    /// recently sent a STARTUP to this node, oldest first (at most 256): `DRIVER_NAME`,
    /// `APPLICATION_NAME`, `CLIENT_ID`, ... as Cassandra keeps them for
    /// `system_views.clients`.
    pub fn client_startup_options(&self) -> Vec<Vec<(String, String)>> {
        self.node
            .recent_startups
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The client connections this node serves now, in the order they connected: one per
    /// row of its `system_views.clients` (Cassandra flavour) or `system.clients` (Scylla), with
    /// the facts behind that row (address, shard, handshake stage, STARTUP options, user,
    /// keyspace, request count, TLS).
    ///
    /// A connection is listed from the moment the node serves it (after the TLS handshake)
    /// until it closes, however it closes; a stopped node lists none.
    pub fn clients(&self) -> Vec<crate::server::ClientInfo> {
        self.node.clients.snapshot()
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

    /// Whether this node replicates `token` for a keyspace (by name), as the vnode ring places
    /// it (a table of a tablets keyspace is placed by its tablets: see
    /// [`SimCluster::tablet_of`](super::SimCluster::tablet_of)).
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

    /// Waits until a stopped node's listening sockets are closed, so that connecting to it is
    /// refused, as to a node that is down. [`NodeHandle::stop`] takes the node down at once but
    /// its sockets close when the runtime next runs the aborted listener tasks.
    pub async fn stopped(&self) {
        if !self.node.is_up() {
            listener::closed(&self.node).await;
        }
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
        listener::start(&self.node, &self.cluster).await?;
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

    /// Opens an in-process connection to this node: the client's end of a `tokio::io::duplex`
    /// stream that the node serves like an accepted TCP connection (handshake, requests,
    /// events, faults), on the next shard in turn. No socket is involved, so tests can run it
    /// under a paused tokio clock (`#[tokio::test(start_paused = true)]`): time advances only
    /// when every task waits, and timeouts fire without waiting for the wall clock.
    ///
    /// Fails with [`SimError::NodeDown`] when the node is stopped. The connection closes
    /// when the node stops, like its TCP connections.
    pub fn connect_in_process(&self) -> Result<tokio::io::DuplexStream, SimError> {
        listener::connect_in_process(&self.node, Arc::clone(&self.cluster), None)
            .ok_or(SimError::NodeDown(self.node.id))
    }

    /// [`NodeHandle::connect_in_process`] to a chosen shard (taken modulo the shard count).
    pub fn connect_in_process_to_shard(
        &self,
        shard: u32,
    ) -> Result<tokio::io::DuplexStream, SimError> {
        listener::connect_in_process(&self.node, Arc::clone(&self.cluster), Some(shard))
            .ok_or(SimError::NodeDown(self.node.id))
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
