//! What the unit tests share: `cql_testkit::FakeNode` set up as these tests want it, and the
//! configuration that speaks to it.

use cql_testkit::FakeNode;
use cql_testkit::query::server_error;
use proto::ErrorCode;
use proto::frame::ProtocolVersion;
use proto::response::{Response, ResultBody};

/// The configuration the fake node's tests use: protocol v4, the one version the fake speaks
/// (offered v5, it refuses as Scylla does, and the connection asks again at v4).
pub(crate) fn v4() -> crate::config::ConnectionConfig {
    crate::config::ConnectionConfig::default().protocol_version(ProtocolVersion::V4)
}

/// A fake node offering lz4 and snappy that answers every QUERY with VOID.
pub(crate) fn fake_node() -> FakeNode {
    answering(|_| Response::Result(ResultBody::Void))
}

/// A fake node offering lz4 and snappy that answers `USE <keyspace>` itself (with an INVALID
/// error for the keyspace `missing`) and every other QUERY with `handler`.
pub(crate) fn answering(handler: impl Fn(&str) -> Response + Send + Sync + 'static) -> FakeNode {
    FakeNode::new()
        .with_supported("COMPRESSION", &["lz4", "snappy"])
        .on_query(move |cql| {
            let response = match cql.strip_prefix("USE ") {
                Some("missing") => {
                    server_error(ErrorCode::INVALID, "keyspace missing does not exist")
                }
                Some(ks) => Response::Result(ResultBody::SetKeyspace(ks.trim_matches('"').into())),
                None => handler(cql),
            };
            response.into()
        })
}
