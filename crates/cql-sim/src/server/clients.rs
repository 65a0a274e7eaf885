//! The live client connections of one node, as real servers list them in
//! `system_views.clients` (Cassandra 4.0+) and `system.clients` (Scylla): registered when a
//! connection is served, updated by its handshake, USE and every request, and removed when it
//! closes (however it closes: the registration is dropped with the connection).
//!
//! The per-request update is one relaxed atomic increment; the other facts change only at
//! STARTUP, AUTH_RESPONSE and USE, under the entry's own lock.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use proto::CqlValue;

/// Locks a mutex, ignoring poisoning (a panicked holder leaves plain data behind).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a connection is in its handshake, as `connection_stage` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionStage {
    /// Connected; no STARTUP answered yet.
    Established,
    /// STARTUP was answered with AUTHENTICATE; the client has not logged in yet.
    Authenticating,
    /// The connection takes requests (READY or AUTH_SUCCESS sent).
    Ready,
}

impl ConnectionStage {
    /// The name both servers write in `connection_stage` (`established`, `authenticating`,
    /// `ready`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Established => "established",
            Self::Authenticating => "authenticating",
            Self::Ready => "ready",
        }
    }
}

/// The TLS facts of an encrypted connection, named as Java's `SSLSession` names them
/// (Cassandra reads `ssl_protocol` and `ssl_cipher_suite` from it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFacts {
    /// The negotiated protocol, e.g. `TLSv1.3`.
    pub protocol: Option<String>,
    /// The negotiated cipher suite, e.g. `TLS_AES_256_GCM_SHA384`.
    pub cipher_suite: Option<String>,
}

impl TlsFacts {
    /// The facts of an accepted rustls connection.
    pub(crate) fn of(conn: &rustls::ServerConnection) -> Self {
        // rustls names versions `TLSv1_3` and TLS 1.3 suites `TLS13_…`; Java (and the IANA
        // registry, for 1.3) write `TLSv1.3` and `TLS_…`.
        let protocol = conn
            .protocol_version()
            .and_then(|v| v.as_str())
            .map(|s| s.replace('_', "."));
        let cipher_suite = conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(|s| match s.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => s.to_owned(),
            });
        Self {
            protocol,
            cipher_suite,
        }
    }
}

/// One live client connection of a node, as [`NodeHandle::clients`] reports it: the facts
/// behind its row of `system_views.clients` (Cassandra flavour) or `system.clients` (Scylla).
///
/// [`NodeHandle::clients`]: crate::NodeHandle::clients
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The client's address and source port (`127.0.0.1:0` for in-process connections).
    pub addr: SocketAddr,
    /// The shard serving the connection (`shard_id` in Scylla's table).
    pub shard: u32,
    /// Where the connection is in its handshake.
    pub stage: ConnectionStage,
    /// The protocol version of the client's latest frame (`None` before the first frame).
    pub protocol_version: Option<u8>,
    /// Every STARTUP option, in the client's order (empty before STARTUP).
    pub startup_options: Vec<(String, String)>,
    /// The `DRIVER_NAME` STARTUP option.
    pub driver_name: Option<String>,
    /// The `DRIVER_VERSION` STARTUP option.
    pub driver_version: Option<String>,
    /// The user as the server's table shows it: the role logged in with AUTH_RESPONSE;
    /// `anonymous` while authentication is off, and in Scylla's table also before login;
    /// `None` before login with authentication on (Cassandra).
    pub username: Option<String>,
    /// The keyspace of the connection's last successful USE.
    pub keyspace: Option<String>,
    /// Requests received on the connection (every frame, handshake included).
    pub request_count: u64,
    /// The TLS facts; `None` for an unencrypted connection.
    pub tls: Option<TlsFacts>,
}

/// The facts that change at handshake and USE.
#[derive(Debug)]
struct Mutable {
    stage: ConnectionStage,
    startup_options: Vec<(String, String)>,
    username: Option<String>,
    keyspace: Option<String>,
}

/// One registered connection.
#[derive(Debug)]
struct Entry {
    addr: SocketAddr,
    shard: u32,
    tls: Option<TlsFacts>,
    /// 0 until the first frame.
    protocol_version: AtomicU8,
    requests: AtomicU64,
    state: Mutex<Mutable>,
}

/// The live connections of one node, by registration number (so they list in the order they
/// connected).
#[derive(Debug, Default)]
pub(crate) struct ClientRegistry {
    next: AtomicU64,
    live: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

impl ClientRegistry {
    /// Registers a connection; it stays listed until the returned registration is dropped.
    /// `username` is what the table shows before any login (see [`ClientInfo::username`]).
    pub(crate) fn register(
        self: &Arc<Self>,
        addr: SocketAddr,
        shard: u32,
        tls: Option<TlsFacts>,
        username: Option<String>,
    ) -> ClientRegistration {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            addr,
            shard,
            tls,
            protocol_version: AtomicU8::new(0),
            requests: AtomicU64::new(0),
            state: Mutex::new(Mutable {
                stage: ConnectionStage::Established,
                startup_options: Vec::new(),
                username,
                keyspace: None,
            }),
        });
        lock(&self.live).insert(id, Arc::clone(&entry));
        ClientRegistration {
            registry: Arc::clone(self),
            id,
            entry,
        }
    }

    /// The live connections, in the order they connected.
    pub(crate) fn snapshot(&self) -> Vec<ClientInfo> {
        let entries: Vec<Arc<Entry>> = lock(&self.live).values().cloned().collect();
        entries.iter().map(|e| e.info()).collect()
    }

    /// Drops every entry (the node stopped: its connections are closing).
    pub(crate) fn clear(&self) {
        lock(&self.live).clear();
    }
}

impl Entry {
    fn info(&self) -> ClientInfo {
        let s = lock(&self.state);
        let option = |name: &str| {
            s.startup_options
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let version = self.protocol_version.load(Ordering::Relaxed);
        ClientInfo {
            addr: self.addr,
            shard: self.shard,
            stage: s.stage,
            protocol_version: (version != 0).then_some(version),
            startup_options: s.startup_options.clone(),
            driver_name: option("DRIVER_NAME"),
            driver_version: option("DRIVER_VERSION"),
            username: s.username.clone(),
            keyspace: s.keyspace.clone(),
            request_count: self.requests.load(Ordering::Relaxed),
            tls: self.tls.clone(),
        }
    }
}

/// A connection's entry in its node's [`ClientRegistry`]: updates it, and removes it when
/// dropped.
#[derive(Debug)]
pub(crate) struct ClientRegistration {
    registry: Arc<ClientRegistry>,
    id: u64,
    entry: Arc<Entry>,
}

impl ClientRegistration {
    /// Counts a request frame of `version` (the hot path: two relaxed atomics).
    pub(crate) fn request(&self, version: u8) {
        self.entry.requests.fetch_add(1, Ordering::Relaxed);
        self.entry
            .protocol_version
            .store(version & 0x7f, Ordering::Relaxed);
    }

    /// Records the STARTUP options.
    pub(crate) fn startup(&self, options: Vec<(String, String)>) {
        lock(&self.entry.state).startup_options = options;
    }

    /// Moves the connection to `stage`.
    pub(crate) fn set_stage(&self, stage: ConnectionStage) {
        lock(&self.entry.state).stage = stage;
    }

    /// Records a successful login: the connection is ready and shows `role`.
    pub(crate) fn logged_in(&self, role: &str) {
        let mut s = lock(&self.entry.state);
        s.username = Some(role.to_owned());
        s.stage = ConnectionStage::Ready;
    }

    /// Records the keyspace of a successful USE.
    pub(crate) fn set_keyspace(&self, keyspace: &str) {
        lock(&self.entry.state).keyspace = Some(keyspace.to_owned());
    }
}

impl Drop for ClientRegistration {
    fn drop(&mut self) {
        lock(&self.registry.live).remove(&self.id);
    }
}

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_owned())
}

fn opt_text(s: Option<&str>) -> Option<CqlValue> {
    s.map(text)
}

/// The rows of the node's clients table: Scylla's `system.clients` (`scylla`) or Cassandra's
/// `system_views.clients`, one per live connection; absent values are null.
pub(crate) fn rows(clients: &[ClientInfo], scylla: bool) -> Vec<Vec<(String, CqlValue)>> {
    clients
        .iter()
        .map(|c| {
            let mut row: Vec<(&str, Option<CqlValue>)> = vec![
                ("address", Some(CqlValue::Inet(c.addr.ip()))),
                ("port", Some(CqlValue::Int(i32::from(c.addr.port())))),
                ("connection_stage", Some(text(c.stage.as_str()))),
                ("driver_name", opt_text(c.driver_name.as_deref())),
                ("driver_version", opt_text(c.driver_version.as_deref())),
                (
                    "protocol_version",
                    c.protocol_version.map(|v| CqlValue::Int(i32::from(v))),
                ),
                ("ssl_enabled", Some(CqlValue::Boolean(c.tls.is_some()))),
                (
                    "ssl_protocol",
                    opt_text(c.tls.as_ref().and_then(|t| t.protocol.as_deref())),
                ),
                (
                    "ssl_cipher_suite",
                    opt_text(c.tls.as_ref().and_then(|t| t.cipher_suite.as_deref())),
                ),
                ("username", opt_text(c.username.as_deref())),
            ];
            if scylla {
                // Scylla's key is (address, port, client_type); it has no request count,
                // options or keyspace, and leaves hostname unset.
                row.push(("client_type", Some(text("cql"))));
                row.push(("shard_id", Some(CqlValue::Int(c.shard as i32))));
            } else {
                // Cassandra names the host by its address (no reverse lookup here).
                row.push(("hostname", Some(text(&c.addr.ip().to_string()))));
                row.push((
                    "request_count",
                    Some(CqlValue::BigInt(c.request_count as i64)),
                ));
                let options = (!c.startup_options.is_empty()).then(|| {
                    CqlValue::Map(
                        c.startup_options
                            .iter()
                            .map(|(k, v)| (text(k), text(v)))
                            .collect(),
                    )
                });
                row.push(("client_options", options));
                row.push(("keyspace_name", opt_text(c.keyspace.as_deref())));
            }
            row.into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                .collect()
        })
        .collect()
}
