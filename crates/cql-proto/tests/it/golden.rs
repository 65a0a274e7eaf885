//! Golden vectors written by hand from the byte layouts of the v4 spec (sections 2-4 and 9), and
//! of the v5 spec where noted. Each vector is checked in both directions: the hand bytes decode to
//! the expected message, and the message encodes to exactly the hand bytes.
//!
//! Vectors are built with `wire!`: a string literal is hex (whitespace ignored), a byte-string
//! literal is raw ASCII. Every length prefix is written by hand in hex.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use cql_proto::codes::{
    BatchType, Consistency, ErrorCode, SchemaChangeType, StatusChangeType, TopologyChangeType,
    WriteType,
};
use cql_proto::frame::{
    BodyExtensions, DecodeOptions, Frame, FrameDecoder, FrameFlags, RequestOptions,
    ResponseOptions, decode_request, decode_response, decode_response_with, encode_request,
    encode_response,
};
use cql_proto::request::{
    AuthResponse, Batch, BatchStatement, BatchStatementKind, Execute, Prepare, Query,
    QueryParameters, Register, Request, SerializedValues, Startup,
};
use cql_proto::response::{
    ColumnSpec, ErrorBody, ErrorDetails, Event, Prepared, PreparedMetadata, RateLimitReached,
    Response, ResultBody, ResultMetadata, Rows, SchemaChange, SchemaChangeTarget,
};
use cql_proto::{ColumnType, Opcode, ProtocolVersion, RawValue, StringMap};

trait Part {
    fn push(&self, v: &mut Vec<u8>);
}

impl Part for &str {
    fn push(&self, v: &mut Vec<u8>) {
        let digits: Vec<u8> = self.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        assert!(digits.len().is_multiple_of(2), "odd hex: {self}");
        for pair in digits.chunks(2) {
            let s = std::str::from_utf8(pair).unwrap();
            v.push(u8::from_str_radix(s, 16).unwrap());
        }
    }
}

impl<const N: usize> Part for &[u8; N] {
    fn push(&self, v: &mut Vec<u8>) {
        v.extend_from_slice(&self[..]);
    }
}

macro_rules! wire {
    ($($p:expr),* $(,)?) => {{
        let mut v: Vec<u8> = Vec::new();
        $( Part::push(&$p, &mut v); )*
        v
    }};
}

const V4: ProtocolVersion = ProtocolVersion::V4;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn check_request(version: ProtocolVersion, bytes: &[u8], expected: &Request) {
    let decoded = Request::decode_body(expected.opcode(), version, Bytes::copy_from_slice(bytes))
        .expect("hand bytes decode");
    assert_eq!(&decoded, expected, "decoded hand bytes");
    let mut buf = BytesMut::new();
    expected.encode_body(version, &mut buf).expect("encodes");
    assert_eq!(&buf[..], bytes, "encoded bytes");
}

fn check_response(version: ProtocolVersion, bytes: &[u8], expected: &Response) {
    let decoded = Response::decode_body(expected.opcode(), version, Bytes::copy_from_slice(bytes))
        .expect("hand bytes decode");
    assert_eq!(&decoded, expected, "decoded hand bytes");
    let mut buf = BytesMut::new();
    expected.encode_body(version, &mut buf).expect("encodes");
    assert_eq!(&buf[..], bytes, "encoded bytes");
}

/// Checks that `request` encodes to exactly `bytes`, a v4 frame on `stream`.
fn assert_request_frame(bytes: &[u8], stream: i16, request: &Request, opts: &RequestOptions<'_>) {
    let mut buf = BytesMut::new();
    encode_request(&mut buf, V4, stream, request, opts).expect("encodes");
    assert_eq!(&buf[..], bytes, "encoded frame");
}

/// Checks that `response` encodes to exactly `bytes`, a v4 frame on `stream`.
fn assert_response_frame(
    bytes: &[u8],
    stream: i16,
    response: &Response,
    opts: &ResponseOptions<'_>,
) {
    let mut buf = BytesMut::new();
    encode_response(&mut buf, V4, stream, response, opts).expect("encodes");
    assert_eq!(&buf[..], bytes, "encoded frame");
}

/// The one whole frame `bytes` holds.
fn frame(bytes: &[u8]) -> Frame {
    FrameDecoder::default()
        .decode(&mut BytesMut::from(bytes))
        .expect("hand bytes decode")
        .expect("a whole frame")
}

fn values(raw: &[u8], count: u16) -> SerializedValues {
    SerializedValues {
        count,
        names: None,
        bytes: Bytes::copy_from_slice(raw),
    }
}

fn spec(ks: &'static str, table: &'static str, name: &'static str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: ks.into(),
        table: table.into(),
        name: name.into(),
        typ,
    }
}

// ---------------------------------------------------------------- requests

#[test]
fn startup_frame() {
    // Header: version 4 request, no flags, stream 1, opcode STARTUP, length 22.
    // Body: [string map] n=1, "CQL_VERSION" -> "3.0.0".
    let bytes = wire!(
        "04 00 0001 01 00000016",
        "0001",
        "000b",
        b"CQL_VERSION",
        "0005",
        b"3.0.0"
    );
    let startup = Request::Startup(Startup {
        options: StringMap::from([("CQL_VERSION".into(), "3.0.0".into())]),
    });
    assert_request_frame(&bytes, 1, &startup, &RequestOptions::default());

    let f = frame(&bytes);
    let env = decode_request(&f, None).unwrap();
    assert_eq!(env.stream, 1);
    assert_eq!(env.version, V4);
    assert!(!env.tracing);
    assert_eq!(env.custom_payload, None);
    assert_eq!(env.request, startup);
}

/// Keys out of sorted order, and a repeated key, decode and re-encode to the same bytes:
/// `[string map]` and `[string multimap]` keep their wire order (section 3).
#[test]
fn startup_and_supported_keep_wire_order() {
    let startup = wire!(
        "0003",
        "000b",
        b"DRIVER_NAME",
        "0003",
        b"cql",
        "000b",
        b"CQL_VERSION",
        "0005",
        b"3.0.0",
        "000b",
        b"COMPRESSION",
        "0003",
        b"lz4",
    );
    let req = Request::decode_body(Opcode::STARTUP, V4, Bytes::from(startup.clone())).unwrap();
    let Request::Startup(s) = &req else {
        panic!("{req:?}")
    };
    let keys: Vec<&str> = s.options.keys().map(String::as_str).collect();
    assert_eq!(keys, ["DRIVER_NAME", "CQL_VERSION", "COMPRESSION"]);
    let mut buf = BytesMut::new();
    req.encode_body(V4, &mut buf).unwrap();
    assert_eq!(&buf[..], &startup[..]);

    let supported = wire!(
        "0003",
        "000c",
        b"SCYLLA_SHARD",
        "0001",
        "0001",
        b"3",
        "000b",
        b"COMPRESSION",
        "0002",
        "0006",
        b"snappy",
        "0003",
        b"lz4",
        "000c",
        b"SCYLLA_SHARD",
        "0001",
        "0001",
        b"4",
    );
    let resp =
        Response::decode_body(Opcode::SUPPORTED, V4, Bytes::from(supported.clone())).unwrap();
    let Response::Supported { options } = &resp else {
        panic!("{resp:?}")
    };
    assert_eq!(options.len(), 3, "the repeated key is kept");
    assert_eq!(
        options.get("SCYLLA_SHARD"),
        Some(&vec!["4".to_owned()]),
        "the last one wins"
    );
    let mut buf = BytesMut::new();
    resp.encode_body(V4, &mut buf).unwrap();
    assert_eq!(&buf[..], &supported[..]);
}

#[test]
fn options_frame() {
    let bytes = wire!("04 00 0000 05 00000000");
    assert_request_frame(&bytes, 0, &Request::Options, &RequestOptions::default());
    let f = frame(&bytes);
    assert_eq!(f.header.opcode, Opcode::OPTIONS);
    assert_eq!(decode_request(&f, None).unwrap().request, Request::Options);
}

#[test]
fn query_with_every_v4_flag() {
    // <query: [long string]> <consistency> <flags: byte 0x3f>
    // values: n=1, [int] 42; page size 5000; paging state [bytes] abcd; serial LOCAL_SERIAL;
    // default timestamp 0x0102030405060708.
    let bytes = wire!(
        "00000008",
        b"SELECT ?",
        "0004 3f",
        "0001 00000004 0000002a",
        "00001388",
        "00000002 abcd",
        "0009",
        "0102030405060708"
    );
    let q = Request::Query(Query {
        query: "SELECT ?".into(),
        params: QueryParameters {
            consistency: Consistency::QUORUM,
            values: values(&[0, 0, 0, 4, 0, 0, 0, 0x2a], 1),
            skip_metadata: true,
            page_size: Some(5000),
            paging_state: Some(Bytes::from_static(&[0xab, 0xcd])),
            serial_consistency: Some(Consistency::LOCAL_SERIAL),
            timestamp: Some(0x0102_0304_0506_0708),
            keyspace: None,
            now_in_seconds: None,
        },
    });
    check_request(V4, &bytes, &q);
}

#[test]
fn query_with_named_values() {
    // flags 0x41: values with names; each value is preceded by its [string] name.
    let bytes = wire!(
        "00000001",
        b"x",
        "0001 41",
        "0002",
        "0001",
        b"a",
        "00000001 07",
        "0001",
        b"b",
        "ffffffff"
    );
    let q = Request::Query(Query {
        query: "x".into(),
        params: QueryParameters {
            consistency: Consistency::ONE,
            values: SerializedValues {
                count: 2,
                names: Some(vec!["a".into(), "b".into()]),
                bytes: Bytes::from_static(&[0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff]),
            },
            ..QueryParameters::default()
        },
    });
    check_request(V4, &bytes, &q);
    let Request::Query(decoded) =
        Request::decode_body(Opcode::QUERY, V4, Bytes::from(bytes)).unwrap()
    else {
        panic!("not a query")
    };
    let items: Vec<_> = decoded.params.values.iter().map(Result::unwrap).collect();
    assert_eq!(
        items,
        vec![
            (Some("a"), RawValue::Value(&[7])),
            (Some("b"), RawValue::Null)
        ]
    );
}

#[test]
fn query_v5_int_flags_keyspace_and_now() {
    // v5: flags are an [int]; 0x80 keyspace, 0x100 now_in_seconds.
    let bytes = wire!("00000001", b"x", "0001 00000180", "0002", b"ks", "0000003c");
    let q = Request::Query(Query {
        query: "x".into(),
        params: QueryParameters {
            keyspace: Some("ks".into()),
            now_in_seconds: Some(60),
            ..QueryParameters::default()
        },
    });
    check_request(V5, &bytes, &q);
    // The same message cannot be sent in v4.
    let mut buf = BytesMut::new();
    assert!(q.encode_body(V4, &mut buf).is_err());
}

#[test]
fn prepare_v4_and_v5() {
    check_request(
        V4,
        &wire!("00000008", b"SELECT 1"),
        &Request::Prepare(Prepare {
            query: "SELECT 1".into(),
            keyspace: None,
        }),
    );
    check_request(
        V5,
        &wire!("00000008", b"SELECT 1", "00000001", "0002", b"ks"),
        &Request::Prepare(Prepare {
            query: "SELECT 1".into(),
            keyspace: Some("ks".into()),
        }),
    );
}

#[test]
fn execute_v4_and_v5() {
    // <id: [short bytes]> <query_parameters>: ONE, flags 0x01, n=2: [int] 1 (1 byte), null.
    let bytes = wire!("0002 cafe", "0001 01", "0002 00000001 01 ffffffff");
    let e = Request::Execute(Execute {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: None,
        params: QueryParameters {
            values: values(&[0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff], 2),
            ..QueryParameters::default()
        },
    });
    check_request(V4, &bytes, &e);
    // v5 adds <result_metadata_id: [short bytes]>, and flags are an [int].
    let bytes = wire!("0002 cafe", "0002 beef", "0001 00000000");
    let e = Request::Execute(Execute {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
        params: QueryParameters::default(),
    });
    check_request(V5, &bytes, &e);
}

#[test]
fn batch_mixed_kinds_with_serial_and_timestamp() {
    // UNLOGGED, 2 statements: a query "Q1" with one value, a prepared id cafe with none;
    // consistency QUORUM, flags 0x30, serial SERIAL, timestamp 42.
    let bytes = wire!(
        "01 0002",
        "00 00000002",
        b"Q1",
        "0001 00000001 05",
        "01 0002 cafe 0000",
        "0004 30 0008 000000000000002a"
    );
    let b = Request::Batch(Batch {
        batch_type: BatchType::UNLOGGED,
        statements: vec![
            BatchStatement {
                kind: BatchStatementKind::Query("Q1".into()),
                values: values(&[0, 0, 0, 1, 5], 1),
            },
            BatchStatement {
                kind: BatchStatementKind::Prepared(Bytes::from_static(&[0xca, 0xfe])),
                values: SerializedValues::new(),
            },
        ],
        consistency: Consistency::QUORUM,
        serial_consistency: Some(Consistency::SERIAL),
        timestamp: Some(42),
        keyspace: None,
        now_in_seconds: None,
    });
    check_request(V4, &bytes, &b);
}

#[test]
fn batch_counter_with_named_values() {
    // COUNTER, 1 prepared statement with one named value; ONE, flags 0x40.
    let bytes = wire!(
        "02 0001",
        "01 0002 cafe",
        "0001 0001",
        b"a",
        "00000001 09",
        "0001 40"
    );
    let b = Request::Batch(Batch {
        batch_type: BatchType::COUNTER,
        statements: vec![BatchStatement {
            kind: BatchStatementKind::Prepared(Bytes::from_static(&[0xca, 0xfe])),
            values: SerializedValues {
                count: 1,
                names: Some(vec!["a".into()]),
                bytes: Bytes::from_static(&[0, 0, 0, 1, 9]),
            },
        }],
        consistency: Consistency::ONE,
        ..Batch::default()
    });
    check_request(V4, &bytes, &b);
}

#[test]
fn batch_v5_logged_with_keyspace() {
    let bytes = wire!("00 0000", "0001 00000080", "0002", b"ks");
    let b = Request::Batch(Batch {
        keyspace: Some("ks".into()),
        ..Batch::default()
    });
    check_request(V5, &bytes, &b);
}

#[test]
fn register() {
    let bytes = wire!("0002", "000f", b"TOPOLOGY_CHANGE", "000d", b"STATUS_CHANGE");
    check_request(
        V4,
        &bytes,
        &Request::Register(Register {
            events: vec!["TOPOLOGY_CHANGE".into(), "STATUS_CHANGE".into()],
        }),
    );
}

#[test]
fn auth_response() {
    let bytes = wire!("00000014", "00", b"cassandra", "00", b"cassandra");
    check_request(
        V4,
        &bytes,
        &Request::AuthResponse(AuthResponse {
            token: Some(Bytes::from_static(b"\0cassandra\0cassandra")),
        }),
    );
}

#[test]
fn request_envelope_with_tracing_and_custom_payload() {
    // Flags 0x06 (tracing, custom payload). Body: [bytes map] {"k": null}, then QUERY "abc"
    // at ONE with no flags.
    let bytes = wire!(
        "04 06 0003 07 00000013",
        "0001 0001",
        b"k",
        "ffffffff",
        "00000003",
        b"abc",
        "0001 00"
    );
    let payload = HashMap::from([("k".to_string(), None)]);
    let q = Request::Query(Query {
        query: "abc".into(),
        params: QueryParameters::default(),
    });
    let opts = RequestOptions {
        tracing: true,
        custom_payload: Some(&payload),
        compression: None,
    };
    assert_request_frame(&bytes, 3, &q, &opts);
    let f = frame(&bytes);
    let env = decode_request(&f, None).unwrap();
    assert!(env.tracing);
    assert_eq!(env.stream, 3);
    assert_eq!(env.custom_payload, Some(payload));
    assert_eq!(env.request, q);
}

// ---------------------------------------------------------------- responses

#[test]
fn ready_frame() {
    let bytes = wire!("84 00 0001 02 00000000");
    assert_response_frame(&bytes, 1, &Response::Ready, &ResponseOptions::default());
    let f = frame(&bytes);
    let env = decode_response(&f, None).unwrap();
    assert_eq!(env.response, Response::Ready);
    assert_eq!(env.stream, 1);
    assert_eq!(env.tracing_id, None);
    assert!(env.warnings.is_empty());
}

#[test]
fn response_envelope_with_tracing_warnings_and_payload() {
    // Flags 0x0e: tracing id, then warnings, then custom payload (section 2.2 order).
    let bytes = wire!(
        "84 0e 0007 08 00000026",
        "00112233445566778899aabbccddeeff",
        "0001 0004",
        b"warn",
        "0001 0001",
        b"k",
        "00000001 ff",
        "00000001"
    );
    let id = uuid::Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
    let payload = HashMap::from([("k".to_string(), Some(Bytes::from_static(&[0xff])))]);
    let warnings = vec!["warn".to_string()];
    let resp = Response::Result(ResultBody::Void);
    let opts = ResponseOptions {
        tracing_id: Some(id),
        warnings: &warnings,
        custom_payload: Some(&payload),
        compression: None,
    };
    assert_response_frame(&bytes, 7, &resp, &opts);
    let f = frame(&bytes);
    assert_eq!(
        f.header.flags,
        FrameFlags::TRACING | FrameFlags::WARNING | FrameFlags::CUSTOM_PAYLOAD
    );
    let env = decode_response(&f, None).unwrap();
    assert_eq!(env.tracing_id, Some(id));
    assert_eq!(env.warnings, warnings);
    assert_eq!(env.custom_payload, Some(Box::new(payload)));
    assert_eq!(env.response, resp);
}

fn err(code: ErrorCode, message: &str, details: ErrorDetails) -> Response {
    Response::Error(ErrorBody {
        code,
        message: message.into(),
        details,
    })
}

#[test]
fn error_unavailable() {
    // <code 0x1000><message "down"><cl LOCAL_QUORUM><required 3><alive 1>
    let bytes = wire!("00001000 0004", b"down", "0006 00000003 00000001");
    check_response(
        V4,
        &bytes,
        &err(
            ErrorCode::UNAVAILABLE,
            "down",
            ErrorDetails::Unavailable {
                consistency: Consistency::LOCAL_QUORUM,
                required: 3,
                alive: 1,
            },
        ),
    );
}

#[test]
fn errors_without_details() {
    for code in [
        ErrorCode::SERVER_ERROR,
        ErrorCode::PROTOCOL_ERROR,
        ErrorCode::BAD_CREDENTIALS,
        ErrorCode::OVERLOADED,
        ErrorCode::IS_BOOTSTRAPPING,
        ErrorCode::TRUNCATE_ERROR,
        ErrorCode::CDC_WRITE_FAILURE,
        ErrorCode::SYNTAX_ERROR,
        ErrorCode::UNAUTHORIZED,
        ErrorCode::INVALID,
        ErrorCode::CONFIG_ERROR,
    ] {
        let mut bytes = code.0.to_be_bytes().to_vec();
        bytes.extend(wire!("0003", b"bad"));
        check_response(V4, &bytes, &err(code, "bad", ErrorDetails::None));
    }
}

#[test]
fn error_write_timeout_v4_and_v5_cas() {
    let bytes = wire!("00001100 0000 0001 00000000 00000001 0006", b"SIMPLE");
    check_response(
        V4,
        &bytes,
        &err(
            ErrorCode::WRITE_TIMEOUT,
            "",
            ErrorDetails::WriteTimeout {
                consistency: Consistency::ONE,
                received: 0,
                block_for: 1,
                write_type: WriteType::Simple,
                contentions: None,
            },
        ),
    );
    // v5 appends <contentions: [short]> for CAS writes.
    let bytes = wire!("00001100 0000 0008 00000000 00000001 0003", b"CAS", "0002");
    check_response(
        V5,
        &bytes,
        &err(
            ErrorCode::WRITE_TIMEOUT,
            "",
            ErrorDetails::WriteTimeout {
                consistency: Consistency::SERIAL,
                received: 0,
                block_for: 1,
                write_type: WriteType::Cas,
                contentions: Some(2),
            },
        ),
    );
}

#[test]
fn error_read_timeout_and_failures() {
    check_response(
        V4,
        &wire!("00001200 0000 0004 00000001 00000002 00"),
        &err(
            ErrorCode::READ_TIMEOUT,
            "",
            ErrorDetails::ReadTimeout {
                consistency: Consistency::QUORUM,
                received: 1,
                block_for: 2,
                data_present: false,
            },
        ),
    );
    // v4 read failure: <cl><received><blockfor><numfailures><data_present>
    check_response(
        V4,
        &wire!("00001300 0000 0001 00000000 00000001 00000001 01"),
        &err(
            ErrorCode::READ_FAILURE,
            "",
            ErrorDetails::ReadFailure {
                consistency: Consistency::ONE,
                received: 0,
                block_for: 1,
                num_failures: 1,
                reasons: vec![],
                data_present: true,
            },
        ),
    );
    // v5 read failure: <reasonmap> = [int] n, then n * (<inetaddr><[short] code>)
    check_response(
        V5,
        &wire!("00001300 0000 0001 00000000 00000001 00000001 04 7f000001 0001 01"),
        &err(
            ErrorCode::READ_FAILURE,
            "",
            ErrorDetails::ReadFailure {
                consistency: Consistency::ONE,
                received: 0,
                block_for: 1,
                num_failures: 1,
                reasons: vec![("127.0.0.1".parse().unwrap(), 1)],
                data_present: true,
            },
        ),
    );
    // v4 write failure: <cl><received><blockfor><numfailures><write_type>
    check_response(
        V4,
        &wire!(
            "00001500 0000 0001 00000000 00000001 00000002 0005",
            b"BATCH"
        ),
        &err(
            ErrorCode::WRITE_FAILURE,
            "",
            ErrorDetails::WriteFailure {
                consistency: Consistency::ONE,
                received: 0,
                block_for: 1,
                num_failures: 2,
                reasons: vec![],
                write_type: WriteType::Batch,
            },
        ),
    );
    check_response(
        V4,
        &wire!("00001700 0000 0004 00000001 00000002"),
        &err(
            ErrorCode::CAS_WRITE_UNKNOWN,
            "",
            ErrorDetails::CasWriteUnknown {
                consistency: Consistency::QUORUM,
                received: 1,
                block_for: 2,
            },
        ),
    );
}

#[test]
fn error_function_failure_already_exists_unprepared() {
    check_response(
        V4,
        &wire!(
            "00001400 0000 0002",
            b"ks",
            "0001",
            b"f",
            "0001 0003",
            b"int"
        ),
        &err(
            ErrorCode::FUNCTION_FAILURE,
            "",
            ErrorDetails::FunctionFailure {
                keyspace: "ks".into(),
                function: "f".into(),
                arg_types: vec!["int".into()],
            },
        ),
    );
    check_response(
        V4,
        &wire!("00002400 0000 0002", b"ks", "0001", b"t"),
        &err(
            ErrorCode::ALREADY_EXISTS,
            "",
            ErrorDetails::AlreadyExists {
                keyspace: "ks".into(),
                table: "t".into(),
            },
        ),
    );
    check_response(
        V4,
        &wire!("00002500 0000 0002 cafe"),
        &err(
            ErrorCode::UNPREPARED,
            "",
            ErrorDetails::Unprepared {
                id: Bytes::from_static(&[0xca, 0xfe]),
            },
        ),
    );
}

#[test]
fn error_unknown_code_keeps_raw_details() {
    // A Scylla rate-limit error under a negotiated code: <op_type: byte><rejected_by_coordinator: byte>.
    check_response(
        V4,
        &wire!("0000f000 0000 00 01"),
        &err(
            ErrorCode(0xf000),
            "",
            ErrorDetails::Unknown(Bytes::from_static(&[0, 1])),
        ),
    );
}

#[test]
fn error_details_must_match_code() {
    let e = err(ErrorCode::UNAVAILABLE, "", ErrorDetails::None);
    assert!(e.encode_body(V4, &mut BytesMut::new()).is_err());
}

#[test]
fn authenticate_supported_challenge_success() {
    check_response(
        V4,
        &wire!("002f", b"org.apache.cassandra.auth.PasswordAuthenticator"),
        &Response::Authenticate {
            authenticator: "org.apache.cassandra.auth.PasswordAuthenticator".into(),
        },
    );
    check_response(
        V4,
        &wire!(
            "0001 000b",
            b"COMPRESSION",
            "0002 0003",
            b"lz4",
            "0006",
            b"snappy"
        ),
        &Response::Supported {
            options: StringMap::from([("COMPRESSION".into(), vec!["lz4".into(), "snappy".into()])]),
        },
    );
    check_response(
        V4,
        &wire!("00000002 0102"),
        &Response::AuthChallenge {
            token: Some(Bytes::from_static(&[1, 2])),
        },
    );
    check_response(
        V4,
        &wire!("ffffffff"),
        &Response::AuthSuccess { token: None },
    );
}

#[test]
fn result_void_and_set_keyspace() {
    check_response(V4, &wire!("00000001"), &Response::Result(ResultBody::Void));
    check_response(
        V4,
        &wire!("00000003 0002", b"ks"),
        &Response::Result(ResultBody::SetKeyspace("ks".into())),
    );
}

#[test]
fn result_rows_two_columns_two_rows() {
    // kind 2; metadata flags 0x01 (global table spec), 2 columns, "ks"."t",
    // k int, v text; 2 rows: (1, "hi"), (2, null).
    let content = wire!(
        "00000004 00000001 00000002",
        b"hi",
        "00000004 00000002 ffffffff"
    );
    let bytes = wire!(
        "00000002 00000001 00000002",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"k",
        "0009",
        "0001",
        b"v",
        "000d",
        "00000002"
    )
    .into_iter()
    .chain(content.iter().copied())
    .collect::<Vec<u8>>();
    let rows = Rows {
        metadata: ResultMetadata::new(vec![
            spec("ks", "t", "k", ColumnType::Int),
            spec("ks", "t", "v", ColumnType::Text),
        ]),
        rows_count: 2,
        rows_content: Bytes::from(content),
    };
    let resp = Response::Result(ResultBody::Rows(rows));
    check_response(V4, &bytes, &resp);

    let Response::Result(ResultBody::Rows(rows)) =
        Response::decode_body(Opcode::RESULT, V4, Bytes::from(bytes)).unwrap()
    else {
        panic!("not rows")
    };
    let cells: Vec<Vec<Option<&[u8]>>> =
        rows.rows().map(|r| r.unwrap().cells().collect()).collect();
    assert_eq!(
        cells,
        vec![
            vec![Some(&[0u8, 0, 0, 1][..]), Some(&b"hi"[..])],
            vec![Some(&[0u8, 0, 0, 2][..]), None],
        ]
    );
}

#[test]
fn result_rows_no_metadata_with_paging_state() {
    // flags 0x06 (has_more_pages, no_metadata), 1 column, paging state aabbcc, 1 row with an
    // empty (not null) cell.
    let bytes = wire!("00000002 00000006 00000001 00000003 aabbcc 00000001 00000000");
    let rows = Rows {
        metadata: ResultMetadata {
            paging_state: Some(Bytes::from_static(&[0xaa, 0xbb, 0xcc])),
            ..ResultMetadata::no_metadata(1)
        },
        rows_count: 1,
        rows_content: Bytes::from_static(&[0, 0, 0, 0]),
    };
    check_response(
        V4,
        &bytes,
        &Response::Result(ResultBody::Rows(rows.clone())),
    );
    let cells: Vec<Option<&[u8]>> = rows.rows().next().unwrap().unwrap().cells().collect();
    assert_eq!(cells, vec![Some(&[][..])]);
}

#[test]
fn result_rows_per_column_specs_and_v5_new_metadata_id() {
    // No global flag: each spec carries its keyspace and table; v5 metadata_changed 0x08 with
    // new_metadata_id after the (absent) paging state.
    let bytes = wire!(
        "00000002 00000008 00000002 0002 beef",
        "0002",
        b"ks",
        "0002",
        b"t1",
        "0001",
        b"a",
        "0009",
        "0002",
        b"ks",
        "0002",
        b"t2",
        "0001",
        b"b",
        "0020 000d",
        "00000000"
    );
    let rows = Rows {
        metadata: ResultMetadata {
            new_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
            ..ResultMetadata::new(vec![
                spec("ks", "t1", "a", ColumnType::Int),
                spec(
                    "ks",
                    "t2",
                    "b",
                    ColumnType::List(Box::new(ColumnType::Text)),
                ),
            ])
        },
        rows_count: 0,
        rows_content: Bytes::new(),
    };
    check_response(V5, &bytes, &Response::Result(ResultBody::Rows(rows)));
}

#[test]
fn result_rows_metadata_changed_after_the_paging_state_in_v4_with_the_scylla_extension() {
    // Section 4.2.5.2: <flags><columns_count>[<paging_state>][<new_metadata_id>]
    // [<global_table_spec>?<col_spec_1>...]: flags 0x0b = GLOBAL_TABLES_SPEC | HAS_MORE_PAGES |
    // METADATA_CHANGED; 1 column; paging state [bytes] cafe; new id [short bytes] beef.
    let bytes = wire!(
        "00000002 0000000b 00000001 00000002 cafe 0002 beef",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"b",
        "000d",
        "00000000"
    );
    let rows = Rows {
        metadata: ResultMetadata {
            paging_state: Some(Bytes::from_static(&[0xca, 0xfe])),
            new_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
            ..ResultMetadata::new(vec![spec("ks", "t", "b", ColumnType::Text)])
        },
        rows_count: 0,
        rows_content: Bytes::new(),
    };
    let expected = Response::Result(ResultBody::Rows(rows));
    check_response(V4, &bytes, &expected);
    // The Rows layout is the same with SCYLLA_USE_METADATA_ID negotiated.
    let ext = BodyExtensions::NONE.with_scylla_metadata_id(true);
    let decoded = Response::decode_body_with(Opcode::RESULT, V4, ext, Bytes::from(bytes)).unwrap();
    assert_eq!(decoded, expected);
}

#[test]
fn result_prepared_v4_and_v5() {
    // kind 4; id cafe; metadata: flags 0x01, 2 columns, 1 pk index (0), global "ks"."t",
    // k int, v text; result metadata: flags 0x01, 1 column, "ks"."t", v text.
    let bytes = wire!(
        "00000004 0002 cafe",
        "00000001 00000002 00000001 0000",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"k",
        "0009",
        "0001",
        b"v",
        "000d",
        "00000001 00000001",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"v",
        "000d"
    );
    let p = Prepared {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: None,
        metadata: PreparedMetadata {
            extra_flags: 0,
            pk_indexes: vec![0],
            col_specs: vec![
                spec("ks", "t", "k", ColumnType::Int),
                spec("ks", "t", "v", ColumnType::Text),
            ],
        },
        result_metadata: ResultMetadata::new(vec![spec("ks", "t", "v", ColumnType::Text)]),
    };
    check_response(
        V4,
        &bytes,
        &Response::Result(ResultBody::Prepared(Box::new(p))),
    );
    // v5: <result_metadata_id> follows the id.
    let bytes = wire!("00000004 0002 cafe 0002 beef 00000000 00000000 00000000 00000000 00000000");
    let p = Prepared {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
        metadata: PreparedMetadata::default(),
        result_metadata: ResultMetadata::default(),
    };
    check_response(
        V5,
        &bytes,
        &Response::Result(ResultBody::Prepared(Box::new(p))),
    );
}

#[test]
fn result_prepared_keeps_scylla_lwt_mark() {
    // Scylla's SCYLLA_LWT_ADD_METADATA_MARK with LWT_OPTIMIZATION_META_BIT_MASK=2147483648:
    // kind 4; id cafe; metadata: flags 0x80000001 (LWT mark | GLOBAL_TABLES_SPEC), 1 column,
    // 1 pk index (0), global "ks"."t", k int; result metadata: flags 0, 0 columns.
    let bytes = wire!(
        "00000004 0002 cafe",
        "80000001 00000001 00000001 0000",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"k",
        "0009",
        "00000000 00000000"
    );
    let metadata = PreparedMetadata {
        extra_flags: i32::MIN, // 0x80000000
        pk_indexes: vec![0],
        col_specs: vec![spec("ks", "t", "k", ColumnType::Int)],
    };
    assert_eq!(metadata.flags(), i32::MIN | 1);
    assert!(metadata.has_flag(0x8000_0000));
    assert!(!metadata.has_flag(0x4000_0000));
    assert!(!metadata.has_flag(0));
    let p = Prepared {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: None,
        metadata,
        result_metadata: ResultMetadata::default(),
    };
    check_response(
        V4,
        &bytes,
        &Response::Result(ResultBody::Prepared(Box::new(p))),
    );
    // Decoded from the hand bytes: the bit is kept, the global flag is not duplicated into it.
    let Response::Result(ResultBody::Prepared(decoded)) =
        Response::decode_body(Opcode::RESULT, V4, Bytes::copy_from_slice(&bytes)).unwrap()
    else {
        panic!("not a prepared result");
    };
    assert_eq!(decoded.metadata.extra_flags, i32::MIN);
    assert!(decoded.metadata.has_flag(0x8000_0000));
    // Without the mark: the plain statement of `result_prepared_v4_and_v5` has no extra bit.
    let plain = wire!(
        "00000004 0002 cafe",
        "00000001 00000001 00000001 0000",
        "0002",
        b"ks",
        "0001",
        b"t",
        "0001",
        b"k",
        "0009",
        "00000000 00000000"
    );
    let Response::Result(ResultBody::Prepared(decoded)) =
        Response::decode_body(Opcode::RESULT, V4, Bytes::copy_from_slice(&plain)).unwrap()
    else {
        panic!("not a prepared result");
    };
    assert_eq!(decoded.metadata.extra_flags, 0);
    assert!(!decoded.metadata.has_flag(0x8000_0000));
}

fn sc(change_type: SchemaChangeType, target: SchemaChangeTarget) -> SchemaChange {
    SchemaChange {
        change_type,
        target,
    }
}

#[test]
fn result_schema_change_every_target() {
    let cases = [
        (
            wire!("0007", b"CREATED", "0008", b"KEYSPACE", "0002", b"ks"),
            sc(
                SchemaChangeType::Created,
                SchemaChangeTarget::Keyspace {
                    keyspace: "ks".into(),
                },
            ),
        ),
        (
            wire!(
                "0007", b"CREATED", "0005", b"TABLE", "0002", b"ks", "0001", b"t"
            ),
            sc(
                SchemaChangeType::Created,
                SchemaChangeTarget::Table {
                    keyspace: "ks".into(),
                    name: "t".into(),
                },
            ),
        ),
        (
            wire!(
                "0007", b"UPDATED", "0004", b"TYPE", "0002", b"ks", "0001", b"u"
            ),
            sc(
                SchemaChangeType::Updated,
                SchemaChangeTarget::Type {
                    keyspace: "ks".into(),
                    name: "u".into(),
                },
            ),
        ),
        (
            wire!(
                "0007",
                b"UPDATED",
                "0008",
                b"FUNCTION",
                "0002",
                b"ks",
                "0001",
                b"f",
                "0002 0003",
                b"int",
                "0004",
                b"text"
            ),
            sc(
                SchemaChangeType::Updated,
                SchemaChangeTarget::Function {
                    keyspace: "ks".into(),
                    name: "f".into(),
                    args: vec!["int".into(), "text".into()],
                },
            ),
        ),
        (
            wire!(
                "0007",
                b"DROPPED",
                "0009",
                b"AGGREGATE",
                "0002",
                b"ks",
                "0001",
                b"a",
                "0000"
            ),
            sc(
                SchemaChangeType::Dropped,
                SchemaChangeTarget::Aggregate {
                    keyspace: "ks".into(),
                    name: "a".into(),
                    args: vec![],
                },
            ),
        ),
    ];
    for (body, change) in cases {
        let mut result = wire!("00000005");
        result.extend_from_slice(&body);
        check_response(
            V4,
            &result,
            &Response::Result(ResultBody::SchemaChange(change.clone())),
        );
        let mut event = wire!("000d", b"SCHEMA_CHANGE");
        event.extend_from_slice(&body);
        check_response(V4, &event, &Response::Event(Event::SchemaChange(change)));
    }
}

#[test]
fn events_topology_and_status() {
    check_response(
        V4,
        &wire!(
            "000f",
            b"TOPOLOGY_CHANGE",
            "0008",
            b"NEW_NODE",
            "04 7f000002 00002352"
        ),
        &Response::Event(Event::TopologyChange {
            change: TopologyChangeType::NewNode,
            addr: "127.0.0.2:9042".parse().unwrap(),
        }),
    );
    check_response(
        V4,
        &wire!(
            "000d",
            b"STATUS_CHANGE",
            "0004",
            b"DOWN",
            "10 00000000000000000000000000000001 00002352"
        ),
        &Response::Event(Event::StatusChange {
            change: StatusChangeType::Down,
            addr: "[::1]:9042".parse().unwrap(),
        }),
    );
}

#[test]
fn event_frame_on_stream_minus_one() {
    let bytes = wire!(
        "84 00 ffff 0c 0000001c",
        "000d",
        b"STATUS_CHANGE",
        "0002",
        b"UP",
        "04 7f000001 00002352"
    );
    let f = frame(&bytes);
    let env = decode_response(&f, None).unwrap();
    assert_eq!(env.stream, -1);
    let ev = Response::Event(Event::StatusChange {
        change: StatusChangeType::Up,
        addr: "127.0.0.1:9042".parse().unwrap(),
    });
    assert_eq!(env.response, ev);
    assert_response_frame(&bytes, -1, &ev, &ResponseOptions::default());
}

#[test]
fn scylla_rate_limit_error_under_negotiated_code() {
    // SCYLLA_RATE_LIMIT_ERROR with ERROR_CODE=61440 (0xf000): write, rejected by coordinator.
    let bytes = wire!("0000f000 0004", b"slow", "01 01");
    let Response::Error(e) =
        Response::decode_body(Opcode::ERROR, V4, Bytes::from(bytes.clone())).unwrap()
    else {
        panic!("not an error")
    };
    let expected = RateLimitReached {
        op_type: RateLimitReached::WRITE,
        rejected_by_coordinator: true,
    };
    assert_eq!(RateLimitReached::from_error(&e, 0xf000), Some(expected));
    assert_eq!(RateLimitReached::from_error(&e, 0xf001), None);
    let mut buf = BytesMut::new();
    Response::Error(expected.to_error(0xf000, "slow"))
        .encode_body(V4, &mut buf)
        .unwrap();
    assert_eq!(&buf[..], &bytes[..]);
}

#[test]
fn scylla_metadata_id_extension_in_v4() {
    // With SCYLLA_USE_METADATA_ID, v4 EXECUTE carries <result_metadata_id> after the id ...
    let ext = BodyExtensions::NONE.with_scylla_metadata_id(true);
    let bytes = wire!("0002 cafe", "0002 beef", "0001 00");
    let e = Request::Execute(Execute {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
        params: QueryParameters::default(),
    });
    let decoded =
        Request::decode_body_with(Opcode::EXECUTE, V4, ext, Bytes::from(bytes.clone())).unwrap();
    assert_eq!(decoded, e);
    let mut buf = BytesMut::new();
    e.encode_body(V4, &mut buf).unwrap();
    assert_eq!(&buf[..], &bytes[..]);
    // ... which without the extension is not a valid v4 EXECUTE.
    assert!(Request::decode_body(Opcode::EXECUTE, V4, Bytes::from(bytes)).is_err());

    // ... and a v4 PREPARED result carries it after the id, as in v5.
    let bytes = wire!(
        "84 00 0002 08 00000020",
        "00000004 0002 cafe 0002 beef 00000000 00000000 00000000 00000000 00000000"
    );
    let p = Response::Result(ResultBody::Prepared(Box::new(Prepared {
        id: Bytes::from_static(&[0xca, 0xfe]),
        result_metadata_id: Some(Bytes::from_static(&[0xbe, 0xef])),
        metadata: PreparedMetadata::default(),
        result_metadata: ResultMetadata::default(),
    })));
    let f = frame(&bytes);
    let opts = DecodeOptions {
        extensions: ext,
        ..DecodeOptions::default()
    };
    assert_eq!(decode_response_with(&f, &opts).unwrap().response, p);
    // Without the extension the same bytes mean something else.
    assert!(decode_response(&f, None).map(|e| e.response) != Ok(p.clone()));
    assert_response_frame(&bytes, 2, &p, &ResponseOptions::default());
}
