//! cargo-fuzz target `cql_statement`: `cql-sim`'s parser and engine on arbitrary CQL text.
//!
//! The input is lines of CQL (lossy UTF-8), each parsed and executed in turn against one engine
//! and store holding a small schema (`ks.t` with a clustering column, a collection, a counter
//! table and a user type), so statements can create, alter and read what earlier lines made.
//! Any error is fine; a panic is a bug: a real server answers every statement with a result or
//! an error, and so must the sim.
#![no_main]

use cql_sim::{Engine, QueryOptions, Store};

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

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::new();
    let mut store = Store::new();
    let mut now = 1_700_000_000_000_000i64;
    let text = String::from_utf8_lossy(data);
    let schema = SCHEMA.iter().copied();
    let lines = text.lines().map(|l| &l[..floor_char_boundary(l, MAX_LINE)]);
    for (i, line) in schema.chain(lines).enumerate() {
        now += 1;
        let opts = QueryOptions {
            keyspace: Some("ks"),
            now_micros: now,
            page_size: Some(3),
            ..QueryOptions::default()
        };
        let result = engine.query(&mut store, line, &opts);
        assert!(i >= SCHEMA.len() || result.is_ok(), "{line}: {result:?}");
    }
});

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
