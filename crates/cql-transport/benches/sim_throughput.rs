//! Raw request throughput over ONE connection against `cql-sim`, with 1, 64 and 1,024
//! concurrent requests (prepared single-row SELECT, EXECUTE with one bound int).
//!
//! The simulator runs in the same process but on its own multi-thread tokio runtime in other
//! threads; the client runs on a current-thread runtime on the main thread, so the client's CPU
//! time is that thread's user+system time (`/proc/thread-self/stat`, Linux only). Whole-process
//! CPU (client + simulator) is reported too.
//!
//! Run: `cargo bench -p cql-transport --bench sim_throughput` (optionally `-- <requests>`).

#![allow(missing_docs)]

use std::time::{Duration, Instant};

use cql_transport::{Connection, ConnectionConfig};
use proto::request::{Execute, Prepare, Query, Request};
use proto::response::{Response, ResultBody};
use proto::{QueryParameters, RawValue};

/// Clock ticks per second of `/proc/*/stat` (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
const CLK_TCK: f64 = 100.0;

/// user+system CPU seconds from a `/proc/.../stat` file (fields 14 and 15).
fn cpu_seconds(path: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(path) else {
        return f64::NAN;
    };
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    let Some(rest) = s.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 -> index 11, stime field 15 -> index 12.
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / CLK_TCK
}

fn main() {
    // `cargo bench` passes `--bench`; the optional number is the request count per level.
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);

    // The simulator on its own runtime in other threads.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let sim_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("sim runtime");
        rt.block_on(async move {
            let sim = cql_sim::SimCluster::builder()
                .nodes(1)
                .shards(1)
                .isolated()
                .start()
                .await
                .expect("sim starts");
            addr_tx.send(sim.contact_point()).expect("send addr");
            let _ = stop_rx.await;
            sim.shutdown();
        });
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("sim address");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let mut config = ConnectionConfig::default();
        config.tuning.request_timeout = Some(Duration::from_secs(60));
        config.tuning.heartbeat_interval = None;
        let conn = Connection::connect(addr, &config).await.expect("connect");
        for q in [
            "CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            "CREATE TABLE b.t (k int PRIMARY KEY, v text)",
            "INSERT INTO b.t (k, v) VALUES (1, 'hello world')",
        ] {
            let r = conn
                .request(&Request::Query(Query { query: q.into(), params: QueryParameters::default() }))
                .await
                .expect("setup");
            assert!(matches!(r.response, Response::Result(_)), "{q}: {:?}", r.response);
        }
        let prepared = conn
            .request(&Request::Prepare(Prepare { query: "SELECT v FROM b.t WHERE k = ?".into(), keyspace: None }))
            .await
            .expect("prepare");
        let Response::Result(ResultBody::Prepared(p)) = prepared.response else {
            panic!("not prepared: {:?}", prepared.response)
        };
        let mut values = proto::request::SerializedValuesBuilder::new();
        values.push(RawValue::Value(&1i32.to_be_bytes())).expect("value");
        let request = Request::Execute(Execute {
            id: p.id.clone(),
            result_metadata_id: p.result_metadata_id.clone(),
            params: QueryParameters { values: values.finish(), skip_metadata: true, ..QueryParameters::default() },
        });

        println!("sim_throughput: one connection, prepared single-row SELECT, {total} requests per level");
        println!("{:>11} {:>10} {:>12} {:>16} {:>18} {:>12}", "concurrency", "requests", "req/s", "client CPU us/req", "process CPU us/req", "wall s");
        for concurrency in [1usize, 64, 1024] {
            // Warm up.
            run(&conn, &request, concurrency, concurrency * 4).await;
            let n = total - total % concurrency;
            let cpu0 = cpu_seconds("/proc/thread-self/stat");
            let proc0 = cpu_seconds("/proc/self/stat");
            let start = Instant::now();
            run(&conn, &request, concurrency, n).await;
            let wall = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds("/proc/thread-self/stat") - cpu0;
            let proc_cpu = cpu_seconds("/proc/self/stat") - proc0;
            println!(
                "{concurrency:>11} {n:>10} {:>12.0} {:>16.2} {:>18.2} {wall:>12.2}",
                n as f64 / wall,
                cpu / n as f64 * 1e6,
                proc_cpu / n as f64 * 1e6,
            );
        }
        conn.close();
    });
    let _ = stop_tx.send(());
    let _ = sim_thread.join();
}

/// `n` requests, `concurrency` at a time (each of `concurrency` tasks sends `n / concurrency`
/// requests one after another); checks every response is one row.
async fn run(conn: &Connection, request: &Request, concurrency: usize, n: usize) {
    let per_task = n / concurrency;
    let tasks = (0..concurrency).map(|_| async move {
        for _ in 0..per_task {
            let r = conn.request(request).await.expect("response");
            match r.response {
                Response::Result(ResultBody::Rows(rows)) => assert_eq!(rows.rows_count, 1),
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    futures::future::join_all(tasks).await;
}
