//! v5 segments as properties: any list of frames, any chunking of the stream and either
//! compression round-trips through `SegmentEncoder` and `SegmentedFrameDecoder`; arbitrary bytes,
//! and arbitrary payloads behind valid checksums, never panic the decoders.

use bytes::{BufMut, BytesMut};
use cql_proto::frame::Frame;
use cql_proto::segment::{
    MAX_PAYLOAD_LEN, SegmentCompression, SegmentDecoder, SegmentEncoder, SegmentHeader,
    SegmentedFrameDecoder, crc32,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// One generated frame: body length, fill seed, and whether the body compresses well.
#[derive(Debug, Clone)]
struct FrameSpec {
    body_len: usize,
    seed: u8,
    compressible: bool,
}

fn frame_spec() -> impl Strategy<Value = FrameSpec> {
    (
        prop_oneof![
            6 => 0usize..200,
            3 => 200usize..(MAX_PAYLOAD_LEN + 9000),
            1 => MAX_PAYLOAD_LEN..1_500_000,
        ],
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(body_len, seed, compressible)| FrameSpec {
            body_len,
            seed,
            compressible,
        })
}

fn compression() -> impl Strategy<Value = SegmentCompression> {
    prop_oneof![
        Just(SegmentCompression::None),
        Just(SegmentCompression::Lz4)
    ]
}

/// Appends the frame `spec` as stream `stream` to `out`: a v5 response header, then its body.
fn push_frame(out: &mut Vec<u8>, stream: i16, spec: &FrameSpec) {
    out.extend_from_slice(&[0x85, 0x00]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(0x08);
    out.extend_from_slice(&u32::try_from(spec.body_len).unwrap().to_be_bytes());
    let mut x = u32::from(spec.seed) | 0x9e37_0000;
    out.extend((0..spec.body_len).map(|i| {
        if spec.compressible {
            spec.seed.wrapping_add((i / 64) as u8)
        } else {
            // xorshift32: incompressible.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        }
    }));
}

/// Feeds `wire` to `decoder` in chunks of the given sizes (cycled), collecting every frame.
fn decode_chunked(
    decoder: &mut SegmentedFrameDecoder,
    wire: &[u8],
    chunks: &[usize],
) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut buf = BytesMut::new();
    let mut at = 0;
    for &size in chunks.iter().cycle() {
        if at == wire.len() {
            break;
        }
        let end = (at + size).min(wire.len());
        buf.extend_from_slice(&wire[at..end]);
        at = end;
        while let Some(f) = decoder.decode(&mut buf).unwrap() {
            frames.push(f);
        }
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    frames
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn frames_round_trip_through_segments(
        specs in vec(frame_spec(), 1..24),
        chunks in vec(prop_oneof![1usize..16, 16usize..5000, 5000usize..300_000], 1..8),
        compression in compression(),
    ) {
        let mut input = Vec::new();
        let mut ends = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            push_frame(&mut input, i16::try_from(i).unwrap(), spec);
            ends.push(input.len());
        }
        let mut wire = BytesMut::new();
        SegmentEncoder::new(compression).encode_frames(&input, &mut wire).unwrap();
        // Many small chunks on megabytes would be slow; keep tiny chunks for small streams.
        let chunks: Vec<usize> = if wire.len() > 200_000 {
            chunks.iter().map(|&c| c.max(4096)).collect()
        } else {
            chunks
        };
        let mut decoder = SegmentedFrameDecoder::new(compression, 2 << 20);
        let frames = decode_chunked(&mut decoder, &wire, &chunks);
        prop_assert_eq!(frames.len(), specs.len());
        let mut start = 0;
        for (i, (frame, end)) in frames.iter().zip(&ends).enumerate() {
            prop_assert_eq!(i64::from(frame.header.stream), i64::try_from(i).unwrap());
            prop_assert_eq!(&frame.body[..], &input[start + 9..*end]);
            start = *end;
        }
        prop_assert_eq!(decoder.pending_len(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn small_frames_round_trip_byte_by_byte(
        specs in vec((0usize..300, any::<u8>(), any::<bool>()), 1..12),
        compression in compression(),
    ) {
        let mut input = Vec::new();
        for (i, &(body_len, seed, compressible)) in specs.iter().enumerate() {
            let spec = FrameSpec { body_len, seed, compressible };
            push_frame(&mut input, i16::try_from(i).unwrap(), &spec);
        }
        let mut wire = BytesMut::new();
        SegmentEncoder::new(compression).encode_frames(&input, &mut wire).unwrap();
        let mut decoder = SegmentedFrameDecoder::new(compression, 1 << 20);
        let frames = decode_chunked(&mut decoder, &wire, &[1]);
        let mut again = Vec::new();
        for f in &frames {
            let mut b = BytesMut::new();
            f.encode(&mut b).unwrap();
            again.extend_from_slice(&b);
        }
        prop_assert_eq!(again, input);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in vec(any::<u8>(), 0..2048),
        compression in compression(),
        max in 0usize..4096,
    ) {
        let mut buf = BytesMut::from(&data[..]);
        let mut decoder = SegmentedFrameDecoder::new(compression, max);
        for _ in 0..64 {
            match decoder.decode(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let mut buf = BytesMut::from(&data[..]);
        let mut segments = SegmentDecoder::new(compression);
        while let Ok(Some(_)) = segments.decode(&mut buf) {}
    }

    /// Checksums valid, contents arbitrary: exercises frame joining, the frame-boundary checks
    /// and LZ4 decompression of garbage blocks with any announced length.
    #[test]
    fn arbitrary_payloads_behind_valid_checksums_never_panic(
        parts in vec((vec(any::<u8>(), 0..300), any::<bool>(), 0usize..=MAX_PAYLOAD_LEN), 0..8),
        compression in compression(),
        max in 0usize..4096,
    ) {
        let mut wire = BytesMut::new();
        for (payload, self_contained, uncompressed_len) in &parts {
            let uncompressed_len = if compression == SegmentCompression::Lz4 && uncompressed_len % 2 == 0 {
                *uncompressed_len
            } else {
                0
            };
            let header = SegmentHeader {
                payload_len: payload.len(),
                uncompressed_len,
                self_contained: *self_contained,
            };
            let bytes = header.encode(compression).unwrap();
            wire.put_slice(&bytes[..compression.header_len()]);
            wire.put_slice(payload);
            wire.put_u32_le(crc32(payload));
        }
        let mut decoder = SegmentedFrameDecoder::new(compression, max);
        for _ in 0..256 {
            match decoder.decode(&mut wire) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}
