//! cargo-fuzz target `segment_decode`: see `fuzz_logic::segment_decode` for the input layout and
//! what is checked.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/cql-proto/tests/fuzz_logic/mod.rs"]
mod fuzz_logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_logic::segment_decode(data));
