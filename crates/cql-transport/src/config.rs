//! Configuration of one connection: negotiation (compression, auth, keyspace, events), socket
//! options and the driver's mechanics.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use proto::frame::{Compression, ProtocolVersion};
use proto::response::Event;
use tokio::sync::mpsc;

use crate::auth::AuthenticatorProvider;
use crate::health::{DEFAULT_UNRESPONSIVE_AFTER, NodeHealth};
use crate::stream_ids::MAX_STREAMS;

/// What a request does when its connection already has the maximum number of requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backpressure {
    /// Wait (within the request timeout) until a stream id frees up.
    #[default]
    Wait,
    /// Fail at once with [`crate::ConnectionError::TooManyInFlight`].
    Error,
}

/// Tuning of the mechanics of one connection (no protocol negotiation here).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionTuning {
    /// Stream ids available, at most [`MAX_STREAMS`] (32,768).
    pub max_streams: usize,
    /// Maximum requests in flight through the handle (submitted, not resolved); the default is
    /// the number of stream ids.
    pub max_in_flight: usize,
    /// What happens above `max_in_flight`.
    pub backpressure: Backpressure,
    /// Capacity of the bounded request queue between handles and driver.
    pub queue_capacity: usize,
    /// Drain every queued request into one buffer and write it with one call.
    pub write_coalescing: bool,
    /// With write coalescing and other requests in flight, how long to wait for more requests
    /// before writing: `None` (the default) gives other tasks a few scheduler turns; a
    /// duration sleeps that long (the connection reads nothing meanwhile).
    pub write_coalescing_delay: Option<Duration>,
    /// Stop draining the queue once this many bytes wait to be written.
    pub write_buffer_limit: usize,
    /// Initial capacity of the reusable read buffer.
    pub read_buffer_size: usize,
    /// The largest frame body accepted from the server (larger breaks the connection), and
    /// sent to it (a larger request fails with `ConnectionError::RequestTooLarge`, unsent).
    pub max_frame_size: usize,
    /// Close the connection once more than this many timed-out requests hold stream ids.
    pub max_orphans: usize,
    /// Send an OPTIONS heartbeat after this long without reading anything; `None` disables.
    pub heartbeat_interval: Option<Duration>,
    /// How long a heartbeat may take before the connection counts as dead.
    pub heartbeat_timeout: Duration,
    /// Timeout of each request unless the call gives one; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// With requests waiting and nothing read for this long, send an OPTIONS probe; if nothing
    /// is read within the same time again, the connection counts as unresponsive (it stays
    /// open) until it reads anything, and its node drops to the end of query plans. `None`
    /// disables the probe. See [`crate::health`].
    pub unresponsive_after: Option<Duration>,
    /// On a Scylla node, the server-side timeout of the transport's own metadata reads,
    /// appended as `USING TIMEOUT` (a Scylla extension; Cassandra has none, so nothing is
    /// appended there). Default 2 s, as the `scylla` crate's; `None` appends nothing.
    pub metadata_server_timeout: Option<Duration>,
    /// The node's shared health, set by the pool for the connections it opens.
    pub(crate) node_health: Option<Arc<NodeHealth>>,
}

impl Default for ConnectionTuning {
    fn default() -> Self {
        Self {
            max_streams: MAX_STREAMS,
            max_in_flight: MAX_STREAMS,
            backpressure: Backpressure::Wait,
            queue_capacity: 2048,
            write_coalescing: true,
            write_coalescing_delay: None,
            write_buffer_limit: 1024 * 1024,
            read_buffer_size: 64 * 1024,
            max_frame_size: proto::frame::DEFAULT_MAX_FRAME_SIZE,
            max_orphans: 1024,
            heartbeat_interval: Some(Duration::from_secs(30)),
            heartbeat_timeout: Duration::from_secs(30),
            request_timeout: Some(Duration::from_secs(30)),
            unresponsive_after: Some(DEFAULT_UNRESPONSIVE_AFTER),
            metadata_server_timeout: Some(Duration::from_secs(2)),
            node_health: None,
        }
    }
}

setters! {
    ConnectionTuning {
        max_streams: usize,
        max_in_flight: usize,
        backpressure: Backpressure,
        queue_capacity: usize,
        write_coalescing: bool,
        write_coalescing_delay: Option<Duration>,
        write_buffer_limit: usize,
        read_buffer_size: usize,
        max_frame_size: usize,
        max_orphans: usize,
        heartbeat_interval: Option<Duration>,
        heartbeat_timeout: Duration,
        request_timeout: Option<Duration>,
        unresponsive_after: Option<Duration>,
        metadata_server_timeout: Option<Duration>,
    }
}

/// Everything needed to open and handshake a connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// The highest protocol version offered. A server that does not speak it answers the first
    /// request with a protocol error; the connection is then retried one version lower (v5 →
    /// v4 → v3) unless [`Self::protocol_version_fallback`] is off.
    pub protocol_version: ProtocolVersion,
    /// Whether a server's "unsupported protocol version" error makes the connection retry with
    /// the next lower version (on by default). Off pins [`Self::protocol_version`].
    pub protocol_version_fallback: bool,
    /// Preferred compression; used only when the server offers it in SUPPORTED.
    pub compression: Option<Compression>,
    /// Called when the server demands authentication.
    pub authenticator: Option<Arc<dyn AuthenticatorProvider>>,
    /// A keyspace to `USE` right after the handshake.
    pub keyspace: Option<String>,
    /// If set, the connection REGISTERs for `event_types` and pushes EVENTs here (a full
    /// channel drops events with a warning; the driver never waits on it).
    pub event_sender: Option<mpsc::Sender<Event>>,
    /// The event types to register for when `event_sender` is set.
    pub event_types: Vec<String>,
    /// Enable the Scylla protocol extensions the server offers (LWT mark, rate-limit error,
    /// tablets routing).
    pub scylla_extensions: bool,
    /// `DRIVER_NAME` sent in STARTUP.
    pub driver_name: String,
    /// `DRIVER_VERSION` sent in STARTUP.
    pub driver_version: String,
    /// `APPLICATION_NAME`, `APPLICATION_VERSION` and `CLIENT_ID` sent in STARTUP, when set.
    pub application: ApplicationIdentity,
    /// Limit for TCP connect plus handshake.
    pub connect_timeout: Duration,
    /// `TCP_NODELAY` (on by default: we coalesce writes ourselves).
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time; `None` leaves keepalive off.
    pub tcp_keepalive: Option<Duration>,
    /// The local address sockets are bound to before connecting; `None` lets the system choose.
    pub local_ip: Option<IpAddr>,
    /// Mechanics of the driver task (stream ids, coalescing, orphans, heartbeats, timeouts).
    pub tuning: ConnectionTuning,
    /// TLS settings; `None` means plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            protocol_version: ProtocolVersion::V5,
            protocol_version_fallback: true,
            compression: None,
            authenticator: None,
            keyspace: None,
            event_sender: None,
            event_types: vec![
                "TOPOLOGY_CHANGE".into(),
                "STATUS_CHANGE".into(),
                "SCHEMA_CHANGE".into(),
            ],
            scylla_extensions: true,
            driver_name: "cql-driver".into(),
            driver_version: env!("CARGO_PKG_VERSION").into(),
            application: ApplicationIdentity::default(),
            connect_timeout: Duration::from_secs(5),
            tcp_nodelay: true,
            tcp_keepalive: None,
            local_ip: None,
            tuning: ConnectionTuning::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

setters! {
    ConnectionConfig {
        protocol_version: ProtocolVersion,
        protocol_version_fallback: bool,
        compression: Option<Compression>,
        authenticator: Option<Arc<dyn AuthenticatorProvider>>,
        keyspace: Option<String>,
        event_sender: Option<mpsc::Sender<Event>>,
        event_types: Vec<String>,
        scylla_extensions: bool,
        driver_name: String,
        driver_version: String,
        application: ApplicationIdentity,
        connect_timeout: Duration,
        tcp_nodelay: bool,
        tcp_keepalive: Option<Duration>,
        local_ip: Option<IpAddr>,
        tuning: ConnectionTuning,
        #[cfg(feature = "tls")]
        tls: Option<crate::tls::TlsConfig>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_change_only_their_field() {
        let config = ConnectionConfig::default()
            .keyspace(Some("ks".into()))
            .tcp_nodelay(false)
            .tuning(
                ConnectionTuning::default()
                    .request_timeout(None)
                    .max_orphans(7),
            );
        assert_eq!(config.keyspace.as_deref(), Some("ks"));
        assert!(!config.tcp_nodelay);
        assert_eq!(config.tuning.request_timeout, None);
        assert_eq!(config.tuning.max_orphans, 7);
        let default = ConnectionConfig::default();
        assert_eq!(config.connect_timeout, default.connect_timeout);
        assert_eq!(config.driver_name, default.driver_name);
        assert_eq!(config.tuning.max_streams, default.tuning.max_streams);
    }
}

/// What a client says about the application in STARTUP, beyond the driver's name and version
/// (servers show it with the connection: `system_views.clients`, `nodetool clientstats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplicationIdentity {
    /// `APPLICATION_NAME`.
    pub name: Option<String>,
    /// `APPLICATION_VERSION`.
    pub version: Option<String>,
    /// `CLIENT_ID`.
    pub client_id: Option<String>,
}
