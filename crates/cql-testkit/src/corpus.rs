//! Replays committed fuzz corpora on stable Rust, through the same code as the cargo-fuzz
//! targets.

use std::fs;
use std::path::{Path, PathBuf};

/// The corpus files of `target` under `crate_dir/tests/corpus/`, sorted; panics (failing the
/// test) when the directory is missing, empty or unreadable.
pub fn corpus(crate_dir: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(crate_dir).join("tests/corpus").join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus dir {}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("corpus dir {}: {e}", dir.display()))
                .path()
        })
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

/// Runs `f` over every corpus file of `target` (see [`corpus`]; pass
/// `env!("CARGO_MANIFEST_DIR")` as `crate_dir`) and fails naming every input that panicked.
pub fn replay(crate_dir: &str, target: &str, f: fn(&[u8])) {
    let files = corpus(crate_dir, target);
    let mut failed = Vec::new();
    for (path, data) in &files {
        if std::panic::catch_unwind(|| f(data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: inputs panicked: {failed:#?}");
}
