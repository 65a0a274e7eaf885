//! The `cql-compat` programs that compile unchanged against both `cql-session` (renamed
//! `scylla`) and the real `scylla` crate, built here against the real one and run against
//! `cql-sim`. The others use one of the documented differences (see `compat/README.md`).

#![allow(elided_lifetimes_in_paths)]

#[path = "../../tests/it/cluster.rs"]
mod cluster;

#[path = "../../tests/it/batches.rs"]
mod batches;
#[path = "../../tests/it/cluster_state.rs"]
mod cluster_state;
#[path = "../../tests/it/derives.rs"]
mod derives;
#[path = "../../tests/it/paging.rs"]
mod paging;
#[path = "../../tests/it/policies.rs"]
mod policies;
#[path = "../../tests/it/readme.rs"]
mod readme;
#[path = "../../tests/it/session_features.rs"]
mod session_features;
