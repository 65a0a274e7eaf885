//! cargo-fuzz target `connection`: `cql-transport`'s connection fed arbitrary server bytes; see
//! `crates/cql-transport/tests/fuzz_logic/mod.rs` for the input layout and what is checked.
#![no_main]

// The shared logic names the codec `proto`, as `cql-transport`'s own tests do.
extern crate cql_proto as proto;

#[allow(dead_code)]
#[path = "../../crates/cql-transport/tests/fuzz_logic/mod.rs"]
mod fuzz_logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_logic::connection(data));
