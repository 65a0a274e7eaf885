//! Configuration of one connection: negotiation (compression, auth, keyspace, events), socket
//! options and the driver's mechanics.

use std::sync::Arc;
use std::time::Duration;

use proto::frame::{Compression, ProtocolVersion};
use proto::response::Event;
use tokio::sync::mpsc;

use crate::auth::AuthenticatorProvider;
use crate::connection::ConnectionTuning;

/// Everything needed to open and handshake a connection.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// The protocol version to speak (only v4 is implemented; the field lets v5 slot in).
    pub protocol_version: ProtocolVersion,
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
    /// Limit for TCP connect plus handshake.
    pub connect_timeout: Duration,
    /// `TCP_NODELAY` (on by default: we coalesce writes ourselves).
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time; `None` leaves keepalive off.
    pub tcp_keepalive: Option<Duration>,
    /// Mechanics of the driver task (stream ids, coalescing, orphans, heartbeats, timeouts).
    pub tuning: ConnectionTuning,
    /// TLS settings; `None` means plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            protocol_version: ProtocolVersion::V4,
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
            connect_timeout: Duration::from_secs(5),
            tcp_nodelay: true,
            tcp_keepalive: None,
            tuning: ConnectionTuning::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

setters! {
    ConnectionConfig {
        protocol_version: ProtocolVersion,
        compression: Option<Compression>,
        authenticator: Option<Arc<dyn AuthenticatorProvider>>,
        keyspace: Option<String>,
        event_sender: Option<mpsc::Sender<Event>>,
        event_types: Vec<String>,
        scylla_extensions: bool,
        driver_name: String,
        driver_version: String,
        connect_timeout: Duration,
        tcp_nodelay: bool,
        tcp_keepalive: Option<Duration>,
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
