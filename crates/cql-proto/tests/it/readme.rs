//! The `cql-proto` usage snippet of the README, compiled and run.

use bytes::BytesMut;
use cql_proto::Consistency;
use cql_proto::frame::{
    FrameDecoder, ProtocolVersion, RequestOptions, ResponseOptions, decode_response,
    encode_request, encode_response,
};
use cql_proto::request::{Query, QueryParameters, Request};
use cql_proto::response::{Response, ResultBody};

#[test]
fn readme_snippet() -> Result<(), Box<dyn std::error::Error>> {
    let query = Request::Query(Query {
        query: "SELECT release_version FROM system.local".into(),
        params: QueryParameters {
            consistency: Consistency::ONE,
            ..Default::default()
        },
    });
    let mut out = BytesMut::new();
    encode_request(
        &mut out,
        ProtocolVersion::V4,
        1,
        &query,
        &RequestOptions::default(),
    )?;
    // Header: v4 request, no flags, stream 1, opcode QUERY (0x07).
    assert_eq!(&out[..5], &[0x04, 0x00, 0x00, 0x01, 0x07]);

    let mut incoming = BytesMut::new();
    encode_response(
        &mut incoming,
        ProtocolVersion::V4,
        1,
        &Response::Result(ResultBody::Void),
        &ResponseOptions::default(),
    )?;
    let mut decoder = FrameDecoder::default();
    let mut frames = 0;
    while let Some(frame) = decoder.decode(&mut incoming)? {
        let envelope = decode_response(&frame, None)?;
        assert_eq!(envelope.stream, 1);
        assert!(matches!(
            envelope.response,
            Response::Result(ResultBody::Void)
        ));
        frames += 1;
    }
    assert_eq!(frames, 1);
    Ok(())
}
