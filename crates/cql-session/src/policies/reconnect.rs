//! How long a node's connection pool waits between attempts to refill it, at the `scylla`
//! crate's path (`scylla::policies::reconnect`, unstable there, stable here). Set one with
//! [`SessionBuilder::reconnect_policy`](crate::client::session_builder::SessionBuilder::reconnect_policy).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use cql_session::policies::reconnect::{ConstantReconnectPolicy, ExponentialReconnectPolicy};
//! use cql_session::SessionBuilder;
//!
//! let steady = SessionBuilder::new()
//!     .reconnect_policy(Arc::new(ConstantReconnectPolicy::new(Duration::from_millis(500))));
//! let patient = SessionBuilder::new().reconnect_policy(Arc::new(
//!     ExponentialReconnectPolicy::new().with_max_fill_backoff(Duration::from_secs(60)),
//! ));
//! # let _ = (steady, patient);
//! ```
//!
//! The control connection reconnects on its own schedule (exponential, 100 ms to 10 s).

pub use transport::pool::reconnect::{
    ConstantReconnectPolicy, ExponentialReconnectPolicy, ReconnectPolicy, ReconnectPolicySession,
};
