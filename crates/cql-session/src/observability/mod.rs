//! What the driver observed: request [`history`] for a statement's listener, [`metrics`] (exported per node and shard through the `metrics`
//! facade with the `metrics` feature: `metrics::export`), `tracing` [`spans`] per request and attempt,
//! and server-side [`tracing`] sessions.

pub mod history;
pub mod metrics;
pub mod spans;
pub mod tracing;
