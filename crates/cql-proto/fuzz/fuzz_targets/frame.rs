//! Arbitrary bytes through the frame decoder and both envelope decoders.
#![no_main]

use bytes::BytesMut;
use cql_proto::frame::{Compression, FrameDecoder, decode_request, decode_response};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    let mut decoder = FrameDecoder::new(1 << 20);
    while let Ok(Some(frame)) = decoder.decode(&mut buf) {
        for c in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
            let _ = decode_response(&frame, c);
            let _ = decode_request(&frame, c);
        }
    }
});
