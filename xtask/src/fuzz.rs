//! `cargo xtask fuzz --time N [--target T ...]`: runs every cargo-fuzz target of `fuzz/` (or the
//! named ones) for N seconds each, one after the other, and prints each one's executions and
//! speed. Fails on the first target that crashes (libFuzzer keeps the input under
//! `fuzz/artifacts/<target>/`; turn it into a regression test).
//!
//! Installs cargo-fuzz with `scripts/install-cargo-fuzz.sh` when it is missing; needs the
//! nightly toolchain. Each target starts from its working corpus `fuzz/corpus/<target>/`
//! (git-ignored), seeded from the committed minimized corpus `crates/<crate>/tests/corpus/<target>/`
//! of the crate that owns the target's code (`cql-proto` for the codec, `cql-sim` for
//! `cql_statement`, `cql-transport` for `connection`) when there is one.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use xshell::{Shell, cmd};

/// The crates whose `tests/corpus/<target>/` holds a committed corpus (each replayed by that
/// crate's `tests/it/fuzz_corpus.rs`).
const SEED_CRATES: [&str; 3] = ["cql-proto", "cql-sim", "cql-transport"];

/// Options of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub(crate) struct FuzzArgs {
    /// Seconds each target runs.
    #[arg(long, default_value_t = 60)]
    time: u64,
    /// Stop a target after this many executions instead (whichever comes first).
    #[arg(long)]
    runs: Option<u64>,
    /// The targets to run (default: every target of fuzz/Cargo.toml).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// The largest input, in bytes.
    #[arg(long, default_value_t = 4096)]
    max_len: usize,
    /// Run the binaries of the last `cargo fuzz build -O` without building again.
    #[arg(long)]
    no_build: bool,
}

/// One target's figures, from libFuzzer's final statistics.
struct Figures {
    target: String,
    executions: u64,
    seconds: u64,
}

/// Runs the targets; an error on the first crash.
pub(crate) fn run(sh: &Shell, args: &FuzzArgs) -> Result<()> {
    ensure!(
        crate::nightly::available(sh),
        "cargo xtask fuzz needs a nightly toolchain: rustup toolchain install nightly"
    );
    if cmd!(sh, "cargo +nightly fuzz --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        cmd!(sh, "bash scripts/install-cargo-fuzz.sh").run()?;
    }
    let all = targets(sh)?;
    let chosen: Vec<String> = if args.targets.is_empty() {
        all
    } else {
        for t in &args.targets {
            ensure!(
                all.contains(t),
                "no fuzz target {t}: the targets are {}",
                all.join(", ")
            );
        }
        args.targets.clone()
    };
    // One build of every target, then each binary run directly: `cargo fuzz run` would build
    // again for each target, and on this project each cargo-fuzz invocation recompiles `ring`
    // and what depends on it (its build script reruns), minutes per target.
    if !args.no_build {
        let _dir = sh.push_dir("fuzz");
        cmd!(sh, "cargo +nightly fuzz build -O").run()?;
    }
    let host = host_triple(sh)?;
    let mut figures = Vec::new();
    for target in &chosen {
        let binary = format!("fuzz/target/{host}/release/{target}");
        figures.push(run_target(sh, target, &binary, args)?);
    }
    println!(
        "\n{:<16} {:>14} {:>8} {:>10}",
        "target", "executions", "seconds", "per second"
    );
    for f in &figures {
        println!(
            "{:<16} {:>14} {:>8} {:>10}",
            f.target,
            f.executions,
            f.seconds,
            f.executions / f.seconds.max(1)
        );
    }
    Ok(())
}

/// The `[[bin]]` targets of `fuzz/Cargo.toml`.
fn targets(sh: &Shell) -> Result<Vec<String>> {
    let json = cmd!(
        sh,
        "cargo +nightly metadata --format-version 1 --no-deps --manifest-path fuzz/Cargo.toml"
    )
    .quiet()
    .read()?;
    let meta: Value = serde_json::from_str(&json).context("parsing cargo metadata's JSON")?;
    let mut names = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        for target in package["targets"].as_array().into_iter().flatten() {
            if let Some(name) = target["name"].as_str() {
                names.push(name.to_owned());
            }
        }
    }
    ensure!(!names.is_empty(), "fuzz/Cargo.toml has no targets");
    Ok(names)
}

/// The host's target triple, where cargo-fuzz puts the binaries.
fn host_triple(sh: &Shell) -> Result<String> {
    let version = cmd!(sh, "rustc +nightly -vV").quiet().read()?;
    version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV printed no host line")
}

fn run_target(sh: &Shell, target: &str, binary: &str, args: &FuzzArgs) -> Result<Figures> {
    let corpus = format!("fuzz/corpus/{target}");
    sh.create_dir(&corpus)?;
    for krate in SEED_CRATES {
        let seed = format!("crates/{krate}/tests/corpus/{target}");
        if !Path::new(&seed).is_dir() {
            continue;
        }
        for file in sh.read_dir(&seed)? {
            if let Some(name) = file.file_name() {
                sh.copy_file(&file, Path::new(&corpus).join(name))?;
            }
        }
    }
    let time = format!("-max_total_time={}", args.time);
    let max_len = format!("-max_len={}", args.max_len);
    let runs: Vec<String> = args
        .runs
        .map(|r| format!("-runs={r}"))
        .into_iter()
        .collect();
    eprintln!("xtask: fuzzing {target} for {} s", args.time);
    let artifacts = format!("-artifact_prefix=fuzz/artifacts/{target}/");
    sh.create_dir(format!("fuzz/artifacts/{target}"))?;
    let output = cmd!(
        sh,
        "{binary} {corpus} {time} {max_len} {runs...} {artifacts} -rss_limit_mb=2048 -print_final_stats=1"
    )
    .ignore_status()
    .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzz target {target} failed (a crash or a leak; the input is under fuzz/artifacts/{target}/):\n{}",
            tail.join("\n")
        );
    }
    let stat = |name: &str| -> Option<u64> {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .and_then(|v| v.trim().parse().ok())
    };
    let executions = stat("number_of_executed_units")
        .with_context(|| format!("{target}: libFuzzer printed no final statistics"))?;
    let seconds = stat("total_time_in_seconds").unwrap_or(args.time);
    eprintln!("xtask: {target}: {executions} executions in {seconds} s, no crash");
    Ok(Figures {
        target: target.to_owned(),
        executions,
        seconds,
    })
}
