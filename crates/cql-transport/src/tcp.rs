//! Opening TCP connections: `TCP_NODELAY`, keepalive, and an optional chosen local source port
//! (bound before connecting) for Scylla's shard-aware port.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpSocket, TcpStream};

use proto::frame::ProtocolVersion;

use crate::config::ConnectionConfig;
use crate::connection::{Connection, ConnectionDriver};
use crate::error::ConnectionError;

/// Opens a TCP stream to `addr`, from `source_port` if given, on the configured local address
/// (the unspecified address when none).
pub(crate) async fn tcp_connect(
    addr: SocketAddr,
    source_port: Option<u16>,
    config: &ConnectionConfig,
) -> Result<TcpStream, ConnectionError> {
    let err = |e: io::Error| ConnectionError::Connect {
        addr,
        source: Arc::new(e),
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    if source_port.is_some() || config.local_ip.is_some() {
        let ip = config.local_ip.unwrap_or(if addr.is_ipv4() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        });
        // Port 0: the system picks one, on the configured address.
        let local = SocketAddr::new(ip, source_port.unwrap_or(0));
        if source_port.is_some() {
            // The port may have carried a connection a moment ago (a refused protocol version
            // is retried from the same port): allow binding over its closing socket.
            socket.set_reuseaddr(true).map_err(err)?;
        }
        socket.bind(local).map_err(err)?;
    }
    let stream = socket.connect(addr).await.map_err(err)?;
    stream.set_nodelay(config.tcp_nodelay).map_err(err)?;
    if let Some(idle) = config.tcp_keepalive {
        let ka = socket2::TcpKeepalive::new().with_time(idle);
        socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&ka)
            .map_err(err)?;
    }
    Ok(stream)
}

/// Whether a connect error means "that local port is taken; try another".
pub(crate) fn is_port_in_use(e: &ConnectionError) -> bool {
    matches!(e, ConnectionError::Connect { source, .. }
        if matches!(source.kind(), io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable))
}

impl Connection {
    /// Connects over TCP (and TLS when configured), handshakes, and spawns the driver task.
    pub async fn connect(
        addr: SocketAddr,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        Self::connect_from(addr, None, config).await
    }

    /// Like [`Self::connect`] from a chosen local port (used for Scylla's shard-aware port).
    pub async fn connect_from(
        addr: SocketAddr,
        source_port: Option<u16>,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        use tracing::Instrument;
        let span = tracing::debug_span!("connect", %addr, ?source_port);
        Self::connect_inner(addr, source_port, config)
            .instrument(span)
            .await
    }

    async fn connect_inner(
        addr: SocketAddr,
        source_port: Option<u16>,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        let (conn, driver) = open_tcp(addr, source_port, config).await?;
        tokio::spawn(driver);
        Ok(conn)
    }
}

/// TCP (+TLS) connect and handshake, asking again one version lower while the server refuses
/// the offered protocol version (see [`with_version_fallback`]); the driver is returned
/// unspawned.
pub(crate) async fn open_tcp(
    addr: SocketAddr,
    source_port: Option<u16>,
    config: &ConnectionConfig,
) -> Result<(Connection, ConnectionDriver), ConnectionError> {
    let mut retry = false;
    with_version_fallback(config, |c| {
        let after_refusal = std::mem::replace(&mut retry, true);
        async move {
            let mut busy = 0;
            loop {
                match open_tcp_once(addr, source_port, &c).await {
                    // The refused connection's socket may hold the chosen port for a moment.
                    Err(e) if after_refusal && is_port_in_use(&e) && busy < PORT_REUSE_TRIES => {
                        busy += 1;
                        tokio::time::sleep(PORT_REUSE_PAUSE).await;
                    }
                    other => return other,
                }
            }
        }
    })
    .await
}

/// How often a connection retried one version lower from the same source port waits for the
/// refused connection to release it, and how long each wait is.
const PORT_REUSE_TRIES: u32 = 10;
const PORT_REUSE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs `open` with `config`, and again with the next lower protocol version (v5 → v4 → v3) for
/// as long as the server refuses the one offered, on a new connection each time (servers close
/// after the refusal), unless the version is pinned
/// ([`ConnectionConfig::protocol_version_fallback`] off).
pub(crate) async fn with_version_fallback<T, F, Fut>(
    config: &ConnectionConfig,
    mut open: F,
) -> Result<T, ConnectionError>
where
    F: FnMut(ConnectionConfig) -> Fut,
    Fut: Future<Output = Result<T, ConnectionError>>,
{
    let mut attempt = config.clone();
    loop {
        match open(attempt.clone()).await {
            Err(ConnectionError::UnsupportedProtocolVersion { offered, message })
                if let Some(lower) = fallback_version(&attempt, offered) =>
            {
                tracing::debug!(%offered, %lower, %message, "protocol version refused; retrying lower");
                attempt.protocol_version = lower;
            }
            other => return other,
        }
    }
}

/// The version to offer next after `offered` was refused, unless `config` pins its version or
/// `offered` is already the lowest spoken (v3).
pub(crate) fn fallback_version(
    config: &ConnectionConfig,
    offered: ProtocolVersion,
) -> Option<ProtocolVersion> {
    (config.protocol_version_fallback && offered > ProtocolVersion::V3)
        .then(|| ProtocolVersion(offered.0 - 1))
}

/// One TCP (+TLS) connect and handshake at the configured version.
pub(crate) async fn open_tcp_once(
    addr: SocketAddr,
    source_port: Option<u16>,
    config: &ConnectionConfig,
) -> Result<(Connection, ConnectionDriver), ConnectionError> {
    let limit = config.connect_timeout;
    let stream = tokio::time::timeout(limit, tcp_connect(addr, source_port, config))
        .await
        .map_err(|_| ConnectionError::ConnectTimeout(limit))??;
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        let stream = tls.connect(addr, stream).await?;
        return Connection::open_with_peer(stream, config, Some(addr)).await;
    }
    Connection::open_with_peer(stream, config, Some(addr)).await
}
