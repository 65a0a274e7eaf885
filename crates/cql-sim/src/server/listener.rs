//! The nodes' listeners: binding a node's ports, accepting (and TLS-accepting) connections,
//! and in-process connections, each handed to [`super::conn`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::clients::TlsFacts;
use super::conn;
use super::error::SimError;
use super::node::{ConnGuard, NodeShared, RECENT_CLIENTS, lock};
use super::state::ClusterInner;

/// Waits (at most 5 s each) for the listener tasks a stop aborted to end: their sockets are
/// closed then, so the node's ports refuse connections.
pub(crate) async fn closed(node: &NodeShared) {
    let old: Vec<_> = lock(&node.stopping).drain(..).collect();
    for h in old {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), h).await;
    }
}

/// Binds the listeners of `node` and starts accepting connections.
pub(crate) async fn start(
    node: &Arc<NodeShared>,
    cluster: &Arc<ClusterInner>,
) -> Result<(), SimError> {
    if node.is_up() {
        return Ok(());
    }
    if cluster.shut_down.load(Ordering::Acquire) {
        return Err(SimError::ShutDown);
    }
    // The previous listeners must be gone before their ports are bound again.
    closed(node).await;
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    let mut ports = vec![(node.port, false, None)];
    if let Some(p) = node.shard_aware_port {
        ports.push((p, true, None));
    }
    if let Some(tls) = &cluster.config.tls {
        ports.push((tls.port, false, Some(tls.acceptor.clone())));
        if let Some(p) = tls.shard_aware_port {
            ports.push((p, true, Some(tls.acceptor.clone())));
        }
    }
    for (port, shard_aware, tls) in ports {
        let addr = SocketAddr::new(node.ip, port);
        let listener = match TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(source) => {
                for h in &handles {
                    h.abort();
                }
                lock(&node.stopping).extend(handles);
                return Err(SimError::Bind { addr, source });
            }
        };
        let node = Arc::clone(node);
        let cluster = Arc::downgrade(cluster);
        handles.push(tokio::spawn(async move {
            accept_loop(listener, node, cluster, shard_aware, tls).await;
        }));
    }
    *lock(&node.listeners) = handles;
    node.up.store(true, Ordering::Release);
    Ok(())
}

/// How long a client gets to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn accept_loop(
    listener: TcpListener,
    node: Arc<NodeShared>,
    cluster: std::sync::Weak<ClusterInner>,
    shard_aware: bool,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            }
        };
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        if let Ok(mut recent) = node.recent_clients.lock() {
            if recent.len() == RECENT_CLIENTS {
                recent.pop_front();
            }
            recent.push_back(peer);
        }
        let shard = node.pick_shard(peer, shard_aware);
        let guard = ConnGuard::new(&node, shard);
        let epoch = node.epoch.subscribe();
        let node2 = Arc::clone(&node);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let (rd, wr) = stream.into_split();
                    conn::run((rd, wr), peer, cluster, node2, shard, epoch, guard).await;
                }
                Some(acceptor) => {
                    let accepted =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    match accepted {
                        Ok(Ok(tls)) => {
                            let mut guard = guard;
                            guard.tls = Some(TlsFacts::of(tls.get_ref().1));
                            let (rd, wr) = tokio::io::split(tls);
                            conn::run((rd, wr), peer, cluster, node2, shard, epoch, guard).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// Buffer size of each direction of an in-process connection.
const IN_PROCESS_BUFFER: usize = 256 * 1024;

/// Opens an in-process connection to `node` (on `shard`, or the next shard in turn): the
/// client's end of a `tokio::io::duplex` pair whose other end the node serves exactly like an
/// accepted TCP connection. `None` when the node is down.
pub(crate) fn connect_in_process(
    node: &Arc<NodeShared>,
    cluster: Arc<ClusterInner>,
    shard: Option<u32>,
) -> Option<tokio::io::DuplexStream> {
    if !node.is_up() {
        return None;
    }
    // No socket: the peer is named after the loopback address, port 0.
    let peer = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), 0);
    let shard = match shard {
        Some(s) => s % node.shards,
        None => node.pick_shard(peer, false),
    };
    let guard = ConnGuard::new(node, shard);
    let (client, server) = tokio::io::duplex(IN_PROCESS_BUFFER);
    let epoch = node.epoch.subscribe();
    let node = Arc::clone(node);
    tokio::spawn(async move {
        let (rd, wr) = tokio::io::split(server);
        conn::run((rd, wr), peer, cluster, node, shard, epoch, guard).await;
    });
    Some(client)
}
