//! Done-when 6: a paused node makes its requests time out, each exactly once; heartbeats
//! detect a paused node and the pool marks it down, then recovers on resume.

use std::time::Duration;

use crate::sim_common::*;
use cql_sim::{FaultAction, FaultRule, RequestMatcher};
use cql_transport::{BrokenReason, ConnectionError};
use proto::response::{Response, ResultBody};

/// The `int` value of a one-row, one-int-column result.
fn single_int(r: &Response) -> Option<i32> {
    let Response::Result(ResultBody::Rows(rows)) = r else {
        return None;
    };
    if rows.rows_count != 1 {
        return None;
    }
    // One [bytes] cell: int32 length 4, then 4 bytes.
    let b = &rows.rows_content[..];
    (b.len() == 8 && b[..4] == [0, 0, 0, 4]).then(|| i32::from_be_bytes([b[4], b[5], b[6], b[7]]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_node_requests_time_out_exactly_once_and_late_responses_go_nowhere() {
    const N: i32 = 50;
    const TIMEOUT: Duration = Duration::from_millis(300);
    let sim = sim3().await;
    let mut cfg = config(&sim, 1);
    cfg.connection.tuning.heartbeat_interval = None;
    cfg.connection.tuning.request_timeout = Some(TIMEOUT);
    let cluster = connect(cfg).await;
    let node = sim.node(1);
    let pool = cluster.pool(node.addr()).expect("pool");
    let conn = pool.wait_for_connection(WAIT).await.expect("conn");
    ok(&conn, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
    ok(&conn, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)").await;
    for k in 0..2 * N {
        ok(
            &conn,
            &format!("INSERT INTO ks.t (k, v) VALUES ({k}, {})", k * 10),
        )
        .await;
    }

    node.pause();
    let started = tokio::time::Instant::now();
    let results = tokio::time::timeout(
        WAIT,
        futures::future::join_all((0..N).map(|k| {
            let conn = conn.clone();
            async move { run(&conn, &format!("SELECT v FROM ks.t WHERE k = {k}")).await }
        })),
    )
    .await
    .expect("every request resolves in time");
    let elapsed = started.elapsed();
    assert_eq!(results.len(), N as usize);
    for (k, r) in results.iter().enumerate() {
        assert!(
            matches!(r, Err(ConnectionError::Timeout(t)) if *t == TIMEOUT),
            "request {k}: {r:?}"
        );
    }
    assert!(elapsed >= TIMEOUT, "{elapsed:?}");
    // The connection is not broken by timeouts; the timed-out ids are orphans now.
    assert!(!conn.is_broken());
    assert_eq!(conn.orphans(), N as usize);

    node.resume();
    // The late responses arrive and are dropped (their ids are released)...
    wait_until(WAIT, "orphans released after resume", || {
        conn.orphans() == 0
    })
    .await;
    // ...and none of them is delivered to a new request on the same stream ids: every new
    // request gets its own row.
    let fresh = futures::future::join_all((N..2 * N).map(|k| {
        let conn = conn.clone();
        async move {
            (
                k,
                run(&conn, &format!("SELECT v FROM ks.t WHERE k = {k}")).await,
            )
        }
    }))
    .await;
    for (k, r) in fresh {
        let r = r.unwrap_or_else(|e| panic!("key {k}: {e}"));
        assert_eq!(single_int(&r), Some(k * 10), "key {k}: {r:?}");
    }
    assert_eq!(conn.in_flight(), 0);
    cluster.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_detects_a_paused_node_fails_its_request_once_and_pool_recovers() {
    let sim = sim3().await;
    let mut cfg = config(&sim, 1);
    cfg.connection.tuning.heartbeat_interval = Some(Duration::from_millis(100));
    cfg.connection.tuning.heartbeat_timeout = Duration::from_millis(300);
    cfg.connection.tuning.request_timeout = Some(Duration::from_secs(60));
    cfg.connection.connect_timeout = Duration::from_millis(500);
    let cluster = connect(cfg).await;
    let node = sim.node(2);
    let addr = node.addr();
    wait_until(WAIT, "pool of node 2 full", || {
        cluster
            .pool(addr)
            .is_some_and(|p| p.connection_count() == SHARDS as usize)
    })
    .await;
    let pool = cluster.pool(addr).expect("pool");
    let conn = pool.any_connection().expect("conn");

    node.pause();
    // A request with a long timeout is failed by the heartbeat, exactly once.
    let r = tokio::time::timeout(
        WAIT,
        conn.request(&query_cl(
            "SELECT * FROM system.local",
            proto::Consistency::ONE,
        )),
    )
    .await
    .expect("the heartbeat ends the request well before its own timeout");
    assert!(
        matches!(
            r,
            Err(ConnectionError::Broken(BrokenReason::HeartbeatTimeout(_)))
        ),
        "{r:?}"
    );
    assert!(conn.is_broken());
    wait_until(WAIT, "paused node marked down", || {
        cluster.state().node(addr).is_some_and(|n| !n.is_up()) && pool.connection_count() == 0
    })
    .await;

    node.resume();
    wait_until(WAIT, "resumed node up with a full pool", || {
        cluster.state().node(addr).is_some_and(|n| n.is_up())
            && pool.connection_count() == SHARDS as usize
    })
    .await;
    let conn = pool.any_connection().expect("conn");
    assert!(matches!(
        run(&conn, "SELECT * FROM system.local").await,
        Ok(Response::Result(_))
    ));
    cluster.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_turns_unresponsive_but_a_slow_query_alone_does_not() {
    const AFTER: Duration = Duration::from_millis(100);
    let sim = sim3().await;
    let mut cfg = config(&sim, 1);
    cfg.connection.tuning.heartbeat_interval = None;
    cfg.connection.tuning.unresponsive_after = Some(AFTER);
    cfg.connection.tuning.request_timeout = Some(Duration::from_secs(10));
    let cluster = connect(cfg).await;
    let node = sim.node(1);
    let pool = cluster.pool(node.addr()).expect("pool");
    let conn = pool.wait_for_connection(WAIT).await.expect("conn");
    assert!(pool.is_responsive());

    // A query the node takes 8 x AFTER to answer: the probe is answered meanwhile.
    node.add_fault(FaultRule::times(
        RequestMatcher::QueryContains("system.local".into()),
        FaultAction::Delay(8 * AFTER),
        1,
    ));
    let slow = run(&conn, "SELECT * FROM system.local").await;
    assert!(matches!(slow, Ok(Response::Result(_))), "{slow:?}");
    assert!(
        pool.is_responsive(),
        "a slow query alone does not mark the node"
    );
    assert_eq!(pool.health().unresponsive_episodes(), 0);

    // A paused node answers nothing, not even the probe.
    node.pause();
    let started = tokio::time::Instant::now();
    let waiting = {
        let conn = conn.clone();
        tokio::spawn(async move { run(&conn, "SELECT * FROM system.local").await })
    };
    wait_until(WAIT, "the paused node is unresponsive", || {
        !pool.is_responsive()
    })
    .await;
    let detected = started.elapsed();
    assert!(
        detected >= 2 * AFTER,
        "flagged only after a probe went unanswered: {detected:?}"
    );
    assert!(!conn.is_broken(), "unresponsive is not broken");

    node.resume();
    wait_until(WAIT, "the resumed node answers again", || {
        pool.is_responsive()
    })
    .await;
    let r = waiting.await.expect("task");
    assert!(
        matches!(r, Ok(Response::Result(_))),
        "the waiting request is answered after the pause: {r:?}"
    );
    assert_eq!(pool.health().unresponsive_episodes(), 1);
    cluster.close();
}
