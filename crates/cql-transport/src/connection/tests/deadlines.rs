//! Request deadlines kept by the driver (`deadline.rs`): each request times out once, at its
//! own deadline, whatever order the deadlines came in; a timed-out request keeps its stream id
//! as an orphan; a request the driver could not send yet times out too, unsent.

use tokio::time::Instant;

use super::*;

fn spawn_until(
    conn: &Connection,
    body: &'static [u8],
    timeout: Duration,
) -> tokio::task::JoinHandle<(Result<Frame, ConnectionError>, Duration)> {
    let conn = conn.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        let r = conn
            .send_frame_until(request(0x07, body), Some(Deadline::after(timeout)))
            .await;
        (r, start.elapsed())
    })
}

/// The timer wheel rounds a deadline up to its next millisecond.
fn assert_about(elapsed: Duration, expected: Duration) {
    assert!(
        elapsed >= expected && elapsed <= expected + Duration::from_millis(2),
        "took {elapsed:?}, expected {expected:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_driver_times_a_request_out_at_its_deadline_and_keeps_its_id() {
    let (conn, mut peer) = start(tuning());
    let t = Duration::from_secs(1);
    let task = spawn_until(&conn, b"late", t);
    let sent = peer.next().await.expect("frame");
    let (r, elapsed) = task.await.expect("join");
    assert!(
        matches!(r, Err(ConnectionError::Timeout(d)) if d == t),
        "{r:?}"
    );
    assert_about(elapsed, t);
    assert_eq!(conn.orphans(), 1);
    assert_eq!(
        conn.in_flight(),
        1,
        "the timed-out request still holds its id"
    );
    // A new request does not get that id; the late response is dropped and frees it.
    let next = spawn_req(&conn, b"next");
    let f = peer.next().await.expect("frame");
    assert_ne!(f.header.stream, sent.header.stream);
    peer.send(&response(sent.header.stream, 0x08, b"too late"))
        .await;
    peer.send(&response(f.header.stream, 0x08, b"fresh")).await;
    assert_eq!(&next.await.expect("join").expect("ok").body[..], b"fresh");
    assert_eq!((conn.orphans(), conn.in_flight()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn an_earlier_deadline_sent_later_still_fires_first() {
    let (conn, mut peer) = start(tuning());
    let long = spawn_until(&conn, b"long", Duration::from_secs(10));
    let long_frame = peer.next().await.expect("frame");
    let short = spawn_until(&conn, b"short", Duration::from_secs(1));
    peer.next().await.expect("frame");
    let (r, elapsed) = short.await.expect("join");
    assert!(matches!(r, Err(ConnectionError::Timeout(_))), "{r:?}");
    assert_about(elapsed, Duration::from_secs(1));
    assert!(!long.is_finished(), "the later deadline has not passed");
    // Answered in time, the long one gets its response, not a timeout.
    tokio::time::sleep(Duration::from_secs(5)).await;
    peer.send(&response(long_frame.header.stream, 0x08, b"ok"))
        .await;
    let (r, _) = long.await.expect("join");
    assert_eq!(&r.expect("ok").body[..], b"ok");
}

#[tokio::test(start_paused = true)]
async fn a_request_waiting_for_a_stream_id_times_out_unsent() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_streams: 1,
        ..tuning()
    });
    let first = spawn_req(&conn, b"first");
    let first_frame = peer.next().await.expect("frame");
    let waiting = spawn_until(&conn, b"waiting", Duration::from_secs(1));
    let (r, elapsed) = waiting.await.expect("join");
    assert!(matches!(r, Err(ConnectionError::Timeout(_))), "{r:?}");
    assert_about(elapsed, Duration::from_secs(1));
    assert_eq!(
        (conn.in_flight(), conn.orphans()),
        (1, 0),
        "never sent: no orphan, no id"
    );
    // The id frees; the timed-out request is not sent after all, a new one is.
    peer.send(&response(first_frame.header.stream, 0x08, b"1"))
        .await;
    first.await.expect("join").expect("ok");
    let next = spawn_req(&conn, b"next");
    let f = peer.next().await.expect("frame");
    assert_eq!(&f.body[..], b"next");
    peer.send(&response(f.header.stream, 0x08, b"2")).await;
    next.await.expect("join").expect("ok");
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_request_is_not_counted_twice_when_its_deadline_passes() {
    let (conn, mut peer) = start(tuning());
    let task = spawn_until(&conn, b"dropped", Duration::from_secs(1));
    let f = peer.next().await.expect("frame");
    task.abort();
    let _ = task.await;
    assert_eq!(conn.orphans(), 1, "the caller gave up");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        conn.orphans(),
        1,
        "its deadline passing adds no second orphan"
    );
    peer.send(&response(f.header.stream, 0x08, b"late")).await;
    let _ = peer.next_within(Duration::from_millis(10)).await;
    assert_eq!((conn.orphans(), conn.in_flight()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn timed_out_requests_past_the_orphan_limit_break_the_connection() {
    let (conn, mut peer) = start(ConnectionTuning {
        max_orphans: 2,
        ..tuning()
    });
    let bystander = spawn_req(&conn, b"waits");
    peer.next().await.expect("bystander");
    let timed: Vec<_> = (0..3)
        .map(|_| spawn_until(&conn, b"", Duration::from_millis(100)))
        .collect();
    for t in timed {
        let (r, _) = t.await.expect("join");
        assert!(matches!(r, Err(ConnectionError::Timeout(_))), "{r:?}");
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
}
