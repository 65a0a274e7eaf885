//! `cargo xtask book`: builds the user guide in `docs/book` with mdBook into `target/book`,
//! installing a pinned mdBook into `target/tools` first when it is missing.
//!
//! The book's Rust snippets are not tested here: they run as doctests of `cql-session`
//! (`crates/cql-session/src/book_doctests.rs`), in `cargo test --workspace`.

use anyhow::Result;
use xshell::{Shell, cmd};

use crate::integration::target_dir;

/// The mdBook this repository's `book.toml` is written for.
const MDBOOK_VERSION: &str = "0.5.4";

/// Builds the book, installing mdBook first if needed.
pub(crate) fn run(sh: &Shell) -> Result<()> {
    let root = target_dir(sh).join("tools");
    let mdbook = root.join("bin").join("mdbook");
    let installed = cmd!(sh, "{mdbook} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    // `mdbook --version` prints "mdbook v0.5.4".
    if installed.trim() != format!("mdbook v{MDBOOK_VERSION}") {
        eprintln!(
            "xtask: installing mdbook {MDBOOK_VERSION} into {}",
            root.display()
        );
        // Without the default `serve` and `watch` features: `build` needs neither, and they
        // pull in an HTTP server and a file watcher.
        cmd!(
            sh,
            "cargo install mdbook --locked --version {MDBOOK_VERSION} --no-default-features --features search --root {root}"
        )
        .run()?;
    }
    let dest = target_dir(sh).join("book");
    cmd!(sh, "{mdbook} build docs/book --dest-dir {dest}").run()?;
    eprintln!(
        "xtask: the book is in {}",
        dest.join("index.html").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every chapter the book lists is included as a doctest, so none of its snippets goes
    /// untested (`crates/cql-session/src/book_doctests.rs` names each file).
    #[test]
    fn every_chapter_is_a_doctest() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let summary = std::fs::read_to_string(root.join("docs/book/src/SUMMARY.md")).unwrap();
        let includes =
            std::fs::read_to_string(root.join("crates/cql-session/src/book_doctests.rs")).unwrap();
        let chapters: Vec<&str> = summary
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
            .collect();
        assert!(chapters.len() >= 10, "SUMMARY.md lists {chapters:?}");
        let missing: Vec<&&str> = chapters
            .iter()
            .filter(|chapter| !includes.contains(&format!("docs/book/src/{chapter}\"")))
            .collect();
        assert!(
            missing.is_empty(),
            "chapters not included in crates/cql-session/src/book_doctests.rs: {missing:?}"
        );
    }
}
