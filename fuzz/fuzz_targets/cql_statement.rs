//! cargo-fuzz target `cql_statement`: `cql-sim`'s parser and engine on arbitrary CQL text; see
//! `crates/cql-sim/tests/fuzz_logic/mod.rs` for the input layout and what is checked.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/cql-sim/tests/fuzz_logic/mod.rs"]
mod fuzz_logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_logic::cql_statement(data));
