//! Arbitrary bytes never panic the decoders: frames, envelopes, every body decoder and lazy rows.

use bytes::{Bytes, BytesMut};
use cql_proto::frame::{
    Compression, Frame, FrameDecoder, FrameFlags, FrameHeader, decode_request, decode_response,
};
use cql_proto::response::ResultBody;
use cql_proto::{Opcode, ProtocolVersion, Request, Response};
use proptest::prelude::*;

fn exercise_response(resp: &Response) {
    if let Response::Result(ResultBody::Rows(rows)) = resp {
        for row in rows.rows().take(64) {
            match row {
                Ok(r) => {
                    for c in r.cells() {
                        let _ = c;
                    }
                }
                Err(_) => break,
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frame_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600), max in 0usize..512) {
        let mut buf = BytesMut::from(&data[..]);
        let mut dec = FrameDecoder::new(max);
        for _ in 0..100 {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => {
                    for c in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
                        if let Ok(env) = decode_response(&f, c) {
                            exercise_response(&env.response);
                        }
                        let _ = decode_request(&f, c);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
    }

    #[test]
    fn body_decoders_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..400),
        op in 0u8..=0x11,
        v in 3u8..=5,
    ) {
        let body = Bytes::from(data);
        let v = ProtocolVersion(v);
        if let Ok(resp) = Response::decode_body(Opcode(op), v, body.clone()) {
            exercise_response(&resp);
        }
        let _ = Request::decode_body(Opcode(op), v, body);
    }

    #[test]
    fn envelopes_with_any_flags_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        flags in any::<u8>(),
        op in 0u8..=0x11,
        response in any::<bool>(),
    ) {
        let frame = Frame {
            header: FrameHeader {
                version: ProtocolVersion::V4,
                is_response: response,
                flags: FrameFlags(flags),
                stream: 1,
                opcode: Opcode(op),
                length: data.len() as u32,
            },
            body: Bytes::from(data),
        };
        for c in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
            if let Ok(env) = decode_response(&frame, c) {
                exercise_response(&env.response);
            }
            let _ = decode_request(&frame, c);
        }
    }

    /// Valid prefixes of RESULT Rows bodies, with mutated bytes, never panic while iterating.
    #[test]
    fn mutated_rows_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut body = vec![
            0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 2, b'k', b's', 0, 1, b't', 0, 1, b'k', 0, 9,
            0, 1, b'v', 0, 0x0d, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, b'h', b'i', 0,
            0, 0, 4, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff,
        ];
        let i = pos.index(body.len());
        body[i] = byte;
        body.truncate(cut.index(body.len() + 1));
        if let Ok(resp) = Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, Bytes::from(body)) {
            exercise_response(&resp);
        }
    }
}

#[test]
fn truncated_rows_content_is_an_error_not_a_panic() {
    // 1 column, rows_count 2, but only one cell present.
    let body = Bytes::from_static(&[
        0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 7, 0, 0, 0, 5, 1,
    ]);
    // rows_count 2 * 1 col * 4 bytes = 8 <= 10 remaining: decodes lazily.
    let Response::Result(ResultBody::Rows(rows)) =
        Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, body).unwrap()
    else {
        panic!("not rows")
    };
    let items: Vec<_> = rows.rows().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0].as_ref().unwrap().cells().collect::<Vec<_>>(),
        vec![Some(&[7u8][..])]
    );
    assert!(items[1].is_err());
}

#[test]
fn impossible_rows_count_is_rejected_at_decode() {
    // 1 column (no metadata), rows_count 0x7fffffff, no content.
    let body = Bytes::from_static(&[0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]);
    assert!(Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, body).is_err());
}

#[test]
fn trailing_bytes_after_rows_are_an_error_at_the_end() {
    // 1 column, 1 row with a 1-byte cell, then 2 stray bytes.
    let body = Bytes::from_static(&[
        0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7, 9, 9,
    ]);
    let Response::Result(ResultBody::Rows(rows)) =
        Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, body).unwrap()
    else {
        panic!("not rows")
    };
    let items: Vec<_> = rows.rows().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(items[1].is_err());
}
