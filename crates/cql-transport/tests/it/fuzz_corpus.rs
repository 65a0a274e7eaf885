//! Replays the committed corpus of the `connection` fuzz target
//! (`tests/corpus/connection/`) through the same code as the cargo-fuzz target in `fuzz` (at
//! the workspace root), on stable Rust: no input may make the connection panic, and every request must end within
//! its timeout.

use crate::fuzz_logic;

/// Runs `f` over every committed corpus file of `target`, naming the inputs that panic.
fn replay(target: &str, f: fn(&[u8])) {
    cql_testkit::corpus::replay(env!("CARGO_MANIFEST_DIR"), target, f);
}

#[test]
fn corpus_connection() {
    replay("connection", fuzz_logic::connection);
}

/// The replay fails when the code under it panics on an input, and names the input.
#[test]
#[should_panic(expected = "connection: inputs panicked")]
fn a_panicking_input_fails_the_replay() {
    replay("connection", |data| {
        assert!(data.is_empty(), "stands for a panic in the connection");
    });
}
