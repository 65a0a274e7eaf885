//! Property tests: every request and response body, and whole frames, survive encode → decode.

use crate::strategies::*;
use bytes::{Bytes, BytesMut};
use cql_proto::frame::{
    BodyExtensions, Compression, FrameDecoder, RequestOptions, ResponseOptions, decode_request,
    decode_response, encode_request, encode_response,
};
use cql_proto::request::Execute;
use cql_proto::response::ResultBody;
use cql_proto::{ProtocolVersion, Request, Response};
use proptest::prelude::*;

/// No compression, or an algorithm compiled into this build.
fn compression() -> impl Strategy<Value = Option<Compression>> {
    prop_oneof![
        Just(None),
        Just(Some(Compression::Lz4)),
        Just(Some(Compression::Snappy))
    ]
    .prop_map(|c| c.filter(|c| c.is_available()))
}

fn request_with_version() -> impl Strategy<Value = (ProtocolVersion, Request)> {
    version().prop_flat_map(|v| (Just(v), request(v)))
}

fn response_with_version() -> impl Strategy<Value = (ProtocolVersion, Response)> {
    version().prop_flat_map(|v| (Just(v), response(v)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn request_bodies_round_trip((v, req) in request_with_version()) {
        let mut buf = BytesMut::new();
        req.encode_body(v, &mut buf).unwrap();
        let decoded = Request::decode_body(req.opcode(), v, buf.freeze()).unwrap();
        prop_assert_eq!(decoded, req);
    }

    #[test]
    fn response_bodies_round_trip((v, resp) in response_with_version()) {
        let mut buf = BytesMut::new();
        resp.encode_body(v, &mut buf).unwrap();
        let decoded = Response::decode_body(resp.opcode(), v, buf.freeze()).unwrap();
        prop_assert_eq!(decoded, resp);
    }

    #[test]
    fn request_frames_round_trip(
        (v, req) in request_with_version(),
        stream in 0i16..=i16::MAX,
        tracing in any::<bool>(),
        payload in proptest::option::of(custom_payload()),
        compression in compression(),
        split in any::<prop::sample::Index>(),
    ) {
        let mut wire = BytesMut::from(&b"leftover"[..]);
        let opts = RequestOptions { tracing, custom_payload: payload.as_ref(), compression };
        encode_request(&mut wire, v, stream, &req, &opts).unwrap();
        let mut wire = wire.split_off(8);
        // Feed the frame in two parts: the decoder waits for the rest.
        let cut = split.index(wire.len());
        let mut input = wire.split_to(cut);
        let mut dec = FrameDecoder::default();
        prop_assert_eq!(dec.decode(&mut input).unwrap(), None);
        input.unsplit(wire);
        let frame = dec.decode(&mut input).unwrap().unwrap();
        prop_assert!(input.is_empty());
        let env = decode_request(&frame, compression).unwrap();
        prop_assert_eq!(env.stream, stream);
        prop_assert_eq!(env.version, v);
        prop_assert_eq!(env.tracing, tracing);
        prop_assert_eq!(env.custom_payload, payload);
        prop_assert_eq!(env.request, req);
    }

    #[test]
    fn response_frames_round_trip(
        (v, resp) in response_with_version(),
        stream in any::<i16>(),
        tracing_id in proptest::option::of(any::<u128>().prop_map(uuid::Uuid::from_u128)),
        warnings in proptest::collection::vec(string(), 0..3),
        payload in proptest::option::of(custom_payload()),
        compression in compression(),
    ) {
        let mut wire = BytesMut::new();
        let opts = ResponseOptions {
            tracing_id,
            warnings: &warnings,
            custom_payload: payload.as_ref(),
            compression,
        };
        encode_response(&mut wire, v, stream, &resp, &opts).unwrap();
        let frame = FrameDecoder::default().decode(&mut wire).unwrap().unwrap();
        prop_assert!(wire.is_empty());
        let env = decode_response(&frame, compression).unwrap();
        prop_assert_eq!(env.stream, stream);
        prop_assert_eq!(env.tracing_id, tracing_id);
        prop_assert_eq!(env.warnings, warnings);
        prop_assert_eq!(env.custom_payload, payload.map(Box::new));
        prop_assert_eq!(env.response, resp);
    }

    #[test]
    fn scylla_metadata_id_bodies_round_trip_in_v4(
        id in bytes(16),
        meta in bytes(16),
        params in query_parameters(ProtocolVersion::V4),
        // Prepared results as v5 builds them: always with a result metadata id.
        prepared in prepared(ProtocolVersion::V5),
    ) {
        let v4 = ProtocolVersion::V4;
        let ext = BodyExtensions::NONE.with_scylla_metadata_id(true);
        let req = Request::Execute(Execute { id, result_metadata_id: Some(meta), params });
        let mut buf = BytesMut::new();
        req.encode_body(v4, &mut buf).unwrap();
        prop_assert_eq!(Request::decode_body_with(req.opcode(), v4, ext, buf.freeze()).unwrap(), req);
        let resp = Response::Result(ResultBody::Prepared(Box::new(prepared)));
        let mut buf = BytesMut::new();
        resp.encode_body(v4, &mut buf).unwrap();
        prop_assert_eq!(Response::decode_body_with(resp.opcode(), v4, ext, buf.freeze()).unwrap(), resp);
    }

    #[test]
    fn rows_iterate_back_to_their_cells(rows in rows()) {
        let mut count = 0;
        for row in rows.rows() {
            let row = row.unwrap();
            prop_assert_eq!(row.cells().count(), rows.col_count());
            count += 1;
        }
        prop_assert_eq!(count, rows.rows_count);
    }

    #[test]
    fn compression_round_trips(data in proptest::collection::vec(any::<u8>(), 0..2000), c in compression()) {
        if let Some(c) = c {
            let mut buf = BytesMut::new();
            c.compress(&data, &mut buf).unwrap();
            let out = c.decompress(&buf, data.len()).unwrap();
            prop_assert_eq!(&out[..], &data[..]);
            if !data.is_empty() {
                prop_assert!(c.decompress(&buf, data.len() - 1).is_err());
            }
        }
    }
}

#[test]
fn corrupt_compressed_bodies_are_errors() {
    for c in [Compression::Lz4, Compression::Snappy] {
        if !c.is_available() {
            continue;
        }
        let resp = Response::Supported {
            options: [("COMPRESSION".to_string(), vec!["lz4".to_string(); 20])].into(),
        };
        let mut wire = BytesMut::new();
        let opts = ResponseOptions {
            compression: Some(c),
            ..ResponseOptions::default()
        };
        encode_response(&mut wire, ProtocolVersion::V4, 1, &resp, &opts).unwrap();
        let mut frame = FrameDecoder::default().decode(&mut wire).unwrap().unwrap();
        assert_eq!(decode_response(&frame, Some(c)).unwrap().response, resp);
        // Without the negotiated compression the frame is refused.
        assert!(decode_response(&frame, None).is_err());
        // Cut the compressed body short.
        let body = frame.body.clone();
        frame.body = body.slice(..body.len() - 3);
        assert!(decode_response(&frame, Some(c)).is_err(), "{c}: truncated");
        // Garbage body.
        frame.body = Bytes::from_static(&[0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(decode_response(&frame, Some(c)).is_err(), "{c}: garbage");
    }
}

#[test]
fn unavailable_compression_is_an_error_not_a_panic() {
    for c in [Compression::Lz4, Compression::Snappy] {
        let mut buf = BytesMut::new();
        let compressed = c.compress(b"abc", &mut buf);
        assert_eq!(compressed.is_ok(), c.is_available());
    }
}

#[test]
fn startup_and_options_are_never_compressed() {
    let mut wire = BytesMut::new();
    let opts = RequestOptions {
        compression: Some(Compression::Lz4),
        ..RequestOptions::default()
    };
    encode_request(&mut wire, ProtocolVersion::V4, 0, &Request::Options, &opts).unwrap();
    assert_eq!(wire[1], 0x00, "no compression flag");
}
