//! `cql-sim` is an in-process simulated CQL cluster; this part is its CQL engine.
#![forbid(unsafe_code)]

pub mod cql;
pub mod error;

pub use error::CqlError;
