//! Golden v5 segments, computed from the spec and not from our encoder.
//!
//! Every byte string below was printed by `tests/vectors/segment_golden.py`, which builds the
//! segments from the layouts of native_protocol_v5.spec sections 2.1 and 2.2 with the errata of
//! `specs/README.md`: CRC24 bitwise (init 0x875060, polynomial 0x1974F0B) over the 3 or 5
//! header bytes in wire order, CRC32 with Python's `zlib.crc32` (cross-checked by a bitwise
//! CRC-32) over `FA 2D 55 CA` then the payload, the LZ4 header as one little-endian u64, and a
//! hand-written LZ4 block checked by the script's own block decoder. Each vector is checked in
//! both directions where our encoder's output is determined (uncompressed and stored payloads).

use bytes::BytesMut;
use cql_proto::frame::FrameError;
use cql_proto::segment::{
    MAX_PAYLOAD_LEN, Segment, SegmentCompression, SegmentDecoder, SegmentEncoder, SegmentError,
    SegmentHeader, SegmentedFrameDecoder, crc24, crc32,
};
use cql_proto::{Opcode, ProtocolVersion};

/// Hex digits (whitespace ignored) to bytes.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A v5 OPTIONS request: version 5, flags 0, stream 1, opcode 0x05, empty body.
const OPTIONS: [u8; 9] = [0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00];

/// OPTIONS in an uncompressed self-contained segment: header word 0x020009 (length 9, bit 17),
/// CRC24 a4 c8 c1, the frame, CRC32 b5 55 74 86.
const UNCOMPRESSED_OPTIONS: &str = "09 00 02 a4 c8 c1  05 00 00 01 05 00 00 00 00  b5 55 74 86";

/// OPTIONS in an LZ4 self-contained segment stored as-is: compressed length 9, uncompressed
/// length 0, bit 34, CRC24 of the low 5 bytes c2 b8 95; the CRC32 is the same as above.
const LZ4_STORED_OPTIONS: &str = "09 00 00 00 04 c2 b8 95  05 00 00 01 05 00 00 00 00  b5 55 74 86";

/// A frame (stream 2, opcode 0x07, body "a" x 20; 29 bytes) as a 19-byte LZ4 block: 10
/// literals, a match of 14 at offset 1, 5 final literals. Compressed 19 (0x13), uncompressed 29.
const LZ4_COMPRESSED: &str = "13 00 3a 00 04 e6 4e e0
    aa 05 00 00 02 07 00 00 00 14 61 01 00 50 61 61 61 61 61
    0e d9 ef b6";

/// A 10-byte frame (stream 3, opcode 0x05, body 2a) split into two uncompressed
/// non-self-contained segments of 6 and 4 payload bytes.
const SPLIT_PART_1: &str = "06 00 00 2c e8 9b  05 00 00 03 05 00  1a f7 0d cd";
const SPLIT_PART_2: &str = "04 00 00 1c 28 4b  00 00 01 2a  1e 1e a5 98";

fn decode_one(compression: SegmentCompression, wire: &[u8]) -> Result<Segment, SegmentError> {
    let mut buf = BytesMut::from(wire);
    let segment = SegmentDecoder::new(compression).decode(&mut buf)?;
    assert!(buf.is_empty(), "a whole segment leaves nothing");
    Ok(segment.expect("a whole segment"))
}

#[test]
fn checksums_match_the_spec_computation() {
    assert_eq!(crc24(&[0x09, 0x00, 0x02]), 0xc1c8a4);
    assert_eq!(crc24(&[0x09, 0x00, 0x00, 0x00, 0x04]), 0x95b8c2);
    assert_eq!(crc32(&OPTIONS), 0x867455b5);
}

#[test]
fn uncompressed_options_segment() {
    let wire = hex(UNCOMPRESSED_OPTIONS);
    let segment = decode_one(SegmentCompression::None, &wire).unwrap();
    assert!(segment.self_contained);
    assert_eq!(&segment.payload[..], &OPTIONS);

    let mut out = BytesMut::new();
    SegmentEncoder::new(SegmentCompression::None)
        .encode_frames(&OPTIONS, &mut out)
        .unwrap();
    assert_eq!(&out[..], &wire[..]);

    let mut buf = BytesMut::from(&wire[..]);
    let mut decoder = SegmentedFrameDecoder::new(SegmentCompression::None, 1 << 20);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame.header.version, ProtocolVersion::V5);
    assert_eq!(frame.header.stream, 1);
    assert_eq!(frame.header.opcode, Opcode::OPTIONS);
    assert!(frame.body.is_empty());
    assert_eq!(decoder.decode(&mut buf), Ok(None));
}

#[test]
fn lz4_stored_segment_has_uncompressed_length_zero() {
    let wire = hex(LZ4_STORED_OPTIONS);
    let header = SegmentHeader::decode(SegmentCompression::Lz4, &wire)
        .unwrap()
        .unwrap();
    assert_eq!(
        header,
        SegmentHeader {
            payload_len: 9,
            uncompressed_len: 0,
            self_contained: true,
        }
    );
    let segment = decode_one(SegmentCompression::Lz4, &wire).unwrap();
    assert!(segment.self_contained);
    assert_eq!(&segment.payload[..], &OPTIONS);

    // 9 bytes cannot shrink, so the encoder stores them.
    let mut out = BytesMut::new();
    SegmentEncoder::new(SegmentCompression::Lz4)
        .encode_frames(&OPTIONS, &mut out)
        .unwrap();
    assert_eq!(&out[..], &wire[..]);
}

#[cfg(feature = "lz4")]
#[test]
fn lz4_compressed_segment() {
    let wire = hex(LZ4_COMPRESSED);
    let segment = decode_one(SegmentCompression::Lz4, &wire).unwrap();
    let mut frame = hex("05 00 00 02 07 00 00 00 14");
    frame.extend_from_slice(&[b'a'; 20]);
    assert!(segment.self_contained);
    assert_eq!(&segment.payload[..], &frame[..]);

    // Our encoder's block may differ, but it decodes to the same frame.
    let mut out = BytesMut::new();
    SegmentEncoder::new(SegmentCompression::Lz4)
        .encode_frames(&frame, &mut out)
        .unwrap();
    assert!(out.len() < 8 + frame.len() + 4, "compressed: {out:02x?}");
    let again = decode_one(SegmentCompression::Lz4, &out).unwrap();
    assert_eq!(&again.payload[..], &frame[..]);
}

#[test]
fn header_crc_mismatch() {
    let mut wire = hex(UNCOMPRESSED_OPTIONS);
    wire[3] ^= 0x01; // a4 -> a5
    // Detected from the header alone, before the payload arrives.
    let mut header_only = BytesMut::from(&wire[..6]);
    let err = SegmentDecoder::new(SegmentCompression::None)
        .decode(&mut header_only)
        .unwrap_err();
    assert_eq!(
        err,
        SegmentError::HeaderCrc {
            expected: 0xc1c8a5,
            actual: 0xc1c8a4,
        }
    );
    assert!(err.to_string().contains("0xc1c8a5"), "{err}");

    // A flipped length bit is caught by the same check.
    let mut wire = hex(LZ4_STORED_OPTIONS);
    wire[0] ^= 0x02;
    assert!(matches!(
        decode_one(SegmentCompression::Lz4, &wire),
        Err(SegmentError::HeaderCrc { .. })
    ));
}

#[test]
fn payload_crc_mismatch() {
    let mut wire = hex(UNCOMPRESSED_OPTIONS);
    wire[9] = 0x02; // stream 1 -> 2
    let err = decode_one(SegmentCompression::None, &wire).unwrap_err();
    let SegmentError::PayloadCrc {
        expected,
        actual,
        len,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((expected, len), (0x867455b5, 9));
    assert_ne!(actual, expected);
    let mut buf = BytesMut::from(&wire[..]);
    let err = SegmentedFrameDecoder::new(SegmentCompression::None, 1 << 20)
        .decode(&mut buf)
        .unwrap_err();
    assert!(matches!(
        err,
        FrameError::Segment(SegmentError::PayloadCrc { .. })
    ));
}

#[test]
fn frame_split_across_two_segments() {
    let mut wire = hex(SPLIT_PART_1);
    wire.extend(hex(SPLIT_PART_2));
    let mut decoder = SegmentedFrameDecoder::new(SegmentCompression::None, 1 << 20);
    let mut buf = BytesMut::from(&wire[..16]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(decoder.pending_len(), 6);
    buf.extend_from_slice(&wire[16..]);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame.header.stream, 3);
    assert_eq!(&frame.body[..], &[0x2a]);
    assert_eq!(decoder.pending_len(), 0);

    // The encoder splits only frames larger than a segment, so check the parts' segments.
    let part = decode_one(SegmentCompression::None, &hex(SPLIT_PART_2)).unwrap();
    assert!(!part.self_contained);
}

#[test]
fn self_contained_segment_while_a_frame_is_pending() {
    let mut wire = hex(SPLIT_PART_1);
    wire.extend(hex(UNCOMPRESSED_OPTIONS));
    let mut buf = BytesMut::from(&wire[..]);
    let err = SegmentedFrameDecoder::new(SegmentCompression::None, 1 << 20)
        .decode(&mut buf)
        .unwrap_err();
    assert_eq!(
        err,
        FrameError::Segment(SegmentError::UnexpectedSelfContained { pending: 6 })
    );
}

#[test]
fn self_contained_segment_with_a_partial_frame() {
    // OPTIONS then the first 6 bytes of another frame, marked self-contained.
    let mut payload = OPTIONS.to_vec();
    payload.extend_from_slice(&hex("05 00 00 03 05 00"));
    let mut buf = BytesMut::new();
    SegmentEncoder::new(SegmentCompression::None)
        .encode_segment(&payload, true, &mut buf)
        .unwrap();
    let err = SegmentedFrameDecoder::new(SegmentCompression::None, 1 << 20)
        .decode(&mut buf)
        .unwrap_err();
    assert_eq!(
        err,
        FrameError::Segment(SegmentError::IncompleteFrame {
            len: 15,
            trailing: 6
        })
    );
}

/// Checks that decoding `buf` with a 100-byte frame cap fails on the 1000-byte frame.
fn assert_too_large(compression: SegmentCompression, buf: &mut BytesMut) {
    let err = SegmentedFrameDecoder::new(compression, 100)
        .decode(buf)
        .unwrap_err();
    assert!(
        matches!(
            err,
            FrameError::TooLarge {
                len: 1000,
                max: 100
            }
        ),
        "{err}"
    );
}

#[test]
fn frame_cap_applies_inside_segments() {
    // A self-contained segment whose frame announces a 1000-byte body, over a 100-byte cap.
    let mut frame = hex("05 00 00 01 07 00 00 03 e8");
    frame.extend_from_slice(&[0; 1000]);
    for compression in [SegmentCompression::None, SegmentCompression::Lz4] {
        let mut buf = BytesMut::new();
        SegmentEncoder::new(compression)
            .encode_frames(&frame, &mut buf)
            .unwrap();
        assert_too_large(compression, &mut buf);
        // Split across segments: caught once the header is in.
        let mut buf = BytesMut::new();
        let encoder = SegmentEncoder::new(compression);
        encoder
            .encode_segment(&frame[..20], false, &mut buf)
            .unwrap();
        encoder
            .encode_segment(&frame[20..], false, &mut buf)
            .unwrap();
        assert_too_large(compression, &mut buf);
    }
}

/// A frame of `len` bytes in total (header included), stream `stream`, body bytes from `fill`.
fn frame_of(len: usize, stream: u8, fill: impl Fn(usize) -> u8) -> Vec<u8> {
    let body = u32::try_from(len - 9).unwrap();
    let mut f = vec![0x05, 0x00, 0x00, stream, 0x07];
    f.extend_from_slice(&body.to_be_bytes());
    f.extend((0..len - 9).map(fill));
    f
}

/// The segments of `wire`, all of it.
fn segments(compression: SegmentCompression, wire: &[u8]) -> Vec<Segment> {
    let mut buf = BytesMut::from(wire);
    let mut decoder = SegmentDecoder::new(compression);
    let mut out = Vec::new();
    while let Some(s) = decoder.decode(&mut buf).unwrap() {
        out.push(s);
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn encoder_packs_frames_and_splits_large_ones() {
    let noise = |i: usize| (i.wrapping_mul(2_654_435_761) >> 13) as u8;
    let small = frame_of(100, 1, noise);
    let half = frame_of(MAX_PAYLOAD_LEN / 2 + 1, 2, noise);
    let exact = frame_of(MAX_PAYLOAD_LEN, 3, noise);
    let large = frame_of(2 * MAX_PAYLOAD_LEN + 5, 4, noise);
    let mut input = Vec::new();
    for f in [&small, &half, &half, &exact, &large, &small, &small] {
        input.extend_from_slice(f);
    }
    for compression in [SegmentCompression::None, SegmentCompression::Lz4] {
        let mut out = BytesMut::new();
        SegmentEncoder::new(compression)
            .encode_frames(&input, &mut out)
            .unwrap();
        let got: Vec<(bool, usize)> = segments(compression, &out)
            .iter()
            .map(|s| (s.self_contained, s.payload.len()))
            .collect();
        let expected = vec![
            (true, small.len() + half.len()),
            (true, half.len()),
            (true, exact.len()),
            (false, MAX_PAYLOAD_LEN),
            (false, MAX_PAYLOAD_LEN),
            (false, 5),
            (true, 2 * small.len()),
        ];
        assert_eq!(got, expected, "{compression:?}");
    }
}

#[test]
fn encoder_rejects_bytes_that_are_not_whole_frames() {
    let encoder = SegmentEncoder::new(SegmentCompression::None);
    let mut out = BytesMut::from(&b"kept"[..]);
    let mut input = OPTIONS.to_vec();
    input.extend_from_slice(&OPTIONS[..5]);
    assert_eq!(
        encoder.encode_frames(&input, &mut out),
        Err(SegmentError::NotWholeFrames {
            offset: 9,
            needed: 9,
            available: 5
        })
    );
    let mut truncated = frame_of(50, 1, |_| 0);
    truncated.pop();
    let err = encoder.encode_frames(&truncated, &mut out).unwrap_err();
    assert_eq!(
        err,
        SegmentError::NotWholeFrames {
            offset: 0,
            needed: 50,
            available: 49
        }
    );
    assert_eq!(&out[..], b"kept", "out is left as it was");
    assert_eq!(encoder.encode_frames(&[], &mut out), Ok(()));
    assert_eq!(&out[..], b"kept");
    let err = encoder
        .encode_segment(&vec![0; MAX_PAYLOAD_LEN + 1], true, &mut out)
        .unwrap_err();
    assert_eq!(
        err,
        SegmentError::PayloadTooLarge {
            len: MAX_PAYLOAD_LEN + 1,
            max: MAX_PAYLOAD_LEN
        }
    );
}

#[test]
fn negotiated_compression() {
    use cql_proto::Compression;
    assert_eq!(
        SegmentCompression::from_negotiated(None),
        Ok(SegmentCompression::None)
    );
    assert_eq!(
        SegmentCompression::from_negotiated(Some(Compression::Lz4)),
        Ok(SegmentCompression::Lz4)
    );
    assert_eq!(
        SegmentCompression::from_negotiated(Some(Compression::Snappy)),
        Err(SegmentError::UnsupportedCompression(Compression::Snappy))
    );
}
