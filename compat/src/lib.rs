//! The `scylla` 1.x compatibility package: programs written the way users of the `scylla` crate
//! write them, with only the dependency renamed (`scylla = { package = "cql-session", .. }`),
//! compiled against `cql-session` and run against `cql-sim` (or the nodes in `CQL_NODES`).
//!
//! The programs are the integration tests in `tests/it/`; this library is empty. What a program
//! needed beyond the rename is listed in `compat/README.md`.
#![forbid(unsafe_code)]
