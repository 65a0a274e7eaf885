//! Test helpers shared by the integration tests of the workspace's crates.
//!
//! - [`RawClient`]: a raw CQL client speaking frames through `cql-proto` over any socket, for
//!   tests of a server (the simulator) at the byte level.
//! - [`FakeNode`]: a scripted fake CQL node over `tokio::io::duplex` or TCP, for tests of a
//!   client that need an answer no real server gives on demand.
//! - [`wait_until`] and [`wait_until_async`]: poll a condition with a bounded timeout.
//! - [`query`]: request builders and response readers.
//! - [`corpus`]: replays of the committed fuzz corpora.
//!
//! The crate depends on `cql-proto` and tokio only, never on `cql-transport`, `cql-session` or
//! `cql-sim`, so every crate can dev-depend on it.

#![forbid(unsafe_code)]

pub mod corpus;
mod fake_node;
pub mod query;
mod raw_client;
mod wait;

pub use fake_node::{FakeNode, Reply};
pub use raw_client::{RawClient, TIMEOUT};
pub use wait::{wait_until, wait_until_async};
