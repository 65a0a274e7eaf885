//! [`ClusterInner`], the state shared by the nodes and connections of a cluster: settings,
//! the node list, the data behind the engine's lock, the event channel, and the ring.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use proto::response::Event;
use tokio::sync::broadcast;

use crate::server::coordinator::data_plane::DataPlane;
use crate::server::coordinator::streaming::Stream;
use crate::server::node::{NodeShared, lock};
use crate::server::topology::NodeTopo;

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
    /// Whether SUPPORTED advertises Scylla's extensions (off: a Cassandra-like node).
    pub(crate) scylla_extensions: bool,
    /// The highest native protocol version served (v3 is the lowest).
    pub(crate) max_protocol_version: proto::frame::ProtocolVersion,
    /// TLS on the SSL ports, when configured.
    pub(crate) tls: Option<crate::server::tls::TlsSetup>,
    /// Whether new NetworkTopologyStrategy keyspaces use tablets (Scylla's `enable_tablets`).
    pub(crate) tablets_by_default: bool,
    /// `tombstone_warn_threshold` and `tombstone_failure_threshold` (Cassandra personality).
    pub(crate) tombstone_thresholds: (usize, usize),
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
    pub(crate) data: Mutex<DataPlane>,
    pub(crate) events: broadcast::Sender<ClusterEvent>,
    /// Set by [`crate::SimCluster::shutdown`]: no node starts again.
    pub(crate) shut_down: std::sync::atomic::AtomicBool,
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

    /// The ring's nodes: every member, up or down.
    pub(crate) fn ring_members(&self) -> Vec<NodeTopo> {
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

    /// Streams a topology change's data to the ring of `members`, then makes that ring
    /// current ([`Stream`]): in bounded steps that release the data lock and yield to the
    /// runtime in between, so requests and timers keep running while a large data set moves.
    pub(crate) async fn stream_to(&self, members: Vec<NodeTopo>) {
        let mut stream = Stream::begin(&mut lock(&self.data), members);
        while !stream.step(&mut lock(&self.data)) {
            tokio::task::yield_now().await;
        }
        stream.finish(&mut lock(&self.data));
    }

    /// [`ClusterInner::stream_to`] for a synchronous caller: the same bounded steps, run on
    /// this thread (handing the runtime worker's other tasks to the other workers first, when
    /// called on a multi-threaded runtime).
    pub(crate) fn stream_to_blocking(&self, members: Vec<NodeTopo>) {
        let run = || {
            let mut stream = Stream::begin(&mut lock(&self.data), members);
            while !stream.step(&mut lock(&self.data)) {
                std::thread::yield_now();
            }
            stream.finish(&mut lock(&self.data));
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(run);
        } else {
            run();
        }
    }

    /// Rebuilds the token ring from the current members at once (no stream in steps).
    pub(crate) fn rebuild_ring(&self) {
        let members = self.ring_members();
        let mut data = lock(&self.data);
        data.set_ring(members);
        data.stream();
    }
}
