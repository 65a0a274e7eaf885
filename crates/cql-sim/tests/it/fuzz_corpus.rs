//! Replays the committed corpus of the `cql_statement` fuzz target
//! (`tests/corpus/cql_statement/`) through the same code as the cargo-fuzz target in `fuzz` (at
//! the workspace root), on stable Rust: no input may make the parser or the engine panic.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fuzz_logic;

/// The corpus files of one target, sorted; fails when the directory is missing or empty.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus dir {}: {e}", dir.display()))
        .map(|e| e.expect("a corpus dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let data = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

/// Runs `f` over every corpus file of `target`, naming the files that panic.
fn replay(target: &str, f: fn(&[u8])) {
    let files = corpus(target);
    let mut failed = Vec::new();
    for (path, data) in &files {
        if std::panic::catch_unwind(|| f(data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: inputs panicked: {failed:#?}");
}

#[test]
fn corpus_cql_statement() {
    replay("cql_statement", fuzz_logic::cql_statement);
}

/// The replay fails when the code under it panics on an input, and names the input.
#[test]
#[should_panic(expected = "cql_statement: inputs panicked")]
fn a_panicking_input_fails_the_replay() {
    replay("cql_statement", |data| {
        assert!(data.is_empty(), "stands for a panic in the engine");
    });
}
