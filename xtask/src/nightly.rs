//! CI steps that need a nightly toolchain: building the cargo-fuzz targets and the docs as
//! docs.rs builds them (`--cfg docsrs`). Each is skipped, with a line saying so, when
//! `cargo +nightly` is not installed.

use anyhow::Result;
use xshell::{Shell, cmd};

use crate::integration::target_dir;

/// The library crates whose docs docs.rs would build.
const LIBRARY_CRATES: [&str; 5] = [
    "cql-proto",
    "cql-transport",
    "cql-session",
    "cql-macros",
    "cql-sim",
];

/// Whether `cargo +nightly` runs (rustup has a nightly toolchain).
pub(crate) fn available(sh: &Shell) -> bool {
    cmd!(sh, "cargo +nightly --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Builds every target of `fuzz` (its own workspace, with its own Cargo.lock),
/// with `cargo fuzz build` when cargo-fuzz is installed, else as plain binaries: either way a
/// target that no longer compiles against cql-proto fails CI.
pub(crate) fn fuzz_build(sh: &Shell) -> Result<()> {
    // Nightly artifacts in their own directory, so they do not evict the stable ones.
    let target = target_dir(sh).join("nightly");
    let has_cargo_fuzz = cmd!(sh, "cargo +nightly fuzz --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    if has_cargo_fuzz {
        let _dir = sh.push_dir("fuzz");
        cmd!(sh, "cargo +nightly fuzz build --dev")
            .env("CARGO_TARGET_DIR", &target)
            .run()?;
    } else {
        eprintln!("xtask: cargo-fuzz not installed: building the fuzz targets with cargo build");
        cmd!(
            sh,
            "cargo +nightly build --locked --bins --manifest-path fuzz/Cargo.toml --target-dir {target}"
        )
        .run()?;
    }
    Ok(())
}

/// `cargo doc` of the library crates as docs.rs runs it: nightly, all features, `--cfg docsrs`
/// (which turns on the crates' `feature(doc_cfg)` annotations), warnings denied.
pub(crate) fn docsrs_doc(sh: &Shell) -> Result<()> {
    let target = target_dir(sh).join("nightly");
    let packages = LIBRARY_CRATES.iter().flat_map(|p| ["-p", p]);
    let _flags = sh.push_env("RUSTDOCFLAGS", "--cfg docsrs -D warnings");
    cmd!(
        sh,
        "cargo +nightly doc --no-deps --all-features --locked {packages...} --target-dir {target}"
    )
    .run()?;
    Ok(())
}
