//! One client connection: a reader (frame decoding, handshake, dispatch) and a writer task
//! ([`writer`]) that coalesces queued responses into one buffer per write.

use std::collections::HashSet;
use std::future::pending;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use proto::codes::{ErrorCode, EventType, Opcode};
use proto::frame::{
    BodyExtensions, Compression, DecodeOptions, Frame, FrameError, ProtocolVersion,
    decode_request_with,
};
use proto::request::{BatchStatementKind, Request};
use proto::response::{ErrorBody, ErrorDetails, Response};
use proto::scylla::{
    BIASED_TOKEN_ROUND_ROBIN, ERROR_CODE, LWT_OPTIMIZATION_META_BIT_MASK, MURMUR3_PARTITIONER,
    SCYLLA_LWT_ADD_METADATA_MARK, SCYLLA_RATE_LIMIT_ERROR, SCYLLA_USE_METADATA_ID, ShardingInfo,
    TABLETS_ROUTING_V1,
};
use proto::segment::{FrameReader, SegmentCompression};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{broadcast, mpsc, watch};

use super::clients::{ClientRegistration, ConnectionStage};
use super::coordinator::{self, RATE_LIMIT_ERROR_CODE};
use super::faults::{FaultAction, RequestInfo};
use super::node::{ConnGuard, NodeShared, lock};
use super::state::{ClusterEvent, ClusterInner};

use crate::auth::PASSWORD_AUTHENTICATOR as AUTHENTICATOR;
/// Where a connection is in the STARTUP / AUTHENTICATE handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HandshakePhase {
    Initial,
    Authenticating,
    Ready,
}

/// Connection state shared with tasks answering delayed requests.
struct SharedConnState {
    cluster: Arc<ClusterInner>,
    node: Arc<NodeShared>,
    peer: SocketAddr,
    tx: mpsc::Sender<Outgoing>,
}

/// One client connection: its shard, handshake phase, compression, keyspace, protocol
/// version and event registrations.
struct Connection {
    shared: Arc<SharedConnState>,
    shard: u32,
    phase: HandshakePhase,
    compression: Option<Compression>,
    keyspace: Option<String>,
    /// The LWT mark bit, once the client enabled `SCYLLA_LWT_ADD_METADATA_MARK` in STARTUP.
    lwt_mark: Option<u32>,
    /// Whether the client enabled `SCYLLA_USE_METADATA_ID` in STARTUP.
    use_metadata_id: bool,
    /// Whether the client enabled `SCYLLA_RATE_LIMIT_ERROR` in STARTUP.
    rate_limit_error: bool,
    /// Whether the client enabled `TABLETS_ROUTING_V1` in STARTUP.
    tablets_routing: bool,
    /// The protocol version of the client's latest frame (events are sent with it).
    version: ProtocolVersion,
    /// Set when STARTUP at v5 was answered: the reader switches to segments.
    start_segments: Option<SegmentCompression>,
    events: Option<(broadcast::Receiver<ClusterEvent>, HashSet<EventType>)>,
    /// The role logged in with AUTH_RESPONSE.
    role: Option<String>,
    /// The connection's row of the node's clients table.
    client: ClientRegistration,
}

/// What the reader does after a frame.
enum AfterFrame {
    Continue,
    Close,
}

mod versions;
mod writer;

use writer::{AbortWriter, OutFrame, Outgoing, write_loop};

use versions::supported_versions;

fn protocol_error(message: impl Into<String>) -> Response {
    Response::Error(ErrorBody {
        code: ErrorCode::PROTOCOL_ERROR,
        message: message.into(),
        details: ErrorDetails::None,
    })
}

fn opcode_name(op: Opcode) -> String {
    match op {
        Opcode::AUTH_RESPONSE => "AUTH_RESPONSE".into(),
        other => format!("{other:?}"),
    }
}

/// Serves one accepted connection until it closes, the node stops or the client leaves.
///
/// Generic over the two halves of the stream: a TCP connection's owned halves, or an in-process
/// `tokio::io::duplex` stream's (see [`NodeHandle::connect_in_process`]).
///
/// [`NodeHandle::connect_in_process`]: crate::NodeHandle::connect_in_process
pub(crate) async fn run<R, W>(
    io: (R, W),
    peer: SocketAddr,
    cluster: Arc<ClusterInner>,
    node: Arc<NodeShared>,
    shard: u32,
    epoch: watch::Receiver<u64>,
    guard: ConnGuard,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut stopped = epoch.clone();
    // A stop ends the connection wherever it waits: also in the middle of a request, as when a
    // client that reads nothing makes every response wait for room. Nothing of the cluster may
    // outlive its nodes' stop in a task.
    tokio::select! {
        () = serve(io, peer, cluster, node, shard, epoch, guard) => {}
        _ = stopped.changed() => {}
    }
}

async fn serve<R, W>(
    (mut rd, wr): (R, W),
    peer: SocketAddr,
    cluster: Arc<ClusterInner>,
    node: Arc<NodeShared>,
    shard: u32,
    mut epoch: watch::Receiver<u64>,
    mut guard: ConnGuard,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    let mut writer = tokio::spawn(write_loop(wr, rx));
    let mut abort_writer = AbortWriter(Some(writer.abort_handle()));
    let max_frame = cluster.config.max_frame_size;
    // Before any login the user shows as `anonymous` while authentication is off, and on
    // Scylla also until the login (Cassandra shows none).
    let anonymous = cluster.config.auth.is_none() || cluster.config.scylla_extensions;
    let user = anonymous.then(|| "anonymous".to_owned());
    let client = node.clients.register(peer, shard, guard.tls.take(), user);
    let mut conn = Connection {
        shared: Arc::new(SharedConnState {
            cluster,
            node,
            peer,
            tx,
        }),
        shard,
        phase: HandshakePhase::Initial,
        compression: None,
        keyspace: None,
        lwt_mark: None,
        use_metadata_id: false,
        rate_limit_error: false,
        tablets_routing: false,
        version: ProtocolVersion::V4,
        start_segments: None,
        events: None,
        role: None,
        client,
    };
    let mut decoder = FrameReader::new(None, max_frame);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut paused = conn.shared.node.paused.subscribe();
    'outer: loop {
        // Handle every whole frame already buffered.
        loop {
            // Bare frames start with their version byte; in segments the frame header is
            // checked once decoded (`handle_frame`).
            if !decoder.is_segmented()
                && let Some(AfterFrame::Close) = conn.check_version(&buf).await
            {
                break 'outer;
            }
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    if *paused.borrow() {
                        tokio::select! {
                            r = paused.wait_for(|p| !*p) => if r.is_err() { break 'outer },
                            _ = epoch.changed() => { writer.abort(); break 'outer }
                        }
                    }
                    if let AfterFrame::Close = conn.handle_frame(frame).await {
                        break 'outer;
                    }
                    // The client sends nothing more until the answer to its STARTUP arrived, so
                    // every byte after it is a segment (v5 spec, section 2.3.1).
                    if let Some(c) = conn.start_segments.take() {
                        decoder = FrameReader::new(Some(c), max_frame);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    conn.fatal(&buf, e).await;
                    break 'outer;
                }
            }
        }
        if buf.capacity() - buf.len() < 8 * 1024 {
            buf.reserve(64 * 1024);
        }
        let events = async {
            match &mut conn.events {
                Some((rx, _)) => rx.recv().await,
                None => pending().await,
            }
        };
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
            _ = epoch.changed() => {
                writer.abort();
                break;
            }
            ev = events => match ev {
                Ok(ev) => conn.forward_event(ev).await,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "event receiver lagged");
                }
                Err(broadcast::error::RecvError::Closed) => conn.events = None,
            },
            _ = &mut writer => break,
        }
    }
    // Dropping our sender lets the writer finish queued frames (delayed tasks hold others).
    abort_writer.0 = None;
    drop(conn);
    drop(guard);
}

impl Connection {
    fn node(&self) -> &NodeShared {
        &self.shared.node
    }

    async fn send(&self, out: Outgoing) -> bool {
        self.shared.tx.send(out).await.is_ok()
    }

    fn frame(&self, version: ProtocolVersion, stream: i16, mut response: Response) -> OutFrame {
        // A v3 prepared metadata has no partition-key indexes (added in v4): leave them out
        // rather than fail the PREPARE (cassandra-driver with protocol_version=3).
        if version < ProtocolVersion::V4
            && let Response::Result(proto::response::ResultBody::Prepared(p)) = &mut response
        {
            p.metadata.pk_indexes.clear();
        }
        // READY and SUPPORTED go out before compression is in force.
        let compression = match response {
            Response::Ready | Response::Supported { .. } | Response::Authenticate { .. } => None,
            _ => self.compression,
        };
        OutFrame {
            version,
            stream,
            response,
            tracing_id: None,
            warnings: Vec::new(),
            custom_payload: None,
            compression,
            then_segments: None,
        }
    }

    fn supported(&self) -> Response {
        let mut options = proto::StringMultimap::new();
        let cql = coordinator::Versions::of(self.shared.cluster.config.scylla_extensions).cql;
        options.insert("CQL_VERSION".into(), vec![cql.into()]);
        options.insert("COMPRESSION".into(), vec!["lz4".into(), "snappy".into()]);
        options.insert(
            "PROTOCOL_VERSIONS".into(),
            supported_versions(self.shared.cluster.config.max_protocol_version),
        );
        if !self.shared.cluster.config.scylla_extensions {
            return Response::Supported { options };
        }
        ShardingInfo {
            shard: self.shard,
            nr_shards: self.node().shards,
            partitioner: MURMUR3_PARTITIONER.into(),
            algorithm: BIASED_TOKEN_ROUND_ROBIN.into(),
            ignore_msb: 12,
            shard_aware_port: self.node().shard_aware_port,
            shard_aware_port_ssl: self
                .shared
                .cluster
                .config
                .tls
                .as_ref()
                .and_then(|t| t.shard_aware_port),
        }
        .add_to_supported(&mut options);
        if let Some(mask) = self.shared.cluster.config.lwt_mark {
            options.insert(
                SCYLLA_LWT_ADD_METADATA_MARK.into(),
                vec![format!("{LWT_OPTIMIZATION_META_BIT_MASK}={mask}")],
            );
        }
        options.insert(SCYLLA_USE_METADATA_ID.into(), Vec::new());
        options.insert(
            SCYLLA_RATE_LIMIT_ERROR.into(),
            vec![format!("{ERROR_CODE}={RATE_LIMIT_ERROR_CODE}")],
        );
        options.insert(TABLETS_ROUTING_V1.into(), Vec::new());
        Response::Supported { options }
    }

    async fn handle_frame(&mut self, frame: Frame) -> AfterFrame {
        let h = frame.header;
        self.node().count_request(h.opcode.0);
        self.client.request(h.version.0);
        let version = h.version;
        if self.phase != HandshakePhase::Initial && version != self.version {
            let msg = format!(
                "Invalid message version. Got {} but previous messages on this connection had version {}",
                version.0, self.version.0
            );
            let out = self.frame(self.version, h.stream, protocol_error(msg));
            let _ = self.send(Outgoing::Frame(out)).await;
            let _ = self.send(Outgoing::Close).await;
            return AfterFrame::Close;
        }
        self.version = version;
        if h.is_response {
            let out = self.frame(
                version,
                h.stream,
                protocol_error("Unexpected response frame from a client"),
            );
            return self.flow(self.send(Outgoing::Frame(out)).await);
        }
        let opts = DecodeOptions {
            compression: self.compression,
            max_decompressed_len: self.shared.cluster.config.max_frame_size,
            extensions: BodyExtensions::NONE.with_scylla_metadata_id(self.use_metadata_id),
        };
        let env = match decode_request_with(&frame, &opts) {
            Ok(env) => env,
            Err(e) => {
                let msg = match e {
                    FrameError::UnknownOpcode { opcode, .. } => {
                        format!("Unknown opcode {}", opcode.0)
                    }
                    other => format!("Invalid message: {other}"),
                };
                let out = self.frame(version, h.stream, protocol_error(msg));
                return self.flow(self.send(Outgoing::Frame(out)).await);
            }
        };
        let stream = env.stream;
        let request = env.request;

        // Fault rules (never for the handshake, unless asked by opcode).
        let mut action = None;
        let mut delay = None;
        if self.node().faulty.load(Ordering::Acquire) {
            let prepared_text;
            let mut texts: Vec<&str> = Vec::new();
            match &request {
                Request::Query(q) => texts.push(&q.query),
                Request::Prepare(p) => texts.push(&p.query),
                Request::Execute(e) => {
                    prepared_text = self.node().knows_prepared(&e.id);
                    if let Some(t) = &prepared_text {
                        texts.push(t);
                    }
                }
                _ => {}
            }
            let batch_texts: Vec<Arc<str>> = match &request {
                Request::Batch(b) => b
                    .statements
                    .iter()
                    .filter_map(|s| match &s.kind {
                        BatchStatementKind::Query(q) => Some(Arc::from(q.as_str())),
                        BatchStatementKind::Prepared(id) => self.node().knows_prepared(id),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            texts.extend(batch_texts.iter().map(|t| &**t));
            let opcode = request.opcode();
            let mut faults = lock(&self.node().faults);
            let handshake = matches!(opcode, Opcode::STARTUP | Opcode::AUTH_RESPONSE);
            let info = RequestInfo {
                opcode,
                texts: &texts,
            };
            action = faults.take_for(&info, handshake);
            delay = faults.delay;
        }

        let out = match action {
            Some(FaultAction::Error(mut e)) => {
                if let (ErrorDetails::Unprepared { id }, Request::Execute(ex)) =
                    (&mut e.details, &request)
                {
                    *id = ex.id.clone();
                }
                Some(Outgoing::Frame(self.frame(
                    version,
                    stream,
                    Response::Error(e),
                )))
            }
            Some(FaultAction::MalformedFrame) => Some(Outgoing::Malformed { version, stream }),
            other => {
                if let Some(FaultAction::Delay(d)) = other {
                    delay = Some(delay.unwrap_or_default() + d);
                }
                let (out, flow) = self.respond(version, stream, request, env.tracing);
                if let AfterFrame::Close = flow {
                    if let Some(o) = out {
                        let _ = self.send(o).await;
                    }
                    let _ = self.send(Outgoing::Close).await;
                    return AfterFrame::Close;
                }
                match (other, out) {
                    (Some(FaultAction::Drop), _) => None,
                    (Some(FaultAction::CloseMidFrame), Some(Outgoing::Frame(f))) => {
                        Some(Outgoing::HalfThenClose(f))
                    }
                    (_, o) => o,
                }
            }
        };
        let Some(out) = out else {
            return AfterFrame::Continue;
        };
        match delay.filter(|d| !d.is_zero()) {
            Some(d) => {
                self.send_later(out, d);
                AfterFrame::Continue
            }
            None => self.flow(self.send(out).await),
        }
    }

    fn flow(&self, sent: bool) -> AfterFrame {
        if sent {
            AfterFrame::Continue
        } else {
            AfterFrame::Close
        }
    }

    fn send_later(&self, out: Outgoing, delay: Duration) {
        let shared = Arc::clone(&self.shared);
        // A stop drops the held response (as it closes the connection), so the task ends
        // with the node rather than after the delay.
        let mut stopped = shared.node.epoch.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                () = async {
                    tokio::time::sleep(delay).await;
                    let _ = shared.tx.send(out).await;
                } => {}
                _ = stopped.changed() => {}
            }
        });
    }

    /// Answers one request; the flow says whether the connection must close afterwards.
    fn respond(
        &mut self,
        version: ProtocolVersion,
        stream: i16,
        request: Request,
        tracing: bool,
    ) -> (Option<Outgoing>, AfterFrame) {
        let reply = |s: &Self, r: Response| {
            (
                Some(Outgoing::Frame(s.frame(version, stream, r))),
                AfterFrame::Continue,
            )
        };
        match (self.phase, request) {
            (_, Request::Options) => reply(self, self.supported()),
            (HandshakePhase::Initial, Request::Startup(s)) => {
                let options = s.options.iter().map(|(k, v)| (k.clone(), v.clone()));
                self.node().record_startup(&self.client, options.collect());
                if let Some(name) = s.options.get("COMPRESSION") {
                    match Compression::from_name(&name.to_ascii_lowercase()) {
                        // v5 compresses segments, and only with LZ4 (section 2.3.2).
                        Some(c)
                            if version.is_v5_or_later()
                                && SegmentCompression::from_negotiated(Some(c)).is_err() =>
                        {
                            return reply(
                                self,
                                protocol_error(format!(
                                    "Unsupported compression for protocol {version}: {name} (only lz4)"
                                )),
                            );
                        }
                        Some(c) if c.is_available() => self.compression = Some(c),
                        _ => {
                            return reply(
                                self,
                                protocol_error(format!("Unknown compression algorithm: {name}")),
                            );
                        }
                    }
                }
                // As Scylla: the extension is on when the client names it (its value, the mask
                // the client read from SUPPORTED, is not checked), and the server's own bit is
                // used.
                if s.options.contains_key(SCYLLA_LWT_ADD_METADATA_MARK) {
                    self.lwt_mark = self.shared.cluster.config.lwt_mark;
                }
                // Only an extension the server offers can be enabled.
                self.use_metadata_id = self.shared.cluster.config.scylla_extensions
                    && s.options.contains_key(SCYLLA_USE_METADATA_ID);
                self.rate_limit_error = self.shared.cluster.config.scylla_extensions
                    && s.options.contains_key(SCYLLA_RATE_LIMIT_ERROR);
                self.tablets_routing = self.shared.cluster.config.scylla_extensions
                    && s.options.contains_key(TABLETS_ROUTING_V1);
                let answer = if self.shared.cluster.config.auth.is_some() {
                    self.phase = HandshakePhase::Authenticating;
                    self.client.set_stage(ConnectionStage::Authenticating);
                    Response::Authenticate {
                        authenticator: AUTHENTICATOR.into(),
                    }
                } else {
                    self.phase = HandshakePhase::Ready;
                    self.client.set_stage(ConnectionStage::Ready);
                    Response::Ready
                };
                let mut out = self.frame(version, stream, answer);
                if version.is_v5_or_later() {
                    // STARTUP refused any compression segments cannot use.
                    let segments = SegmentCompression::from_negotiated(self.compression.take())
                        .unwrap_or_default();
                    out.then_segments = Some(segments);
                    self.start_segments = Some(segments);
                }
                (Some(Outgoing::Frame(out)), AfterFrame::Continue)
            }
            (HandshakePhase::Initial, other) => reply(
                self,
                protocol_error(format!(
                    "Unexpected message {}, expecting STARTUP or OPTIONS",
                    opcode_name(other.opcode())
                )),
            ),
            (HandshakePhase::Authenticating, Request::AuthResponse(a)) => {
                let token = a.token.unwrap_or_default();
                let login = lock(&self.shared.cluster.data).auth().authenticate(&token);
                match login {
                    Ok(role) => {
                        self.client.logged_in(&role);
                        self.role = Some(role);
                        self.phase = HandshakePhase::Ready;
                        reply(self, Response::AuthSuccess { token: None })
                    }
                    Err(message) => reply(
                        self,
                        Response::Error(ErrorBody {
                            code: ErrorCode::BAD_CREDENTIALS,
                            message,
                            details: ErrorDetails::None,
                        }),
                    ),
                }
            }
            (HandshakePhase::Authenticating, other) => reply(
                self,
                protocol_error(format!(
                    "Unexpected message {}, expecting SASL_RESPONSE",
                    opcode_name(other.opcode())
                )),
            ),
            (HandshakePhase::Ready, Request::Startup(_)) => reply(
                self,
                protocol_error("Unexpected message STARTUP, the connection is already initialized"),
            ),
            (HandshakePhase::Ready, Request::AuthResponse(_)) => reply(
                self,
                protocol_error(
                    "Unexpected message AUTH_RESPONSE, the connection is already initialized",
                ),
            ),
            (HandshakePhase::Ready, Request::Register(r)) => {
                let mut kinds = HashSet::new();
                for e in &r.events {
                    match EventType::from_wire(e) {
                        EventType::Other(o) => {
                            return reply(
                                self,
                                protocol_error(format!("Invalid value '{o}' for Type")),
                            );
                        }
                        k => {
                            kinds.insert(k);
                        }
                    }
                }
                match &mut self.events {
                    Some((_, set)) => set.extend(kinds),
                    None => self.events = Some((self.shared.cluster.events.subscribe(), kinds)),
                }
                reply(self, Response::Ready)
            }
            (HandshakePhase::Ready, request) => {
                let r = coordinator::execute(
                    &self.shared.cluster,
                    &self.shared.node,
                    &request,
                    self.keyspace.as_deref(),
                    tracing,
                    coordinator::Client {
                        addr: self.shared.peer,
                        shard: self.shard,
                        lwt_mark: self.lwt_mark,
                        metadata_id: self.use_metadata_id || version.is_v5_or_later(),
                        rate_limit_error: self.rate_limit_error,
                        tablets_routing: self.tablets_routing,
                        role: self.role.as_deref(),
                    },
                );
                if let Some(ks) = r.set_keyspace {
                    self.client.set_keyspace(&ks);
                    self.keyspace = Some(ks);
                }
                let mut f = self.frame(version, stream, r.response);
                f.tracing_id = r.tracing_id;
                f.warnings = r.warnings;
                f.custom_payload = r.custom_payload;
                (Some(Outgoing::Frame(f)), AfterFrame::Continue)
            }
        }
    }

    async fn forward_event(&mut self, ev: ClusterEvent) {
        let Some((_, kinds)) = &self.events else {
            return;
        };
        if !kinds.contains(&ev.event.event_type()) {
            return;
        }
        if ev.about == Some(self.node().id) || !self.node().is_up() {
            return;
        }
        let out = self.frame(self.version, -1, Response::Event(ev.event));
        let _ = self.send(Outgoing::Frame(out)).await;
    }
}
