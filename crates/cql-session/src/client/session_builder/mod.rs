//! [`SessionBuilder`] and [`SessionConfig`]: how to connect a [`Session`].

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::num::{NonZeroU32, NonZeroU64};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use transport::{
    AddressTranslator, AuthenticatorProvider, Cluster, ClusterConfig, NewClusterError,
    PasswordAuthenticator,
};

use super::execution_profile::ExecutionProfileHandle;
use super::self_identity::SelfIdentity;
use super::session::{Session, SessionOptions, validate_keyspace_name};
use crate::consistency::Consistency;
use crate::errors::{MetadataError, NewSessionError, UseKeyspaceError};
use crate::policies::host_filter::HostFilter;
use crate::policies::reconnect::ReconnectPolicy;
use crate::policies::throttle::RequestThrottler;
use crate::policies::timestamp_generator::TimestampGenerator;

pub use proto::frame::{Compression, ProtocolVersion};
/// What a request does on a connection at its in-flight limit: `cql-transport`'s, re-exported.
pub use transport::Backpressure;

/// A contact point.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KnownNode {
    /// `"host"` or `"host:port"` (port 9042 when omitted), resolved at connect time.
    Hostname(String),
    /// An address.
    Address(SocketAddr),
}

/// How many connections to keep to each node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolSize {
    /// This many connections per shard of a Scylla node (per node elsewhere).
    PerShard(NonZeroUsize),
    /// This many connections per node.
    PerHost(NonZeroUsize),
}

impl Default for PoolSize {
    fn default() -> Self {
        Self::PerShard(NonZeroUsize::MIN)
    }
}

/// How long a connection waits for more requests before a coalesced write (see
/// [`SessionBuilder::write_coalescing_delay`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteCoalescingDelay {
    /// A few turns of the tokio scheduler, while other requests keep arriving: well under a
    /// millisecond, and none for a lone request (the default).
    #[default]
    SmallNondeterministic,
    /// This many milliseconds: fewer, larger writes for more latency.
    Milliseconds(NonZeroU64),
}

/// The local ports shard-aware connections are made from: an inclusive sub-range of
/// 1024..=65535 (default [`Self::EPHEMERAL_PORT_RANGE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardAwarePortRange(RangeInclusive<u16>);

impl ShardAwarePortRange {
    /// The default: the IANA ephemeral ports, 49152..=65535.
    pub const EPHEMERAL_PORT_RANGE: Self = Self(49152..=65535);

    /// A range of local ports; an error if it is empty or starts below 1024 (ports reserved
    /// for system services).
    pub fn new(range: impl Into<RangeInclusive<u16>>) -> Result<Self, InvalidShardAwarePortRange> {
        let range = range.into();
        if range.is_empty() || *range.start() < 1024 {
            return Err(InvalidShardAwarePortRange);
        }
        Ok(Self(range))
    }
}

impl Default for ShardAwarePortRange {
    fn default() -> Self {
        Self::EPHEMERAL_PORT_RANGE
    }
}

/// [`ShardAwarePortRange::new`] got an empty range or one starting below port 1024.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard-aware local port range: give a non-empty range within 1024..=65535")]
#[non_exhaustive]
pub struct InvalidShardAwarePortRange;

/// Everything [`Session::connect`] needs. Start from `SessionConfig::new()` (or use
/// [`SessionBuilder`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Contact points; the rest of the cluster is discovered from them.
    pub known_nodes: Vec<KnownNode>,
    /// Preferred compression, used when the server supports it.
    pub compression: Option<Compression>,
    /// The highest native protocol version offered (default v5). A node that does not speak
    /// it is asked again one version lower, unless [`Self::protocol_version_pinned`].
    pub protocol_version: ProtocolVersion,
    /// Use exactly [`Self::protocol_version`]: a node that refuses it fails to connect with
    /// an "unsupported protocol version" error instead of being asked for a lower one.
    pub protocol_version_pinned: bool,
    /// `TCP_NODELAY` (default on).
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time (default off).
    pub tcp_keepalive_interval: Option<Duration>,
    /// The profile statements use unless they name another.
    pub default_execution_profile_handle: ExecutionProfileHandle,
    /// A keyspace to `USE` once connected.
    pub used_keyspace: Option<String>,
    /// Whether `used_keyspace` is case sensitive.
    pub keyspace_case_sensitive: bool,
    /// Authentication (see [`SessionBuilder::user`]).
    pub authenticator: Option<Arc<dyn AuthenticatorProvider>>,
    /// Limit for opening a connection (TCP, TLS and handshake). Default 5 s.
    pub connect_timeout: Duration,
    /// Limit for each of the driver's own requests: schema and topology reads on the control
    /// connection, `USE` and `REGISTER` on each connection. A node that keeps its connection
    /// open but stops answering cannot stall them longer. Default 10 s.
    pub internal_request_timeout: Duration,
    /// Connections per node or shard.
    pub connection_pool_size: PoolSize,
    /// Do not use Scylla's shard-aware port.
    pub disallow_shard_aware_port: bool,
    /// Read the full schema (`system_schema.*`: tables, columns, types, ...). The keyspaces and
    /// their replication, which token-aware routing needs, are read either way.
    pub fetch_schema_metadata: bool,
    /// Idle connections send a heartbeat this often (default 30 s; `None` disables it).
    pub keepalive_interval: Option<Duration>,
    /// A heartbeat unanswered this long breaks the connection (default 30 s).
    pub keepalive_timeout: Duration,
    /// How fast a node that keeps its connections open but stops answering is noticed
    /// (default 300 ms; `None` disables it). With requests waiting and nothing read for this
    /// long, a connection sends an OPTIONS probe; with nothing read for this long again, its node
    /// goes to the end of every query plan until it answers, and idempotent attempts waiting on
    /// it move to the next responsive node. A slow query alone never triggers it: the probe is
    /// answered meanwhile. An extension over the `scylla` crate.
    pub unresponsive_node_after: Option<Duration>,
    /// How often to poll schema versions while awaiting agreement (default 200 ms).
    pub schema_agreement_interval: Duration,
    /// How long to await schema agreement (default 60 s).
    pub schema_agreement_timeout: Duration,
    /// Await schema agreement after every DDL statement (default on).
    pub schema_agreement_automatic_waiting: bool,
    /// How many times to read a tracing session before giving up (default 10).
    pub tracing_info_fetch_attempts: NonZeroU32,
    /// The pause between tracing session reads (default 3 ms).
    pub tracing_info_fetch_interval: Duration,
    /// The consistency of tracing session reads (default ONE).
    pub tracing_info_fetch_consistency: Consistency,
    /// Rewrites the addresses of peers (e.g. behind NAT).
    pub address_translator: Option<Arc<dyn AddressTranslator>>,
    /// The most requests one connection of a pool carries at once (default 32,768, a
    /// connection's stream ids); above it, [`Self::connection_backpressure`] applies. Counts
    /// requests whose callers gave up until their responses arrive. The control connection
    /// keeps the default. An extension over the `scylla` crate.
    pub connection_max_in_flight: NonZeroUsize,
    /// What a request does on a connection at [`Self::connection_max_in_flight`]: wait for a
    /// free slot, within its timeouts (the default), or fail fast
    /// ([`Backpressure::Error`]: the attempt fails with
    /// [`NotSentReason::InFlightLimitReached`](crate::errors::NotSentReason::InFlightLimitReached)
    /// and the request moves to the next node of its plan).
    pub connection_backpressure: Backpressure,
    /// The session-wide request throttler (none by default); see
    /// [`crate::policies::throttle`].
    pub request_throttler: Option<Arc<dyn RequestThrottler>>,
    /// TLS settings; plain TCP when `None`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls_context: Option<transport::TlsConfig>,
    // --- scylla 1.x options (issue 14) ---
    /// Which nodes get connections; `None` connects to every node. See [`crate::policies::host_filter`].
    pub host_filter: Option<Arc<dyn HostFilter>>,
    /// Gives statements and batches without a timestamp of their own one; `None` leaves them
    /// to the coordinator's clock. See [`crate::policies::timestamp_generator`].
    pub timestamp_generator: Option<Arc<dyn TimestampGenerator>>,
    /// The keyspaces whose full schema is read into the cluster state (empty, the default:
    /// all). Every keyspace's replication is read regardless, for token-aware routing.
    pub keyspaces_to_fetch: Vec<String>,
    /// Write the requests queued on a connection together, in one `write` call (default on).
    pub enable_write_coalescing: bool,
    /// How long a connection waits for more requests before a coalesced write.
    pub write_coalescing_delay: WriteCoalescingDelay,
    /// The local address connections are made from (`None`: the system chooses).
    pub local_ip_address: Option<IpAddr>,
    /// The local ports shard-aware connections are made from.
    pub shard_aware_local_port_range: ShardAwarePortRange,
    /// How often the metadata is read again without an event (default 60 s).
    pub cluster_metadata_refresh_interval: Duration,
    /// How long resolving a known node's host name may take (default 5 s).
    pub hostname_resolution_timeout: Option<Duration>,
    /// Read the metadata again right after an automatic schema agreement (default on).
    pub refresh_metadata_on_auto_schema_agreement: bool,
    /// What STARTUP says about the driver and the application.
    pub identity: SelfIdentity,
    /// On Scylla, the server-side timeout of metadata reads (`USING TIMEOUT`; default 2 s).
    pub metadata_request_serverside_timeout: Option<Duration>,
    /// How long a node's pool waits between refill attempts that open nothing; `None`: the
    /// default [`ExponentialReconnectPolicy`](crate::policies::reconnect::ExponentialReconnectPolicy).
    pub reconnect_policy: Option<Arc<dyn ReconnectPolicy>>,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("known_nodes", &self.known_nodes)
            .field("compression", &self.compression)
            .field("used_keyspace", &self.used_keyspace)
            .field("authenticator", &self.authenticator.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionConfig {
    /// The default configuration, with no known nodes.
    pub fn new() -> Self {
        Self {
            known_nodes: Vec::new(),
            compression: None,
            protocol_version: ProtocolVersion::V5,
            protocol_version_pinned: false,
            tcp_nodelay: true,
            tcp_keepalive_interval: None,
            default_execution_profile_handle: ExecutionProfileHandle::default(),
            used_keyspace: None,
            keyspace_case_sensitive: false,
            authenticator: None,
            connect_timeout: Duration::from_secs(5),
            internal_request_timeout: Duration::from_secs(10),
            connection_pool_size: PoolSize::default(),
            disallow_shard_aware_port: false,
            fetch_schema_metadata: true,
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_timeout: Duration::from_secs(30),
            unresponsive_node_after: Some(transport::health::DEFAULT_UNRESPONSIVE_AFTER),
            schema_agreement_interval: Duration::from_millis(200),
            schema_agreement_timeout: Duration::from_secs(60),
            schema_agreement_automatic_waiting: true,
            tracing_info_fetch_attempts: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            tracing_info_fetch_interval: Duration::from_millis(3),
            tracing_info_fetch_consistency: Consistency::One,
            address_translator: None,
            connection_max_in_flight: NonZeroUsize::new(transport::MAX_STREAMS)
                .unwrap_or(NonZeroUsize::MIN),
            connection_backpressure: Backpressure::Wait,
            request_throttler: None,
            #[cfg(feature = "tls")]
            tls_context: None,
            host_filter: None,
            timestamp_generator: None,
            keyspaces_to_fetch: Vec::new(),
            enable_write_coalescing: true,
            write_coalescing_delay: WriteCoalescingDelay::default(),
            local_ip_address: None,
            shard_aware_local_port_range: ShardAwarePortRange::default(),
            cluster_metadata_refresh_interval: Duration::from_secs(60),
            hostname_resolution_timeout: Some(Duration::from_secs(5)),
            refresh_metadata_on_auto_schema_agreement: true,
            identity: SelfIdentity::default(),
            metadata_request_serverside_timeout: Some(Duration::from_secs(2)),
            reconnect_policy: None,
        }
    }

    /// Adds a contact point: `"host"`, `"host:port"` or `"ip:port"`.
    pub fn add_known_node(&mut self, hostname: impl AsRef<str>) {
        self.known_nodes
            .push(KnownNode::Hostname(hostname.as_ref().to_owned()));
    }

    /// Adds a contact point by address.
    pub fn add_known_node_addr(&mut self, addr: SocketAddr) {
        self.known_nodes.push(KnownNode::Address(addr));
    }

    // `ClusterConfig` is `#[non_exhaustive]`: it can only be built from its default.
    #[allow(clippy::field_reassign_with_default)]
    fn cluster_config(&self) -> ClusterConfig {
        let mut c = ClusterConfig::default();
        c.known_nodes = self
            .known_nodes
            .iter()
            .map(|n| match n {
                KnownNode::Hostname(h) => h.clone(),
                KnownNode::Address(a) => a.to_string(),
            })
            .collect();
        c.connection.compression = self.compression;
        c.connection.protocol_version = self.protocol_version;
        c.connection.protocol_version_fallback = !self.protocol_version_pinned;
        c.connection.authenticator = self.authenticator.clone();
        c.connection.connect_timeout = self.connect_timeout;
        c.connection.tcp_nodelay = self.tcp_nodelay;
        c.connection.tcp_keepalive = self.tcp_keepalive_interval;
        c.connection.tuning.write_coalescing = self.enable_write_coalescing;
        c.connection.tuning.write_coalescing_delay = match self.write_coalescing_delay {
            WriteCoalescingDelay::SmallNondeterministic => None,
            WriteCoalescingDelay::Milliseconds(ms) => Some(Duration::from_millis(ms.get())),
        };
        c.connection.tuning.heartbeat_interval = self.keepalive_interval;
        c.connection.tuning.heartbeat_timeout = self.keepalive_timeout;
        c.connection.tuning.unresponsive_after = self.unresponsive_node_after;
        // User requests are bounded per attempt by the session (through `Connection::send`);
        // this bounds the transport's own requests (`Connection::request`).
        c.connection.tuning.request_timeout = Some(self.internal_request_timeout);
        let max_in_flight = self.connection_max_in_flight.get();
        c.connection.tuning.max_in_flight = max_in_flight;
        // A waiting request waits for a stream id: no more ids than the limit keeps `Wait` to it.
        c.connection.tuning.max_streams = max_in_flight.min(transport::MAX_STREAMS);
        c.connection.tuning.backpressure = self.connection_backpressure;
        #[cfg(feature = "tls")]
        {
            c.connection.tls = self.tls_context.clone();
        }
        match self.connection_pool_size {
            PoolSize::PerShard(n) => {
                c.pool.connections_per_shard = n.get();
                c.pool.connections_per_host = n.get();
            }
            PoolSize::PerHost(n) => {
                c.pool.connections_per_shard = 1;
                c.pool.connections_per_host = n.get();
            }
        }
        c.pool.shard_aware = !self.disallow_shard_aware_port;
        c.pool.reconnect_policy.clone_from(&self.reconnect_policy);
        c.pool.source_port_range = (
            *self.shard_aware_local_port_range.0.start(),
            *self.shard_aware_local_port_range.0.end(),
        );
        c.connection.local_ip = self.local_ip_address;
        c.address_translator = self.address_translator.clone();
        c.fetch_schema = self.fetch_schema_metadata;
        c.keyspaces_to_fetch.clone_from(&self.keyspaces_to_fetch);
        c.metadata_refresh_interval = Some(self.cluster_metadata_refresh_interval);
        c.hostname_resolution_timeout = self.hostname_resolution_timeout;
        self.identity.apply(&mut c.connection);
        c.connection.tuning.metadata_server_timeout = self.metadata_request_serverside_timeout;
        c.node_filter = self.host_filter.clone().map(|filter| {
            transport::NodeFilter::new(move |peer: &transport::Peer| filter.accept(peer))
        });
        c
    }
}

impl Session {
    /// Connects to the cluster: opens a control connection to a known node, discovers the
    /// other nodes, opens the connection pools and, if configured, sets the keyspace.
    pub async fn connect(config: SessionConfig) -> Result<Self, NewSessionError> {
        if config.known_nodes.is_empty() {
            return Err(NewSessionError::EmptyKnownNodesList);
        }
        if let Some(ks) = &config.used_keyspace {
            validate_keyspace_name(ks).map_err(UseKeyspaceError::from)?;
        }
        let cluster = Cluster::connect(config.cluster_config())
            .await
            .map_err(|e| match e {
                NewClusterError::NoKnownNodes => NewSessionError::EmptyKnownNodesList,
                NewClusterError::Resolve { node, .. } => {
                    NewSessionError::FailedToResolveAnyHostname(vec![node])
                }
                NewClusterError::Metadata(m) => {
                    NewSessionError::MetadataError(MetadataError::Refresh(m))
                }
                other => NewSessionError::Connect(other),
            })?;
        let options = SessionOptions {
            schema_agreement_interval: config.schema_agreement_interval,
            schema_agreement_timeout: config.schema_agreement_timeout,
            auto_await_schema_agreement: config.schema_agreement_automatic_waiting,
            tracing_info_fetch_attempts: config.tracing_info_fetch_attempts.get(),
            tracing_info_fetch_interval: config.tracing_info_fetch_interval,
            tracing_info_fetch_consistency: config.tracing_info_fetch_consistency,
            unresponsive_node_after: config.unresponsive_node_after,
            request_throttler: config.request_throttler.clone(),
            timestamp_generator: config.timestamp_generator.clone(),
            refresh_metadata_on_auto_schema_agreement: config
                .refresh_metadata_on_auto_schema_agreement,
        };
        let session = Self::from_cluster(
            cluster,
            config.default_execution_profile_handle.clone(),
            options,
        );
        if let Some(ks) = &config.used_keyspace {
            session
                .use_keyspace(ks.clone(), config.keyspace_case_sensitive)
                .await?;
        }
        Ok(session)
    }
}

/// Builds a [`Session`]:
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use cql_session::client::session_builder::SessionBuilder;
///
/// let session = SessionBuilder::new()
///     .known_node("127.0.0.1:9042")
///     .user("cassandra", "cassandra")
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct SessionBuilder {
    /// The configuration built so far.
    pub config: SessionConfig,
}

impl SessionBuilder {
    /// A builder with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a contact point: `"host"`, `"host:port"` or `"ip:port"`.
    #[must_use]
    pub fn known_node(mut self, hostname: impl AsRef<str>) -> Self {
        self.config.add_known_node(hostname);
        self
    }

    /// Adds a contact point by address.
    #[must_use]
    pub fn known_node_addr(mut self, addr: SocketAddr) -> Self {
        self.config.add_known_node_addr(addr);
        self
    }

    /// Adds contact points.
    #[must_use]
    pub fn known_nodes(mut self, hostnames: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        for h in hostnames {
            self.config.add_known_node(h);
        }
        self
    }

    /// Adds contact points by address.
    #[must_use]
    pub fn known_nodes_addr(mut self, addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        for a in addrs {
            self.config.add_known_node_addr(a);
        }
        self
    }

    /// Authenticates with `PasswordAuthenticator` credentials.
    #[must_use]
    pub fn user(mut self, username: impl Into<String>, passwd: impl Into<String>) -> Self {
        self.config.authenticator = Some(Arc::new(PasswordAuthenticator::new(username, passwd)));
        self
    }

    /// Authenticates with a custom authenticator.
    #[must_use]
    pub fn authenticator_provider(mut self, provider: Arc<dyn AuthenticatorProvider>) -> Self {
        self.config.authenticator = Some(provider);
        self
    }

    /// Prefers this compression when the server supports it.
    #[must_use]
    pub fn compression(mut self, compression: Option<Compression>) -> Self {
        self.config.compression = compression;
        self
    }

    /// Offers at most this native protocol version; nodes that do not speak it are asked for
    /// the next lower one (v5 → v4 → v3). The default is v5.
    #[must_use]
    pub fn max_protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.config.protocol_version = version;
        self.config.protocol_version_pinned = false;
        self
    }

    /// Speaks exactly this native protocol version: a node that refuses it fails to connect
    /// (`ConnectionError::UnsupportedProtocolVersion`) rather than being asked for a lower one.
    #[must_use]
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.config.protocol_version = version;
        self.config.protocol_version_pinned = true;
        self
    }

    /// Sets the keyspace once connected; see [`Session::use_keyspace`].
    #[must_use]
    pub fn use_keyspace(mut self, keyspace_name: impl Into<String>, case_sensitive: bool) -> Self {
        self.config.used_keyspace = Some(keyspace_name.into());
        self.config.keyspace_case_sensitive = case_sensitive;
        self
    }

    /// The profile statements use unless they name another.
    #[must_use]
    pub fn default_execution_profile_handle(mut self, handle: ExecutionProfileHandle) -> Self {
        self.config.default_execution_profile_handle = handle;
        self
    }

    /// Limit for opening a connection.
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Limit for each of the driver's own requests (schema and topology reads, `USE`,
    /// `REGISTER`); default 10 s. See [`SessionConfig::internal_request_timeout`].
    #[must_use]
    pub fn internal_request_timeout(mut self, timeout: Duration) -> Self {
        self.config.internal_request_timeout = timeout;
        self
    }

    /// Connections per node or shard.
    #[must_use]
    pub fn pool_size(mut self, size: PoolSize) -> Self {
        self.config.connection_pool_size = size;
        self
    }

    /// Do not use Scylla's shard-aware port.
    #[must_use]
    pub fn disallow_shard_aware_port(mut self, disallow: bool) -> Self {
        self.config.disallow_shard_aware_port = disallow;
        self
    }

    /// `TCP_NODELAY`.
    #[must_use]
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.config.tcp_nodelay = nodelay;
        self
    }

    /// TCP keepalive idle time.
    #[must_use]
    pub fn tcp_keepalive_interval(mut self, interval: Duration) -> Self {
        self.config.tcp_keepalive_interval = Some(interval);
        self
    }

    /// Heartbeat interval of idle connections (`None` disables heartbeats).
    #[must_use]
    pub fn keepalive_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.keepalive_interval = interval;
        self
    }

    /// How fast a node that keeps its connections open but stops answering is taken out of
    /// query plans, and idempotent attempts waiting on it moved on (default 300 ms; `None`
    /// disables it); see [`SessionConfig::unresponsive_node_after`].
    #[must_use]
    pub fn unresponsive_node_after(mut self, after: Option<Duration>) -> Self {
        self.config.unresponsive_node_after = after;
        self
    }

    /// Whether to read the full schema (tables, columns, types; default on). Keyspaces and their
    /// replication are read either way, so token-aware routing does not depend on it.
    #[must_use]
    pub fn fetch_schema_metadata(mut self, fetch: bool) -> Self {
        self.config.fetch_schema_metadata = fetch;
        self
    }

    /// How often to poll schema versions while awaiting agreement.
    #[must_use]
    pub fn schema_agreement_interval(mut self, interval: Duration) -> Self {
        self.config.schema_agreement_interval = interval;
        self
    }

    /// How long to await schema agreement.
    #[must_use]
    pub fn schema_agreement_timeout(mut self, timeout: Duration) -> Self {
        self.config.schema_agreement_timeout = timeout;
        self
    }

    /// Whether to await schema agreement after DDL statements.
    #[must_use]
    pub fn auto_await_schema_agreement(mut self, enabled: bool) -> Self {
        self.config.schema_agreement_automatic_waiting = enabled;
        self
    }

    /// How many times to read a tracing session.
    #[must_use]
    pub fn tracing_info_fetch_attempts(mut self, attempts: NonZeroU32) -> Self {
        self.config.tracing_info_fetch_attempts = attempts;
        self
    }

    /// The pause between tracing session reads.
    #[must_use]
    pub fn tracing_info_fetch_interval(mut self, interval: Duration) -> Self {
        self.config.tracing_info_fetch_interval = interval;
        self
    }

    /// The consistency of tracing session reads.
    #[must_use]
    pub fn tracing_info_fetch_consistency(mut self, consistency: Consistency) -> Self {
        self.config.tracing_info_fetch_consistency = consistency;
        self
    }

    /// Rewrites the addresses of peers.
    #[must_use]
    pub fn address_translator(mut self, translator: Arc<dyn AddressTranslator>) -> Self {
        self.config.address_translator = Some(translator);
        self
    }

    /// Connects over TLS with these settings (`None`: plain TCP): a
    /// [`TlsConfig`](crate::tls::TlsConfig), or a rustls `ClientConfig` (plain or in an
    /// `Arc`), as the `scylla` crate takes. A bare `None` needs its type:
    /// `None::<TlsConfig>`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn tls_context(mut self, context: Option<impl Into<transport::TlsConfig>>) -> Self {
        self.config.tls_context = context.map(Into::into);
        self
    }

    /// Connects the session.
    pub async fn build(&self) -> Result<Session, NewSessionError> {
        Session::connect(self.config.clone()).await
    }

    // --- scylla 1.x options (issue 14) ---

    /// Sets the host filter: nodes it rejects get no connections and are left out of every
    /// query plan (and of control connection reconnects), while still listed in the cluster
    /// state. See [`crate::policies::host_filter`] for the filters provided.
    #[must_use]
    pub fn host_filter(mut self, filter: Arc<dyn HostFilter>) -> Self {
        self.config.host_filter = Some(filter);
        self
    }

    /// Sets the generator of client-side write timestamps: a statement or batch without its
    /// own timestamp (`set_timestamp`) is sent with the generator's as its default timestamp.
    /// Usually a
    /// [`MonotonicTimestampGenerator`](crate::policies::timestamp_generator::MonotonicTimestampGenerator).
    #[must_use]
    pub fn timestamp_generator(mut self, generator: Arc<dyn TimestampGenerator>) -> Self {
        self.config.timestamp_generator = Some(generator);
        self
    }

    /// Reads the full schema of these keyspaces only (with
    /// [`fetch_schema_metadata`](Self::fetch_schema_metadata) on); an empty list, the default,
    /// means every keyspace. The replication of every keyspace is still read, so token-aware
    /// routing works for the others too; only their tables are absent from the cluster state.
    #[must_use]
    pub fn keyspaces_to_fetch(
        mut self,
        keyspaces: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.config.keyspaces_to_fetch = keyspaces.into_iter().map(Into::into).collect();
        self
    }

    /// Whether a connection writes the requests queued on it together, in one `write` call
    /// (default on). Off, every request is written on its own: more system calls, and no
    /// waiting for other requests.
    #[must_use]
    pub fn write_coalescing(mut self, enable: bool) -> Self {
        self.config.enable_write_coalescing = enable;
        self
    }

    /// How long a connection with other requests in flight waits for more before a coalesced
    /// write; no effect with [`write_coalescing`](Self::write_coalescing) off.
    #[must_use]
    pub fn write_coalescing_delay(mut self, delay: WriteCoalescingDelay) -> Self {
        self.config.write_coalescing_delay = delay;
        self
    }

    /// How long a heartbeat (OPTIONS on an idle connection) may go unanswered before the
    /// connection counts as dead and is replaced (default 30 s). See
    /// [`keepalive_interval`](Self::keepalive_interval).
    #[must_use]
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.config.keepalive_timeout = timeout;
        self
    }

    /// Makes every connection from this local address (bound before connecting); `None`, the
    /// default, lets the system choose. Its family must match the nodes' addresses.
    #[must_use]
    pub fn local_ip_address(mut self, local_ip_address: Option<impl Into<IpAddr>>) -> Self {
        self.config.local_ip_address = local_ip_address.map(Into::into);
        self
    }

    /// The local ports shard-aware connections are made from (Scylla assigns the shard by
    /// source port); default [`ShardAwarePortRange::EPHEMERAL_PORT_RANGE`].
    #[must_use]
    pub fn shard_aware_local_port_range(mut self, port_range: ShardAwarePortRange) -> Self {
        self.config.shard_aware_local_port_range = port_range;
        self
    }
}

/// Throttling and backpressure: the per-connection in-flight limit and the session-wide
/// request throttler.
impl SessionBuilder {
    /// The most requests one connection of a pool carries at once (default 32,768); see
    /// [`SessionConfig::connection_max_in_flight`].
    #[must_use]
    pub fn connection_max_in_flight(mut self, limit: NonZeroUsize) -> Self {
        self.config.connection_max_in_flight = limit;
        self
    }

    /// What a request does on a connection at its in-flight limit: wait (the default) or fail
    /// fast; see [`SessionConfig::connection_backpressure`].
    #[must_use]
    pub fn connection_backpressure(mut self, backpressure: Backpressure) -> Self {
        self.config.connection_backpressure = backpressure;
        self
    }

    /// Throttles every user request through `throttler` (a
    /// [`ConcurrencyLimitingThrottler`](crate::policies::throttle::ConcurrencyLimitingThrottler),
    /// a [`RateLimitingThrottler`](crate::policies::throttle::RateLimitingThrottler) or your
    /// own); none by default. See [`crate::policies::throttle`].
    #[must_use]
    pub fn request_throttler(mut self, throttler: Arc<dyn RequestThrottler>) -> Self {
        self.config.request_throttler = Some(throttler);
        self
    }
}

mod metadata;
mod reconnect;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_aware_port_ranges_are_validated_as_scylla_does() {
        assert!(ShardAwarePortRange::new(1024..=1024).is_ok());
        assert!(ShardAwarePortRange::new(50000..=60000).is_ok());
        assert_eq!(
            ShardAwarePortRange::new(1023..=2000),
            Err(InvalidShardAwarePortRange)
        );
        assert_eq!(
            ShardAwarePortRange::new(RangeInclusive::new(3000, 2000)),
            Err(InvalidShardAwarePortRange)
        );
        assert_eq!(
            ShardAwarePortRange::default(),
            ShardAwarePortRange::EPHEMERAL_PORT_RANGE
        );
    }
}
