//! The integration suite: one test binary, a module per area. Needs a live cluster named by
//! `CQL_NODES` (see `cql_integration`); run it with `cargo xtask integration`.

mod keyspace;
mod sanity;
