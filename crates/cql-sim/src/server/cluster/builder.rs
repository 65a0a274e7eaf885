//! [`SimClusterBuilder`]: the nodes, data centres, racks, shards, ports, authentication and
//! timings of a cluster, and starting it on free loopback addresses.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use proto::frame::ProtocolVersion;
use tokio::sync::broadcast;

use super::SimCluster;
use crate::server::coordinator::data_plane::DataPlane;
use crate::server::error::SimError;
use crate::server::listener;
use crate::server::node::{NodeShared, NodeSpec, lock};
use crate::server::state::{ClusterInner, Config};
use crate::server::tls::SimTls;
use crate::server::topology;

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
    scylla_extensions: bool,
    max_protocol_version: Option<ProtocolVersion>,
    tls: Option<Arc<SimTls>>,
    tablets_by_default: bool,
    tombstone_thresholds: (usize, usize),
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
            scylla_extensions: true,
            max_protocol_version: None,
            tls: None,
            tablets_by_default: false,
            tombstone_thresholds: (1_000, 100_000),
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

    /// Requires PasswordAuthenticator authentication (with CassandraAuthorizer permission
    /// checks), and creates this superuser role, the way Cassandra creates
    /// `cassandra`/`cassandra`; further roles come from `CREATE ROLE`.
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

    /// Answers as Cassandra does, without Scylla's protocol extensions: SUPPORTED has no
    /// `SCYLLA_*` key (no shard information, no shard-aware port, no LWT mark), and each node
    /// is one shard. Drivers then see a plain Cassandra node.
    pub fn without_scylla_extensions(mut self) -> Self {
        self.scylla_extensions = false;
        self.shards = 1;
        self.shard_aware_port = None;
        self.lwt_mark = None;
        self
    }

    /// The highest native protocol version the nodes serve. By default the personality's:
    /// v4 as Scylla (Scylla serves v3 and v4 only), v5 without the Scylla extensions (as
    /// Cassandra 4.0+). A version above it is refused the way that server refuses it; v4 on a
    /// Cassandra-like node answers v5 as Cassandra 3.11 does (v5 is a beta there).
    pub fn max_protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.max_protocol_version = Some(version);
        self
    }

    /// Serves TLS on SSL ports besides the plain ones, as Scylla with `client_encryption_options`
    /// and `native_transport_port_ssl` (see [`SimTls`]).
    pub fn tls(mut self, tls: SimTls) -> Self {
        self.tls = Some(Arc::new(tls));
        self
    }

    /// Makes new NetworkTopologyStrategy keyspaces tablet-based unless they say
    /// `tablets = {'enabled': false}`, as Scylla's `enable_tablets: true` does (default false:
    /// only keyspaces created `WITH tablets = {'enabled': true}` or `{'initial': N}` use
    /// tablets). Ignored without the Scylla extensions: Cassandra has no tablets.
    pub fn tablets_by_default(mut self, on: bool) -> Self {
        self.tablets_by_default = on;
        self
    }

    /// Cassandra's `tombstone_warn_threshold` and `tombstone_failure_threshold` (default 1,000
    /// and 100,000): a read scanning more tombstones than the first answers with a client
    /// warning, more than the second fails with READ_FAILURE (`READ_TOMBSTONE_OVERWHELM`).
    /// Only the Cassandra personality ([`SimClusterBuilder::without_scylla_extensions`]):
    /// Scylla logs these reads instead.
    pub fn tombstone_thresholds(mut self, warn: usize, fail: usize) -> Self {
        self.tombstone_thresholds = (warn, fail);
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
        // The certificate names every address a node of this subnet can get.
        let subnet: Vec<std::net::IpAddr> = (0..=250u32)
            .map(|i| Ipv4Addr::from(u32::from(base).wrapping_add(i)).into())
            .collect();
        let tls = self.tls.as_ref().map(|t| t.build(&subnet)).transpose()?;
        let config = Config {
            tls,
            cluster_name: self.cluster_name.clone(),
            // A node without Scylla's extensions is not sharded.
            shards: if self.scylla_extensions {
                self.shards
            } else {
                1
            },
            vnodes: self.vnodes,
            seed,
            port: self.port,
            shard_aware_port: self.shard_aware_port,
            auth: self.auth.clone(),
            schema_agreement_delay: self.schema_agreement_delay,
            max_frame_size: self.max_frame_size,
            base,
            lwt_mark: self.lwt_mark,
            scylla_extensions: self.scylla_extensions,
            max_protocol_version: self
                .max_protocol_version
                .unwrap_or(if self.scylla_extensions {
                    ProtocolVersion::V4
                } else {
                    ProtocolVersion::V5
                }),
            tablets_by_default: self.tablets_by_default,
            tombstone_thresholds: self.tombstone_thresholds,
        };
        let mut data = DataPlane::new();
        if self.scylla_extensions {
            data.as_scylla();
        } else {
            data.as_cassandra();
        }
        data.configure_tablets(seed, config.shards);
        if let Some((user, pass)) = &self.auth {
            data.auth_mut().enable_with_superuser(user, pass);
        }
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
            shut_down: std::sync::atomic::AtomicBool::new(false),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        });
        inner.rebuild_ring();
        lock(&inner.data).ensure_stores(nodes.len());
        for n in &nodes {
            if let Err(e) = listener::start(n, &inner).await {
                for m in &nodes {
                    m.stop();
                }
                return Err(e);
            }
        }
        Ok(SimCluster { inner })
    }
}
