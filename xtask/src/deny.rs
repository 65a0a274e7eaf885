//! `cargo deny` in CI: licenses, bans and sources against `deny.toml`, with cargo-deny
//! installed at a pinned version when it is missing.

use anyhow::Result;
use xshell::{Shell, cmd};

/// The cargo-deny CI installs: its MSRV (1.88) is within the stable toolchain's, and it reads
/// `deny.toml` in the format this repository writes.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// Set to `1` to also run `cargo deny check advisories`, which fetches the RustSec advisory
/// database from GitHub: a network CI does not have, so it is off by default.
const ADVISORIES_ENV: &str = "CQL_DENY_ADVISORIES";

/// Runs `cargo deny check licenses bans sources` (and advisories when asked).
pub(crate) fn run(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "cargo deny --version")
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    // `cargo deny --version` prints "cargo-deny 0.20.2".
    if installed.split_whitespace().nth(1) != Some(CARGO_DENY_VERSION) {
        eprintln!(
            "xtask: installing cargo-deny {CARGO_DENY_VERSION} (found: {})",
            if installed.is_empty() {
                "none"
            } else {
                installed.trim()
            }
        );
        cmd!(
            sh,
            "cargo install --locked cargo-deny --version {CARGO_DENY_VERSION}"
        )
        .run()?;
    }
    // The duplicate-version warnings list the crates only: their inclusion trees run to
    // about 500 lines today (`cargo tree -d` shows them).
    cmd!(
        sh,
        "cargo deny --locked check --hide-inclusion-graph licenses bans sources"
    )
    .run()?;
    if std::env::var(ADVISORIES_ENV).is_ok_and(|v| v == "1") {
        cmd!(sh, "cargo deny --locked check advisories").run()?;
    } else {
        eprintln!(
            "xtask: cargo deny advisories skipped: the RustSec advisory database is fetched \
             from GitHub, which this network does not reach; set {ADVISORIES_ENV}=1 to run it"
        );
    }
    Ok(())
}
