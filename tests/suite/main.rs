//! The integration suite: one test binary, a module per area. Needs a live cluster named by
//! `CQL_NODES` (see `cql_integration`); run it with `cargo xtask integration`.
//!
//! Every test makes its own keyspace (`it_<area>_<pid>_<n>`), so the tests run in parallel.
//! Tests that need fault injection start an in-process `cql-sim` cluster of their own and run
//! only when `CQL_CLUSTER_KIND=sim`; elsewhere they print why they skip.

extern crate cql_session as session;

mod batches;
mod derive;
mod errors;
mod keyspace;
mod lwt;
mod paging;
mod prepared;
mod queries;
mod sanity;
mod schema;
mod topology;
mod tracing;
mod types;
