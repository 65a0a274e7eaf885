//! What an in-process cluster costs in memory, and that a dropped cluster gives it all back.
//!
//! The whole process is one counting global allocator ([`stats_alloc`]), so the tests of this
//! binary take turns ([`SERIAL`]): anything running beside one would be counted too. The first
//! inserts rows of a typical
//! table (int pk, int ck, text, bigint; ten rows a partition) at RF 3 into a 3-node cluster
//! through the wire (prepared INSERTs over an in-process connection), reports the bytes each
//! stored row costs on each replica and the peak growth, then drops the cluster and checks
//! that the live bytes and the runtime's tasks return to where they were. The second drops a
//! cluster in the states that used to keep it alive: a handle kept, a response delayed by a
//! fault, a paused node holding a request, a client that stopped reading its responses.
//!
//! `CQL_SIM_MEMORY_ROWS` sets the number of rows (default 20,000); the figures print with
//! `cargo test -p cql-sim --test memory -- --nocapture`.

use std::alloc::System;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use cql_sim::SimCluster;
use cql_testkit::RawClient;
use proto::RawValue;
use proto::request::{Execute, Request, SerializedValuesBuilder};
use proto::response::{Response, ResultBody};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated by the whole process (a realloc counts its growth as allocated
/// and its shrinking as deallocated).
fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Held by each test for its whole run: the allocator counts the process, not one test.
static SERIAL: Mutex<()> = Mutex::new(());

/// Rows of the test table per partition.
const ROWS_PER_PARTITION: u32 = 10;
/// Requests in flight on the connection at once.
const WINDOW: usize = 256;
/// The most a stored row may cost on one replica (the figure is printed; see the CHANGELOG).
const BUDGET_PER_ROW_REPLICA: i64 = 500;

fn row_values(i: u32) -> proto::request::SerializedValues {
    let mut b = SerializedValuesBuilder::new();
    let pk = (i / ROWS_PER_PARTITION) as i32;
    let ck = (i % ROWS_PER_PARTITION) as i32;
    let text = format!("value-{i:08}");
    let big = i64::from(i) * 7919;
    for v in [
        &pk.to_be_bytes()[..],
        &ck.to_be_bytes()[..],
        text.as_bytes(),
        &big.to_be_bytes()[..],
    ] {
        b.push(RawValue::Value(v)).expect("a small value encodes");
    }
    b.finish()
}

/// Inserts `n` rows through `c`, `WINDOW` at a time; returns the largest live-byte count seen.
async fn insert_rows(c: &mut RawClient<tokio::io::DuplexStream>, id: &Bytes, n: u32) -> i64 {
    let mut peak = live_bytes();
    let mut next = 0u32;
    while next < n {
        let end = (next + WINDOW as u32).min(n);
        let mut streams = Vec::with_capacity(WINDOW);
        for i in next..end {
            let req = Request::Execute(Execute {
                id: id.clone(),
                result_metadata_id: None,
                params: cql_testkit::query::params(proto::codes::Consistency::ALL, row_values(i)),
            });
            streams.push(c.send(&req).await);
        }
        for s in streams {
            let r = c.response(s).await.response;
            assert!(
                matches!(r, Response::Result(ResultBody::Void)),
                "insert: {r:?}"
            );
        }
        peak = peak.max(live_bytes());
        next = end;
    }
    peak
}

/// A cluster of 3 nodes with the table `ks.t` at RF 3, a ready client on node 0, and the id
/// of the prepared INSERT.
async fn cluster_with_table() -> (SimCluster, RawClient<tokio::io::DuplexStream>, Bytes) {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = RawClient::from_stream(cluster.node(0).connect_in_process().unwrap());
    assert!(matches!(c.startup(None).await, Response::Ready));
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
        .await;
    c.ok("CREATE TABLE ks.t (pk int, ck int, v text, n bigint, PRIMARY KEY (pk, ck))")
        .await;
    let Response::Result(ResultBody::Prepared(p)) = c
        .prepare("INSERT INTO ks.t (pk, ck, v, n) VALUES (?, ?, ?, ?)")
        .await
    else {
        panic!("prepare failed")
    };
    (cluster, c, p.id)
}

/// Asserts that within a bounded wait the runtime's tasks return to `tasks_before` and the
/// live bytes to within a tenth of `growth` above `live_before`.
async fn assert_released(tasks_before: usize, live_before: i64, growth: i64) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let stopped = settle(|| metrics.num_alive_tasks() <= tasks_before).await;
    let freed = settle(|| live_bytes() - live_before < growth / 10).await;
    let left = live_bytes() - live_before;
    eprintln!(
        "cql-sim memory: {} KiB of {} KiB left after drop, {} tasks alive (before: \
         {tasks_before})",
        left / 1024,
        growth / 1024,
        metrics.num_alive_tasks()
    );
    assert!(
        stopped,
        "a dropped cluster left {} tasks alive (there were {tasks_before} before it)",
        metrics.num_alive_tasks()
    );
    assert!(
        freed,
        "a dropped cluster left {left} bytes of its {growth} byte peak growth allocated"
    );
}

/// Waits (bounded) until `cond` holds; false when it never did.
async fn settle(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

/// Runs `test` on a runtime of its own while no other test of this binary runs.
fn run_alone(test: impl Future<Output = ()>) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    rt.block_on(test);
}

#[test]
fn rows_are_compact_and_a_dropped_cluster_frees_them() {
    run_alone(rows_are_compact());
}

#[test]
fn a_cluster_dropped_while_busy_still_frees_its_rows_and_tasks() {
    run_alone(dropped_while_busy());
}

#[test]
fn a_shut_down_cluster_starts_no_node_again() {
    run_alone(no_start_after_shutdown());
}

async fn rows_are_compact() {
    let n: u32 = std::env::var("CQL_SIM_MEMORY_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let live_before = live_bytes();

    let (cluster, mut c, id) = cluster_with_table().await;
    // One insert first, so the statement caches and the connection's buffers are counted in
    // the empty cluster's figure rather than in the rows'.
    insert_rows(&mut c, &id, 1).await;
    let live_empty = live_bytes();
    let started = std::time::Instant::now();
    let peak = insert_rows(&mut c, &id, n).await;
    let live_full = live_bytes();
    let took = started.elapsed();

    let r = c.query("SELECT count(*) FROM ks.t").await;
    let count = cql_testkit::query::values(&r);
    assert_eq!(
        count,
        vec![vec![Some(proto::CqlValue::BigInt(i64::from(n)))]]
    );

    let per_row_replica = (live_full - live_empty) / (i64::from(n) * 3);
    let growth = peak - live_before;
    eprintln!(
        "cql-sim memory: {n} rows at RF 3 on 3 nodes in {took:?}: {per_row_replica} bytes per \
         row per replica; empty cluster {} KiB, full {} KiB, peak growth {} KiB",
        (live_empty - live_before) / 1024,
        (live_full - live_before) / 1024,
        growth / 1024,
    );
    assert!(
        per_row_replica <= BUDGET_PER_ROW_REPLICA,
        "a stored row costs {per_row_replica} bytes per replica, over the \
         {BUDGET_PER_ROW_REPLICA} byte budget"
    );

    drop(c);
    drop(cluster);
    assert_released(tasks_before, live_before, growth).await;
}

async fn dropped_while_busy() {
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let live_before = live_bytes();

    let (cluster, mut c, id) = cluster_with_table().await;
    let peak = insert_rows(&mut c, &id, 20_000).await;
    let select = cql_testkit::query::query("SELECT * FROM ks.t WHERE pk = 1");

    // A handle kept past the drop (a test's fault-injection task would hold one).
    let kept = cluster.node(1);
    // A response held back an hour by a fault.
    kept.set_delay(Some(Duration::from_secs(3600)));
    let mut delayed = RawClient::from_stream(kept.connect_in_process().unwrap());
    kept.set_delay(None);
    assert!(matches!(delayed.startup(None).await, Response::Ready));
    kept.set_delay(Some(Duration::from_secs(3600)));
    delayed.send(&select).await;
    // A paused node holding a request.
    let paused_node = cluster.node(2);
    let mut held = RawClient::from_stream(paused_node.connect_in_process().unwrap());
    assert!(matches!(held.startup(None).await, Response::Ready));
    paused_node.pause();
    held.send(&select).await;
    // A client that sends requests and never reads: the node's writes stall on it.
    for _ in 0..3000 {
        c.send(&select).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    drop(paused_node);
    drop(cluster);
    // Frees the rows and stops the tasks with the clients and a handle still held.
    assert_released(tasks_before, live_before, peak - live_before).await;
    assert!(!kept.is_up());
    drop((kept, c, delayed, held));
}

async fn no_start_after_shutdown() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let node = cluster.node(1);
    node.stop();
    assert!(node.start().await.is_ok(), "a stopped node starts again");
    cluster.shutdown();
    assert!(!node.is_up());
    assert!(matches!(
        node.start().await,
        Err(cql_sim::SimError::ShutDown)
    ));
    assert!(matches!(
        cluster.add_node(None).await,
        Err(cql_sim::SimError::ShutDown)
    ));
    assert!(matches!(
        node.connect_in_process(),
        Err(cql_sim::SimError::NodeDown(1))
    ));
}
