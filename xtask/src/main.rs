//! Project automation. `cargo xtask ci` runs what CI runs.

use anyhow::Result;
use clap::{Parser, Subcommand};
use xshell::{Shell, cmd};

mod interop;
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
    /// Run the Python driver interop scenario against the cql-sim binary.
    Interop {
        /// Which Python driver(s) to run the scenario with.
        #[arg(long, value_enum, default_value = "all")]
        driver: interop::Driver,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.task {
        Task::Ci => ci(&sh),
        Task::Interop { driver } => std::process::exit(interop::run(&project_root(), driver)?),
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
