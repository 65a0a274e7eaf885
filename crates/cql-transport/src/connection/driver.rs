//! The connection driver task: owns the socket, allocates stream ids, coalesces writes, routes
//! responses and sends heartbeats. The handle side lives in `mod.rs`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::deadline::Deadlines;
use super::slot::Delivery;
use super::stall::{StallAction, StallWatch};
use super::{NEVER, Shared};
use crate::error::{BrokenReason, ConnectionError};
use crate::stream_ids::StreamIds;
use proto::Opcode;
use proto::frame::{Frame, FrameFlags, FrameHeader, ProtocolVersion};
use proto::segment::{FrameReader, FrameWriter, SegmentCompression};

/// At most this many scheduler turns are given to other callers before a write, under load.
const MAX_COALESCING_TURNS: usize = 3;

/// One queued request: its slot, holding a whole encoded frame (stream id patched by the
/// driver) and, later, its outcome.
#[derive(Debug)]
pub(crate) struct QueuedRequest {
    pub(crate) delivery: Delivery,
}

/// What the driver needs to know, copied out of the connection config.
#[derive(Debug, Clone)]
pub(crate) struct DriverSettings {
    pub(crate) max_streams: usize,
    pub(crate) write_coalescing: bool,
    /// `ConnectionTuning::write_coalescing_delay`.
    pub(crate) write_coalescing_delay: Option<Duration>,
    /// How many requests the driver keeps while it cannot send them (the queue's capacity).
    pub(crate) park_limit: usize,
    pub(crate) write_buffer_limit: usize,
    pub(crate) read_buffer_size: usize,
    pub(crate) heartbeat_interval: Option<Duration>,
    pub(crate) heartbeat_timeout: Duration,
    /// The stall watch's quiet time (see [`crate::health`]); `None`: no watch.
    pub(crate) unresponsive_after: Option<Duration>,
    pub(crate) version: ProtocolVersion,
    /// v5 segment framing and its compression; `None`: frames go on the wire as they are.
    pub(crate) segments: Option<SegmentCompression>,
}

/// Where EVENT frames (stream -1) go.
pub(crate) type EventSink = Box<dyn FnMut(Frame) + Send>;

#[derive(Debug)]
enum Slot {
    Empty,
    /// A caller's request, with the deadline the driver gives it up at.
    Caller(Delivery, Option<Instant>),
    /// A caller's request past its deadline: the caller has its timeout, the stream id waits
    /// for the late response (an orphan).
    TimedOut,
    Heartbeat,
    /// The stall watch's OPTIONS probe.
    Probe,
}

/// The driver state; `run` consumes it.
pub(crate) struct Driver<S> {
    stream: S,
    rx: mpsc::Receiver<QueuedRequest>,
    shared: Arc<Shared>,
    settings: DriverSettings,
    events: Option<EventSink>,
    read_buf: BytesMut,
    reader: FrameReader,
}

impl<S> Driver<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new(
        stream: S,
        rx: mpsc::Receiver<QueuedRequest>,
        shared: Arc<Shared>,
        settings: DriverSettings,
        events: Option<EventSink>,
        read_buf: BytesMut,
        reader: FrameReader,
    ) -> Self {
        Self {
            stream,
            rx,
            shared,
            settings,
            events,
            read_buf,
            reader,
        }
    }

    /// Runs until the connection breaks, is closed, or every handle is dropped.
    pub(crate) async fn run(self) {
        let Self {
            stream,
            mut rx,
            shared,
            settings,
            mut events,
            mut read_buf,
            reader,
        } = self;
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut st = State {
            reader,
            writer: FrameWriter::new(settings.segments),
            ids: StreamIds::new(settings.max_streams),
            slots: Vec::new(),
            write_buf: BytesMut::with_capacity(settings.write_buffer_limit.min(64 * 1024)),
            need_flush: false,
            heartbeat_deadline: None,
            last_read: Instant::now(),
            timer_at: Instant::now() + settings.heartbeat_interval.unwrap_or(NEVER),
            stall: StallWatch::new(Instant::now()),
            deadlines: Deadlines::default(),
        };
        if read_buf.capacity() < settings.read_buffer_size {
            read_buf.reserve(settings.read_buffer_size - read_buf.len());
        }
        let mut timer: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(st.timer_at));

        // Frames that arrived together with the last handshake response.
        let reason = match st.route_buffered(&mut read_buf, &shared, &mut events) {
            Err(reason) => reason,
            Ok(()) => loop {
                // Keep room for a large read so frames arrive in few syscalls; space freed by
                // consumed frames is reclaimed once their `Bytes` are dropped.
                if read_buf.capacity() - read_buf.len() < settings.read_buffer_size / 8 + 1 {
                    read_buf.reserve(settings.read_buffer_size.max(1024));
                }
                // Requests parked while they could not be sent go first, in order.
                if !st.deadlines.parked.is_empty() {
                    st.unpark(&settings, &shared);
                }
                // Frames queued since the last turn go into segments (v5) in one go.
                if let Err(e) = st.writer.seal(&mut st.write_buf) {
                    break BrokenReason::Framing(Box::new(e.into()));
                }
                // Re-armed only when the heartbeat state changes, not on every read.
                if timer.deadline() != st.timer_at {
                    timer.as_mut().reset(st.timer_at);
                }
                let can_send = st.deadlines.parked.is_empty() && st.can_send(&settings);
                // While requests cannot be sent, they are still taken off the queue (up to its
                // capacity again), so that their deadlines are kept.
                let can_accept = can_send || st.deadlines.parked.len() < settings.park_limit;
                tokio::select! {
                    // Not `biased`: under load the read branch is ready on almost every turn, and
                    // polling it first every time held queued requests back (measured: the machine
                    // idled ~30% at concurrency 1024 on 1 node x 2 shards while scylla saturated it).
                    () = std::future::poll_fn(|cx| shared.poll_wake(cx)) => {
                        if shared.close_requested.load(Ordering::Acquire) {
                            break BrokenReason::Closed;
                        }
                        let orphans = shared.orphans.load(Ordering::Acquire);
                        if orphans > shared.max_orphans {
                            break BrokenReason::TooManyOrphans { orphans, limit: shared.max_orphans };
                        }
                    }
                    r = rd.read_buf(&mut read_buf) => match r {
                        Ok(0) => break BrokenReason::Eof,
                        Err(e) => break e.into(),
                        Ok(_) => {
                            st.last_read = Instant::now();
                            if st.stall.wants_reads() && st.stall.on_read() {
                                if let Some(h) = &shared.node_health {
                                    h.unflag();
                                }
                                tracing::info!("connection answers again");
                                // Look again at once: the watch restarts from this read.
                                st.timer_at = st.last_read;
                            }
                            if let Err(reason) = st.route_buffered(&mut read_buf, &shared, &mut events) {
                                break reason;
                            }
                        }
                    },
                    r = write_or_flush(&mut wr, &st.write_buf), if !st.write_buf.is_empty() || st.need_flush => match r {
                        Err(e) => break e.into(),
                        Ok(Written::Flushed) => st.need_flush = false,
                        Ok(Written::Bytes(n)) => {
                            if let Err(reason) = st.on_written(Ok(n), &mut wr, &shared) {
                                break reason;
                            }
                        }
                    },
                    env = rx.recv(), if can_accept => match env {
                        // Every handle is gone, so nobody can be waiting for a response.
                        None => break BrokenReason::Closed,
                        Some(env) if !can_send => st.park(env),
                        Some(env) => {
                            st.enqueue(env, &shared);
                            if let Some(after) = settings.unresponsive_after
                                && let Some(at) = st.stall.on_request(after)
                            {
                                st.timer_at = st.timer_at.min(at);
                            }
                            if settings.write_coalescing {
                                let _ = st.drain_queued(&mut rx, &settings, &shared);
                                // Other requests are in flight, so more callers are likely about
                                // to submit: give them one turn of the scheduler before this
                                // buffer is written, so their frames share the write syscall.
                                // A lone request (concurrency 1) is written at once.
                                // While turns keep bringing frames, take a few more turns
                                // (bounded), so a burst of callers woken by one read shares
                                // one write.
                                if shared.in_flight.load(Ordering::Acquire) > 1 {
                                    if let Some(delay) = settings.write_coalescing_delay {
                                        // A fixed wait instead (`write_coalescing_delay`):
                                        // larger writes for more latency.
                                        tokio::time::sleep(delay).await;
                                        let _ = st.drain_queued(&mut rx, &settings, &shared);
                                    } else {
                                        for _ in 0..MAX_COALESCING_TURNS {
                                            tokio::task::yield_now().await;
                                            if st.drain_queued(&mut rx, &settings, &shared) == 0 {
                                                break;
                                            }
                                        }
                                    }
                                }
                            }
                            // Written in this turn if the socket takes it at once: the next
                            // turn would poll every branch again first.
                            if let Err(reason) = st.write_now(&mut wr, &shared) {
                                break reason;
                            }
                        }
                    },
                    () = &mut timer => {
                        if let Err(reason) = st.on_timer(&settings, &shared) {
                            break reason;
                        }
                    }
                }
            },
        };
        let _ = shared.reason.set(reason.clone());
        shared.broken.store(true, Ordering::Release);
        if st.stall.flagged
            && let Some(h) = &shared.node_health
        {
            h.unflag();
        }
        match &reason {
            BrokenReason::Closed => tracing::debug!("connection closed"),
            other => tracing::warn!(reason = %other, "connection broken"),
        }
        let err = ConnectionError::Broken(reason);
        let mut failed = 0usize;
        for slot in st.slots.drain(..) {
            match slot {
                Slot::Caller(d, _) => {
                    failed += 1;
                    d.complete(Err(err.clone()));
                }
                Slot::TimedOut => failed += 1,
                Slot::Empty | Slot::Heartbeat | Slot::Probe => {}
            }
        }
        for parked in st.deadlines.parked.drain(..) {
            failed += 1;
            parked.complete(Err(err.clone()));
        }
        rx.close();
        while let Ok(env) = rx.try_recv() {
            failed += 1;
            env.delivery.complete(Err(err.clone()));
        }
        shared.in_flight.fetch_sub(failed, Ordering::AcqRel);
        let _ = wr.shutdown().await;
    }
}

struct State {
    reader: FrameReader,
    writer: FrameWriter,
    ids: StreamIds,
    slots: Vec<Slot>,
    write_buf: BytesMut,
    need_flush: bool,
    heartbeat_deadline: Option<Instant>,
    last_read: Instant,
    /// When the timer (heartbeat, stall watch, request deadlines) next fires.
    timer_at: Instant,
    stall: StallWatch,
    deadlines: Deadlines,
}

impl State {
    /// Bytes waiting to be written: frames not yet in segments, and the write buffer.
    fn buffered(&self) -> usize {
        self.write_buf.len() + self.writer.queued_len()
    }

    /// Whether a request taken off the queue now can go out: a stream id is free and the write
    /// buffer has room (and, without coalescing, is empty).
    fn can_send(&self, settings: &DriverSettings) -> bool {
        self.ids.has_free()
            && self.buffered() < settings.write_buffer_limit
            && (settings.write_coalescing || self.write_buf.is_empty())
    }

    /// Keeps a request that cannot be sent yet, with its deadline.
    fn park(&mut self, env: QueuedRequest) {
        self.note_deadline(env.delivery.deadline());
        self.deadlines.parked.push_back(env.delivery);
    }

    /// Notes a request's deadline, moving the timer earlier when it is the new earliest.
    fn note_deadline(&mut self, at: Option<Instant>) {
        if self.deadlines.note(at)
            && let Some(at) = at
        {
            self.timer_at = self.timer_at.min(at);
        }
    }

    /// Sends parked requests, oldest first, while they can go out.
    fn unpark(&mut self, settings: &DriverSettings, shared: &Shared) {
        while self.can_send(settings) {
            let Some(delivery) = self.deadlines.parked.pop_front() else {
                break;
            };
            self.enqueue(QueuedRequest { delivery }, shared);
        }
    }

    /// Seals queued frames (v5) and writes the buffer now if the stream takes it without
    /// waiting; otherwise the write branch of the loop waits for the stream.
    fn write_now<W: AsyncWrite + Unpin>(
        &mut self,
        wr: &mut W,
        shared: &Shared,
    ) -> Result<(), BrokenReason> {
        self.writer
            .seal(&mut self.write_buf)
            .map_err(|e| BrokenReason::Framing(Box::new(e.into())))?;
        if self.write_buf.is_empty() {
            return Ok(());
        }
        match wr.write(&self.write_buf).now_or_never() {
            None => Ok(()),
            Some(r) => self.on_written(r, wr, shared),
        }
    }

    /// Accounts for one `write` of the buffer's front.
    fn on_written<W: AsyncWrite + Unpin>(
        &mut self,
        written: std::io::Result<usize>,
        wr: &mut W,
        shared: &Shared,
    ) -> Result<(), BrokenReason> {
        let n = written?;
        if n == 0 {
            return Err(BrokenReason::Eof);
        }
        shared.writes.fetch_add(1, Ordering::Relaxed);
        self.write_buf.advance(n);
        if self.write_buf.is_empty() {
            // Reuse the allocation from the start.
            self.write_buf.clear();
            // Flushed here if the stream can at once (a plain socket always can), which saves
            // the loop a turn (polling every branch) per write; otherwise, or on an error, by
            // the flush branch.
            self.need_flush = !matches!(wr.flush().now_or_never(), Some(Ok(())));
        }
        Ok(())
    }

    /// Moves every request already queued on the channel into the write buffer, while stream
    /// ids and buffer room last.
    fn drain_queued(
        &mut self,
        rx: &mut mpsc::Receiver<QueuedRequest>,
        settings: &DriverSettings,
        shared: &Shared,
    ) -> usize {
        let mut taken = 0;
        while self.ids.has_free() && self.buffered() < settings.write_buffer_limit {
            match rx.try_recv() {
                Ok(env) => {
                    self.enqueue(env, shared);
                    taken += 1;
                }
                Err(_) => break,
            }
        }
        taken
    }

    fn enqueue(&mut self, env: QueuedRequest, shared: &Shared) {
        let QueuedRequest { delivery } = env;
        let (ids, writer, write_buf) = (&mut self.ids, &mut self.writer, &mut self.write_buf);
        let taken = delivery.take_frame(|frame, deadline| {
            if frame.len() < FrameHeader::LEN {
                return Err(ConnectionError::Invalid(format!(
                    "a request frame of {} bytes is shorter than the {}-byte header",
                    frame.len(),
                    FrameHeader::LEN
                )));
            }
            // Not `None` in practice: the driver only dequeues when an id is free.
            let id = ids.alloc().ok_or(ConnectionError::TooManyInFlight {
                limit: crate::stream_ids::MAX_STREAMS,
            })?;
            FrameHeader::patch_stream(frame, id);
            writer.frame_buf(write_buf).extend_from_slice(frame);
            Ok((id, deadline))
        });
        match taken {
            // Cancelled while queued: its guard counted it as an orphan; it never gets an id.
            None => {
                shared.orphans.fetch_sub(1, Ordering::AcqRel);
                shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            }
            Some(Err(e)) => {
                shared.in_flight.fetch_sub(1, Ordering::AcqRel);
                delivery.complete(Err(e));
            }
            Some(Ok((id, deadline))) => {
                self.note_deadline(deadline);
                self.put_slot(id, Slot::Caller(delivery, deadline));
            }
        }
    }

    fn put_slot(&mut self, id: i16, slot: Slot) {
        let idx = usize::try_from(id).unwrap_or(0);
        if idx >= self.slots.len() {
            self.slots.resize_with(idx + 1, || Slot::Empty);
        }
        self.slots[idx] = slot;
    }

    fn route_buffered(
        &mut self,
        buf: &mut BytesMut,
        shared: &Shared,
        events: &mut Option<EventSink>,
    ) -> Result<(), BrokenReason> {
        loop {
            let frame = match self.reader.decode(buf) {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => return Err(BrokenReason::CorruptFrame(Box::new(e))),
            };
            self.route(frame, shared, events);
        }
    }

    fn route(&mut self, frame: Frame, shared: &Shared, events: &mut Option<EventSink>) {
        let id = frame.header.stream;
        if id < 0 {
            match events {
                Some(sink) => sink(frame),
                None => tracing::debug!(
                    stream = id,
                    opcode = ?frame.header.opcode,
                    "server-initiated frame dropped"
                ),
            }
            return;
        }
        let idx = usize::try_from(id).unwrap_or(usize::MAX);
        let slot = match self.slots.get_mut(idx) {
            Some(slot) if self.ids.is_used(id) => std::mem::replace(slot, Slot::Empty),
            _ => {
                tracing::warn!(stream = id, "response for an unknown stream id dropped");
                return;
            }
        };
        self.ids.free(id);
        match slot {
            Slot::Empty => tracing::warn!(stream = id, "response for an idle stream id dropped"),
            Slot::Probe => self.stall.probe_in_flight = false,
            Slot::Heartbeat => {
                tracing::trace!("heartbeat answered");
                self.heartbeat_deadline = None;
                // Fire at once; `on_timer` computes the next idle check.
                self.timer_at = self.last_read;
            }
            Slot::TimedOut => {
                shared.in_flight.fetch_sub(1, Ordering::AcqRel);
                shared.orphans.fetch_sub(1, Ordering::AcqRel);
                tracing::debug!(stream = id, "late response to a timed-out request dropped");
            }
            Slot::Caller(d, _) => {
                shared.in_flight.fetch_sub(1, Ordering::AcqRel);
                if !d.complete(Ok(frame)) {
                    // The caller gave up (timeout or cancellation): this was an orphan.
                    shared.orphans.fetch_sub(1, Ordering::AcqRel);
                    tracing::debug!(
                        stream = id,
                        "late response to an orphaned stream id dropped"
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, settings: &DriverSettings, shared: &Shared) -> Result<(), BrokenReason> {
        let now = Instant::now();
        if self.deadlines.due(now) {
            self.expire(now, shared)?;
        }
        let mut next = self.heartbeat_check(now, settings)?;
        if let Some(at) = self.deadlines.earliest {
            next = next.min(at);
        }
        if let Some(after) = settings.unresponsive_after {
            let waiting = shared.in_flight.load(Ordering::Acquire) > 0;
            let (action, at) = self.stall.check(now, after, self.last_read, waiting);
            match action {
                StallAction::None => {}
                StallAction::Probe => {
                    if self.send_options(settings.version, Slot::Probe) {
                        tracing::debug!(?after, "requests wait and nothing was read: probing");
                        self.stall.probe_sent(now);
                    }
                }
                StallAction::Flagged => {
                    tracing::warn!(
                        quiet = ?(now - self.last_read),
                        "the connection answers nothing, not even a probe: unresponsive"
                    );
                    if let Some(h) = &shared.node_health {
                        h.flag();
                    }
                }
            }
            next = next.min(at);
        }
        self.timer_at = next;
        Ok(())
    }

    /// Gives up the requests past their deadline: each caller gets its timeout, and the
    /// stream id of a sent one stays reserved as an orphan until its late response. Breaks the
    /// connection when that makes too many orphans.
    fn expire(&mut self, now: Instant, shared: &Shared) -> Result<(), BrokenReason> {
        self.deadlines.earliest = None;
        let mut orphaned = 0;
        for slot in &mut self.slots {
            let Slot::Caller(_, Some(at)) = slot else {
                continue;
            };
            if *at > now {
                let at = *at;
                self.deadlines.note(Some(at));
                continue;
            }
            if let Slot::Caller(d, _) = std::mem::replace(slot, Slot::TimedOut)
                && d.expire()
            {
                // A caller that had given up already counted its orphan.
                orphaned += 1;
            }
        }
        let (unsent, abandoned) = self.deadlines.expire_parked(now);
        if unsent > 0 {
            shared.in_flight.fetch_sub(unsent, Ordering::AcqRel);
        }
        if abandoned > 0 {
            shared.orphans.fetch_sub(abandoned, Ordering::AcqRel);
        }
        if orphaned > 0 {
            tracing::debug!(orphaned, unsent, "requests past their deadline timed out");
            let orphans = shared.orphans.fetch_add(orphaned, Ordering::AcqRel) + orphaned;
            if orphans > shared.max_orphans {
                return Err(BrokenReason::TooManyOrphans {
                    orphans,
                    limit: shared.max_orphans,
                });
            }
        }
        Ok(())
    }

    /// The heartbeat's part of the timer: breaks a connection whose heartbeat went unanswered,
    /// sends one after an idle interval; returns when it next needs the timer.
    fn heartbeat_check(
        &mut self,
        now: Instant,
        settings: &DriverSettings,
    ) -> Result<Instant, BrokenReason> {
        if let Some(deadline) = self.heartbeat_deadline {
            if now >= deadline {
                return Err(BrokenReason::HeartbeatTimeout(settings.heartbeat_timeout));
            }
            return Ok(deadline);
        }
        let Some(interval) = settings.heartbeat_interval else {
            return Ok(now + NEVER);
        };
        if now < self.last_read + interval {
            return Ok(self.last_read + interval);
        }
        if !self.send_options(settings.version, Slot::Heartbeat) {
            // Every id is busy; the connection is evidently not idle. (`last_read` is left
            // alone: the stall watch must not take this for an answer.)
            return Ok(now + interval);
        }
        tracing::trace!("sending heartbeat");
        self.heartbeat_deadline = Some(now + settings.heartbeat_timeout);
        Ok(now + settings.heartbeat_timeout)
    }

    /// Queues an OPTIONS frame answered into `slot`; false when no stream id is free.
    fn send_options(&mut self, version: ProtocolVersion, slot: Slot) -> bool {
        let Some(id) = self.ids.alloc() else {
            return false;
        };
        // OPTIONS has an empty body: the frame is its header.
        FrameHeader {
            version,
            is_response: false,
            flags: FrameFlags::EMPTY,
            stream: id,
            opcode: Opcode::OPTIONS,
            length: 0,
        }
        .encode(self.writer.frame_buf(&mut self.write_buf));
        self.put_slot(id, slot);
        true
    }
}

enum Written {
    Bytes(usize),
    Flushed,
}

/// One `write` of everything queued (one syscall for many frames), or a flush once it drained.
async fn write_or_flush<W: AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &BytesMut,
) -> std::io::Result<Written> {
    if buf.is_empty() {
        wr.flush().await.map(|()| Written::Flushed)
    } else {
        wr.write(buf).await.map(Written::Bytes)
    }
}
