//! Replays the committed corpus of the `cql_statement` fuzz target
//! (`tests/corpus/cql_statement/`) through the same code as the cargo-fuzz target in `fuzz` (at
//! the workspace root), on stable Rust: no input may make the parser or the engine panic.

use crate::fuzz_logic;

/// Runs `f` over every committed corpus file of `target`, naming the inputs that panic.
fn replay(target: &str, f: fn(&[u8])) {
    cql_testkit::corpus::replay(env!("CARGO_MANIFEST_DIR"), target, f);
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
