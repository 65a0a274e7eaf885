//! `cql-soak`: the driver under a seeded chaos soak. An in-process `cql-sim` cluster (3 nodes
//! x 4 shards, RF 3) takes a mixed load (idempotent QUORUM writes and batches of unique
//! records, reads, paged reads, LWTs) while a seeded schedule injects faults (stop/start,
//! pause/resume, mid-frame cuts, malformed frames, error storms, delays, add/decommission,
//! schema changes). The run fails (exit code 1) when a request hangs past its deadline or
//! ends other than once, an acknowledged write is missing afterwards, a row has a value never
//! written, or file descriptors or tasks grow.
//!
//! ```sh
//! cargo run -p cql-soak --release -- --minutes 10 --seed 18
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use session::{Consistency, ExecutionProfile, SessionBuilder};
use tokio::time::Instant;

mod chaos;
mod recovery;
mod report;
mod resources;
mod rng;
mod stats;
mod timeline;
mod workload;

use chaos::{Chaos, FaultKind};
use resources::Sample;
use rng::Rng;
use stats::Stats;
use workload::Workload;

/// A seeded chaos soak of the driver against an in-process cql-sim cluster.
#[derive(Debug, Parser)]
#[command(name = "cql-soak")]
struct Args {
    /// How long the run lasts, in minutes (fractions allowed): faulted load and each epoch's
    /// read-back.
    #[arg(long, default_value_t = 2.0)]
    minutes: f64,
    /// The seed of every random choice (faults, workload, values); random when not given.
    #[arg(long)]
    seed: Option<u64>,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 1_000)]
    concurrency: usize,
    /// The request timeout, in milliseconds.
    #[arg(long, default_value_t = 2_000)]
    request_timeout_ms: u64,
    /// The faults to inject (comma-separated, default all).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = DEFAULT_FAULTS)]
    faults: Vec<FaultKind>,
    /// The length of an epoch in seconds: faults, then a read-back and a TRUNCATE.
    #[arg(long, default_value_t = 60)]
    epoch_secs: u64,
    /// An epoch also ends once this many records are acknowledged (bounding the sim's data,
    /// 2.5-3 KB a record, and making each epoch's end comparable).
    #[arg(long, default_value_t = 400_000)]
    epoch_records: usize,
    /// Requests started at most (besides the time bound).
    #[arg(long, default_value_t = 100_000_000)]
    max_requests: u64,
}

/// Every fault the soak knows.
const DEFAULT_FAULTS: [FaultKind; 12] = [
    FaultKind::Stop,
    FaultKind::Pause,
    FaultKind::Cut,
    FaultKind::Malformed,
    FaultKind::Overloaded,
    FaultKind::Unavailable,
    FaultKind::ReadTimeout,
    FaultKind::WriteTimeout,
    FaultKind::Delay,
    FaultKind::AddNode,
    FaultKind::Decommission,
    FaultKind::Schema,
];

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cql-soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cql-soak: setup failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the soak; `Ok(false)` when a check failed.
async fn run(args: Args) -> anyhow::Result<bool> {
    let seed = args.seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        rng::mix(now.as_nanos() as u64)
    });
    println!("cql-soak: seed {seed} (re-run with --seed {seed})");
    let mut rng = Rng::new(seed);
    let mut load_rng = rng.fork();
    let mut fault_rng = rng.fork();
    let anchor = rng.below(chaos::NODES as u64) as usize;
    let timeout = Duration::from_millis(args.request_timeout_ms);
    let soak_time = Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);

    let cluster = Arc::new(
        cql_sim::SimCluster::builder()
            .nodes(chaos::NODES)
            .shards(4)
            .seed(seed)
            .start()
            .await?,
    );
    let profile = ExecutionProfile::builder()
        .consistency(Consistency::Quorum)
        .request_timeout(Some(timeout))
        .build();
    let session = SessionBuilder::new()
        .known_nodes_addr(cluster.node_addrs())
        .default_execution_profile_handle(profile.into_handle())
        .schema_agreement_timeout(Duration::from_secs(10))
        .build()
        .await?;
    for ddl in workload::SCHEMA {
        session.query_unpaged(ddl, ()).await?;
    }
    let session = Arc::new(session);
    let stats = Arc::new(Stats::default());
    // Spawned before the steady state is sampled, so that its task is in every count.
    let stall_watch = {
        let stats = Arc::clone(&stats);
        tokio::spawn(async move { stats.timeline.watch_stalls().await })
    };
    let recovery = Arc::new(recovery::Recovery::default());
    let workload = Arc::new(
        Workload::prepare(
            Arc::clone(&session),
            Arc::clone(&stats),
            Arc::clone(&recovery),
            seed,
            timeout,
            args.epoch_records,
        )
        .await?,
    );
    println!(
        "cql-soak: 3 nodes x 4 shards, RF 3, QUORUM, {} in flight, request timeout {timeout:?}, \
         {:.1} min of faults {:?}, node {anchor} never stopped",
        args.concurrency,
        args.minutes,
        args.faults.iter().map(|f| f.name()).collect::<Vec<_>>()
    );

    // Warm up without faults, then sample the idle steady state.
    let warm_until = Instant::now() + Duration::from_secs(3);
    workload
        .run(
            &mut load_rng,
            args.concurrency,
            warm_until,
            args.max_requests,
        )
        .await;
    let start = Sample::take();

    // The run is cut in epochs: faulted load, then every fault ended, a settle, the read-back
    // of the epoch's acknowledged records and a TRUNCATE, so the sim's data stays bounded and
    // the samples taken at each epoch's end compare like with like.
    let began = Instant::now();
    let end_of_run = began + soak_time;
    let epoch = Duration::from_secs(args.epoch_secs.max(10));
    let chaos = Arc::new(Chaos::new(
        Arc::clone(&cluster),
        Arc::clone(&workload),
        args.faults.clone(),
        anchor,
    ));
    let mut samples = vec![(Duration::ZERO, start)];
    let mut read_back = workload::ReadBack::default();
    let (mut started, mut load_time, mut faults_ok) = (0, Duration::ZERO, true);
    loop {
        let epoch_began = Instant::now();
        let until = (epoch_began + epoch).min(end_of_run);
        let faults = {
            let (chaos, mut rng) = (Arc::clone(&chaos), fault_rng.fork());
            tokio::spawn(async move { chaos.run(&mut rng, until).await })
        };
        started += workload
            .run(
                &mut load_rng,
                args.concurrency,
                until,
                args.max_requests - started,
            )
            .await;
        load_time += epoch_began.elapsed();
        faults_ok &= faults.await.is_ok();
        chaos.restore().await;

        // Let the pools refill after the last fault: wait (bounded) for the descriptors and
        // tasks to come back to the steady state's counts.
        let settle_until = Instant::now() + Duration::from_secs(30);
        let mut settled = Sample::take();
        while Instant::now() < settle_until
            && (settled.fds > start.fds || settled.tasks > start.tasks)
        {
            tokio::time::sleep(Duration::from_millis(250)).await;
            settled = Sample::take();
        }
        let epoch_read_back = workload.read_back(args.concurrency.min(256)).await;
        println!(
            "cql-soak: epoch at {:.0?}: {} started so far, {} records read back, {} lost; {settled}",
            began.elapsed(),
            started,
            epoch_read_back.checked,
            epoch_read_back.lost
        );
        read_back.add(&epoch_read_back);
        workload.truncate().await?;
        samples.push((began.elapsed(), settled));
        if Instant::now() + Duration::from_secs(1) >= end_of_run || started >= args.max_requests {
            break;
        }
    }
    let after = Sample::take();
    stall_watch.abort();
    session.close(Duration::from_secs(5)).await;
    cluster.shutdown();

    let summary = report::Summary {
        seed,
        load_time,
        started,
        stats: &stats,
        read_back: &read_back,
        samples: &samples,
        after_read_back: after,
        recovery: &recovery,
        injected: chaos.injected(),
        faults_ok,
    };
    Ok(summary.print())
}
