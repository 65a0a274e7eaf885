//! FrameDecoder behaviour: partial input, size cap before the body arrives, zero-copy bodies.

use bytes::{BufMut, BytesMut};
use cql_proto::frame::{FrameDecoder, FrameError, FrameFlags};
use cql_proto::{Opcode, ProtocolVersion};

/// A v4 READY response frame on stream 5 with a 3-byte body (bytes are arbitrary).
const FRAME: [u8; 12] = [
    0x84, 0x00, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
];

#[test]
fn truncated_frames_need_more_bytes_until_complete() {
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::new();
    for (i, b) in FRAME.iter().enumerate() {
        assert_eq!(d.decode(&mut buf).unwrap(), None, "after {i} bytes");
        assert_eq!(buf.len(), i, "a partial frame is not consumed");
        buf.put_u8(*b);
    }
    let f = d.decode(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    assert_eq!(f.header.version, ProtocolVersion::V4);
    assert!(f.header.is_response);
    assert_eq!(f.header.stream, 5);
    assert_eq!(f.header.opcode, Opcode::READY);
    assert_eq!(f.header.flags, FrameFlags::EMPTY);
    assert_eq!(&f.body[..], &[0xaa, 0xbb, 0xcc]);
}

#[test]
fn two_frames_in_one_buffer() {
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::new();
    buf.put_slice(&FRAME);
    buf.put_slice(&FRAME[..10]);
    let f = d.decode(&mut buf).unwrap().unwrap();
    assert_eq!(f.header.length, 3);
    assert_eq!(d.decode(&mut buf).unwrap(), None);
    buf.put_slice(&FRAME[10..]);
    assert!(d.decode(&mut buf).unwrap().is_some());
    assert_eq!(d.decode(&mut buf).unwrap(), None);
}

#[test]
fn oversized_header_errors_before_the_body_arrives() {
    let mut d = FrameDecoder::new(1024);
    // Only the header: announces 1025 bytes.
    let mut buf = BytesMut::from(&[0x84, 0, 0, 1, 0x08, 0, 0, 0x04, 0x01][..]);
    let cap = buf.capacity();
    assert_eq!(
        d.decode(&mut buf),
        Err(FrameError::TooLarge {
            len: 1025,
            max: 1024
        })
    );
    assert_eq!(buf.capacity(), cap, "no space reserved for a rejected body");
    // Exactly at the limit is fine (needs more bytes).
    let mut buf = BytesMut::from(&[0x84, 0, 0, 1, 0x08, 0, 0, 0x04, 0x00][..]);
    assert_eq!(d.decode(&mut buf), Ok(None));
    // A hostile 4 GiB length with the default limit.
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::from(&[0x04, 0, 0, 1, 0x07, 0xff, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        d.decode(&mut buf),
        Err(FrameError::TooLarge { .. })
    ));
}

/// The 9-byte header of a v4 RESULT response on stream 1 announcing `len` body bytes.
fn result_header(len: u32) -> BytesMut {
    let mut buf = BytesMut::from(&[0x84, 0, 0, 1, 0x08][..]);
    buf.put_u32(len);
    buf
}

#[test]
fn an_announced_body_is_not_reserved_before_its_bytes_arrive() {
    // A peer announcing 200 MiB (under the default cap) and sending nothing more must not make
    // the decoder allocate 200 MiB per connection.
    let mut d = FrameDecoder::default();
    let mut buf = result_header(200 << 20);
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert!(
        buf.capacity() < 1 << 20,
        "reserved {} bytes ahead of a body that has not arrived",
        buf.capacity()
    );
}

#[test]
fn a_large_body_arriving_in_chunks_grows_the_buffer_with_it() {
    let len = 3usize << 20;
    let mut d = FrameDecoder::default();
    let mut buf = result_header(len as u32);
    let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    for chunk in body.chunks(16 * 1024) {
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert!(
            buf.capacity() <= 4 * buf.len() + (256 << 10),
            "capacity {} for {} buffered bytes",
            buf.capacity(),
            buf.len()
        );
        buf.put_slice(chunk);
    }
    let f = d.decode(&mut buf).unwrap().unwrap();
    assert_eq!(f.header.length as usize, len);
    assert_eq!(&f.body[..], &body[..]);
    assert!(buf.is_empty());
}

#[test]
fn unknown_opcode_still_decodes_as_a_frame() {
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::from(&[0x84, 0, 0, 1, 0x42, 0, 0, 0, 0][..]);
    let f = d.decode(&mut buf).unwrap().unwrap();
    assert_eq!(f.header.opcode, Opcode(0x42));
    assert!(matches!(
        cql_proto::frame::decode_response(&f, None),
        Err(FrameError::UnknownOpcode { .. })
    ));
}

#[test]
fn unknown_version_is_a_typed_error() {
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::from(&[0x86, 0, 0, 1, 0x02, 0, 0, 0, 0][..]);
    assert_eq!(
        d.decode(&mut buf),
        Err(FrameError::UnsupportedVersion { version: 6 })
    );
}

#[test]
fn frame_encode_writes_header_and_body_as_is() {
    let mut d = FrameDecoder::default();
    let mut buf = BytesMut::from(&FRAME[..]);
    let f = d.decode(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    f.encode(&mut out).unwrap();
    assert_eq!(&out[..], &FRAME[..]);
}

#[test]
fn bodies_are_refused_under_the_wrong_direction_or_opcode() {
    use bytes::Bytes;
    use cql_proto::frame::decode_request;
    use cql_proto::{Request, Response};

    let v4 = ProtocolVersion::V4;
    // A response opcode is not a request body, and the other way round.
    assert!(Request::decode_body(Opcode::READY, v4, Bytes::new()).is_err());
    assert!(Response::decode_body(Opcode::OPTIONS, v4, Bytes::new()).is_err());
    assert!(Response::decode_body(Opcode(0x04), v4, Bytes::new()).is_err());
    // Trailing bytes after a complete body are an error.
    assert!(Response::decode_body(Opcode::READY, v4, Bytes::from_static(&[0])).is_err());
    // A READY frame on the request side.
    let mut buf = BytesMut::from(&[0x04, 0, 0, 1, 0x02, 0, 0, 0, 0][..]);
    let f = FrameDecoder::default().decode(&mut buf).unwrap().unwrap();
    assert!(matches!(
        decode_request(&f, None),
        Err(FrameError::UnknownOpcode { .. })
    ));
    // A compressed frame when no compression was negotiated.
    let mut buf = BytesMut::from(&[0x84, 0x01, 0, 1, 0x08, 0, 0, 0, 1, 0][..]);
    let f = FrameDecoder::default().decode(&mut buf).unwrap().unwrap();
    assert_eq!(
        cql_proto::frame::decode_response(&f, None),
        Err(FrameError::UnexpectedCompression)
    );
}
