//! Tidy checks that hold the architecture's invariants, run as plain tests.

use std::fs;
use std::path::Path;

fn manifest(krate: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    fs::read_to_string(root.join("crates").join(krate).join("Cargo.toml")).unwrap_or_default()
}

fn dependency_lines(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_deps = t.contains("dependencies");
            continue;
        }
        if in_deps && !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_owned());
        }
    }
    out
}

/// DESIGN.md invariant 1: cql-proto is sans-IO and never depends on tokio.
#[test]
fn cql_proto_does_not_depend_on_tokio() {
    let m = manifest("cql-proto");
    assert!(!m.is_empty(), "crates/cql-proto/Cargo.toml not found");
    for dep in dependency_lines(&m) {
        assert!(
            !dep.starts_with("tokio"),
            "cql-proto must stay sans-IO but depends on: {dep}"
        );
    }
}

/// DESIGN.md invariant 2: cql-sim depends on cql-proto only among the driver's crates.
#[test]
fn cql_sim_does_not_depend_on_transport_or_session() {
    let m = manifest("cql-sim");
    for dep in dependency_lines(&m) {
        assert!(
            !dep.contains("cql-transport") && !dep.contains("cql-session"),
            "cql-sim must depend on cql-proto only, but depends on: {dep}"
        );
    }
}

#[test]
fn dependency_lines_finds_tokio() {
    let m = "[package]\nname='x'\n[dependencies]\ntokio = \"1\"\n";
    assert_eq!(dependency_lines(m), vec!["tokio = \"1\"".to_owned()]);
}
