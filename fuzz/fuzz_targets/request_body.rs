//! cargo-fuzz target `request_body`: see `fuzz_logic::request_body` for the input layout and what is checked.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/cql-proto/tests/fuzz_logic/mod.rs"]
mod fuzz_logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_logic::request_body(data));
