//! `cql-sim`: runs a simulated CQL cluster until SIGINT or SIGTERM.
//!
//! Prints one line per node (`ip:port`), then, with `--control-port`, `control ip:port` (the
//! HTTP+JSON control channel, `docs/sim-control.md`), then `ready`.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cql_sim::{ControlServer, SimCluster, SimTls};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "cql-sim", about = "A simulated Scylla-like CQL cluster")]
struct Args {
    /// Number of nodes (in `datacenter1`; ignored when `--dc` is given).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// A data centre `name:nodes[:rack1,rack2,...]` (repeatable, in order; nodes are spread
    /// over the racks round-robin), e.g. `--dc dc1:3 --dc dc2:2:r1,r2`.
    #[arg(long = "dc", value_name = "NAME:NODES[:RACKS]")]
    dcs: Vec<String>,
    /// Serve the HTTP+JSON control channel on this loopback port (0 picks a free one).
    #[arg(long)]
    control_port: Option<u16>,
    /// Also serve TLS on the SSL ports, with a test CA and node certificate generated at start.
    #[arg(long)]
    tls: bool,
    /// The SSL port (with `--tls`).
    #[arg(long, default_value_t = 9142)]
    ssl_port: u16,
    /// The shard-aware SSL port (with `--tls`; 0 disables it).
    #[arg(long, default_value_t = 19142)]
    ssl_shard_aware_port: u16,
    /// Write the generated CA certificate (PEM) here, for clients to trust (with `--tls`).
    #[arg(long, value_name = "PATH")]
    tls_ca_out: Option<std::path::PathBuf>,
    /// Shards per node.
    #[arg(long, default_value_t = 1)]
    shards: u32,
    /// Native transport port.
    #[arg(long, default_value_t = 9042)]
    port: u16,
    /// Shard-aware port (0 disables it).
    #[arg(long, default_value_t = 19042)]
    shard_aware_port: u16,
    /// Require authentication (PasswordAuthenticator, with permission checks) and create the
    /// superuser `user:password`.
    #[arg(long)]
    auth: Option<String>,
    /// Address of the first node; node i listens on this address plus i.
    #[arg(long, default_value = "127.0.0.1")]
    address_base: Ipv4Addr,
    /// Seed of every random choice (tokens, host ids).
    #[arg(long)]
    seed: Option<u64>,
    /// Tokens per node.
    #[arg(long, default_value_t = 16)]
    vnodes: usize,
    /// Delay before other nodes adopt a new schema version, in milliseconds.
    #[arg(long, default_value_t = 0)]
    schema_agreement_delay_ms: u64,
    /// The server modelled: `scylla` (Scylla's protocol extensions, shards) or `cassandra`
    /// (no `SCYLLA_*` options, one shard per node).
    #[arg(long, value_enum, default_value_t = Flavor::Scylla)]
    flavor: Flavor,
    /// The highest native protocol version served (3, 4 or 5); by default the flavor's
    /// (Scylla: 4, Cassandra: 5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(3..=5))]
    max_protocol_version: Option<u8>,
    /// New NetworkTopologyStrategy keyspaces use tablets unless created with
    /// `tablets = {'enabled': false}` (Scylla's `enable_tablets: true`; scylla flavor only).
    #[arg(long)]
    tablets: bool,
}

/// The server a `cql-sim` process models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Flavor {
    /// ScyllaDB.
    Scylla,
    /// Apache Cassandra.
    Cassandra,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cql-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    // Install the handlers before announcing "ready", so an early SIGTERM is not fatal.
    let signals = Signals::install();
    let mut b = SimCluster::builder()
        .nodes(args.nodes)
        .shards(args.shards)
        .port(args.port)
        .vnodes(args.vnodes)
        .address_base(args.address_base)
        .schema_agreement_delay(Duration::from_millis(args.schema_agreement_delay_ms))
        .tablets_by_default(args.tablets);
    b = if args.shard_aware_port == 0 {
        b.no_shard_aware_port()
    } else {
        b.shard_aware_port(args.shard_aware_port)
    };
    if let Some(seed) = args.seed {
        b = b.seed(seed);
    }
    for dc in &args.dcs {
        let mut parts = dc.splitn(3, ':');
        let (Some(name), Some(Ok(nodes))) = (parts.next(), parts.next().map(str::parse::<usize>))
        else {
            eprintln!("cql-sim: --dc expects name:nodes[:rack1,rack2], got `{dc}`");
            return ExitCode::FAILURE;
        };
        b = b.datacenter(name, nodes);
        for rack in parts.next().into_iter().flat_map(|r| r.split(',')) {
            b = b.rack(rack);
        }
    }
    if args.flavor == Flavor::Cassandra {
        b = b.without_scylla_extensions();
    }
    if let Some(v) = args.max_protocol_version {
        b = b.max_protocol_version(proto::frame::ProtocolVersion(v));
    }
    if args.tls {
        let sa = (args.ssl_shard_aware_port != 0).then_some(args.ssl_shard_aware_port);
        b = b.tls(SimTls::generated().port(args.ssl_port).shard_aware_port(sa));
    } else if args.tls_ca_out.is_some() {
        eprintln!("cql-sim: --tls-ca-out needs --tls");
        return ExitCode::FAILURE;
    }
    if let Some(auth) = &args.auth {
        let Some((user, pass)) = auth.split_once(':') else {
            eprintln!("cql-sim: --auth expects user:password");
            return ExitCode::FAILURE;
        };
        b = b.auth(user, pass);
    }
    let cluster = match b.start().await {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => {
            eprintln!("cql-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(path), Some(pem)) = (&args.tls_ca_out, cluster.tls_ca_pem())
        && let Err(e) = std::fs::write(path, pem)
    {
        eprintln!("cql-sim: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let control = match args.control_port {
        None => None,
        Some(port) => {
            let addr = std::net::SocketAddr::from((args.address_base, port));
            match ControlServer::start(std::sync::Arc::clone(&cluster), addr).await {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("cql-sim: control channel: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    {
        let mut out = std::io::stdout().lock();
        for addr in cluster.node_addrs() {
            let _ = writeln!(out, "{addr}");
        }
        if let Some(c) = &control {
            let _ = writeln!(out, "control {}", c.local_addr());
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    signals.wait().await;
    drop(control);
    cluster.shutdown();
    ExitCode::SUCCESS
}

/// SIGINT and SIGTERM listeners.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    int: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
}

impl Signals {
    fn install() -> Self {
        let mut int = Box::pin(tokio::signal::ctrl_c());
        // Polling once registers the SIGINT handler now rather than at the first await.
        let waker = std::task::Waker::noop();
        let _ = int
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker));
        Self {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
            int,
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        if let Some(term) = self.term.as_mut() {
            tokio::select! {
                _ = &mut self.int => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = self.int.await;
    }
}
