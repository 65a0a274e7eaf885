//! `cargo xtask package`: `cargo package` for every publishable crate of the workspace, without
//! publishing. The crates are the members whose manifest does not say `publish = false`, read
//! from `cargo metadata`, so a new library crate is packaged as soon as it exists.
//!
//! Cargo (1.90 and later) packages workspace members that depend on each other through a
//! temporary local registry (`target/package/tmp-registry`), so `cql-session` verifies against
//! the just-packaged `cql-transport` and `cql-proto`, not against crates.io.
//!
//! Verifying (building each `.crate` as it would build from crates.io) takes 2 min 38 s of wall
//! time (75 s of CPU) for the five library crates from a cold `target/package` on the 2-core
//! machine CI runs on, shared with other builds, so CI verifies every crate. `--no-verify` skips
//! the builds for a quick local check of the manifests, file lists and dependency versions.

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use xshell::{Shell, cmd};

/// Arguments of `cargo xtask package`.
#[derive(clap::Args)]
pub(crate) struct PackageArgs {
    /// Do not build the packaged crates (checks manifests, file lists and versions only).
    #[arg(long)]
    no_verify: bool,
}

/// Runs `cargo package --workspace --locked` over the publishable crates.
pub(crate) fn run(sh: &Shell, args: &PackageArgs) -> Result<()> {
    let (publishable, unpublishable) = members(sh)?;
    ensure!(
        !publishable.is_empty(),
        "no workspace member is publishable"
    );
    eprintln!(
        "xtask: packaging {} (publish = false: {})",
        publishable.join(", "),
        unpublishable.join(", ")
    );
    // `cargo package --workspace` does not skip `publish = false` members by itself (it fails
    // on their unversioned path dependencies), so they are excluded by name.
    let excludes: Vec<String> = unpublishable
        .iter()
        .flat_map(|name| ["--exclude".to_owned(), name.clone()])
        .collect();
    let no_verify = args.no_verify.then_some("--no-verify");
    // `--allow-dirty`: package the tree as it is, so a local run checks uncommitted edits too
    // (CI's checkout is clean either way).
    cmd!(
        sh,
        "cargo package --workspace --locked --allow-dirty {no_verify...} {excludes...}"
    )
    .run()?;
    Ok(())
}

/// The workspace members' names, split into publishable ones and `publish = false` ones.
fn members(sh: &Shell) -> Result<(Vec<String>, Vec<String>)> {
    let json = cmd!(sh, "cargo metadata --format-version 1 --no-deps --locked")
        .quiet()
        .read()?;
    let meta: Value = serde_json::from_str(&json).context("parsing cargo metadata's JSON")?;
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let (mut publishable, mut unpublishable) = (Vec::new(), Vec::new());
    for package in packages {
        let name = package["name"]
            .as_str()
            .context("a package without a name")?
            .to_owned();
        // `publish` is null when any registry may take the crate, and `[]` for `publish = false`.
        let allowed = package["publish"]
            .as_array()
            .is_none_or(|registries| !registries.is_empty());
        if allowed {
            publishable.push(name);
        } else {
            unpublishable.push(name);
        }
    }
    Ok((publishable, unpublishable))
}
