//! The integration tests of `cql-sim`, one module per area, in one test binary. Each test starts
//! its own cluster on a loopback subnet of its own (`SimClusterBuilder::isolated`, the default),
//! so the tests run in parallel threads; the raw CQL client is `cql_testkit::RawClient`.
//! `fuzz_corpus` replays the committed corpus of the `cql_statement` fuzz target
//! (`tests/corpus/`) through `tests/fuzz_logic/`, which the cargo-fuzz target includes by path.

mod fuzz_corpus;
// Shared with the cargo-fuzz target `cql_statement` of `fuzz` (at the workspace root), which
// includes it by this path.
#[path = "../fuzz_logic/mod.rs"]
mod fuzz_logic;
mod interop_fidelity;
mod server_auth;
mod server_basic;
mod server_binary;
mod server_clients;
mod server_cluster;
mod server_control;
mod server_events;
mod server_faults;
mod server_functions;
mod server_limits;
mod server_lwt_batch;
mod server_lwt_mark;
mod server_metadata_id;
mod server_replication;
mod server_schema;
mod server_tablets;
mod server_tls;
mod server_tombstones;
mod server_tracing;
mod server_versions;
mod server_views;
mod server_virtual_schema;
