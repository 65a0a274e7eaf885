//! Driver mechanics over `tokio::io::duplex` with a paused clock. Frames here are raw header
//! bytes written by hand from the v4 spec (9-byte header), so these tests need no codec.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

use super::*;
use crate::stream_ids::MAX_STREAMS;
use proto::frame::{Frame, FrameDecoder, FrameError};

mod deadlines;

/// A request frame: version 4, no flags, stream 0 (patched by the driver), opcode, body.
fn request(opcode: u8, body: &[u8]) -> BytesMut {
    let mut f = BytesMut::new();
    f.put_slice(&[0x04, 0x00, 0x00, 0x00, opcode]);
    f.put_u32(u32::try_from(body.len()).expect("small"));
    f.put_slice(body);
    f
}

/// A response frame: version byte 0x84.
fn response(stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x84, 0x00];
    f.extend_from_slice(&stream.to_be_bytes());
    f.push(opcode);
    f.extend_from_slice(&u32::try_from(body.len()).expect("small").to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// The server end of the duplex: reads request frames.
struct Peer {
    io: DuplexStream,
    buf: BytesMut,
}

impl Peer {
    async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(f) = FrameDecoder::new(1 << 20)
                .decode(&mut self.buf)
                .expect("client frames are valid")
            {
                return Some(f);
            }
            if self.io.read_buf(&mut self.buf).await.ok()? == 0 {
                return None;
            }
        }
    }

    /// The next frame, or None if nothing arrives within `d` (virtual time).
    async fn next_within(&mut self, d: Duration) -> Option<Frame> {
        tokio::time::timeout(d, self.next()).await.ok().flatten()
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("peer write");
    }
}

/// Counts `poll_write` calls that wrote something.
struct Counting<S> {
    inner: S,
    writes: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A scripted peer answers only what the test sends, so neither heartbeats nor stall probes
/// (`stall.rs` has its own tests) may add frames to the script.
fn tuning() -> ConnectionTuning {
    ConnectionTuning {
        heartbeat_interval: None,
        request_timeout: None,
        unresponsive_after: None,
        ..ConnectionTuning::default()
    }
}

fn start_with(
    tuning: ConnectionTuning,
    events: Option<EventSink>,
) -> (Connection, Peer, Arc<AtomicUsize>) {
    let (client, server) = tokio::io::duplex(4 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let stream = Counting {
        inner: client,
        writes: Arc::clone(&writes),
    };
    let info = ConnectionInfo::default();
    let (conn, driver) = Connection::start(stream, tuning, info, events, BytesMut::new());
    tokio::spawn(driver);
    (
        conn,
        Peer {
            io: server,
            buf: BytesMut::new(),
        },
        writes,
    )
}

fn start(tuning: ConnectionTuning) -> (Connection, Peer) {
    let (c, p, _) = start_with(tuning, None);
    (c, p)
}

fn spawn_req(
    conn: &Connection,
    body: &[u8],
) -> tokio::task::JoinHandle<Result<Frame, ConnectionError>> {
    let conn = conn.clone();
    let f = request(0x07, body);
    tokio::spawn(async move { conn.send_frame(f, conn.request_timeout()).await })
}

#[tokio::test(start_paused = true)]
async fn responses_are_routed_by_stream_id_out_of_order() {
    let (conn, mut peer) = start(tuning());
    let a = spawn_req(&conn, b"a");
    let b = spawn_req(&conn, b"b");
    let fa = peer.next().await.expect("frame");
    let fb = peer.next().await.expect("frame");
    assert_ne!(fa.header.stream, fb.header.stream);
    assert_eq!(fa.header.opcode.0, 0x07);
    // Answer in reverse order, echoing the body.
    for f in [&fb, &fa] {
        peer.send(&response(f.header.stream, 0x08, &f.body)).await;
    }
    let mut bodies = vec![
        a.await.expect("join").expect("ok").body,
        b.await.expect("join").expect("ok").body,
    ];
    bodies.sort();
    assert_eq!(
        bodies,
        vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]
    );
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn each_caller_gets_its_own_response() {
    let (conn, mut peer) = start(tuning());
    let tasks: Vec<_> = (0..50u8).map(|i| spawn_req(&conn, &[i])).collect();
    for _ in 0..50 {
        let f = peer.next().await.expect("frame");
        peer.send(&response(f.header.stream, 0x08, &f.body)).await;
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let f = t.await.expect("join").expect("response");
        assert_eq!(&f.body[..], &[u8::try_from(i).expect("small")]);
    }
}

#[tokio::test(start_paused = true)]
async fn coalescing_writes_fewer_times_than_requests() {
    let (conn, mut peer, writes) = start_with(tuning(), None);
    // Queue 200 requests before the driver gets to run.
    let tasks: Vec<_> = (0..200u8).map(|i| spawn_req(&conn, &[i])).collect();
    let mut seen = 0;
    while seen < 200 {
        let f = peer.next().await.expect("frame");
        peer.send(&response(f.header.stream, 0x08, &f.body)).await;
        seen += 1;
    }
    for t in tasks {
        t.await.expect("join").expect("response");
    }
    let n = writes.load(Ordering::SeqCst);
    assert!(n < 200 / 4, "{n} writes for 200 requests");
    assert!(n >= 1);
}

#[tokio::test(start_paused = true)]
async fn without_coalescing_every_request_is_its_own_write() {
    let (conn, mut peer, writes) = start_with(
        ConnectionTuning {
            write_coalescing: false,
            ..tuning()
        },
        None,
    );
    let tasks: Vec<_> = (0..20u8).map(|i| spawn_req(&conn, &[i])).collect();
    for _ in 0..20 {
        let f = peer.next().await.expect("frame");
        peer.send(&response(f.header.stream, 0x08, &f.body)).await;
    }
    for t in tasks {
        t.await.expect("join").expect("response");
    }
    assert_eq!(writes.load(Ordering::SeqCst), 20);
}

#[tokio::test(start_paused = true)]
async fn stream_id_exhaustion_makes_the_next_request_wait() {
    let (conn, mut peer) = start(tuning());
    let mut tasks = Vec::with_capacity(MAX_STREAMS);
    for _ in 0..MAX_STREAMS {
        tasks.push(spawn_req(&conn, b""));
    }
    let mut ids = std::collections::HashSet::new();
    for _ in 0..MAX_STREAMS {
        let f = peer.next().await.expect("frame");
        assert!(f.header.stream >= 0);
        assert!(
            ids.insert(f.header.stream),
            "stream {} reused while in flight",
            f.header.stream
        );
    }
    assert_eq!(conn.in_flight(), MAX_STREAMS);
    let extra = spawn_req(&conn, b"extra");
    assert!(
        peer.next_within(Duration::from_secs(5)).await.is_none(),
        "a 32,769th request went out"
    );
    // Free one id: the waiting request goes out on it.
    peer.send(&response(777, 0x08, b"")).await;
    let f = peer
        .next_within(Duration::from_secs(5))
        .await
        .expect("the waiting request is sent");
    assert_eq!((f.header.stream, &f.body[..]), (777, &b"extra"[..]));
    peer.send(&response(777, 0x08, b"ok")).await;
    assert_eq!(&extra.await.expect("join").expect("ok").body[..], b"ok");
    drop(tasks);
}

/// With the queue full too (every id taken, one request queued), a further request waits in
/// its (boxed) send and goes out once room frees up; every request gets its own response.
#[tokio::test(start_paused = true)]
async fn a_full_queue_makes_the_sender_wait_not_fail() {
    let (conn, mut peer) = start(ConnectionTuning {
        queue_capacity: 1,
        ..tuning()
    });
    let mut tasks = Vec::with_capacity(MAX_STREAMS);
    for _ in 0..MAX_STREAMS {
        tasks.push(spawn_req(&conn, b""));
    }
    for _ in 0..MAX_STREAMS {
        peer.next().await.expect("frame");
    }
    let queued = spawn_req(&conn, b"queued");
    let waiting = spawn_req(&conn, b"waiting");
    assert!(
        peer.next_within(Duration::from_secs(5)).await.is_none(),
        "a request went out with every stream id taken"
    );
    assert!(!waiting.is_finished(), "the sender of a full queue waits");
    // Free two ids: both held-back requests go out, in order.
    peer.send(&response(5, 0x08, b"")).await;
    peer.send(&response(6, 0x08, b"")).await;
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let f = peer
            .next_within(Duration::from_secs(5))
            .await
            .expect("a held-back request is sent");
        bodies.push(f.body.to_vec());
        let reply = [b"re:".as_slice(), &f.body[..]].concat();
        peer.send(&response(f.header.stream, 0x08, &reply)).await;
    }
    assert_eq!(bodies, vec![b"queued".to_vec(), b"waiting".to_vec()]);
    assert_eq!(
        &queued.await.expect("join").expect("ok").body[..],
        b"re:queued"
    );
    assert_eq!(
        &waiting.await.expect("join").expect("ok").body[..],
        b"re:waiting"
    );
    drop(tasks);
}

#[tokio::test(start_paused = true)]
async fn backpressure_error_mode_fails_fast_above_the_limit() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_in_flight: 2,
        backpressure: Backpressure::Error,
        ..tuning()
    });
    let _a = spawn_req(&conn, b"");
    let _b = spawn_req(&conn, b"");
    peer.next().await.expect("a");
    peer.next().await.expect("b");
    let err = conn
        .send_frame(request(0x07, b""), conn.request_timeout())
        .await
        .expect_err("limit");
    assert!(
        matches!(err, ConnectionError::TooManyInFlight { limit: 2 }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn timed_out_id_stays_reserved_until_the_late_response() {
    let (conn, mut peer) = start(tuning());
    let t = Duration::from_secs(1);
    let late = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.send_frame(request(0x07, b"late"), Some(t)).await })
    };
    let orphan = peer.next().await.expect("frame");
    let err = late.await.expect("join").expect_err("timeout");
    assert!(
        matches!(err, ConnectionError::Timeout(d) if d == t),
        "{err:?}"
    );
    assert_eq!(conn.orphans(), 1);
    assert_eq!(conn.in_flight(), 1, "the orphan still holds its id");

    // A new request must not get the orphaned id.
    let next = spawn_req(&conn, b"next");
    let f = peer.next().await.expect("frame");
    assert_ne!(f.header.stream, orphan.header.stream);
    // The late response is dropped and frees the id.
    peer.send(&response(orphan.header.stream, 0x08, b"too late"))
        .await;
    peer.send(&response(f.header.stream, 0x08, b"fresh")).await;
    assert_eq!(&next.await.expect("join").expect("ok").body[..], b"fresh");
    assert_eq!(conn.orphans(), 0);
    assert_eq!(conn.in_flight(), 0);
    // Now the lowest id (the former orphan) is handed out again.
    let again = spawn_req(&conn, b"again");
    let f = peer.next().await.expect("frame");
    assert_eq!(f.header.stream, orphan.header.stream.min(f.header.stream));
    peer.send(&response(f.header.stream, 0x08, b"")).await;
    again.await.expect("join").expect("ok");
}

#[tokio::test(start_paused = true)]
async fn cancelled_request_becomes_an_orphan() {
    let (conn, mut peer) = start(tuning());
    let fut = {
        let conn = conn.clone();
        tokio::spawn(async move {
            conn.send_frame(request(0x07, b"x"), conn.request_timeout())
                .await
        })
    };
    let f = peer.next().await.expect("frame");
    fut.abort();
    let _ = fut.await;
    assert_eq!(conn.orphans(), 1);
    peer.send(&response(f.header.stream, 0x08, b"")).await;
    // Wait for the driver to process the late response (bounded).
    for _ in 0..100 {
        if conn.orphans() == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!((conn.orphans(), conn.in_flight()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn too_many_orphans_close_the_connection() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_orphans: 2,
        ..tuning()
    });
    let bystander = spawn_req(&conn, b"waits");
    peer.next().await.expect("bystander");
    for i in 0..3 {
        let r = conn
            .send_frame(request(0x07, b""), Some(Duration::from_millis(100)))
            .await;
        assert!(
            matches!(r, Err(ConnectionError::Timeout(_))),
            "request {i}: {r:?}"
        );
    }
    let err = bystander.await.expect("join").expect_err("broken");
    assert!(
        matches!(
            err,
            ConnectionError::Broken(BrokenReason::TooManyOrphans {
                orphans: 3,
                limit: 2
            })
        ),
        "{err:?}"
    );
    assert!(conn.is_broken());
    let err = conn
        .send_frame(request(0x07, b""), conn.request_timeout())
        .await
        .expect_err("fails fast");
    assert!(err.is_broken());
}

#[tokio::test(start_paused = true)]
async fn per_request_timeout_uses_the_default() {
    let (conn, mut peer) = start(ConnectionTuning {
        request_timeout: Some(Duration::from_secs(2)),
        ..tuning()
    });
    let started = tokio::time::Instant::now();
    let r = conn
        .send_frame(request(0x07, b""), conn.request_timeout())
        .await;
    assert!(
        matches!(r, Err(ConnectionError::Timeout(d)) if d == Duration::from_secs(2)),
        "{r:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert!(peer.next().await.is_some(), "the request was written");
    assert!(!conn.is_broken());
}

async fn assert_all_fail_once(
    tasks: Vec<tokio::task::JoinHandle<Result<Frame, ConnectionError>>>,
) -> Vec<ConnectionError> {
    let mut errs = Vec::new();
    for t in tasks {
        let r = tokio::time::timeout(Duration::from_secs(5), t)
            .await
            .expect("no hang")
            .expect("join");
        errs.push(r.expect_err("must fail"));
    }
    errs
}

#[tokio::test(start_paused = true)]
async fn peer_closing_mid_frame_fails_every_in_flight_request() {
    let (conn, mut peer) = start(tuning());
    let tasks: Vec<_> = (0..3u8).map(|i| spawn_req(&conn, &[i])).collect();
    for _ in 0..3 {
        peer.next().await.expect("frame");
    }
    // Half a header, then EOF.
    peer.send(&[0x84, 0x00, 0x00]).await;
    drop(peer);
    for e in assert_all_fail_once(tasks).await {
        assert!(
            matches!(e, ConnectionError::Broken(BrokenReason::Eof)),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
    assert!(conn.is_broken());
    assert_eq!(conn.in_flight(), 0);
    let e = conn
        .send_frame(request(0x07, b""), conn.request_timeout())
        .await
        .expect_err("fast");
    assert!(
        matches!(e, ConnectionError::Broken(BrokenReason::Eof)),
        "the original reason is kept: {e:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn corrupt_frame_fails_every_in_flight_request() {
    let (conn, mut peer) = start(tuning());
    let tasks: Vec<_> = (0..3u8).map(|i| spawn_req(&conn, &[i])).collect();
    for _ in 0..3 {
        peer.next().await.expect("frame");
    }
    // Version byte 0x99 is no protocol version.
    peer.send(&[0x99, 0, 0, 0, 0x08, 0, 0, 0, 0]).await;
    for e in assert_all_fail_once(tasks).await {
        assert!(
            matches!(e, ConnectionError::Broken(BrokenReason::CorruptFrame(_))),
            "{e:?}"
        );
    }
    assert!(conn.is_broken());
}

#[tokio::test(start_paused = true)]
async fn oversized_frame_breaks_the_connection_before_reading_the_body() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_frame_size: 100,
        ..tuning()
    });
    let task = spawn_req(&conn, b"");
    let f = peer.next().await.expect("frame");
    let mut header = response(f.header.stream, 0x08, b"");
    header[5..9].copy_from_slice(&101u32.to_be_bytes());
    peer.send(&header).await;
    let e = assert_all_fail_once(vec![task]).await.remove(0);
    assert!(
        matches!(
            &e,
            ConnectionError::Broken(BrokenReason::CorruptFrame(f))
                if matches!(**f, FrameError::TooLarge { len: 101, .. })
        ),
        "{e:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_over_the_frame_limit_is_refused_unsent_and_the_connection_lives() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_frame_size: 100,
        ..tuning()
    });
    let query = |text: String| {
        Request::Query(Query {
            query: text.into(),
            params: Default::default(),
        })
    };
    let big = query(format!("SELECT * FROM t WHERE k = '{}'", "x".repeat(200)));
    let e = conn
        .send(&big, &RequestOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ConnectionError::RequestTooLarge { size, max: 100 } if size > 200),
        "{e:?}"
    );
    assert!(!conn.is_broken());
    assert_eq!(conn.in_flight(), 0);
    // Nothing reached the peer: the next frame it reads is the small request.
    let small = {
        let conn = conn.clone();
        tokio::spawn(async move {
            conn.send(&query("SELECT 1".into()), &RequestOptions::default())
                .await
        })
    };
    let f = peer.next().await.expect("frame");
    assert_eq!(f.header.opcode.0, 0x07, "QUERY");
    assert!(f.body.len() < 100);
    peer.send(&response(f.header.stream, 0x08, &[0, 0, 0, 1]))
        .await;
    small.await.unwrap().expect("the small request is answered");
}

#[tokio::test(start_paused = true)]
async fn heartbeat_detects_a_dead_peer() {
    let (conn, mut peer) = start(ConnectionTuning {
        heartbeat_interval: Some(Duration::from_secs(10)),
        heartbeat_timeout: Duration::from_secs(3),
        ..tuning()
    });
    let started = tokio::time::Instant::now();
    let hb = peer.next().await.expect("heartbeat");
    assert_eq!(hb.header.opcode.0, 0x05, "OPTIONS");
    assert!(hb.body.is_empty());
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    // Answer the first heartbeat with SUPPORTED (empty string multimap).
    peer.send(&response(hb.header.stream, 0x06, &[0, 0])).await;
    let hb2 = peer.next().await.expect("second heartbeat");
    assert_eq!(hb2.header.opcode.0, 0x05);
    assert_eq!(started.elapsed(), Duration::from_secs(20));
    assert!(!conn.is_broken());
    // Ignore it: the connection breaks after the heartbeat timeout.
    let waiting = spawn_req(&conn, b"");
    peer.next().await.expect("request");
    let e = assert_all_fail_once(vec![waiting]).await.remove(0);
    assert!(
        matches!(
            e,
            ConnectionError::Broken(BrokenReason::HeartbeatTimeout(_))
        ),
        "{e:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(23));
    assert!(conn.is_broken());
}

#[tokio::test(start_paused = true)]
async fn events_go_to_the_sink_and_unknown_streams_are_dropped() {
    let (tx, mut rx) = mpsc::channel(4);
    let sink: EventSink = Box::new(move |f| {
        let _ = tx.try_send(f);
    });
    let (conn, mut peer, _) = start_with(tuning(), Some(sink));
    peer.send(&response(-1, 0x0C, b"evt")).await;
    let ev = tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("event")
        .expect("open");
    assert_eq!(
        (ev.header.stream, ev.header.opcode.0, &ev.body[..]),
        (-1, 0x0C, &b"evt"[..])
    );
    // A response for a stream nobody uses is dropped; the connection keeps working.
    peer.send(&response(4242, 0x08, b"stray")).await;
    let t = spawn_req(&conn, b"q");
    let f = peer.next().await.expect("frame");
    peer.send(&response(f.header.stream, 0x08, b"a")).await;
    assert_eq!(&t.await.expect("join").expect("ok").body[..], b"a");
    assert!(!conn.is_broken());
}

#[tokio::test(start_paused = true)]
async fn close_fails_in_flight_and_later_requests() {
    let (conn, mut peer) = start(tuning());
    let t = spawn_req(&conn, b"");
    peer.next().await.expect("frame");
    conn.close();
    let e = assert_all_fail_once(vec![t]).await.remove(0);
    assert!(
        matches!(e, ConnectionError::Broken(BrokenReason::Closed)),
        "{e:?}"
    );
    assert!(conn.is_broken());
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_ends_the_driver() {
    let (client, _server) = tokio::io::duplex(1 << 16);
    let info = ConnectionInfo::default();
    let (conn, driver) = Connection::start(client, tuning(), info, None, BytesMut::new());
    let task = tokio::spawn(driver);
    let clone = conn.clone();
    drop(conn);
    assert!(!task.is_finished());
    drop(clone);
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("driver ends")
        .expect("join");
}

#[tokio::test(start_paused = true)]
async fn heartbeats_only_on_idle_connections() {
    let (conn, mut peer) = start(ConnectionTuning {
        heartbeat_interval: Some(Duration::from_secs(10)),
        heartbeat_timeout: Duration::from_secs(3),
        ..tuning()
    });
    let started = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let t = spawn_req(&conn, b"busy");
    let f = peer.next().await.expect("request");
    assert_eq!(f.header.opcode.0, 0x07);
    peer.send(&response(f.header.stream, 0x08, b"")).await;
    t.await.expect("join").expect("ok");
    // The read at 8 s pushes the idle check to 18 s.
    let hb = peer.next().await.expect("heartbeat");
    assert_eq!(hb.header.opcode.0, 0x05);
    assert_eq!(started.elapsed(), Duration::from_secs(18));
}
