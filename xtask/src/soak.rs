//! `cargo xtask soak --minutes N --seed S [--release]`: the seeded chaos soak (`crates/cql-soak`),
//! the driver under mixed load and random cql-sim faults. Fails when the soak finds a violation
//! (a hung or twice-ended request, a lost acknowledged write, descriptor, task or memory growth).

use anyhow::Result;
use xshell::{Shell, cmd};

/// Options of `cargo xtask soak`.
#[derive(Debug, clap::Args)]
pub(crate) struct SoakArgs {
    /// Minutes the soak runs (faulted load and each epoch's read-back; fractions allowed).
    #[arg(long, default_value_t = 2.0)]
    minutes: f64,
    /// The seed of every random choice; the soak picks and prints one when not given.
    #[arg(long)]
    seed: Option<u64>,
    /// Build and run the soak with optimisations.
    #[arg(long)]
    release: bool,
    /// More options for `cql-soak` itself, after `--` (`--faults`, `--concurrency`, ...).
    #[arg(last = true)]
    extra: Vec<String>,
}

/// Runs the soak; an error when it reports a violation.
pub(crate) fn run(sh: &Shell, args: &SoakArgs) -> Result<()> {
    let minutes = args.minutes.to_string();
    let release = args.release.then_some("--release");
    let seed: Vec<String> = args
        .seed
        .map(|s| vec!["--seed".to_owned(), s.to_string()])
        .unwrap_or_default();
    let extra = &args.extra;
    cmd!(
        sh,
        "cargo run --locked -q -p cql-soak {release...} -- --minutes {minutes} {seed...} {extra...}"
    )
    .run()?;
    Ok(())
}
