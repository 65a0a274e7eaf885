//! What the driver observed: [`metrics`] and server-side [`tracing`] sessions.

pub mod metrics;
pub mod tracing;
