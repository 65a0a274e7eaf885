//! cql-transport
#![forbid(unsafe_code)]

pub mod connection;
pub mod cql_type;
pub mod error;
mod frame;
mod stream_ids;

pub use connection::{
    Backpressure, Connection, ConnectionDriver, ConnectionInfo, ConnectionTuning,
};
pub use error::{BrokenReason, ConnectionError};
pub use stream_ids::MAX_STREAMS;
