//! Project automation. `cargo xtask ci` runs what CI runs; `cargo xtask integration` runs the
//! integration suite against a sim, an existing or a CCM cluster; `cargo xtask interop` runs
//! third-party Python drivers against `cql-sim`; `cargo xtask bench` compares drivers;
//! `cargo xtask package` runs `cargo package` on the publishable crates; `cargo xtask book`
//! builds the user guide; `cargo xtask compat [--real]` runs the `scylla` compatibility programs.
//! `cargo xtask soak` runs the seeded chaos soak; `cargo xtask fuzz` runs the fuzz targets.

use anyhow::Result;
use clap::{Parser, Subcommand};
use xshell::{Shell, cmd};

mod bench;
mod book;
mod ccm;
mod cleanup;
mod compat;
mod deny;
mod fuzz;
mod integration;
mod interop;
mod nightly;
mod package;
mod soak;
mod tidy;

/// Project automation tasks.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run what CI runs: fmt, tidy, clippy, tests, docs, cargo-deny, fuzz build.
    Ci,
    /// Check the design rules a machine can check (dependency direction, lints, file size,
    /// no wire arithmetic in cql-session); the same checks run as tests in `cargo test`.
    Tidy,
    /// Run the Python driver interop scenario against the cql-sim binary.
    Interop {
        /// Which Python driver(s) to run the scenario with.
        #[arg(long, value_enum, default_value = "all")]
        driver: interop::Driver,
    },
    /// Run the integration suite (`tests/`) against a sim, an existing or a CCM cluster.
    Integration(integration::Args),
    /// Compare this driver with the `scylla` crate and a raw-socket floor on `cql-sim`;
    /// writes docs/benchmarks.md and docs/benchmarks.json.
    Bench(bench::BenchArgs),
    /// Run `cargo package` (verifying each crate) on every publishable crate, without publishing.
    Package(package::PackageArgs),
    /// Build the user guide (`docs/book`) with a pinned mdBook into `target/book`.
    Book,
    /// Run the `scylla` 1.x compatibility programs (`compat/`); with `--real`, also against the
    /// real `scylla` crate.
    Compat(compat::CompatArgs),
    /// Run the seeded chaos soak (crates/cql-soak): mixed load under random cql-sim faults,
    /// checking that no request hangs or is lost and nothing grows.
    Soak(soak::SoakArgs),
    /// Run every cargo-fuzz target of `fuzz/` for a while each (nightly; installs cargo-fuzz).
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.task {
        Task::Ci => ci(&sh),
        Task::Tidy => tidy::run(&project_root()),
        Task::Interop { driver } => std::process::exit(interop::run(&project_root(), driver)?),
        Task::Integration(args) => {
            let code = integration::run(&sh, &args)?;
            // Every cluster guard has been dropped by now: exiting skips no teardown.
            std::process::exit(code)
        }
        Task::Bench(args) => bench::bench(&sh, &project_root(), &args),
        Task::Package(args) => package::run(&sh, &args),
        Task::Book => book::run(&sh),
        Task::Soak(args) => soak::run(&sh, &args),
        Task::Fuzz(args) => fuzz::run(&sh, &args),
        Task::Compat(args) => compat::run(&sh, &args),
    }
}

fn project_root() -> std::path::PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the binary too; prefer it to the compile-time
    // value, which is wrong when two checkouts share one CARGO_TARGET_DIR.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

/// CI's one definition: `.ci/run` calls this and nothing else.
fn ci(sh: &Shell) -> Result<()> {
    section("fmt");
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    section("tidy (xtask/src/tidy/)");
    tidy::run(&project_root())?;
    section("cargo deny: licenses, bans, sources (deny.toml)");
    deny::run(sh)?;
    section("clippy");
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --locked -- -D warnings"
    )
    .run()?;
    // The integration suite is `test = false` (it needs a cluster), so --all-targets skips it.
    cmd!(
        sh,
        "cargo clippy -p cql-integration --test suite --locked -- -D warnings"
    )
    .run()?;
    // The value features (chrono-04, time-03, ...) are off by default: build and test them too.
    section("value features: clippy and tests with all features");
    cmd!(
        sh,
        "cargo clippy -p cql-proto -p cql-session --all-targets --all-features --locked -- -D warnings"
    )
    .run()?;
    cmd!(
        sh,
        "cargo test -p cql-proto --all-features --locked --test it value_"
    )
    .run()?;
    cmd!(
        sh,
        "cargo test -p cql-session --all-features --locked --test it value_types"
    )
    .run()?;
    // The `metrics` feature's export, against a recorder the test installs.
    cmd!(
        sh,
        "cargo test -p cql-session --all-features --locked --test it metrics_export"
    )
    .run()?;
    section("cql-proto without default features (no compression)");
    cmd!(
        sh,
        "cargo check -p cql-proto --no-default-features --locked"
    )
    .run()?;
    section("test (the README's test command)");
    cmd!(sh, "cargo test --workspace --locked").run()?;
    // The ccm shim and the interop drivers are Python; without python3 both are skipped.
    let has_python = cmd!(sh, "python3 --version")
        .quiet()
        .ignore_stdout()
        .run()
        .is_ok();
    section("integration suite against a 3-node cql-sim, protocol v4");
    cmd!(sh, "cargo xtask integration --sim --protocol 4").run()?;
    // v5 runs over TLS, so both the segment framing and the TLS path meet a cluster.
    section("integration suite against a 3-node cql-sim, protocol v5 over TLS");
    cmd!(sh, "cargo xtask integration --sim --protocol 5 --tls").run()?;
    if has_python {
        section("integration suite through the ccm path, with the in-repo ccm shim");
        let state = integration::target_dir(sh).join("ccm-shim");
        cmd!(sh, "cargo xtask integration --ccm")
            .env("CCM", "xtask/ccm-shim/ccm")
            .env("CCM_CONFIG_DIR", state)
            .env("CCM_SHIM_ADDRESS_BASE", "127.0.96.1")
            .env("CCM_SHIM_PORT", "19942")
            .run()?;
    } else {
        eprintln!("xtask: python3 not found: the ccm shim path and interop are not run");
    }
    section("examples, each against an embedded cql-sim cluster");
    for example in [
        "quickstart",
        "paging",
        "batches",
        "derives",
        "auth",
        "profiles",
        "load_balancing",
        "timeouts_and_shutdown",
        "spans_and_metadata",
    ] {
        cmd!(
            sh,
            "cargo run --locked -q -p cql-session --example {example}"
        )
        .env_remove("CQL_NODES")
        .run()?;
    }
    // Checks its own Prometheus figures against the simulator's per-node counts.
    cmd!(
        sh,
        "cargo run --locked -q -p cql-session --features metrics --example metrics_prometheus"
    )
    .env_remove("CQL_NODES")
    .run()?;
    section(
        "cargo package: every publishable crate (manifests, file lists, versions), not published",
    );
    // Not verified here: cargo takes a registry crate of the same name and version as
    // unchanged, so on a machine that packaged these crates before (a second CI run from the
    // same path, or a developer's), the verify build of `cql-session` linked an earlier run's
    // `cql-transport` and failed on a field added since. `cargo xtask package` (verifying) on a
    // fresh checkout and cache still builds each crate as crates.io would.
    cmd!(sh, "cargo xtask package --no-verify").run()?;
    section("chaos soak: 2 minutes, fixed seed (crates/cql-soak)");
    cmd!(sh, "cargo xtask soak --minutes 2 --seed 18").run()?;
    section("doc");
    {
        let _docs = sh.push_env("RUSTDOCFLAGS", "-D warnings");
        cmd!(sh, "cargo doc --workspace --no-deps --locked").run()?;
    }
    if nightly::available(sh) {
        section("doc as docs.rs builds it (nightly, --cfg docsrs, all features)");
        nightly::docsrs_doc(sh)?;
        section("fuzz targets build (nightly, fuzz)");
        nightly::fuzz_build(sh)?;
    } else {
        eprintln!(
            "xtask: no nightly toolchain: the docsrs doc build and the fuzz build are skipped"
        );
    }
    if has_python {
        // Third-party Python drivers (pinned, from PyPI) against the cql-sim binary.
        section("interop (cassandra-driver and scylla-driver against cql-sim)");
        let code = interop::run(&project_root(), interop::Driver::All)?;
        anyhow::ensure!(code == 0, "interop failed with exit code {code}");
    }
    section("ci done");
    Ok(())
}

/// Prints a CI section header on stderr, where cargo's own progress goes.
/// Starts a CI section: prints how long the previous one took, then `== name`.
fn section(name: &str) {
    use std::sync::Mutex;
    use std::time::Instant;
    static LAST: Mutex<Option<(String, Instant)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((previous, started)) = last.take() {
        eprintln!("-- {previous}: {:.0} s", started.elapsed().as_secs_f64());
    }
    eprintln!("== {name}");
    *last = Some((name.to_owned(), Instant::now()));
}
