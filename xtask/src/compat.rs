//! `cargo xtask compat [--real]`: the `scylla` 1.x compatibility programs (`compat/`).
//!
//! Without `--real` it runs them as `cargo test --workspace` does: against `cql-session`
//! renamed to `scylla`. With `--real` it also builds the programs that compile against both
//! drivers (`compat/real/tests/real.rs`) against the real `scylla` crate and runs them against
//! `cql-sim`, which checks that they are `scylla` programs and not this driver's. CI leaves
//! `--real` out: it compiles the whole `scylla` crate.

use anyhow::Result;
use xshell::{Shell, cmd};

/// Options of `cargo xtask compat`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompatArgs {
    /// Also build and run the shared programs against the real `scylla` crate.
    #[arg(long)]
    real: bool,
}

/// Runs the programs; an error when one fails to build or fails.
pub(crate) fn run(sh: &Shell, args: &CompatArgs) -> Result<()> {
    cmd!(sh, "cargo test --locked -p cql-compat").run()?;
    if args.real {
        cmd!(sh, "cargo test --locked -p cql-compat-real --test real").run()?;
    }
    Ok(())
}
