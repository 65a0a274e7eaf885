//! `cargo xtask interop`: third-party Python drivers against the `cql-sim` binary.
//!
//! Builds the simulator, installs pinned `cassandra-driver` and `scylla-driver` from PyPI
//! (`interop/python/setup.sh`, virtualenvs under `target/`), starts a 3-node, 2-shard cluster on
//! `127.0.70.1-3` and non-default ports, waits for `ready`, and runs `interop/python/scenario.py`:
//! cassandra-driver on protocol v4 and v3, scylla-driver (shard-aware, lz4) on v4; then a second
//! cluster that requires authentication, with cassandra-driver; a Cassandra-flavoured cluster at
//! protocol v5; and a cluster with the control channel on, where `interop/python/faults.py`
//! (cassandra-driver) and `interop/node/faults.js` (the Node.js cassandra-driver, installed by
//! `interop/node/setup.sh`) inject faults through it. Each simulator is always stopped
//! afterwards (SIGTERM, then kill, from `Drop`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// First node address; nodes are `127.0.70.1..=127.0.70.3`, away from other tests' addresses.
const ADDRESS_BASE: &str = "127.0.70.1";
/// Native transport port shared by all nodes (not the default 9042).
const PORT: u16 = 29142;
/// Shard-aware port shared by all nodes.
const SHARD_AWARE_PORT: u16 = 29143;
/// Ports of the second cluster, which requires authentication.
const AUTH_PORTS: (u16, u16) = (29144, 29145);
/// Credentials of the second cluster.
const AUTH: &str = "interop:s3cret";
/// Ports of the third cluster, a Cassandra-flavoured one serving protocol v5.
const V5_PORTS: (u16, u16) = (29146, 29147);
/// Ports of the fourth cluster, whose faults the scenarios drive through its control channel.
const FAULT_PORTS: (u16, u16) = (29148, 29149);
/// The control channel's port on that cluster.
const CONTROL_PORT: u16 = 29150;
/// Nodes in the simulated cluster.
const NODES: usize = 3;
/// Shards per node.
const SHARDS: u32 = 2;
/// How long the simulator may take to print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the virtualenv setup may take (a first install downloads from PyPI).
const SETUP_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the scenario may take.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the simulator gets to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A Python driver the scenario runs with; both install the module `cassandra`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Driver {
    /// `cassandra-driver` (Apache/DataStax), in `target/interop-venv`.
    Cassandra,
    /// `scylla-driver` (the shard-aware fork), in `target/interop-venv-scylla`.
    Scylla,
    /// Both, one after the other, against the same cluster.
    All,
}

impl Driver {
    fn each(self) -> &'static [Self] {
        match self {
            Self::Cassandra => &[Self::Cassandra],
            Self::Scylla => &[Self::Scylla],
            Self::All => &[Self::Cassandra, Self::Scylla],
        }
    }

    /// The scenario runs with this driver, as extra scenario arguments.
    fn runs(self) -> Vec<Vec<String>> {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match self {
            Self::Cassandra => vec![args(&["--protocol", "4"]), args(&["--protocol", "3"])],
            // Shard awareness through the shard-aware port, with compressed frames.
            Self::Scylla => {
                let mut a = args(&["--protocol", "4", "--compression", "lz4"]);
                a.extend(["--shards".to_owned(), SHARDS.to_string()]);
                a.extend([
                    "--shard-aware-port".to_owned(),
                    SHARD_AWARE_PORT.to_string(),
                ]);
                vec![a]
            }
            Self::All => Vec::new(),
        }
    }

    fn setup_arg(self) -> &'static str {
        match self {
            Self::Scylla => "scylla",
            Self::Cassandra | Self::All => "cassandra",
        }
    }

    fn venv(self) -> &'static str {
        match self {
            Self::Scylla => "target/interop-venv-scylla",
            Self::Cassandra | Self::All => "target/interop-venv",
        }
    }
}

/// Runs the interop scenario with `driver`; returns the first failing scenario's exit code
/// (0 when every run passed).
pub(crate) fn run(root: &Path, driver: Driver) -> Result<i32> {
    let started = Instant::now();
    let status = Command::new(cargo())
        .current_dir(root)
        .args(["build", "-p", "cql-sim", "--bin", "cql-sim"])
        .status()
        .context("running cargo build for cql-sim")?;
    if !status.success() {
        bail!("building cql-sim failed: {status}");
    }
    let built = Instant::now();
    let sim_bin = target_dir(root).join("debug").join("cql-sim");

    for d in driver.each() {
        let setup = Command::new(root.join("interop/python/setup.sh"))
            .current_dir(root)
            .arg(d.setup_arg())
            .spawn()
            .context("starting interop/python/setup.sh")?;
        let status = wait_with_timeout(setup, SETUP_TIMEOUT, "interop/python/setup.sh")?;
        if !status.success() {
            bail!("interop/python/setup.sh {} failed: {status}", d.setup_arg());
        }
    }

    let sim = Sim::start(&sim_bin, (PORT, SHARD_AWARE_PORT), &[])?;
    let mut code = 0;
    for d in driver.each() {
        let python = root.join(d.venv()).join("bin/python");
        for extra in d.runs() {
            let what = format!("{} {}", d.setup_arg(), extra.join(" "));
            let c = run_scenario(root, &python, PORT, &extra, &sim.hosts, &what)?;
            if c != 0 && code == 0 {
                code = c;
            }
        }
    }
    drop(sim);
    if driver.each().contains(&Driver::Cassandra) {
        let sim = Sim::start(&sim_bin, AUTH_PORTS, &["--auth", AUTH])?;
        let python = root.join(Driver::Cassandra.venv()).join("bin/python");
        let status = run_scenario(
            root,
            &python,
            AUTH_PORTS.0,
            &["--auth".to_owned(), AUTH.to_owned()],
            &sim.hosts,
            "cassandra --auth",
        )?;
        drop(sim);
        if status != 0 && code == 0 {
            code = status;
        }
    }
    if driver.each().contains(&Driver::Cassandra) {
        // Protocol v5 (segments, result metadata ids) as Cassandra 4+ serves it, plain and
        // with LZ4-compressed segments.
        let sim = Sim::start(&sim_bin, V5_PORTS, &["--flavor", "cassandra"])?;
        let python = root.join(Driver::Cassandra.venv()).join("bin/python");
        for extra in [
            &["--protocol", "5"][..],
            &["--protocol", "5", "--compression", "lz4"],
        ] {
            let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
            let what = format!("cassandra --flavor cassandra {}", extra.join(" "));
            let status = run_scenario(root, &python, V5_PORTS.0, &extra, &sim.hosts, &what)?;
            if status != 0 && code == 0 {
                code = status;
            }
        }
        drop(sim);
    }
    if driver.each().contains(&Driver::Cassandra) {
        let c = run_fault_scenarios(root, &sim_bin)?;
        if c != 0 && code == 0 {
            code = c;
        }
    }
    eprintln!(
        "interop: build {:.1?}, setup + scenarios {:.1?}",
        built - started,
        built.elapsed()
    );
    Ok(code)
}

/// Starts a cluster with the control channel and runs the Python and Node.js fault scenarios
/// against it; returns the first failing one's exit code.
fn run_fault_scenarios(root: &Path, sim_bin: &Path) -> Result<i32> {
    let setup = Command::new(root.join("interop/node/setup.sh"))
        .current_dir(root)
        .spawn()
        .context("starting interop/node/setup.sh")?;
    let status = wait_with_timeout(setup, SETUP_TIMEOUT, "interop/node/setup.sh")?;
    if !status.success() {
        bail!("interop/node/setup.sh failed: {status}");
    }
    let control = CONTROL_PORT.to_string();
    let sim = Sim::start(sim_bin, FAULT_PORTS, &["--control-port", &control])?;
    let Some(control) = sim.control.clone() else {
        bail!("cql-sim printed no `control` line");
    };
    let python = root.join(Driver::Cassandra.venv()).join("bin/python");
    let runs: [(&Path, PathBuf, &str); 2] = [
        (
            &python,
            root.join("interop/python/faults.py"),
            "cassandra-driver (Python)",
        ),
        (
            Path::new("node"),
            root.join("interop/node/faults.js"),
            "cassandra-driver (Node.js)",
        ),
    ];
    let mut code = 0;
    for (program, script, what) in runs {
        eprintln!("interop: fault scenario with {what}");
        let child = Command::new(program)
            .current_dir(root)
            .arg(&script)
            .args(["--port", &FAULT_PORTS.0.to_string(), "--control", &control])
            .args(&sim.hosts)
            .spawn()
            .with_context(|| format!("starting {}", script.display()))?;
        let status = wait_with_timeout(child, SCENARIO_TIMEOUT, "fault scenario")?;
        let c = status.code().unwrap_or(1);
        if c != 0 {
            eprintln!("interop: fault scenario with {what} FAILED ({status})");
            if code == 0 {
                code = c;
            }
        }
    }
    Ok(code)
}

/// Runs `scenario.py` once; returns its exit code.
fn run_scenario(
    root: &Path,
    python: &Path,
    port: u16,
    extra: &[String],
    hosts: &[String],
    what: &str,
) -> Result<i32> {
    eprintln!("interop: scenario with {what}");
    let child = Command::new(python)
        .current_dir(root)
        .arg(root.join("interop/python/scenario.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--expect-hosts")
        .arg(NODES.to_string())
        .args(extra)
        .args(hosts)
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    let status = wait_with_timeout(child, SCENARIO_TIMEOUT, "interop scenario")?;
    let code = status.code().unwrap_or(1);
    if code != 0 {
        eprintln!("interop: scenario with {what} FAILED ({status})");
    }
    Ok(code)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Waits for `child` for at most `timeout`; kills it when the time is up.
fn wait_with_timeout(mut child: Child, timeout: Duration, what: &str) -> Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `cql-sim`; stopped (SIGTERM, then kill) when dropped.
struct Sim {
    child: Child,
    hosts: Vec<String>,
    /// The control channel's address, when started with `--control-port`.
    control: Option<String>,
}

impl Sim {
    /// Starts `cql-sim` on `ports` (native, shard-aware) with `extra` arguments
    /// (`--auth user:pass`, `--flavor cassandra`, ...).
    fn start(bin: &Path, ports: (u16, u16), extra: &[&str]) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(["--nodes", &NODES.to_string()])
            .args(["--shards", &SHARDS.to_string()])
            .args(["--port", &ports.0.to_string()])
            .args(["--shard-aware-port", &ports.1.to_string()])
            .args(["--address-base", ADDRESS_BASE, "--seed", "7"]);
        cmd.args(extra);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let Some(stdout) = child.stdout.take() else {
            bail!("cql-sim has no stdout pipe");
        };
        // From here on, Drop stops the simulator whatever happens.
        let mut sim = Self {
            child,
            hosts: Vec::new(),
            control: None,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line.trim().to_owned()).is_err() {
                            break;
                        }
                    }
                }
            }
            // Keep draining so the simulator never blocks on a full pipe.
            let _ = std::io::copy(&mut lines, &mut std::io::sink());
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == "ready" => break,
                Ok(line) if line.starts_with("control ") => {
                    sim.control = line.strip_prefix("control ").map(str::to_owned);
                }
                Ok(line) => {
                    let host = line.rsplit_once(':').map_or(line.as_str(), |(ip, _)| ip);
                    sim.hosts.push(host.to_owned());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    bail!("cql-sim did not print `ready` within {READY_TIMEOUT:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("cql-sim exited before `ready`")
                }
            }
        }
        if sim.hosts.len() != NODES {
            bail!("cql-sim printed {:?}, expected {NODES} nodes", sim.hosts);
        }
        Ok(sim)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SIGTERM first so the simulator shuts down cleanly; `kill` is the fallback.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
