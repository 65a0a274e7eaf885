//! What the `cql_statement` fuzz target does with one input, shared by the cargo-fuzz target
//! `fuzz/fuzz_targets/cql_statement.rs` (through `#[path]`) and the corpus replay test
//! `tests/it/fuzz_corpus.rs`, so the replay runs the very code the fuzzer ran.
//!
//! The input is lines of CQL (lossy UTF-8), each parsed and executed in turn against one engine
//! and store holding a small schema (`ks.t` with a clustering column, a collection, a counter
//! table and a user type), so statements can create, alter and read what earlier lines made.
//! Any error is fine; a panic is a bug: a real server answers every statement with a result or
//! an error, and so must the sim.

use std::sync::OnceLock;

use cql_sim::{Engine, QueryOptions, Store};

/// The schema every input starts from.
const SCHEMA: [&str; 5] = [
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TYPE ks.addr (street text, no int)",
    "CREATE TABLE ks.t (k int, c int, v text, l list<int>, m map<text, int>, a frozen<addr>, PRIMARY KEY (k, c))",
    "CREATE TABLE ks.n (k int PRIMARY KEY, n counter)",
    "INSERT INTO ks.t (k, c, v, l, m) VALUES (1, 1, 'one', [1, 2], {'a': 1})",
];

/// Statements longer than this are cut: the parser's cost is linear, and long inputs only
/// slow the fuzzer down.
const MAX_LINE: usize = 1_024;

/// The engine and store after [`SCHEMA`], built once: each input runs on a clone, so inputs
/// are independent and reproducible, and the system keyspaces are not installed every time.
static TEMPLATE: OnceLock<(Engine, Store, i64)> = OnceLock::new();

/// Parses and executes each line of `data`; panics only if the sim does (or if the fixed
/// schema stops being accepted, which is a bug of the sim too).
pub(crate) fn cql_statement(data: &[u8]) {
    let (engine, store, now) = TEMPLATE.get_or_init(|| {
        let (mut engine, mut store) = (Engine::new(), Store::new());
        let mut now = 1_700_000_000_000_000i64;
        for line in SCHEMA {
            let result = run(&mut engine, &mut store, &mut now, line);
            assert!(result.is_ok(), "{line}: {result:?}");
        }
        (engine, store, now)
    });
    let (mut engine, mut store, mut now) = (engine.clone(), store.clone(), *now);
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        // The parser alone first: every statement parses or is refused with an error.
        let line = &line[..floor_char_boundary(line, MAX_LINE)];
        let _ = cql_sim::cql::parse_statement(line);
        let _ = run(&mut engine, &mut store, &mut now, line);
    }
}

/// Executes `line` in keyspace `ks` at the next microsecond, in pages of 3 rows.
fn run(
    engine: &mut Engine,
    store: &mut Store,
    now: &mut i64,
    line: &str,
) -> Result<cql_sim::Outcome, cql_sim::CqlError> {
    *now += 1;
    let opts = QueryOptions {
        keyspace: Some("ks"),
        now_micros: *now,
        page_size: Some(3),
        ..QueryOptions::default()
    };
    engine.query(store, line, &opts)
}

/// The largest index `<= max` on a char boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}
