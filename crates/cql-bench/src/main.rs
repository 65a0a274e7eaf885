//! `cql-bench`: runs one workload with one driver against a running cluster (normally the
//! standalone `cql-sim`) and reports throughput, latency percentiles, client CPU time,
//! allocations per request and, given `--server-pid`, the server's CPU time.
//!
//! `cargo xtask bench` drives this binary over every workload, concurrency and driver, alternating
//! drivers, and writes `docs/benchmarks.md`.
#![deny(unsafe_code)]

mod alloc;
mod ours;
mod raw;
mod runner;
#[cfg(feature = "scylla-driver")]
mod scylla_driver;
mod session_api;
mod workload;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::json;

use crate::alloc::{AllocSnapshot, CountingAlloc};
use crate::runner::{Driver, Outcome, Phase, percentile};
use crate::workload::Workload;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Which client sends the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DriverKind {
    /// This workspace's `cql-session`.
    Ours,
    /// The `scylla` crate 1.x (needs the `scylla-driver` feature).
    Scylla,
    /// Pre-encoded frames pipelined on one raw connection: the floor.
    Raw,
}

/// The native protocol version to offer (`--protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    /// Protocol v4: bare frames, optional per-frame compression.
    #[value(name = "4")]
    V4,
    /// Protocol v5: frames in checksummed segments, optional LZ4 segments.
    #[value(name = "5")]
    V5,
}

/// The compression to ask for (`--compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CompressionKind {
    /// No compression.
    None,
    /// LZ4 (per frame in v4, per segment in v5).
    Lz4,
}

/// Command line.
#[derive(Debug, Parser)]
#[command(about = "Comparative CQL driver benchmark")]
struct Args {
    /// The client to measure.
    #[arg(long, value_enum, default_value = "ours")]
    driver: DriverKind,
    /// The kind of request.
    #[arg(long, value_enum, default_value = "insert")]
    workload: Workload,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Measured requests (after the warm-up).
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    /// Warm-up requests before measuring (default: a tenth of --requests, at most 2000).
    #[arg(long)]
    warmup: Option<u64>,
    /// Stop measuring after this many seconds even if --requests are not done.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Contact points, comma separated.
    #[arg(long, default_value = "127.0.0.1:9042", value_delimiter = ',')]
    nodes: Vec<String>,
    /// Create the schema and rows first (with the chosen driver), then exit.
    #[arg(long)]
    setup: bool,
    /// The server's process id, to report its CPU time during the measured phase.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The highest protocol version offered (our driver falls back from it when a node refuses
    /// it). Default: each driver's own (v5 for ours; the `scylla` crate speaks v4 only).
    #[arg(long, value_enum)]
    protocol: Option<Protocol>,
    /// Compression to ask the server for (session drivers only; the raw floor never compresses).
    #[arg(long, value_enum, default_value = "none")]
    compression: CompressionKind,
}

impl Args {
    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            protocol: self.protocol.map(|p| match p {
                Protocol::V4 => 4,
                Protocol::V5 => 5,
            }),
            lz4: self.compression == CompressionKind::Lz4,
        }
    }
}

/// How a session driver connects, beyond the contact points.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnectOptions {
    /// The highest native protocol version to offer; `None` keeps the driver's default.
    pub(crate) protocol: Option<u8>,
    /// Whether to ask for LZ4 compression.
    pub(crate) lz4: bool,
}

/// Counters taken before and after the measured phase.
#[derive(Debug, Clone, Copy)]
struct Counters {
    cpu_user_us: u64,
    cpu_sys_us: u64,
    alloc: AllocSnapshot,
    server_ticks: Option<u64>,
}

impl Counters {
    fn take(server_pid: Option<u32>) -> Self {
        let (cpu_user_us, cpu_sys_us) = alloc::process_cpu_us();
        Self {
            cpu_user_us,
            cpu_sys_us,
            alloc: alloc::alloc_snapshot(),
            server_ticks: server_pid.and_then(proc_cpu_ticks),
        }
    }
}

/// utime + stime of a process, in clock ticks, from `/proc/<pid>/stat`.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields restart after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_ascii_whitespace();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let warmup = args.warmup.unwrap_or((args.requests / 10).min(2000));
    let cap = Duration::from_secs(args.duration_secs);
    let (outcome, before, after) = match args.driver {
        DriverKind::Ours => {
            let d = ours::Ours::connect(
                &args.nodes,
                args.workload,
                args.setup,
                args.connect_options(),
            )
            .await?;
            measure(d, &args, warmup, cap).await?
        }
        DriverKind::Scylla => scylla(&args, warmup, cap).await?,
        DriverKind::Raw => {
            if args.protocol == Some(Protocol::V5) || args.compression != CompressionKind::None {
                bail!("the raw driver speaks uncompressed v4 only");
            }
            let addr = args.nodes.first().context("no --nodes")?;
            let mut conn = raw::RawConn::connect(addr).await?;
            if args.setup {
                conn.setup(&setup_statements()).await?;
                return Ok(());
            }
            let frames = conn.frames(args.workload, 0).await?;
            let mut lat = Vec::with_capacity(warmup as usize);
            conn.run(&frames, warmup, args.concurrency, cap, &mut lat)
                .await?;
            let mut lat = Vec::with_capacity(args.requests as usize);
            let before = Counters::take(args.server_pid);
            let outcome = conn
                .run(&frames, args.requests, args.concurrency, cap, &mut lat)
                .await?;
            let after = Counters::take(args.server_pid);
            (outcome, before, after)
        }
    };
    report(&args, &outcome, before, after);
    if outcome.ok == 0 {
        bail!(
            "no request succeeded: {}",
            outcome
                .first_error
                .as_deref()
                .unwrap_or("no error recorded")
        );
    }
    Ok(())
}

#[cfg(feature = "scylla-driver")]
async fn scylla(args: &Args, warmup: u64, cap: Duration) -> Result<(Outcome, Counters, Counters)> {
    let d = scylla_driver::Scylla::connect(
        &args.nodes,
        args.workload,
        args.setup,
        args.connect_options(),
    )
    .await?;
    measure(d, args, warmup, cap).await
}

#[cfg(not(feature = "scylla-driver"))]
async fn scylla(_: &Args, _: u64, _: Duration) -> Result<(Outcome, Counters, Counters)> {
    bail!(
        "built without the `scylla-driver` feature: cargo build -p cql-bench --features scylla-driver"
    )
}

fn setup_statements() -> Vec<String> {
    let mut all: Vec<String> = workload::SETUP.iter().map(|s| (*s).to_owned()).collect();
    all.extend(workload::setup_rows());
    all
}

/// Warm-up then measured phase for a session driver.
async fn measure<D: Driver>(
    driver: D,
    args: &Args,
    warmup: u64,
    cap: Duration,
) -> Result<(Outcome, Counters, Counters)> {
    if args.setup {
        driver.setup(&setup_statements()).await?;
        std::process::exit(0);
    }
    let driver = Arc::new(driver);
    if warmup > 0 {
        let w = Phase::new(warmup)
            .run(&driver, args.concurrency, 0, cap)
            .await?;
        if w.ok == 0 {
            bail!(
                "warm-up failed: {}",
                w.first_error.as_deref().unwrap_or("no error recorded")
            );
        }
    }
    let phase = Phase::new(args.requests);
    let before = Counters::take(args.server_pid);
    let outcome = phase.run(&driver, args.concurrency, warmup, cap).await?;
    let after = Counters::take(args.server_pid);
    Ok((outcome, before, after))
}

fn report(args: &Args, o: &Outcome, before: Counters, after: Counters) {
    let done = (o.ok + o.errors).max(1) as f64;
    let secs = o.elapsed.as_secs_f64().max(1e-9);
    let user = after.cpu_user_us.saturating_sub(before.cpu_user_us) as f64;
    let sys = after.cpu_sys_us.saturating_sub(before.cpu_sys_us) as f64;
    let allocs = after.alloc.allocs.saturating_sub(before.alloc.allocs) as f64;
    let bytes = after.alloc.bytes.saturating_sub(before.alloc.bytes) as f64;
    let server_cpu_s = match (before.server_ticks, after.server_ticks) {
        (Some(b), Some(a)) => {
            Some(a.saturating_sub(b) as f64 / alloc::clock_ticks_per_sec() as f64)
        }
        _ => None,
    };
    let us = |ns: u64| ns as f64 / 1000.0;
    let lat = &o.latencies_ns;
    let value = json!({
        "driver": format!("{:?}", args.driver).to_lowercase(),
        "workload": args.workload.name(),
        "protocol": args.protocol.map(|p| format!("{p:?}").to_lowercase()),
        "compression": format!("{:?}", args.compression).to_lowercase(),
        "concurrency": args.concurrency,
        "requests": o.ok + o.errors,
        "ok": o.ok,
        "errors": o.errors,
        "first_error": o.first_error,
        "elapsed_s": secs,
        "throughput": o.ok as f64 / secs,
        "p50_us": us(percentile(lat, 0.50)),
        "p99_us": us(percentile(lat, 0.99)),
        "p999_us": us(percentile(lat, 0.999)),
        "max_us": us(lat.last().copied().unwrap_or(0)),
        "cpu_user_s": user / 1e6,
        "cpu_sys_s": sys / 1e6,
        "cpu_us_per_req": (user + sys) / done,
        "allocs_per_req": allocs / done,
        "bytes_per_req": bytes / done,
        "server_cpu_s": server_cpu_s,
        "server_cpu_us_per_req": server_cpu_s.map(|s| s * 1e6 / done),
    });
    if args.json {
        println!("{value}");
    } else {
        println!(
            "{:>6} {:>11} c={:<5} {:>9.0} req/s  p50 {:>8.1}us p99 {:>8.1}us p999 {:>8.1}us  cpu {:>6.2}us/req  {:>6.1} allocs/req {:>8.0} B/req  errors {}",
            value["driver"].as_str().unwrap_or("?"),
            args.workload.name(),
            args.concurrency,
            o.ok as f64 / secs,
            us(percentile(lat, 0.50)),
            us(percentile(lat, 0.99)),
            us(percentile(lat, 0.999)),
            (user + sys) / done,
            allocs / done,
            bytes / done,
            o.errors,
        );
        if let Some(e) = &o.first_error {
            println!("first error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_counts_allocations_and_bytes() {
        let before = alloc::alloc_snapshot();
        let v: Vec<u8> = Vec::with_capacity(4096);
        let after = alloc::alloc_snapshot();
        drop(v);
        // Other test threads may allocate too, so at least ours must show.
        assert!(after.allocs > before.allocs);
        assert!(after.bytes >= before.bytes + 4096);
    }

    #[test]
    fn proc_stat_of_this_process_parses_and_grows() {
        let first = proc_cpu_ticks(std::process::id()).expect("own /proc stat");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut x = 0u64;
        while proc_cpu_ticks(std::process::id()).expect("own stat") == first {
            x = x.wrapping_mul(31).wrapping_add(7);
            assert!(
                std::time::Instant::now() < deadline,
                "cpu time never moved ({x})"
            );
        }
        let (user, sys) = alloc::process_cpu_us();
        assert!(user + sys > 0);
        assert_eq!(proc_cpu_ticks(u32::MAX), None);
    }
}
