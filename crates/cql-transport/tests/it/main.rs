//! The integration tests of `cql-transport`, one module per area, in one test binary: the
//! connection over real loopback TCP (and TLS) against a `cql_testkit::FakeNode`, and the
//! cluster against `cql-sim` clusters (`sim_*`, each test on its own isolated loopback subnet),
//! and the replay of the `connection` fuzz target's corpus (`fuzz_corpus`, `tests/corpus/`).

use std::net::SocketAddr;

use cql_testkit::FakeNode;
use proto::response::{Response, ResultBody};

mod fuzz_corpus;
// Shared with the cargo-fuzz target `connection` of `fuzz` (at the workspace root), which
// includes it by this path.
#[path = "../fuzz_logic/mod.rs"]
mod fuzz_logic;
mod sim_common;
mod sim_pause;
mod sim_pools;
mod sim_replicas;
mod sim_schema;
mod sim_topology;
mod sim_versions;
mod tcp_loopback;
#[cfg(feature = "tls")]
mod tls;

/// A fake node that answers every QUERY with a SET_KEYSPACE result naming `peer`'s port, so a
/// test sees which source port the connection used.
fn port_echo(peer: SocketAddr) -> FakeNode {
    FakeNode::new().on_query(move |_| {
        Response::Result(ResultBody::SetKeyspace(peer.port().to_string())).into()
    })
}
