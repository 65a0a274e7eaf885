//! `cargo xtask integration --ccm`: a cluster made with the `ccm` tool (Cassandra Cluster
//! Manager, or scylla-ccm with `--scylla`), removed afterwards even when tests fail or the run
//! is interrupted.
//!
//! The command is `$CCM` when set (e.g. the in-repo shim `xtask/ccm-shim/ccm`, which runs
//! `cql-sim` instead of a real server), else `ccm` on the `PATH`. The commands used are those
//! both ccm flavours share: `create NAME -v V -n N [--scylla --vnodes]`,
//! `start --wait-for-binary-proto`, `liveset`, `remove NAME`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::cleanup::Guard;

/// Cassandra version when `--version` is not given.
const DEFAULT_CASSANDRA_VERSION: &str = "4.1.7";
/// Scylla version when `--version` is not given.
const DEFAULT_SCYLLA_VERSION: &str = "release:6.2";
/// The native protocol port of every ccm node (each node has its own address).
const CCM_NATIVE_PORT: u16 = 9042;

/// What cluster to create.
#[derive(Debug)]
pub(crate) struct Options {
    /// Number of nodes.
    pub(crate) nodes: u32,
    /// A Scylla cluster instead of a Cassandra one.
    pub(crate) scylla: bool,
    /// The server version; a default per flavour when `None`.
    pub(crate) version: Option<String>,
}

/// Creates the cluster, runs the suite against it, removes it; returns the suite's exit code.
pub(crate) fn run(sh: &Shell, opts: &Options, test_args: &[String]) -> Result<i32> {
    let ccm = find_ccm(sh)?;
    let name = format!("cqlit{}", std::process::id());
    let version = version_arg(opts);
    let nodes = opts.nodes.to_string();
    let flavour: &[&str] = if opts.scylla {
        &["--scylla", "--vnodes"]
    } else {
        &[]
    };

    // Registered before `create`, so a half-created cluster is removed too.
    let guard = {
        let ccm = ccm.clone();
        let name = name.clone();
        let dir = sh.current_dir();
        Guard::new(move || remove_cluster(&ccm, &name, &dir))
    };
    eprintln!("xtask: creating ccm cluster {name} ({version}, {nodes} nodes) with {ccm:?}");
    cmd!(
        sh,
        "{ccm} create {name} -v {version} -n {nodes} {flavour...}"
    )
    .run()?;
    cmd!(sh, "{ccm} start --wait-for-binary-proto").run()?;
    let liveset = cmd!(sh, "{ccm} liveset").read()?;
    let contact_points = contact_points(&liveset, opts.nodes);
    let code = crate::integration::run_suite(sh, &contact_points, "ccm", &[], test_args);
    drop(guard);
    code
}

/// `release:` is how scylla-ccm names released versions; accept a bare `6.2` too.
fn version_arg(opts: &Options) -> String {
    match (&opts.version, opts.scylla) {
        (Some(v), true) if !v.contains(':') => format!("release:{v}"),
        (Some(v), _) => v.clone(),
        (None, true) => DEFAULT_SCYLLA_VERSION.to_owned(),
        (None, false) => DEFAULT_CASSANDRA_VERSION.to_owned(),
    }
}

/// Turns `ccm liveset` output (`127.0.0.1,127.0.0.2`, ports optional) into `HOST:PORT,...`;
/// falls back to ccm's fixed layout `127.0.0.1..N:9042` when it printed nothing usable.
fn contact_points(liveset: &str, nodes: u32) -> String {
    let points: Vec<String> = liveset
        .split([',', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.parse::<std::net::SocketAddr>().is_ok() {
                s.to_owned()
            } else {
                format!("{s}:{CCM_NATIVE_PORT}")
            }
        })
        .collect();
    if points.is_empty() {
        (1..=nodes)
            .map(|i| format!("127.0.0.{i}:{CCM_NATIVE_PORT}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        points.join(",")
    }
}

/// Removes the cluster; errors are printed, never raised, since this runs from `Drop` and
/// from the signal handler.
fn remove_cluster(ccm: &Path, name: &str, dir: &Path) {
    eprintln!("xtask: removing ccm cluster {name}");
    let status = std::process::Command::new(ccm)
        .args(["remove", name])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("xtask: `ccm remove {name}` failed ({s}); remove it by hand"),
        Err(e) => eprintln!("xtask: could not run `ccm remove {name}`: {e}"),
    }
}

/// The `ccm` command: `$CCM`, else `ccm` on the `PATH`, else an error that says how to
/// install it.
fn find_ccm(sh: &Shell) -> Result<PathBuf> {
    if let Some(ccm) = std::env::var_os("CCM").filter(|v| !v.is_empty()) {
        let path = sh.current_dir().join(&ccm);
        if path.is_file() {
            return Ok(path);
        }
        if let Some(found) = search_path(&ccm) {
            return Ok(found);
        }
        bail!("CCM={ccm:?} is neither a file nor a command on the PATH");
    }
    search_path(&OsString::from("ccm")).with_context(|| {
        "the `ccm` command was not found on the PATH.\n\
         Install it with one of:\n  \
           pip install ccm                                              # Cassandra\n  \
           pip install git+https://github.com/scylladb/scylla-ccm.git  # Scylla (--scylla)\n\
         or run against the in-repo simulator shim:\n  \
           CCM=xtask/ccm-shim/ccm cargo xtask integration --ccm"
    })
}

fn search_path(name: &OsString) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveset_addresses_get_the_native_port() {
        assert_eq!(
            contact_points("127.0.0.1,127.0.0.2,127.0.0.3\n", 3),
            "127.0.0.1:9042,127.0.0.2:9042,127.0.0.3:9042"
        );
        assert_eq!(
            contact_points("127.0.91.1:19500,127.0.91.2:19500", 2),
            "127.0.91.1:19500,127.0.91.2:19500"
        );
        assert_eq!(contact_points("", 2), "127.0.0.1:9042,127.0.0.2:9042");
    }

    #[test]
    fn versions_per_flavour() {
        let opts = |scylla, version: Option<&str>| Options {
            nodes: 3,
            scylla,
            version: version.map(str::to_owned),
        };
        assert_eq!(version_arg(&opts(false, None)), "4.1.7");
        assert_eq!(version_arg(&opts(true, None)), "release:6.2");
        assert_eq!(version_arg(&opts(true, Some("6.1"))), "release:6.1");
        assert_eq!(
            version_arg(&opts(true, Some("release:2024.1"))),
            "release:2024.1"
        );
        assert_eq!(version_arg(&opts(false, Some("4.0.13"))), "4.0.13");
    }
}
