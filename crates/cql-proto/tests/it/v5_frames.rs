//! v5 frames (envelopes) and compression: "the compression flag is deprecated and ignored in
//! protocol v5" (v5 spec, section 2.4): the segments compress, the frames never do.

use bytes::{Bytes, BytesMut};
use cql_proto::Opcode;
use cql_proto::frame::{
    Compression, Frame, FrameFlags, FrameHeader, ProtocolVersion, RequestOptions, decode_response,
    encode_request,
};
use cql_proto::request::Request;
use cql_proto::response::Response;

#[test]
fn a_v5_frame_is_never_compressed_by_the_envelope() {
    let mut buf = BytesMut::new();
    let opts = RequestOptions {
        compression: Some(Compression::Lz4),
        ..RequestOptions::default()
    };
    encode_request(&mut buf, ProtocolVersion::V5, 3, &Request::Options, &opts).unwrap();
    // version 5, no flags, stream 3, OPTIONS, empty body.
    assert_eq!(&buf[..], &[0x05, 0x00, 0x00, 0x03, 0x05, 0, 0, 0, 0]);
}

#[test]
fn a_v5_frame_flagged_compressed_is_read_as_it_is() {
    // READY, flagged compressed (a v4 habit): v5 ignores the flag; the empty body stands.
    let frame = Frame {
        header: FrameHeader {
            version: ProtocolVersion::V5,
            is_response: true,
            flags: FrameFlags::COMPRESSION,
            stream: 1,
            opcode: Opcode::READY,
            length: 0,
        },
        body: Bytes::new(),
    };
    let env = decode_response(&frame, None).unwrap();
    assert_eq!(env.response, Response::Ready);
    // A SUPPORTED body (a [string multimap] with no entry: 0x0000) flagged compressed, with no
    // compression negotiated: v4 refuses it, v5 reads it.
    let supported = |version| Frame {
        header: FrameHeader {
            version,
            is_response: true,
            flags: FrameFlags::COMPRESSION,
            stream: 1,
            opcode: Opcode::SUPPORTED,
            length: 2,
        },
        body: Bytes::from_static(&[0x00, 0x00]),
    };
    assert!(decode_response(&supported(ProtocolVersion::V4), None).is_err());
    let env = decode_response(&supported(ProtocolVersion::V5), None).unwrap();
    assert!(matches!(env.response, Response::Supported { .. }));
}
