//! Bounded memory under a flood: 100,000 concurrent callers (one task each) through a session
//! whose request throttler runs at most 1,024 requests at once (the rest wait in its queue), on
//! connections limited to 1,024 requests in flight, against an in-process `cql-sim` node. Prints
//! the time taken and the process's peak RSS (`VmHWM` from `/proc/self/status`, Linux only).
//!
//! ```sh
//! cargo run --release --example throttle_100k
//! # for comparison, without the session's throttler (the connections' limit only):
//! NO_THROTTLE=1 cargo run --release --example throttle_100k
//! ```

use std::error::Error;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql_session::SessionBuilder;
use cql_session::policies::throttle::ConcurrencyLimitingThrottler;
use cql_sim::SimCluster;

const CALLERS: i32 = 100_000;
const LIMIT: usize = 1_024;

/// A line of `/proc/self/status` (`VmHWM`, `VmRSS`), if the platform has it.
fn status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let cluster = SimCluster::builder().nodes(1).shards(2).start().await?;
    let limit = NonZeroUsize::new(LIMIT).ok_or("zero limit")?;
    let throttler = Arc::new(ConcurrencyLimitingThrottler::new(limit, CALLERS as usize));
    let mut builder = SessionBuilder::new()
        .known_node(cluster.contact_point().to_string())
        .connection_max_in_flight(limit);
    if std::env::var_os("NO_THROTTLE").is_none() {
        builder = builder.request_throttler(throttler.clone());
    }
    let session = Arc::new(builder.build().await?);
    session
        .query_unpaged(
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .query_unpaged("CREATE TABLE ks.t (pk int PRIMARY KEY, v int)", ())
        .await?;
    let insert = session
        .prepare("INSERT INTO ks.t (pk, v) VALUES (?, ?)")
        .await?;
    println!(
        "before: VmHWM {}, VmRSS {}",
        status("VmHWM"),
        status("VmRSS")
    );

    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let (session, insert) = (Arc::clone(&session), insert.clone());
            tokio::spawn(async move { session.execute_unpaged(&insert, (i, i)).await })
        })
        .collect();
    let mut peak_queue = 0;
    let mut failed = 0usize;
    let all = async {
        for t in tasks {
            peak_queue = peak_queue.max(throttler.queue_size());
            if !matches!(t.await, Ok(Ok(_))) {
                failed += 1;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .map_err(|_| "the callers did not finish within 10 minutes")?;
    let took = started.elapsed();
    println!(
        "{CALLERS} callers, throttle {LIMIT} in flight: {failed} failed, took {took:.2?}, peak queue seen {peak_queue}, in flight at the end {}",
        throttler.in_flight()
    );
    println!(
        "after: VmHWM {}, VmRSS {}",
        status("VmHWM"),
        status("VmRSS")
    );
    if failed > 0 {
        return Err(format!("{failed} requests failed").into());
    }
    Ok(())
}
