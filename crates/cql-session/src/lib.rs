//! `cql-session` is the user API of the CQL driver: sessions, statements, execution policies,
//! typed results and typed errors. Its names follow the `scylla` crate 1.x.
#![forbid(unsafe_code)]
#![allow(dead_code)] // TODO(session): removed once the Session uses every internal item.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod deserialize;
pub mod errors;
pub mod observability;
pub mod policies;
pub mod response;
pub mod serialize;
pub mod statement;
pub mod value;
