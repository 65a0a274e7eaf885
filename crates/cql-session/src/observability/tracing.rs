//! Server-side tracing sessions, read from `system_traces` by
//! [`Session::get_tracing_info`](crate::client::session::Session::get_tracing_info).

use std::collections::HashMap;
use std::net::IpAddr;

use uuid::Uuid;

use crate::value::CqlTimestamp;

/// A tracing session: one traced request, from `system_traces.sessions` and `.events`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TracingInfo {
    /// The client's address.
    pub client: Option<IpAddr>,
    /// The request kind (e.g. `QUERY`).
    pub command: Option<String>,
    /// The coordinator's address.
    pub coordinator: Option<IpAddr>,
    /// The duration in microseconds.
    pub duration: Option<i32>,
    /// The request's parameters.
    pub parameters: Option<HashMap<String, String>>,
    /// A description of the request.
    pub request: Option<String>,
    /// When the request started.
    pub started_at: Option<CqlTimestamp>,
    /// The events, in order.
    pub events: Vec<TracingEvent>,
}

impl TracingInfo {
    /// The nodes that took part in the request (the events' sources).
    pub fn nodes(&self) -> Vec<IpAddr> {
        let mut nodes: Vec<IpAddr> = self.events.iter().filter_map(|e| e.source).collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }
}

/// One event of a tracing session.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TracingEvent {
    /// The event's time-based id.
    pub event_id: Uuid,
    /// What happened.
    pub activity: Option<String>,
    /// The node where it happened.
    pub source: Option<IpAddr>,
    /// Microseconds since the request started, on that node.
    pub source_elapsed: Option<i32>,
    /// The server thread.
    pub thread: Option<String>,
}
