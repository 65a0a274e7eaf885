//! `cargo xtask integration`: runs the `tests/` suite (package `cql-integration`) against a
//! cluster of one of three kinds, and always tears down what it started.
//!
//! - `--sim` (the default): builds and starts the standalone `cql-sim` binary with three nodes
//!   on a free loopback address range, waits for its "ready" line, runs the suite, stops it.
//! - `--nodes HOST:PORT,...`: runs the suite against a cluster that is already running.
//! - `--ccm [--scylla] [--version V] [--nodes N]`: creates a cluster with the `ccm` tool (see
//!   [`crate::ccm`]), runs the suite against it, and removes it.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::cleanup::Guard;

/// How long the standalone simulator may take to print "ready".
const SIM_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped simulator gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Start attempts on different ports before giving up.
const SIM_START_ATTEMPTS: u16 = 5;

/// Options of `cargo xtask integration`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Start a 3-node `cql-sim` cluster from the standalone binary (the default).
    #[arg(long, conflicts_with = "ccm")]
    sim: bool,
    /// With `--ccm`: the number of nodes (default 3). Otherwise: the `HOST:PORT,...` list of an
    /// existing cluster to run against.
    #[arg(long, value_name = "HOST:PORT,...|N")]
    nodes: Option<String>,
    /// Create the cluster with the `ccm` tool (the `CCM` environment variable names the command,
    /// else `ccm` on the PATH).
    #[arg(long)]
    ccm: bool,
    /// With `--ccm`: a Scylla cluster (scylla-ccm) instead of Cassandra.
    #[arg(long, requires = "ccm")]
    scylla: bool,
    /// With `--ccm`: the server version, e.g. `4.1.7` or `release:6.2`.
    #[arg(long, requires = "ccm")]
    version: Option<String>,
    /// Sim only: nodes to start.
    #[arg(long, default_value_t = 3, conflicts_with_all = ["ccm", "nodes"])]
    sim_nodes: u32,
    /// Sim only: shards per node.
    #[arg(long, default_value_t = 2, conflicts_with_all = ["ccm", "nodes"])]
    shards: u32,
    /// Sim only: require PasswordAuthenticator credentials `USER:PASS` (also passed to the suite).
    #[arg(long, value_name = "USER:PASS", conflicts_with_all = ["ccm", "nodes"])]
    auth: Option<String>,
    /// Sim only: the nodes also serve TLS (a generated test CA), and the suite connects to their
    /// SSL ports trusting that CA (`CQL_TLS_CA`).
    #[arg(long, conflicts_with_all = ["ccm", "nodes"])]
    tls: bool,
    /// The native protocol version the suite must speak (3, 4 or 5): the driver offers at most
    /// it and a test checks it was negotiated; a simulator is started serving up to it.
    #[arg(long, value_parser = clap::value_parser!(u8).range(3..=5))]
    protocol: Option<u8>,
    /// Arguments for the test binary, e.g. `-- paging::` to run one area.
    #[arg(last = true)]
    test_args: Vec<String>,
}

/// Where the suite runs.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Sim,
    External(String),
    Ccm { nodes: u32 },
}

impl Args {
    /// `CQL_PROTOCOL_VERSION` for the suite, when `--protocol` was given.
    fn protocol_env(&self) -> Vec<(&'static str, String)> {
        self.protocol
            .map(|v| ("CQL_PROTOCOL_VERSION", v.to_string()))
            .into_iter()
            .collect()
    }

    fn mode(&self) -> Result<Mode> {
        if self.ccm {
            let nodes = match &self.nodes {
                None => 3,
                Some(n) => n
                    .parse()
                    .with_context(|| format!("--nodes with --ccm is a node count, got {n:?}"))?,
            };
            return Ok(Mode::Ccm { nodes });
        }
        match &self.nodes {
            Some(list) if !self.sim => Ok(Mode::External(list.clone())),
            Some(_) => bail!("--sim starts its own cluster; drop --nodes or --sim"),
            None => Ok(Mode::Sim),
        }
    }
}

/// Runs the suite in the mode `args` selects and returns its exit code.
pub(crate) fn run(sh: &Shell, args: &Args) -> Result<i32> {
    crate::cleanup::install_signal_handler()?;
    match args.mode()? {
        Mode::Sim => run_sim(sh, args),
        Mode::External(nodes) => {
            let kind = std::env::var("CQL_CLUSTER_KIND").unwrap_or_else(|_| "external".into());
            run_suite(sh, &nodes, &kind, &args.protocol_env(), &args.test_args)
        }
        Mode::Ccm { nodes } => crate::ccm::run(
            sh,
            &crate::ccm::Options {
                nodes,
                scylla: args.scylla,
                version: args.version.clone(),
            },
            &args.test_args,
        ),
    }
}

/// Runs `cargo test -p cql-integration --test suite` against `nodes` and returns its exit code.
pub(crate) fn run_suite(
    sh: &Shell,
    nodes: &str,
    kind: &str,
    env: &[(&str, String)],
    test_args: &[String],
) -> Result<i32> {
    eprintln!("xtask: running the integration suite against {kind} cluster {nodes}");
    let mut command: Command = cmd!(
        sh,
        "cargo test -p cql-integration --test suite -- {test_args...}"
    )
    .into();
    command
        .env("CQL_NODES", nodes)
        .env("CQL_CLUSTER_KIND", kind);
    for (k, v) in env {
        command.env(k, v);
    }
    let status = command.status().context("running cargo test")?;
    // A test binary killed by a signal has no code: report failure.
    Ok(status.code().unwrap_or(1))
}

fn run_sim(sh: &Shell, args: &Args) -> Result<i32> {
    cmd!(sh, "cargo build -p cql-sim --bin cql-sim").run()?;
    let bin = target_dir(sh).join("debug").join("cql-sim");
    let log_dir = target_dir(sh).join("integration");
    fs::create_dir_all(&log_dir)?;
    let cluster = start_sim(&bin, &log_dir, args)?;
    let mut env = args.protocol_env();
    if let Some(ca) = &cluster.tls_ca {
        env.push(("CQL_TLS_CA", ca.display().to_string()));
    }
    if let Some((user, pass)) = args.auth.as_deref().and_then(|a| a.split_once(':')) {
        env.push(("CQL_USER", user.to_owned()));
        env.push(("CQL_PASSWORD", pass.to_owned()));
    }
    let code = run_suite(sh, &cluster.nodes.join(","), "sim", &env, &args.test_args);
    drop(cluster);
    code
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
pub(crate) fn target_dir(sh: &Shell) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => sh.current_dir().join(dir),
        None => sh.current_dir().join("target"),
    }
}

/// A running standalone simulator; dropping it stops the process.
struct SimProcess {
    nodes: Vec<String>,
    /// The generated CA (PEM) the nodes' SSL ports present, with `--tls`.
    tls_ca: Option<PathBuf>,
    _guard: Guard,
}

/// Starts `cql-sim`, retrying on other ports when one is taken, and waits for "ready".
fn start_sim(bin: &Path, log_dir: &Path, args: &Args) -> Result<SimProcess> {
    // Spread parallel runs over address ranges and ports so they do not collide.
    let pid = std::process::id();
    let third_octet = 90 + (pid % 64) as u8;
    let base: std::net::Ipv4Addr = [127, 0, third_octet, 1].into();
    let mut port = 19042 + (pid % 400) as u16 * 10;
    let mut last_err = None;
    for _ in 0..SIM_START_ATTEMPTS {
        if ports_free(base, port, args.sim_nodes) {
            match start_sim_once(bin, log_dir, args, base, port) {
                Ok(sim) => return Ok(sim),
                Err(e) => {
                    eprintln!("xtask: cql-sim did not start on {base}:{port}: {e:#}");
                    last_err = Some(e);
                }
            }
        }
        port += 1;
    }
    Err(last_err.unwrap_or_else(|| anyhow::anyhow!("no free port for cql-sim near {port}")))
}

fn ports_free(base: std::net::Ipv4Addr, port: u16, nodes: u32) -> bool {
    (0..nodes).all(|i| {
        let ip = std::net::Ipv4Addr::from(u32::from(base) + i);
        [
            port,
            shard_aware_port(port),
            ssl_port(port),
            shard_aware_port(ssl_port(port)),
        ]
        .iter()
        .all(|p| TcpListener::bind((ip, *p)).is_ok())
    })
}

/// The SSL port with `--tls`: the native port plus 100 (and its shard-aware port plus 10,000).
fn ssl_port(port: u16) -> u16 {
    port.saturating_add(100)
}

/// Scylla's layout: the shard-aware port is the native port plus 10,000 (9042 and 19042).
fn shard_aware_port(port: u16) -> u16 {
    port.saturating_add(10_000)
}

fn start_sim_once(
    bin: &Path,
    log_dir: &Path,
    args: &Args,
    base: std::net::Ipv4Addr,
    port: u16,
) -> Result<SimProcess> {
    let log_path = log_dir.join(format!("cql-sim-{}.log", std::process::id()));
    let log = File::create(&log_path)?;
    let mut command = Command::new(bin);
    command
        .arg("--nodes")
        .arg(args.sim_nodes.to_string())
        .arg("--shards")
        .arg(args.shards.to_string())
        .arg("--port")
        .arg(port.to_string())
        .arg("--shard-aware-port")
        .arg(shard_aware_port(port).to_string())
        .arg("--address-base")
        .arg(base.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(auth) = &args.auth {
        command.arg("--auth").arg(auth);
    }
    if let Some(v) = args.protocol {
        command.arg("--max-protocol-version").arg(v.to_string());
    }
    let tls_ca = args
        .tls
        .then(|| log_dir.join(format!("tls-ca-{}.pem", std::process::id())));
    if let Some(ca) = &tls_ca {
        command
            .arg("--tls")
            .arg("--ssl-port")
            .arg(ssl_port(port).to_string())
            .arg("--ssl-shard-aware-port")
            .arg(shard_aware_port(ssl_port(port)).to_string())
            .arg("--tls-ca-out")
            .arg(ca);
    }
    eprintln!("xtask: starting {command:?} (log: {})", log_path.display());
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("cql-sim stdout is piped")?;
    let child_pid = child.id();
    let guard = Guard::new(move || stop_child(&mut child));

    let (tx, rx) = mpsc::channel();
    // Reads the simulator's stdout for its whole life, so the pipe never fills up.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Nobody listens any more: keep draining without forwarding.
                continue;
            }
        }
    });

    let deadline = Instant::now() + SIM_READY_TIMEOUT;
    let mut nodes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.trim() == "ready" => break,
            Ok(line) => {
                eprintln!("cql-sim[{child_pid}]: {line}");
                nodes.extend(
                    line.split_whitespace()
                        .filter_map(|w| {
                            w.trim_matches(|c: char| c == ',')
                                .parse::<SocketAddr>()
                                .ok()
                        })
                        .map(|a| a.to_string()),
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!("cql-sim printed no \"ready\" within {SIM_READY_TIMEOUT:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!(
                    "cql-sim exited before \"ready\"; see {}",
                    log_path.display()
                )
            }
        }
    }
    if nodes.is_empty() {
        nodes = (0..args.sim_nodes)
            .map(|i| format!("{}:{port}", std::net::Ipv4Addr::from(u32::from(base) + i)))
            .collect();
    }
    if tls_ca.is_some() {
        // The suite connects to the SSL ports.
        let ssl = ssl_port(port).to_string();
        nodes = nodes
            .iter()
            .map(|n| match n.rsplit_once(':') {
                Some((ip, _)) => format!("{ip}:{ssl}"),
                None => n.clone(),
            })
            .collect();
    }
    eprintln!("xtask: cql-sim ready at {}", nodes.join(","));
    Ok(SimProcess {
        nodes,
        tls_ca,
        _guard: guard,
    })
}

/// Stops a child: SIGTERM, then SIGKILL after [`STOP_GRACE`]; always reaps it.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = child.id().to_string();
    let _ = Command::new("kill")
        .args(["-TERM", &pid])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("xtask: cql-sim (pid {pid}) stopped: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("xtask: cql-sim (pid {pid}) ignored SIGTERM for {STOP_GRACE:?}; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn mode(argv: &[&str]) -> Result<Mode> {
        let cli = Cli::try_parse_from(std::iter::once("x").chain(argv.iter().copied()))?;
        cli.args.mode()
    }

    #[test]
    fn modes_from_flags() {
        assert_eq!(mode(&[]).unwrap(), Mode::Sim);
        assert_eq!(mode(&["--sim"]).unwrap(), Mode::Sim);
        assert_eq!(
            mode(&["--nodes", "10.0.0.1:9042,10.0.0.2:9042"]).unwrap(),
            Mode::External("10.0.0.1:9042,10.0.0.2:9042".into())
        );
        assert_eq!(mode(&["--ccm"]).unwrap(), Mode::Ccm { nodes: 3 });
        assert_eq!(
            mode(&["--ccm", "--scylla", "--nodes", "1"]).unwrap(),
            Mode::Ccm { nodes: 1 }
        );
    }

    #[test]
    fn bad_flag_combinations_are_refused() {
        assert!(mode(&["--ccm", "--nodes", "127.0.0.1:9042"]).is_err());
        assert!(mode(&["--sim", "--ccm"]).is_err());
        assert!(mode(&["--sim", "--nodes", "127.0.0.1:9042"]).is_err());
        assert!(mode(&["--scylla"]).is_err());
        assert!(mode(&["--ccm", "--shards", "4"]).is_err());
    }

    #[test]
    fn test_args_follow_the_separator() {
        let cli = Cli::try_parse_from(["x", "--sim", "--", "paging::", "--nocapture"]).unwrap();
        assert_eq!(cli.args.test_args, ["paging::", "--nocapture"]);
    }
}
