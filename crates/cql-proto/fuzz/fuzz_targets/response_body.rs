//! Arbitrary response bodies: the first byte picks the opcode, the second the version.
#![no_main]

use bytes::Bytes;
use cql_proto::response::{ResultBody, Response};
use cql_proto::{Opcode, ProtocolVersion};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [op, v, body @ ..] = data else { return };
    let version = ProtocolVersion(3 + v % 3);
    if let Ok(Response::Result(ResultBody::Rows(rows))) =
        Response::decode_body(Opcode(*op), version, Bytes::copy_from_slice(body))
    {
        for row in rows.rows().take(1024) {
            let Ok(row) = row else { break };
            for cell in row.cells() {
                let _ = cell;
            }
        }
    }
});
