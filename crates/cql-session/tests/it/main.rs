//! The integration tests of `cql-session`, one module per area, in one test binary: the session
//! against `cql-sim` clusters (`session`, `sim`, `lwt`, `derive_session`; Scylla-like, and
//! Cassandra-like without Scylla's extensions), the derive macros (`derive`, `derive_contract`), and their
//! compile-fail cases (`ui`, which runs `tests/ui/*.rs` through trybuild; its paths are relative
//! to the crate root).

mod auth;
mod builder_metadata;
mod builder_options;
mod cluster_state;
mod common;
#[cfg(feature = "derive")]
mod derive;
#[cfg(feature = "derive")]
mod derive_common;
mod derive_contract;
#[cfg(feature = "derive")]
mod derive_features;
#[cfg(feature = "derive")]
mod derive_features_session;
#[cfg(feature = "derive")]
mod derive_session;
mod functions;
mod history;
mod internal_timeouts;
mod latency_awareness;
mod lwt;
#[cfg(feature = "metrics")]
mod metrics_export;
mod node_liveness;
mod readable_errors;
mod reprepare;
mod schema_change;
mod schema_sim;
mod scylla_paths;
mod server_signals;
mod session;
mod sim;
mod single_target;
mod tablets;
mod throttle;
mod throttle_prepare;
#[cfg(feature = "tls")]
mod tls_sim;
#[cfg(feature = "derive")]
mod ui;
mod unresponsive;
mod value_types;
