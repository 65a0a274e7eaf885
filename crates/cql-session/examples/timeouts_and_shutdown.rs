//! Timeouts, backpressure and shutdown: a per-statement request timeout, a session-wide
//! concurrency limit (requests beyond it wait in a bounded queue, and beyond the queue fail at
//! once with a typed error), and `close`, which lets the requests in flight finish.
//!
//! ```sh
//! cargo run --example timeouts_and_shutdown
//! ```

use std::error::Error;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use cql_session::errors::ExecutionError;
use cql_session::policies::throttle::ConcurrencyLimitingThrottler;
use cql_session::{SessionBuilder, Statement};

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let limit = NonZeroUsize::new(16).ok_or("zero")?;
    // 16 requests at once, 64 more may wait; the 81st concurrent caller is refused.
    let throttler = Arc::new(ConcurrencyLimitingThrottler::new(limit, 64));
    let session = Arc::new(
        SessionBuilder::new()
            .known_nodes(&nodes)
            .request_throttler(throttler.clone())
            .build()
            .await?,
    );
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS timeouts_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS timeouts_example.t (k int PRIMARY KEY, v int)",
            (),
        )
        .await?;

    // A statement with a timeout of its own (the whole request, all attempts included).
    let mut quick = Statement::new("SELECT k FROM timeouts_example.t LIMIT 1");
    quick.set_request_timeout(Some(Duration::from_secs(1)));
    match session.query_unpaged(quick, ()).await {
        Ok(_) => println!("the 1 s statement answered in time"),
        Err(e) if e.is_timeout() => println!("timed out: {e}"),
        Err(e) => return Err(e.into()),
    }

    // 200 concurrent callers through the throttler.
    let insert = Arc::new(
        session
            .prepare("INSERT INTO timeouts_example.t (k, v) VALUES (?, ?)")
            .await?,
    );
    let mut tasks = Vec::new();
    for k in 0..200 {
        let (session, insert) = (Arc::clone(&session), Arc::clone(&insert));
        tasks.push(tokio::spawn(async move {
            session.execute_unpaged(&insert, (k, k)).await
        }));
    }
    let (mut ok, mut throttled) = (0, 0);
    for t in tasks {
        match t.await? {
            Ok(_) => ok += 1,
            Err(ExecutionError::Throttled(e)) => {
                throttled += 1;
                if throttled == 1 {
                    println!("refused: {e}");
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!("{ok} written, {throttled} refused by the throttler's full queue");

    // Shutdown: requests in flight get up to 5 s to finish; new ones fail at once.
    let in_flight = {
        let (session, insert) = (Arc::clone(&session), Arc::clone(&insert));
        tokio::spawn(async move { session.execute_unpaged(&insert, (1_000, 1)).await })
    };
    session.close(Duration::from_secs(5)).await;
    println!(
        "closed; the request in flight ended with ok={}",
        in_flight.await?.is_ok()
    );
    let after = session.execute_unpaged(&insert, (1_001, 1)).await;
    println!(
        "after close: {}",
        after.err().map_or("ok".to_owned(), |e| e.to_string())
    );
    Ok(())
}
