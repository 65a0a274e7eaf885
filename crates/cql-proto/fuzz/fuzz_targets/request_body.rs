//! Arbitrary request bodies: the first byte picks the opcode, the second the version.
#![no_main]

use bytes::Bytes;
use cql_proto::request::Request;
use cql_proto::{Opcode, ProtocolVersion};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [op, v, body @ ..] = data else { return };
    let version = ProtocolVersion(3 + v % 3);
    if let Ok(Request::Query(q)) =
        Request::decode_body(Opcode(*op), version, Bytes::copy_from_slice(body))
    {
        for value in q.params.values.iter() {
            let _ = value;
        }
    }
});
