//! What the driver observed: [`metrics`], `tracing` [`spans`] per request and attempt, and
//! server-side [`tracing`] sessions.

pub mod metrics;
pub mod spans;
pub mod tracing;
