//! The integration tests of `cql-proto`, one module per area, in one test binary (one link, one
//! process start). Data files stay next to the tests: `tests/corpus/` (fuzz corpus replay),
//! `tests/fuzz_logic/` (shared with the cargo-fuzz targets through `#[path]`), and the proptest
//! regression files next to their module (`tests/it/<module>.proptest-regressions`).

mod decoder;
mod fuzz_corpus;
// Shared with the cargo-fuzz targets of `fuzz` (at the workspace root), which include it by this path.
#[path = "../fuzz_logic/mod.rs"]
mod fuzz_logic;
mod golden;
mod no_panic;
mod readme;
mod roundtrip;
mod segment_golden;
mod segment_prop;
mod sizes;
mod strategies;
mod token;
mod v5_frames;
mod value_ext;
mod value_types;
mod values;
mod values_prop;
mod values_traits;
