//! What each fuzz target does with one input, shared by the cargo-fuzz targets in
//! `fuzz` (at the workspace root) (through `#[path]`) and the corpus replay test `tests/it/fuzz_corpus.rs`.
//!
//! Every function must not panic on any input. The only properties asserted besides "no panic"
//! are the value round trips: a value that decodes re-encodes, and the re-encoded bytes decode
//! to a value that encodes to the same bytes (compared as bytes, so NaN compares equal), and a
//! decoded `[option]` type re-encodes to bytes that decode to the same type; and for `frame`
//! and `segment_decode`, that a stream fed one byte at a time decodes as the whole stream does,
//! and that frames taken out of segments, segmented again, decode to the same frames.
//!
//! Input layouts:
//! - `frame`: a raw byte stream of frames.
//! - `request_body`, `response_body`: `[opcode] [selector] body...`; the selector picks the
//!   protocol version (`3 + (sel & 0x7f) % 3`) and Scylla's metadata id extension (`sel & 0x80`).
//! - `rows`: `[selector] rows body...`, the body of a RESULT after its `[int]` kind.
//! - `value`: `[mode] ...`; an even mode builds a type from the next bytes with a bounded
//!   generator, an odd mode decodes an `[option]` type; the rest is the value's bytes.
//! - `segment_decode`: `[selector] ...`; bit 0 of the selector picks LZ4 segments, bit 1 says
//!   the rest is records `[flags] [len] payload...` wrapped into segments with valid checksums
//!   (so the input gets past them); otherwise the rest is the raw segment stream.

use bytes::{Bytes, BytesMut};
use cql_proto::frame::{
    BodyExtensions, Compression, DecodeOptions, FrameDecoder, decode_request_with,
    decode_response_with,
};
use cql_proto::request::Request;
use cql_proto::response::{ResultBody, Rows};
use cql_proto::segment::{
    SegmentCompression, SegmentEncoder, SegmentHeader, SegmentedFrameDecoder, crc32,
};
use cql_proto::{ColumnType, CqlValue, Opcode, ProtocolVersion, Response, SerializedValues};

/// Cap on a frame body and on a decompressed body.
const MAX_FRAME: usize = 1 << 20;
/// Cap on the frames taken from one input.
const MAX_FRAMES: usize = 1024;
/// Cap on rows and cells walked per result.
const MAX_CELLS: usize = 1 << 16;
/// Depth of generated column types.
const MAX_GEN_DEPTH: usize = 3;

/// The protocol version and body extensions chosen by a selector byte.
fn select(sel: u8) -> (ProtocolVersion, BodyExtensions) {
    let version = ProtocolVersion(3 + (sel & 0x7f) % 3);
    let ext = BodyExtensions::NONE.with_scylla_metadata_id(sel & 0x80 != 0);
    (version, ext)
}

/// Arbitrary bytes as a stream of frames, each frame opened as a response and as a request
/// under every compression. The same stream fed one byte at a time must give the same frames.
pub(crate) fn frame(data: &[u8]) {
    let mut decoder = FrameDecoder::new(MAX_FRAME);
    let mut buf = BytesMut::from(data);
    let mut frames = Vec::new();
    let mut whole_err = false;
    for _ in 0..MAX_FRAMES {
        match decoder.decode(&mut buf) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => break,
            Err(_) => {
                whole_err = true;
                break;
            }
        }
    }

    // Incremental: one byte at a time.
    let mut inc = BytesMut::new();
    let mut inc_frames = Vec::new();
    let mut inc_err = false;
    'feed: for &b in data {
        inc.extend_from_slice(&[b]);
        loop {
            if inc_frames.len() >= MAX_FRAMES {
                break 'feed;
            }
            match decoder.decode(&mut inc) {
                Ok(Some(f)) => inc_frames.push(f),
                Ok(None) => break,
                Err(_) => {
                    inc_err = true;
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(frames, inc_frames, "incremental decoding gave other frames");
    assert_eq!(
        whole_err, inc_err,
        "incremental decoding disagrees on the error"
    );

    for f in &frames {
        for compression in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
            for scylla in [false, true] {
                let options = DecodeOptions {
                    compression,
                    max_decompressed_len: MAX_FRAME,
                    extensions: BodyExtensions::NONE.with_scylla_metadata_id(scylla),
                };
                if let Ok(env) = decode_response_with(f, &options) {
                    exercise_response(&env.response);
                }
                if let Ok(env) = decode_request_with(f, &options) {
                    exercise_request(&env.request);
                }
            }
        }
    }
}

/// `[selector] ...`: a v5 segment stream through `SegmentedFrameDecoder`, whole and one byte at
/// a time (which must agree); the frames it gives, segmented again, decode to the same frames.
pub(crate) fn segment_decode(data: &[u8]) {
    let [sel, rest @ ..] = data else { return };
    let compression = if sel & 1 == 0 {
        SegmentCompression::None
    } else {
        SegmentCompression::Lz4
    };
    let stream = if sel & 2 == 0 {
        rest.to_vec()
    } else {
        wrap_segments(compression, rest)
    };
    let (frames, whole_err) = segmented_frames(compression, &stream, usize::MAX);
    let (inc_frames, inc_err) = segmented_frames(compression, &stream, 1);
    assert_eq!(frames, inc_frames, "incremental decoding gave other frames");
    assert_eq!(
        whole_err, inc_err,
        "incremental decoding disagrees on the error"
    );

    let mut concatenated = BytesMut::new();
    for f in &frames {
        f.encode(&mut concatenated)
            .unwrap_or_else(|e| panic!("decoded frame does not encode: {e}"));
    }
    let mut again = BytesMut::new();
    if let Err(e) = SegmentEncoder::new(compression).encode_frames(&concatenated, &mut again) {
        panic!("decoded frames do not segment: {e}");
    }
    let (re_frames, re_err) = segmented_frames(compression, &again, usize::MAX);
    assert!(!re_err, "re-segmented frames do not decode");
    assert_eq!(
        frames, re_frames,
        "re-segmented frames decode to other frames"
    );
}

/// The frames of a segment stream fed `chunk` bytes at a time, and whether decoding failed.
fn segmented_frames(
    compression: SegmentCompression,
    stream: &[u8],
    chunk: usize,
) -> (Vec<cql_proto::Frame>, bool) {
    let mut decoder = SegmentedFrameDecoder::new(compression, MAX_FRAME);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for part in stream.chunks(chunk.max(1)) {
        buf.extend_from_slice(part);
        loop {
            if frames.len() >= MAX_FRAMES {
                return (frames, false);
            }
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

/// Records `[flags] [len] payload` as segments with valid checksums: flags bit 0 is the
/// self-contained flag; with LZ4, flags bit 1 announces an uncompressed length of
/// `[len] * 257 + flags` (the payload then goes to the LZ4 decoder), else it is stored.
fn wrap_segments(compression: SegmentCompression, mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [flags, len, rest @ ..] = data {
        let len = usize::from(*len).min(rest.len());
        let (payload, tail) = rest.split_at(len);
        data = tail;
        let uncompressed_len = if compression == SegmentCompression::Lz4 && flags & 2 != 0 {
            len * 257 + usize::from(*flags)
        } else {
            0
        };
        let header = SegmentHeader {
            payload_len: len,
            uncompressed_len,
            self_contained: flags & 1 != 0,
        };
        let Ok(bytes) = header.encode(compression) else {
            continue;
        };
        out.extend_from_slice(&bytes[..compression.header_len()]);
        out.extend_from_slice(payload);
        out.extend_from_slice(&crc32(payload).to_le_bytes());
    }
    out
}

/// `[opcode] [selector] body`: a request body of any opcode, known or not.
pub(crate) fn request_body(data: &[u8]) {
    let [op, sel, body @ ..] = data else { return };
    let (version, ext) = select(*sel);
    if let Ok(req) =
        Request::decode_body_with(Opcode(*op), version, ext, Bytes::copy_from_slice(body))
    {
        exercise_request(&req);
    }
}

/// `[opcode] [selector] body`: a response body of any opcode, known or not.
pub(crate) fn response_body(data: &[u8]) {
    let [op, sel, body @ ..] = data else { return };
    let (version, ext) = select(*sel);
    if let Ok(resp) =
        Response::decode_body_with(Opcode(*op), version, ext, Bytes::copy_from_slice(body))
    {
        exercise_response(&resp);
    }
}

/// `[selector] body`: a RESULT Rows body (after the kind), every row and cell walked and every
/// cell decoded with its column's type.
pub(crate) fn rows(data: &[u8]) {
    let [sel, body @ ..] = data else { return };
    let (version, ext) = select(*sel);
    let mut full = Vec::with_capacity(body.len() + 4);
    full.extend_from_slice(&[0, 0, 0, 2]);
    full.extend_from_slice(body);
    if let Ok(resp) = Response::decode_body_with(Opcode::RESULT, version, ext, Bytes::from(full)) {
        exercise_response(&resp);
    }
}

/// `[mode] type... value...`: a value of a generated or decoded type, with its round trip.
pub(crate) fn value(data: &[u8]) {
    let [mode, rest @ ..] = data else { return };
    if mode & 1 == 0 {
        let mut g = TypeGen { data: rest };
        let typ = g.column_type(0);
        check_value(&typ, g.data);
    } else {
        let Ok((typ, used)) = ColumnType::decode(rest) else {
            return;
        };
        check_type_round_trip(&typ);
        check_value(&typ, rest.get(used..).unwrap_or_default());
    }
}

/// Decodes `bytes` as a value of `typ`; when that works, checks the encode/decode round trip.
pub(crate) fn check_value(typ: &ColumnType, bytes: &[u8]) {
    let Ok(v1) = CqlValue::decode_bytes(typ, bytes) else {
        return;
    };
    if has_duplicate_udt_field(typ) {
        // Known failure, reproduced by the ignored `udt_duplicate_field_names_round_trip` in
        // tests/it/fuzz_corpus.rs: encoding finds UDT fields by name. Decoding alone still ran.
        return;
    }
    let mut b1 = BytesMut::new();
    if let Err(e) = v1.encode_bytes(typ, &mut b1) {
        panic!("decoded value does not encode: {e}; type {typ}, value {v1:?}");
    }
    let v2 = match CqlValue::decode_bytes(typ, &b1) {
        Ok(v) => v,
        Err(e) => panic!("re-encoded value does not decode: {e}; type {typ}, bytes {b1:02x?}"),
    };
    let mut b2 = BytesMut::new();
    if let Err(e) = v2.encode_bytes(typ, &mut b2) {
        panic!("re-decoded value does not encode: {e}; type {typ}, value {v2:?}");
    }
    assert_eq!(b1, b2, "value round trip changed the bytes; type {typ}");
}

/// Whether `typ` holds a UDT with two fields of the same name.
fn has_duplicate_udt_field(typ: &ColumnType) -> bool {
    match typ {
        ColumnType::List(t) | ColumnType::Set(t) | ColumnType::Vector(t, _) => {
            has_duplicate_udt_field(t)
        }
        ColumnType::Map(k, v) => has_duplicate_udt_field(k) || has_duplicate_udt_field(v),
        ColumnType::Tuple(ts) => ts.iter().any(has_duplicate_udt_field),
        ColumnType::Udt { fields, .. } => {
            fields
                .iter()
                .enumerate()
                .any(|(i, (n, _))| fields[..i].iter().any(|(m, _)| m == n))
                || fields.iter().any(|(_, t)| has_duplicate_udt_field(t))
        }
        _ => false,
    }
}

/// A decoded type encodes, and its encoding decodes to the same type.
fn check_type_round_trip(typ: &ColumnType) {
    let mut buf = BytesMut::new();
    if let Err(e) = typ.encode(&mut buf) {
        panic!("decoded type does not encode: {e}; type {typ:?}");
    }
    match ColumnType::decode(&buf) {
        Ok((t, used)) => {
            assert_eq!(&t, typ, "type round trip");
            assert_eq!(used, buf.len(), "type round trip left bytes");
        }
        Err(e) => panic!("re-encoded type does not decode: {e}; type {typ:?}"),
    }
}

fn exercise_values(values: &SerializedValues) {
    for v in values.iter().take(MAX_CELLS) {
        if v.is_err() {
            break;
        }
    }
}

fn exercise_request(req: &Request) {
    match req {
        Request::Query(q) => exercise_values(&q.params.values),
        Request::Execute(e) => exercise_values(&e.params.values),
        Request::Batch(b) => {
            for s in &b.statements {
                exercise_values(&s.values);
            }
        }
        _ => {}
    }
}

fn exercise_response(resp: &Response) {
    if let Response::Result(ResultBody::Rows(rows)) = resp {
        exercise_rows(rows);
    }
}

fn exercise_rows(rows: &Rows) {
    let specs = &rows.metadata.col_specs;
    let mut cells = 0usize;
    for row in rows.rows() {
        let Ok(row) = row else { break };
        for (i, cell) in row.cells().enumerate() {
            cells += 1;
            if cells > MAX_CELLS {
                return;
            }
            if let (Some(spec), Some(bytes)) = (specs.get(i), cell) {
                check_value(&spec.typ, bytes);
            }
        }
        cells += 1;
        if cells > MAX_CELLS {
            return;
        }
    }
}

/// Builds a bounded column type from input bytes (missing bytes read as zero).
struct TypeGen<'a> {
    data: &'a [u8],
}

impl TypeGen<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn column_type(&mut self, depth: usize) -> ColumnType {
        const SIMPLE: [ColumnType; 20] = [
            ColumnType::Ascii,
            ColumnType::BigInt,
            ColumnType::Blob,
            ColumnType::Boolean,
            ColumnType::Counter,
            ColumnType::Decimal,
            ColumnType::Double,
            ColumnType::Float,
            ColumnType::Int,
            ColumnType::Timestamp,
            ColumnType::Uuid,
            ColumnType::Text,
            ColumnType::Varint,
            ColumnType::Timeuuid,
            ColumnType::Inet,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::SmallInt,
            ColumnType::TinyInt,
            ColumnType::Duration,
        ];
        let b = usize::from(self.byte());
        let simple = || SIMPLE[b % SIMPLE.len()].clone();
        if depth >= MAX_GEN_DEPTH {
            return simple();
        }
        match b % (SIMPLE.len() + 7) {
            20 => ColumnType::List(Box::new(self.column_type(depth + 1))),
            21 => ColumnType::Set(Box::new(self.column_type(depth + 1))),
            22 => {
                let k = self.column_type(depth + 1);
                let v = self.column_type(depth + 1);
                ColumnType::Map(Box::new(k), Box::new(v))
            }
            23 => {
                let n = self.byte() % 5;
                ColumnType::Tuple((0..n).map(|_| self.column_type(depth + 1)).collect())
            }
            24 => {
                let n = self.byte() % 5;
                ColumnType::Udt {
                    keyspace: "ks".to_owned(),
                    name: "t".to_owned(),
                    fields: (0..n)
                        .map(|i| (format!("f{i}"), self.column_type(depth + 1)))
                        .collect(),
                }
            }
            25 => {
                let elem = self.column_type(depth + 1);
                let dim = u32::from(self.byte());
                ColumnType::Vector(Box::new(elem), dim)
            }
            26 => ColumnType::Custom("org.example.Custom".to_owned()),
            _ => simple(),
        }
    }
}
