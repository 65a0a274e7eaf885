//! Programs written for the `scylla` crate 1.x, compiled with the dependency renamed
//! (`scylla = { package = "cql-session", .. }` in this package's manifest) and run against an
//! embedded `cql-sim` cluster, or the nodes in `CQL_NODES`. Each module is one program; each
//! asserts what it reads back, so a behaviour change fails it.

// `scylla`'s docs and its users write `&RoutingInfo` and `RequestInfo` without `<'_>`; the
// programs keep that spelling.
#![allow(elided_lifetimes_in_paths)]

mod cluster;

mod batches;
mod cluster_state;
mod custom_values;
mod derive_extras;
mod derives;
mod errors;
mod metrics;
mod paging;
mod policies;
mod readme;
mod session_features;
