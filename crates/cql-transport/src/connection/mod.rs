//! A connection: a spawned driver task that owns the socket plus a cheap `Clone` handle.
//!
//! The handle encodes nothing and decodes nothing on the driver's behalf: the caller hands over a
//! whole encoded frame (any stream id; the driver patches the one it allocates into bytes 2..4)
//! and gets the raw response frame back. [`Connection::request`] wraps that with cql-proto's
//! encoders and decoders.

mod deadline;
mod driver;
mod handshake;
mod slot;
mod stall;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

pub use deadline::Deadline;
use driver::{Driver, QueuedRequest};
pub(crate) use driver::{DriverSettings, EventSink};
use slot::{Delivery, Outcome, ResponseSlot};

use crate::error::{BrokenReason, ConnectionError};
use proto::Opcode;
use proto::frame::{
    self, BodyExtensions, Compression, DecodeOptions, Frame, FrameHeader, ProtocolVersion,
    RequestOptions, ResponseEnvelope,
};
use proto::request::{Query, Register, Request};
use proto::response::{Event, Response, ResultBody};
use proto::segment::{FrameReader, SegmentCompression};

use crate::config::ConnectionConfig;
pub use crate::config::{Backpressure, ConnectionTuning};

/// How far ahead a timer with nothing to wait for is set: a deadline that never comes in
/// practice.
const NEVER: Duration = Duration::from_secs(86_400 * 365);

/// State shared between the handles and the driver task. Lock-free.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) broken: AtomicBool,
    pub(crate) close_requested: AtomicBool,
    /// Requests submitted and not yet resolved, including orphans still holding an id.
    pub(crate) in_flight: AtomicUsize,
    /// Requests whose caller gave up while their stream id is still reserved.
    pub(crate) orphans: AtomicUsize,
    pub(crate) max_orphans: usize,
    /// Wakes the driver to check `close_requested` and `orphans` (see [`Shared::wake_driver`]).
    /// Not a `Notify`: the driver polls this on every turn of its loop, and registering with
    /// a `Notify` takes a lock each time; an `AtomicWaker` is one compare-and-swap.
    pub(crate) wake: AtomicWaker,
    /// Set with the wake-up, cleared by the driver when it sees it.
    pub(crate) wake_pending: AtomicBool,
    /// Why the connection broke, set once by the driver before `broken`.
    pub(crate) reason: std::sync::OnceLock<BrokenReason>,
    /// The node's health, told when the connection stops or starts answering.
    pub(crate) node_health: Option<Arc<crate::health::NodeHealth>>,
    /// `write` calls the driver made on the socket (see [`Connection::write_count`]).
    pub(crate) writes: AtomicU64,
}

impl Shared {
    /// Makes the driver look at `close_requested` and `orphans` soon.
    pub(crate) fn wake_driver(&self) {
        self.wake_pending.store(true, Ordering::Release);
        self.wake.wake();
    }

    /// Ready once after each [`Self::wake_driver`]; registers the driver's waker otherwise.
    pub(crate) fn poll_wake(&self, cx: &mut Context<'_>) -> Poll<()> {
        // Register first, then check: a wake-up between the two is not lost.
        self.wake.register(cx.waker());
        if self.wake_pending.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The error for requests on a connection that is already broken.
    pub(crate) fn broken_error(&self) -> ConnectionError {
        ConnectionError::Broken(self.reason.get().cloned().unwrap_or(BrokenReason::Closed))
    }
}

/// The future that drives a connection. Spawn it (e.g. `tokio::spawn(driver)`); the handle
/// does nothing until it runs. It ends when the connection breaks, is closed, or every handle is
/// dropped.
#[must_use = "the connection does nothing until its driver future is spawned"]
pub struct ConnectionDriver {
    inner: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl std::fmt::Debug for ConnectionDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionDriver")
    }
}

impl Future for ConnectionDriver {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

/// The cheap, cloneable handle of a connection. All clones talk to the same driver task.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    tx: mpsc::Sender<QueuedRequest>,
    shared: Arc<Shared>,
    tuning: ConnectionTuning,
    info: ConnectionInfo,
}

/// What the handshake learned about the connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The peer's address, when known.
    pub peer: Option<std::net::SocketAddr>,
    /// The negotiated protocol version.
    pub version: ProtocolVersion,
    /// The SUPPORTED options of the server.
    pub supported: std::collections::HashMap<String, Vec<String>>,
    /// Negotiated compression, if any.
    pub compression: Option<Compression>,
    /// Scylla shard of this connection and sharding parameters, if the server is Scylla.
    pub sharding: Option<proto::ShardingInfo>,
    /// The keyspace set with USE during the handshake.
    pub keyspace: Option<String>,
    /// The bit marking lightweight transactions in prepared metadata flags, when Scylla's
    /// `SCYLLA_LWT_ADD_METADATA_MARK` extension was offered in SUPPORTED and enabled in STARTUP
    /// (its `LWT_OPTIMIZATION_META_BIT_MASK`); `None` otherwise.
    pub lwt_mark: Option<u32>,
    /// Whether Scylla's `SCYLLA_USE_METADATA_ID` was offered in SUPPORTED and enabled in
    /// STARTUP: before v5, PREPARED results and EXECUTE requests then carry result metadata
    /// ids. See [`Self::has_result_metadata_id`].
    pub scylla_metadata_id: bool,
    /// With protocol v5, frames travel in segments compressed this way (v5 spec, section 2);
    /// `None` before v5, where frames go on the wire as they are.
    pub segments: Option<SegmentCompression>,
    /// The error code of Scylla's per-partition rate-limit error, when `SCYLLA_RATE_LIMIT_ERROR`
    /// was offered in SUPPORTED (with its `ERROR_CODE`) and enabled in STARTUP; an ERROR with
    /// this code is a rate-limit rejection on this connection only.
    pub rate_limit_error_code: Option<i32>,
}

impl ConnectionInfo {
    /// Whether PREPARED and EXECUTE carry result metadata ids on this connection (protocol v5,
    /// or Scylla's extension), so the server reports changed result columns with
    /// METADATA_CHANGED.
    pub fn has_result_metadata_id(&self) -> bool {
        self.version.is_v5_or_later() || self.scylla_metadata_id
    }

    /// The body layout extensions negotiated on this connection, for decoding its frames.
    pub fn body_extensions(&self) -> BodyExtensions {
        BodyExtensions::NONE.with_scylla_metadata_id(self.scylla_metadata_id)
    }
}

impl Default for ConnectionInfo {
    /// Nothing learned yet; protocol v4.
    fn default() -> Self {
        Self {
            peer: None,
            version: ProtocolVersion::V4,
            supported: std::collections::HashMap::new(),
            compression: None,
            sharding: None,
            keyspace: None,
            lwt_mark: None,
            scylla_metadata_id: false,
            segments: None,
            rate_limit_error_code: None,
        }
    }
}

/// Bytes read past the handshake, and the decoder state they continue (a v5 handshake may
/// leave part of a segment decoded).
pub(crate) struct Inbound {
    pub(crate) buf: BytesMut,
    pub(crate) reader: Option<FrameReader>,
}

impl From<BytesMut> for Inbound {
    /// Undecoded bytes: the reader follows the connection's framing.
    fn from(buf: BytesMut) -> Self {
        Self { buf, reader: None }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.inner.info.peer)
            .field("in_flight", &self.in_flight())
            .field("broken", &self.is_broken())
            .finish()
    }
}

impl Connection {
    /// Starts the driver on an already handshaken stream. `read_buf` holds bytes read past the
    /// handshake. Returns the handle and the driver future to spawn.
    pub(crate) fn start<S>(
        stream: S,
        tuning: ConnectionTuning,
        info: ConnectionInfo,
        events: Option<EventSink>,
        inbound: impl Into<Inbound>,
    ) -> (Self, ConnectionDriver)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(tuning.queue_capacity.max(1));
        let shared = Arc::new(Shared {
            broken: AtomicBool::new(false),
            close_requested: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            orphans: AtomicUsize::new(0),
            max_orphans: tuning.max_orphans,
            wake: AtomicWaker::new(),
            wake_pending: AtomicBool::new(false),
            reason: std::sync::OnceLock::new(),
            node_health: tuning.node_health.clone(),
            writes: AtomicU64::new(0),
        });
        let settings = DriverSettings {
            max_streams: tuning.max_streams,
            write_coalescing: tuning.write_coalescing,
            write_coalescing_delay: tuning.write_coalescing_delay,
            park_limit: tuning.queue_capacity.max(1),
            write_buffer_limit: tuning.write_buffer_limit.max(1),
            read_buffer_size: tuning.read_buffer_size,
            heartbeat_interval: tuning.heartbeat_interval,
            heartbeat_timeout: tuning.heartbeat_timeout,
            unresponsive_after: tuning.unresponsive_after,
            version: info.version,
            segments: info.segments,
        };
        let Inbound { buf, reader } = inbound.into();
        let reader =
            reader.unwrap_or_else(|| FrameReader::new(info.segments, tuning.max_frame_size));
        let driver = Driver::new(
            stream,
            rx,
            Arc::clone(&shared),
            settings,
            events,
            buf,
            reader,
        );
        let conn = Self {
            inner: Arc::new(HandleInner {
                tx,
                shared,
                tuning,
                info,
            }),
        };
        (
            conn,
            ConnectionDriver {
                inner: Box::pin(driver.run()),
            },
        )
    }

    /// Handshakes on `stream` (OPTIONS, STARTUP, authentication), then `USE`s the configured
    /// keyspace and REGISTERs for events. Returns the handle and the driver future, which the
    /// caller must spawn. Bounded by `config.connect_timeout`.
    pub async fn open<S>(
        stream: S,
        config: &ConnectionConfig,
    ) -> Result<(Self, ConnectionDriver), ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        Self::open_with_peer(stream, config, None).await
    }

    pub(crate) async fn open_with_peer<S>(
        mut stream: S,
        config: &ConnectionConfig,
        peer: Option<std::net::SocketAddr>,
    ) -> Result<(Self, ConnectionDriver), ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limit = config.connect_timeout;
        let work = async {
            let (mut info, leftover) = handshake::handshake(&mut stream, config).await?;
            let leftover: Inbound = leftover;
            info.peer = peer;
            let events = config
                .event_sender
                .clone()
                .map(|tx| event_sink(tx, info.compression));
            let (conn, mut driver) =
                Self::start(stream, config.tuning.clone(), info, events, leftover);
            let res = {
                let setup = conn.setup(config);
                tokio::pin!(setup);
                // The driver must run for USE / REGISTER; poll both without spawning yet.
                tokio::select! {
                    r = &mut setup => r,
                    () = &mut driver => Err(ConnectionError::Broken(BrokenReason::Eof)),
                }
            };
            res.map(|()| (conn, driver))
        };
        let (conn, driver) = tokio::time::timeout(limit, work)
            .await
            .map_err(|_| ConnectionError::ConnectTimeout(limit))??;
        tracing::debug!(peer = ?conn.inner.info.peer, shard = ?conn.shard(), compression = ?conn.compression(), "connection ready");
        Ok((conn, driver))
    }

    async fn setup(&self, config: &ConnectionConfig) -> Result<(), ConnectionError> {
        if let Some(ks) = &config.keyspace {
            self.use_keyspace(ks).await?;
        }
        if config.event_sender.is_some() && !config.event_types.is_empty() {
            let req = Request::Register(Register {
                events: config.event_types.clone(),
            });
            self.request(&req)
                .await?
                .response
                .into_ready()
                .map_err(|e| ConnectionError::from_response("REGISTER", e))?;
        }
        Ok(())
    }

    /// Runs `USE <keyspace>` on this connection. A name that is not all lower case (or is
    /// already quoted) is sent quoted as given.
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<(), ConnectionError> {
        let req = Request::Query(Query {
            query: format!("USE {}", quote_identifier(keyspace)).into(),
            params: Default::default(),
        });
        match self.request(&req).await?.response.into_result() {
            Ok(ResultBody::SetKeyspace(_)) => Ok(()),
            Ok(_) => Err(ConnectionError::UnexpectedResponse {
                request: "USE",
                got: Opcode::RESULT,
            }),
            Err(e) => Err(ConnectionError::from_response("USE", e)),
        }
    }

    /// Sends `request` and waits for its response, without a timeout: [`Self::send_until`]
    /// with no deadline. Bound it with [`with_timeout`] (or the caller's own deadline).
    pub async fn send(
        &self,
        request: &Request,
        options: &RequestOptions<'_>,
    ) -> Result<ResponseEnvelope, ConnectionError> {
        self.send_until(request, options, None).await
    }

    /// Sends `request` and waits for its response until `deadline`: the one way to send on a
    /// connection.
    ///
    /// The request is encoded for this connection (its version, its negotiated compression:
    /// the compression in `options` is ignored). Exactly one outcome: the decoded response (a
    /// server ERROR is data in the envelope), [`ConnectionError::Timeout`] once `deadline`
    /// passes, or the connection's error. A request that timed out, or whose future is
    /// dropped, leaves its stream id reserved until the late response arrives.
    ///
    /// The deadline is kept by the connection's driver, on its one timer, not by a timer in
    /// this future: a per-request timer costs every request a registration and a removal, and
    /// a future is moved whole into each layer above it when the request starts (hence the
    /// deadline by reference: 8 bytes in every layer's future instead of 32).
    pub async fn send_until(
        &self,
        request: &Request,
        options: &RequestOptions<'_>,
        deadline: Option<&Deadline>,
    ) -> Result<ResponseEnvelope, ConnectionError> {
        let slot = self.encode(request, options, deadline.copied())?;
        if let Err(e) = self.admit() {
            ResponseSlot::recycle(slot);
            return Err(e);
        }
        let frame = self.submit(slot).await?;
        self.decode(&frame)
    }

    /// [`Self::send`] with default options, bounded by the connection's configured request
    /// timeout ([`ConnectionTuning::request_timeout`]): for control and setup requests.
    pub async fn request(&self, request: &Request) -> Result<ResponseEnvelope, ConnectionError> {
        with_timeout(
            self.inner.tuning.request_timeout,
            self.send(request, &RequestOptions::default()),
        )
        .await
    }

    /// Encodes a whole request frame for this connection (its version and compression) into a
    /// response slot, reused from an earlier request of this thread when one is free (so the
    /// frame's buffer is too); the stream id is left 0 for the driver to patch.
    fn encode(
        &self,
        request: &Request,
        options: &RequestOptions<'_>,
        deadline: Option<Deadline>,
    ) -> Result<Arc<ResponseSlot>, ConnectionError> {
        let opts = RequestOptions {
            compression: self.inner.info.compression,
            ..*options
        };
        let slot = ResponseSlot::take();
        let max = self.inner.tuning.max_frame_size;
        let size = slot
            .with_frame(deadline, |buf| {
                frame::encode_request(buf, self.version(), 0, request, &opts)
                    .map(|()| buf.len().saturating_sub(FrameHeader::LEN))
            })
            .map_err(ConnectionError::Encode)?;
        // The server's limit is on the frame body as encoded (compressed, if it is); refused
        // here, before it costs the network and the server a read.
        if size > max {
            ResponseSlot::recycle(slot);
            return Err(ConnectionError::RequestTooLarge { size, max });
        }
        Ok(slot)
    }

    /// Decodes a response frame of this connection (decompressing if needed, with the body
    /// layout extensions it negotiated).
    fn decode(&self, frame: &Frame) -> Result<ResponseEnvelope, ConnectionError> {
        let opts = DecodeOptions {
            compression: self.inner.info.compression,
            max_decompressed_len: self.inner.tuning.max_frame_size,
            extensions: self.inner.info.body_extensions(),
        };
        frame::decode_response_with(frame, &opts).map_err(|e| ConnectionError::Decode(Box::new(e)))
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> ProtocolVersion {
        self.inner.info.version
    }

    /// The negotiated compression.
    pub fn compression(&self) -> Option<Compression> {
        self.inner.info.compression
    }

    /// What the handshake learned (peer, SUPPORTED options, compression, sharding).
    pub fn info(&self) -> &ConnectionInfo {
        &self.inner.info
    }

    /// The Scylla shard this connection is bound to, if the server is Scylla.
    pub fn shard(&self) -> Option<u32> {
        self.inner.info.sharding.as_ref().map(|s| s.shard)
    }

    /// Whether the connection is broken or closed; every request fails fast then.
    pub fn is_broken(&self) -> bool {
        self.inner.shared.broken.load(Ordering::Acquire)
    }

    /// Requests submitted and not resolved (including orphans): the load measure for pools.
    pub fn in_flight(&self) -> usize {
        self.inner.shared.in_flight.load(Ordering::Relaxed)
    }

    /// How many `write` calls the connection made on its socket so far: with write coalescing,
    /// many requests share one.
    pub fn write_count(&self) -> u64 {
        self.inner.shared.writes.load(Ordering::Relaxed)
    }

    /// Stream ids held by requests whose callers gave up.
    pub fn orphans(&self) -> usize {
        self.inner.shared.orphans.load(Ordering::Relaxed)
    }

    /// The configured default request timeout.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.inner.tuning.request_timeout
    }

    /// The server-side timeout of metadata reads on this connection: the tuning's, when the
    /// node is Scylla (it advertised a shard), which understands `USING TIMEOUT`.
    pub(crate) fn metadata_server_timeout(&self) -> Option<Duration> {
        self.inner
            .tuning
            .metadata_server_timeout
            .filter(|_| self.inner.info.sharding.is_some())
    }

    /// Closes the connection: in-flight requests fail with [`BrokenReason::Closed`].
    pub fn close(&self) {
        self.inner
            .shared
            .close_requested
            .store(true, Ordering::Release);
        self.inner.shared.wake_driver();
    }

    /// Sends one encoded frame (its stream id is overwritten) and waits for the response
    /// frame: the driver's frame-level path, for its tests.
    #[cfg(test)]
    pub(crate) async fn send_frame(
        &self,
        frame: BytesMut,
        timeout: Option<Duration>,
    ) -> Result<Frame, ConnectionError> {
        with_timeout(timeout, self.send_frame_until(frame, None)).await
    }

    /// [`Self::send_frame`] with a deadline the driver keeps instead of a caller's timer.
    #[cfg(test)]
    pub(crate) async fn send_frame_until(
        &self,
        frame: BytesMut,
        deadline: Option<Deadline>,
    ) -> Result<Frame, ConnectionError> {
        self.admit()?;
        let slot = ResponseSlot::take();
        slot.with_frame(deadline, |buf| buf.extend_from_slice(&frame));
        self.submit(slot).await
    }

    /// Checks that a request may be submitted now (not broken, under the in-flight limit
    /// with [`Backpressure::Error`]).
    fn admit(&self) -> Result<(), ConnectionError> {
        let shared = &self.inner.shared;
        if shared.broken.load(Ordering::Acquire) {
            return Err(shared.broken_error());
        }
        let limit = self.inner.tuning.max_in_flight;
        if self.inner.tuning.backpressure == Backpressure::Error
            && shared.in_flight.load(Ordering::Acquire) >= limit
        {
            return Err(ConnectionError::TooManyInFlight { limit });
        }
        Ok(())
    }

    /// Queues the frame in `slot` and waits for its response (the driver enforces the slot's
    /// deadline once it has the request); counts it in flight from the first poll.
    async fn submit(&self, slot: Arc<ResponseSlot>) -> Result<Frame, ConnectionError> {
        let shared = &self.inner.shared;
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        let mut queued = QueueGuard {
            shared,
            armed: true,
        };
        let delivery = Delivery::new(Arc::clone(&slot));
        // Usually the queue has room: `try_send` then needs no future at all. The waiting send
        // (queue full) is boxed, so its future does not enlarge every request's future, which is
        // moved whole into each layer above when the request starts.
        match self.inner.tx.try_send(QueuedRequest { delivery }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(env)) => {
                let send = Box::pin(self.inner.tx.send(env));
                // The driver keeps the deadline only once it has the request: until then, this
                // (rare) wait for room in the queue is bounded here.
                let sent = match slot.deadline() {
                    None => send.await,
                    Some(d) => match tokio::time::timeout_at(d.at(), send).await {
                        Ok(sent) => sent,
                        Err(_) => return Err(ConnectionError::Timeout(d.timeout())),
                    },
                };
                if sent.is_err() {
                    return Err(shared.broken_error());
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(shared.broken_error()),
        }
        // From here on the driver owns the in-flight count of this request.
        queued.armed = false;
        let mut waiting = ResponseGuard {
            slot: Some(slot),
            shared,
        };
        std::future::poll_fn(|cx| waiting.poll(cx)).await
    }
}

/// Runs `fut` within `timeout` (`None`: no bound); running out is [`ConnectionError::Timeout`].
///
/// The one timeout helper for requests: pair it with [`Connection::send`].
pub async fn with_timeout<T>(
    timeout: Option<Duration>,
    fut: impl Future<Output = Result<T, ConnectionError>>,
) -> Result<T, ConnectionError> {
    match timeout {
        None => fut.await,
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .unwrap_or(Err(ConnectionError::Timeout(t))),
    }
}

/// Quotes a CQL identifier unless it is plain lower case or already quoted.
pub(crate) fn quote_identifier(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain || (name.len() >= 2 && name.starts_with('"') && name.ends_with('"')) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// An event sink decoding EVENT frames and pushing them into `tx` without waiting.
fn event_sink(tx: mpsc::Sender<Event>, compression: Option<Compression>) -> EventSink {
    Box::new(
        move |frame: Frame| match frame::decode_response(&frame, compression) {
            Ok(env) => match env.response {
                Response::Event(ev) => {
                    if let Err(e) = tx.try_send(ev) {
                        tracing::warn!(error = %e, "event channel full or closed; event dropped");
                    }
                }
                other => {
                    tracing::warn!(opcode = ?other.opcode(), "non-EVENT frame on stream -1 dropped")
                }
            },
            Err(e) => tracing::warn!(error = %e, "undecodable EVENT frame dropped"),
        },
    )
}

/// Undoes the in-flight count of a request that never reached the queue.
struct QueueGuard<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl Drop for QueueGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Waits for a request's outcome in its slot, and reuses the slot once it has come. Marks a
/// request whose caller stopped waiting as an orphan; the driver un-marks it when the late
/// response arrives (or when it finds the request still queued).
struct ResponseGuard<'a> {
    /// `None` once the outcome was taken.
    slot: Option<Arc<ResponseSlot>>,
    shared: &'a Shared,
}

impl ResponseGuard<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Outcome> {
        let Some(slot) = &self.slot else {
            // Polled again after its outcome: not done by `submit`.
            return Poll::Ready(Err(self.shared.broken_error()));
        };
        let outcome = std::task::ready!(slot.poll_outcome(cx));
        if let Some(slot) = self.slot.take() {
            ResponseSlot::recycle(slot);
        }
        Poll::Ready(outcome)
    }
}

impl Drop for ResponseGuard<'_> {
    fn drop(&mut self) {
        // After abandon() the driver's delivery is refused, so "no outcome yet" is final.
        if let Some(slot) = self.slot.take()
            && slot.abandon()
        {
            let orphans = self.shared.orphans.fetch_add(1, Ordering::AcqRel) + 1;
            if orphans > self.shared.max_orphans {
                self.shared.wake_driver();
            }
        }
    }
}

#[cfg(test)]
mod handshake_tests;
#[cfg(test)]
mod sim_in_process_tests;
#[cfg(test)]
mod tests;
