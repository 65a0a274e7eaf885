//! Criterion micro-benchmarks of the per-request hot paths: serialize bound values, route
//! (token + replica lookup), encode an EXECUTE frame, decode a rows result.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, criterion_group, criterion_main};
use proto::frame::{RequestOptions, decode_response, encode_request, encode_response};
use proto::request::{Execute, SerializedValuesBuilder};
use proto::response::{ColumnSpec, ResultMetadata, RowsWriter};
use proto::{
    ColumnType, Consistency, FrameDecoder, ProtocolVersion, QueryParameters, RawValue, Request,
    Response, ResultBody,
};
use session::serialize::{RowSerializationContext, RowWriter, SerializeRow};
use transport::ReplicationStrategy;
use transport::state::{ClusterState, Keyspace, Node};

fn spec(name: &'static str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "bench".into(),
        table: "kv".into(),
        name: name.into(),
        typ,
    }
}

fn kv_specs() -> Vec<ColumnSpec> {
    vec![
        spec("pk", ColumnType::BigInt),
        spec("c1", ColumnType::Int),
        spec("c2", ColumnType::Text),
        spec("c3", ColumnType::Double),
        spec("c4", ColumnType::Blob),
    ]
}

const TEXT: &str = "benchmark-value-0123456789";
const BLOB: &[u8] = &[0xab; 32];

fn serialize_values(c: &mut Criterion) {
    let specs = kv_specs();
    let ctx = RowSerializationContext::from_specs(&specs);
    let mut buf = BytesMut::with_capacity(256);
    c.bench_function("serialize_5_values_typed", |b| {
        b.iter(|| {
            buf.clear();
            let row = (black_box(42i64), 7i32, TEXT, 1.5f64, BLOB);
            let mut w = RowWriter::new(&mut buf);
            row.serialize(&ctx, &mut w).map_err(|e| e.to_string())?;
            black_box(buf.len());
            Ok::<(), String>(())
        })
    });
}

fn route(c: &mut Criterion) {
    // 3 nodes with 256 vnodes each: the ring a real small cluster has.
    let mut nodes = Vec::new();
    let mut t: i64 = i64::MIN / 2;
    let mut tokens: [Vec<i64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for i in 0..768usize {
        t = t.wrapping_add(0x0123_4567_89ab_cdef_i64.wrapping_mul(i as i64 | 1));
        tokens[i % 3].push(t);
    }
    for (i, tk) in tokens.into_iter().enumerate() {
        let addr: SocketAddr = format!("127.0.0.{}:9042", i + 1).parse().expect("address");
        nodes.push(Arc::new(Node::new(addr, None, None, None, tk)));
    }
    let ks = Keyspace::new(
        "bench",
        ReplicationStrategy::SimpleStrategy {
            replication_factor: 3,
        },
    );
    let state = ClusterState::new(nodes, HashMap::from([("bench".to_owned(), ks)]));
    let key = 42i64.to_be_bytes();
    c.bench_function("route_token_and_replicas", |b| {
        b.iter(|| {
            let token = proto::murmur3_token(black_box(&key));
            black_box(state.replicas("bench", token).len())
        })
    });
}

fn execute_request() -> Request {
    let mut v = SerializedValuesBuilder::new();
    for cell in [
        &42i64.to_be_bytes()[..],
        &7i32.to_be_bytes()[..],
        TEXT.as_bytes(),
        &1.5f64.to_be_bytes()[..],
        BLOB,
    ] {
        v.push(RawValue::Value(cell)).expect("small value");
    }
    Request::Execute(Execute {
        id: Bytes::from_static(&[0x5a; 16]),
        result_metadata_id: None,
        params: QueryParameters {
            consistency: Consistency::LOCAL_QUORUM,
            values: v.finish(),
            ..QueryParameters::default()
        },
    })
}

fn encode_execute(c: &mut Criterion) {
    let request = execute_request();
    let mut buf = BytesMut::with_capacity(512);
    c.bench_function("encode_execute_frame", |b| {
        b.iter(|| {
            buf.clear();
            encode_request(
                &mut buf,
                ProtocolVersion::V4,
                black_box(17),
                &request,
                &RequestOptions::default(),
            )
            .map_err(|e| e.to_string())?;
            black_box(buf.len());
            Ok::<(), String>(())
        })
    });
}

/// A RESULT Rows frame of 100 rows (pk int, ck int, c1 bigint, c2 text, c3 double).
fn rows_frame() -> Bytes {
    let specs = vec![
        spec("pk", ColumnType::Int),
        spec("ck", ColumnType::Int),
        spec("c1", ColumnType::BigInt),
        spec("c2", ColumnType::Text),
        spec("c3", ColumnType::Double),
    ];
    let mut w = RowsWriter::new(ResultMetadata::new(specs));
    for ck in 0..100i32 {
        for cell in [
            &0i32.to_be_bytes()[..],
            &ck.to_be_bytes()[..],
            &i64::from(ck).to_be_bytes()[..],
            TEXT.as_bytes(),
            &2.5f64.to_be_bytes()[..],
        ] {
            w.push_cell(Some(cell)).expect("small cell");
        }
    }
    let rows = w.finish().expect("complete rows");
    let mut buf = BytesMut::new();
    encode_response(
        &mut buf,
        ProtocolVersion::V4,
        3,
        &Response::Result(ResultBody::Rows(rows)),
        &proto::frame::ResponseOptions::default(),
    )
    .expect("encodable");
    buf.freeze()
}

fn decode_rows(c: &mut Criterion) {
    let frame = rows_frame();
    let mut decoder = FrameDecoder::default();
    c.bench_function("decode_rows_100x5", |b| {
        b.iter(|| {
            let mut input = BytesMut::from(&frame[..]);
            let Ok(Some(f)) = decoder.decode(&mut input) else {
                return Err("no frame".to_owned());
            };
            let env = decode_response(&f, None).map_err(|e| e.to_string())?;
            let Response::Result(ResultBody::Rows(rows)) = env.response else {
                return Err("not rows".to_owned());
            };
            let mut sum = 0i64;
            for row in rows.rows() {
                let row = row.map_err(|e| e.to_string())?;
                for (i, cell) in row.cells().enumerate() {
                    let cell = cell.unwrap_or_default();
                    sum += match i {
                        0 | 1 => i64::from(i32::from_be_bytes(
                            cell.try_into().map_err(|_| "int".to_owned())?,
                        )),
                        2 => i64::from_be_bytes(cell.try_into().map_err(|_| "bigint".to_owned())?),
                        3 => std::str::from_utf8(cell).map_err(|e| e.to_string())?.len() as i64,
                        _ => f64::from_be_bytes(cell.try_into().map_err(|_| "double".to_owned())?)
                            as i64,
                    };
                }
            }
            Ok(black_box(sum))
        })
    });
}

criterion_group!(
    benches,
    serialize_values,
    route,
    encode_execute,
    decode_rows
);
criterion_main!(benches);
