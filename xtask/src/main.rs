//! Project automation. `cargo xtask ci` runs what CI runs; `cargo xtask bench` compares
//! drivers.

use anyhow::Result;
use clap::{Parser, Subcommand};
use xshell::{Shell, cmd};

mod bench;
#[cfg(test)]
mod tidy;

/// Project automation tasks.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run what CI runs: fmt, clippy, tests and docs, warnings denied.
    Ci,
    /// Compare this driver with the `scylla` crate and a raw-socket floor on `cql-sim`;
    /// writes docs/benchmarks.md and docs/benchmarks.json.
    Bench(bench::BenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.task {
        Task::Ci => ci(&sh),
        Task::Bench(args) => bench::bench(&sh, &project_root(), &args),
    }
}

fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

fn ci(sh: &Shell) -> Result<()> {
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --locked -- -D warnings"
    )
    .run()?;
    cmd!(sh, "cargo test --workspace --locked").run()?;
    let _docs = sh.push_env("RUSTDOCFLAGS", "-D warnings");
    cmd!(sh, "cargo doc --workspace --no-deps --locked").run()?;
    Ok(())
}
