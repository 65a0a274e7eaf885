//! Hot paths of the codec: encoding an EXECUTE with 5 bound values, decoding and iterating a
//! ROWS body of 100 rows × 5 columns, Murmur3 token computation, and the cost of getting a
//! `&str` out of a `Text` (which checks the UTF-8 again), and wrapping a small frame in a v5
//! segment and back.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use cql_proto::frame::{ProtocolVersion, RequestOptions, encode_request};
use cql_proto::request::{Execute, QueryParameters, Request, SerializedValuesBuilder};
use cql_proto::response::{ColumnSpec, ResultBody, ResultMetadata, RowsWriter};
use cql_proto::segment::{SegmentCompression, SegmentEncoder, SegmentedFrameDecoder};
use cql_proto::value::SerializeValue;
use cql_proto::{ColumnType, Consistency, Response, Text, murmur3_token};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn five_values() -> cql_proto::request::SerializedValues {
    let mut b = SerializedValuesBuilder::with_capacity(128);
    b.push_with(|buf| 42i32.serialize(&ColumnType::Int, buf))
        .unwrap();
    b.push_with(|buf| 7i64.serialize(&ColumnType::BigInt, buf))
        .unwrap();
    b.push_with(|buf| "sensor-0001".serialize(&ColumnType::Text, buf))
        .unwrap();
    b.push_with(|buf| 1.5f64.serialize(&ColumnType::Double, buf))
        .unwrap();
    b.push_with(|buf| true.serialize(&ColumnType::Boolean, buf))
        .unwrap();
    b.finish()
}

fn encode_execute(c: &mut Criterion) {
    let execute = Request::Execute(Execute {
        id: Bytes::from_static(&[0xab; 16]),
        result_metadata_id: None,
        params: QueryParameters {
            consistency: Consistency::LOCAL_QUORUM,
            values: five_values(),
            skip_metadata: true,
            page_size: Some(5000),
            ..QueryParameters::default()
        },
    });
    let mut buf = BytesMut::with_capacity(4096);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("execute_5_values_frame", |b| {
        b.iter(|| {
            buf.clear();
            encode_request(
                &mut buf,
                ProtocolVersion::V4,
                1,
                black_box(&execute),
                &RequestOptions::default(),
            )
            .unwrap();
            black_box(buf.len())
        })
    });
    group.bench_function("serialize_5_values", |b| {
        b.iter(|| black_box(five_values()))
    });
    group.finish();
}

fn rows_body() -> Bytes {
    let spec = |name: &'static str, typ| ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    };
    let metadata = ResultMetadata::new(vec![
        spec("id", ColumnType::Int),
        spec("seq", ColumnType::BigInt),
        spec("name", ColumnType::Text),
        spec("value", ColumnType::Double),
        spec("flag", ColumnType::Boolean),
    ]);
    let mut w = RowsWriter::new(metadata);
    for i in 0..100i32 {
        w.push_cell(Some(&i.to_be_bytes())).unwrap();
        w.push_cell(Some(&i64::from(i).to_be_bytes())).unwrap();
        w.push_cell(Some(format!("row-{i:04}").as_bytes())).unwrap();
        w.push_cell(Some(&f64::from(i).to_be_bytes())).unwrap();
        w.push_cell(Some(&[1])).unwrap();
    }
    let rows = w.finish().unwrap();
    let mut buf = BytesMut::new();
    Response::Result(ResultBody::Rows(rows))
        .encode_body(ProtocolVersion::V4, &mut buf)
        .unwrap();
    buf.freeze()
}

fn decode_rows(c: &mut Criterion) {
    let body = rows_body();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(100));
    group.bench_function("rows_100x5_iterate", |b| {
        b.iter(|| {
            let resp = Response::decode_body(
                cql_proto::Opcode::RESULT,
                ProtocolVersion::V4,
                black_box(body.clone()),
            )
            .unwrap();
            let Response::Result(ResultBody::Rows(rows)) = resp else {
                panic!("not rows")
            };
            let mut total = 0usize;
            for row in rows.rows() {
                for cell in row.unwrap().cells() {
                    total += cell.map_or(0, <[u8]>::len);
                }
            }
            black_box(total)
        })
    });
    group.finish();
}

fn token(c: &mut Criterion) {
    let mut group = c.benchmark_group("token");
    group.throughput(Throughput::Elements(1));
    group.bench_function("murmur3_int_key", |b| {
        b.iter(|| murmur3_token(black_box(&42i32.to_be_bytes())))
    });
    group.bench_function("murmur3_text_key_32b", |b| {
        b.iter(|| murmur3_token(black_box(b"sensor-0001-north-building-42-ab")))
    });
    group.finish();
}

fn text(c: &mut Criterion) {
    let name = Text::from(String::from("c1"));
    let statement = Text::from(String::from(
        "SELECT pk, c1, c2, c3, c4 FROM bench.kv WHERE pk = 42",
    ));
    let mut group = c.benchmark_group("text");
    group.throughput(Throughput::Elements(1));
    group.bench_function("as_str_column_name_2b", |b| {
        b.iter(|| black_box(&name).as_str().len())
    });
    group.bench_function("as_str_statement_53b", |b| {
        b.iter(|| black_box(&statement).as_str().len())
    });
    group.bench_function("eq_str_column_name", |b| {
        b.iter(|| *black_box(&name) == *black_box("c1"))
    });
    group.bench_function("clone_statement", |b| {
        b.iter(|| black_box(&statement).clone())
    });
    group.finish();
}

/// A v5 EXECUTE frame with 5 bound values (about 100 bytes) into one self-contained segment,
/// then back out through the segmented frame decoder.
fn segment(c: &mut Criterion) {
    let execute = Request::Execute(Execute {
        id: Bytes::from_static(&[0xab; 16]),
        result_metadata_id: Some(Bytes::from_static(&[0xcd; 16])),
        params: QueryParameters {
            consistency: Consistency::LOCAL_QUORUM,
            values: five_values(),
            skip_metadata: true,
            page_size: Some(5000),
            ..QueryParameters::default()
        },
    });
    let mut frame = BytesMut::new();
    encode_request(
        &mut frame,
        ProtocolVersion::V5,
        1,
        &execute,
        &RequestOptions::default(),
    )
    .unwrap();
    let mut group = c.benchmark_group("segment");
    group.throughput(Throughput::Elements(1));
    for (name, compression) in [
        ("encode_decode_small_frame", SegmentCompression::None),
        ("encode_decode_small_frame_lz4", SegmentCompression::Lz4),
    ] {
        let encoder = SegmentEncoder::new(compression);
        let mut decoder = SegmentedFrameDecoder::new(compression, 1 << 20);
        let mut wire = BytesMut::with_capacity(4096);
        group.bench_function(name, |b| {
            b.iter(|| {
                wire.clear();
                encoder.encode_frames(black_box(&frame), &mut wire).unwrap();
                let f = decoder.decode(&mut wire).unwrap().unwrap();
                black_box(f.body.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode_execute, decode_rows, token, text, segment);
criterion_main!(benches);
