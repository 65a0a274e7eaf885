//! proptest strategies for every message struct, normalized so that encode → decode gives back
//! the same value (e.g. names only on non-empty values, v5-only fields only for v5).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use cql_proto::codes::{
    BatchType, Consistency, ErrorCode, SchemaChangeType, StatusChangeType, TopologyChangeType,
    WriteType,
};
use cql_proto::request::{
    AuthResponse, Batch, BatchStatement, BatchStatementKind, Execute, Prepare, Query,
    QueryParameters, Register, Request, SerializedValues, SerializedValuesBuilder, Startup,
};
use cql_proto::response::{
    ColumnSpec, ErrorBody, ErrorDetails, Event, Prepared, PreparedMetadata, Response, ResultBody,
    ResultMetadata, Rows, RowsWriter, SchemaChange, SchemaChangeTarget,
};
use cql_proto::{ColumnType, ProtocolVersion, RawValue};
use proptest::collection::{hash_map, vec};
use proptest::option;
use proptest::prelude::*;

pub(crate) fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V4), Just(ProtocolVersion::V5)]
}

pub(crate) fn string() -> impl Strategy<Value = String> {
    "\\PC{0,8}"
}

pub(crate) fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

pub(crate) fn consistency() -> impl Strategy<Value = Consistency> {
    // Known levels and arbitrary (unknown) values alike.
    prop_oneof![
        proptest::sample::select(Consistency::KNOWN),
        any::<u16>().prop_map(Consistency)
    ]
}

#[derive(Debug, Clone)]
enum Val {
    Value(Vec<u8>),
    Null,
    Unset,
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        vec(any::<u8>(), 0..12).prop_map(Val::Value),
        Just(Val::Null),
        Just(Val::Unset)
    ]
}

/// Values, named when `named` (names only ever on a non-empty list).
pub(crate) fn serialized_values(named: bool) -> impl Strategy<Value = SerializedValues> {
    vec((string(), val()), 0..5).prop_map(move |vals| {
        let mut b = SerializedValuesBuilder::new();
        for (name, v) in &vals {
            let raw = match v {
                Val::Value(b) => RawValue::Value(b),
                Val::Null => RawValue::Null,
                Val::Unset => RawValue::Unset,
            };
            if named {
                b.push_named(name, raw).unwrap();
            } else {
                b.push(raw).unwrap();
            }
        }
        b.finish()
    })
}

pub(crate) fn query_parameters(v: ProtocolVersion) -> impl Strategy<Value = QueryParameters> {
    let v5 = v.is_v5_or_later();
    (
        consistency(),
        any::<bool>().prop_flat_map(serialized_values),
        any::<bool>(),
        option::of(any::<i32>()),
        option::of(bytes(10)),
        option::of(consistency()),
        option::of(any::<i64>()),
        option::of(string()).prop_map(move |k| k.filter(|_| v5)),
        option::of(any::<i32>()).prop_map(move |n| n.filter(|_| v5)),
    )
        .prop_map(
            |(c, values, skip, page, paging, serial, ts, ks, now)| QueryParameters {
                consistency: c,
                values,
                skip_metadata: skip,
                page_size: page,
                paging_state: paging,
                serial_consistency: serial,
                timestamp: ts,
                keyspace: ks,
                now_in_seconds: now,
            },
        )
}

pub(crate) fn request(v: ProtocolVersion) -> impl Strategy<Value = Request> {
    let v5 = v.is_v5_or_later();
    prop_oneof![
        hash_map(string(), string(), 0..4).prop_map(|options| Request::Startup(Startup {
            options: options.into_iter().collect(),
        })),
        Just(Request::Options),
        (string(), query_parameters(v)).prop_map(|(query, params)| Request::Query(Query {
            query: query.into(),
            params
        })),
        (string(), option::of(string())).prop_map(move |(query, ks)| {
            Request::Prepare(Prepare {
                query: query.into(),
                keyspace: ks.filter(|_| v5),
            })
        }),
        (bytes(20), bytes(20), query_parameters(v)).prop_map(move |(id, m, params)| {
            Request::Execute(Execute {
                id,
                result_metadata_id: v5.then_some(m),
                params,
            })
        }),
        batch(v).prop_map(Request::Batch),
        vec(string(), 0..4).prop_map(|events| Request::Register(Register { events })),
        option::of(bytes(20)).prop_map(|token| Request::AuthResponse(AuthResponse { token })),
    ]
}

pub(crate) fn batch(v: ProtocolVersion) -> impl Strategy<Value = Batch> {
    let v5 = v.is_v5_or_later();
    let statements = any::<bool>().prop_flat_map(|named| {
        vec(
            (
                prop_oneof![
                    string().prop_map(|q| BatchStatementKind::Query(q.into())),
                    bytes(16).prop_map(BatchStatementKind::Prepared)
                ],
                serialized_values(named),
            )
                .prop_map(|(kind, values)| BatchStatement { kind, values }),
            0..4,
        )
    });
    (
        prop_oneof![
            proptest::sample::select(BatchType::KNOWN),
            any::<u8>().prop_map(BatchType)
        ],
        statements,
        consistency(),
        option::of(consistency()),
        option::of(any::<i64>()),
        option::of(string()),
        option::of(any::<i32>()),
    )
        .prop_map(
            move |(batch_type, statements, c, serial, ts, ks, now)| Batch {
                batch_type,
                statements,
                consistency: c,
                serial_consistency: serial,
                timestamp: ts,
                keyspace: ks.filter(|_| v5),
                now_in_seconds: now.filter(|_| v5),
            },
        )
}

pub(crate) fn column_type() -> impl Strategy<Value = ColumnType> {
    let leaf = prop_oneof![
        Just(ColumnType::Ascii),
        Just(ColumnType::BigInt),
        Just(ColumnType::Blob),
        Just(ColumnType::Boolean),
        Just(ColumnType::Counter),
        Just(ColumnType::Decimal),
        Just(ColumnType::Double),
        Just(ColumnType::Float),
        Just(ColumnType::Int),
        Just(ColumnType::Timestamp),
        Just(ColumnType::Uuid),
        Just(ColumnType::Text),
        Just(ColumnType::Varint),
        Just(ColumnType::Timeuuid),
        Just(ColumnType::Inet),
        Just(ColumnType::Date),
        Just(ColumnType::Time),
        Just(ColumnType::SmallInt),
        Just(ColumnType::TinyInt),
        Just(ColumnType::Duration),
        Just(ColumnType::Custom("com.example.MyType".into())),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| ColumnType::List(Box::new(t))),
            inner.clone().prop_map(|t| ColumnType::Set(Box::new(t))),
            (inner.clone(), inner.clone())
                .prop_map(|(k, v)| ColumnType::Map(Box::new(k), Box::new(v))),
            vec(inner.clone(), 1..3).prop_map(ColumnType::Tuple),
            (string(), string(), vec((string(), inner), 0..3)).prop_map(
                |(keyspace, name, mut fields)| {
                    // Field names are unique in a valid UDT (the decoder rejects duplicates).
                    let mut seen = std::collections::HashSet::new();
                    fields.retain(|(f, _)| seen.insert(f.clone()));
                    ColumnType::Udt {
                        keyspace,
                        name,
                        fields,
                    }
                }
            ),
        ]
    })
}

pub(crate) fn column_spec() -> impl Strategy<Value = ColumnSpec> {
    // A small keyspace/table alphabet, so both the global and the per-column layouts occur.
    (
        prop_oneof![Just("ks"), Just("other")],
        prop_oneof![Just("t"), Just("u")],
        string(),
        column_type(),
    )
        .prop_map(|(ks, table, name, typ)| ColumnSpec {
            keyspace: ks.into(),
            table: table.into(),
            name: name.into(),
            typ,
        })
}

pub(crate) fn result_metadata() -> impl Strategy<Value = ResultMetadata> {
    (
        prop_oneof![
            vec(column_spec(), 0..4).prop_map(ResultMetadata::new),
            (1usize..6).prop_map(ResultMetadata::no_metadata),
        ],
        option::of(bytes(10)),
        option::of(bytes(10)),
    )
        .prop_map(|(m, paging_state, new_metadata_id)| ResultMetadata {
            paging_state,
            new_metadata_id,
            ..m
        })
}

pub(crate) fn rows() -> impl Strategy<Value = Rows> {
    result_metadata().prop_flat_map(|m| {
        let cols = m.col_count;
        // A result with rows always has columns (the decoder rejects zero-column rows).
        let max_rows = if cols == 0 { 1 } else { 4 };
        vec(
            vec(option::of(vec(any::<u8>(), 0..6)), cols..=cols),
            0..max_rows,
        )
        .prop_map(move |rows| {
            let mut w = RowsWriter::new(m.clone());
            for r in &rows {
                w.push_row(r.iter().map(|c| c.as_deref())).unwrap();
            }
            w.finish().unwrap()
        })
    })
}

pub(crate) fn write_type() -> impl Strategy<Value = WriteType> {
    prop_oneof![
        Just(WriteType::Simple),
        Just(WriteType::Batch),
        Just(WriteType::UnloggedBatch),
        Just(WriteType::Counter),
        Just(WriteType::BatchLog),
        Just(WriteType::Cas),
        Just(WriteType::View),
        Just(WriteType::Cdc),
        "[a-z]{1,6}".prop_map(WriteType::Other),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from)
    ]
}

pub(crate) fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    (ip(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

pub(crate) fn error_body(v: ProtocolVersion) -> impl Strategy<Value = ErrorBody> {
    let v5 = v.is_v5_or_later();
    let failures = move || {
        (any::<i32>(), vec((ip(), any::<u16>()), 0..3)).prop_map(move |(n, r)| {
            if v5 {
                (r.len() as i32, r)
            } else {
                (n, Vec::new())
            }
        })
    };
    let no_details = proptest::sample::select(vec![
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
    ]);
    let details = prop_oneof![
        no_details.prop_map(|c| (c, ErrorDetails::None)),
        (consistency(), any::<i32>(), any::<i32>()).prop_map(|(consistency, required, alive)| (
            ErrorCode::UNAVAILABLE,
            ErrorDetails::Unavailable {
                consistency,
                required,
                alive
            }
        )),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            write_type(),
            any::<u16>()
        )
            .prop_map(move |(consistency, received, block_for, write_type, c)| {
                let contentions = (v5 && write_type == WriteType::Cas).then_some(c);
                (
                    ErrorCode::WRITE_TIMEOUT,
                    ErrorDetails::WriteTimeout {
                        consistency,
                        received,
                        block_for,
                        write_type,
                        contentions,
                    },
                )
            }),
        (consistency(), any::<i32>(), any::<i32>(), any::<bool>()).prop_map(
            |(consistency, received, block_for, data_present)| (
                ErrorCode::READ_TIMEOUT,
                ErrorDetails::ReadTimeout {
                    consistency,
                    received,
                    block_for,
                    data_present
                }
            )
        ),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            failures(),
            any::<bool>()
        )
            .prop_map(
                |(consistency, received, block_for, (num_failures, reasons), data_present)| (
                    ErrorCode::READ_FAILURE,
                    ErrorDetails::ReadFailure {
                        consistency,
                        received,
                        block_for,
                        num_failures,
                        reasons,
                        data_present
                    }
                )
            ),
        (string(), string(), vec(string(), 0..3)).prop_map(|(keyspace, function, arg_types)| (
            ErrorCode::FUNCTION_FAILURE,
            ErrorDetails::FunctionFailure {
                keyspace,
                function,
                arg_types
            }
        )),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            failures(),
            write_type()
        )
            .prop_map(
                |(consistency, received, block_for, (num_failures, reasons), write_type)| (
                    ErrorCode::WRITE_FAILURE,
                    ErrorDetails::WriteFailure {
                        consistency,
                        received,
                        block_for,
                        num_failures,
                        reasons,
                        write_type
                    }
                )
            ),
        (consistency(), any::<i32>(), any::<i32>()).prop_map(
            |(consistency, received, block_for)| (
                ErrorCode::CAS_WRITE_UNKNOWN,
                ErrorDetails::CasWriteUnknown {
                    consistency,
                    received,
                    block_for
                }
            )
        ),
        (string(), string()).prop_map(|(keyspace, table)| (
            ErrorCode::ALREADY_EXISTS,
            ErrorDetails::AlreadyExists { keyspace, table }
        )),
        bytes(20).prop_map(|id| (ErrorCode::UNPREPARED, ErrorDetails::Unprepared { id })),
        (
            any::<i32>().prop_filter("unknown code", |c| ErrorCode(*c).name().is_none()),
            bytes(12)
        )
            .prop_map(|(c, raw)| (ErrorCode(c), ErrorDetails::Unknown(raw))),
    ];
    (details, string()).prop_map(|((code, details), message)| ErrorBody {
        code,
        message,
        details,
    })
}

pub(crate) fn schema_change() -> impl Strategy<Value = SchemaChange> {
    let change = prop_oneof![
        Just(SchemaChangeType::Created),
        Just(SchemaChangeType::Updated),
        Just(SchemaChangeType::Dropped),
        "[a-z]{1,6}".prop_map(SchemaChangeType::Other),
    ];
    let target = prop_oneof![
        string().prop_map(|keyspace| SchemaChangeTarget::Keyspace { keyspace }),
        (string(), string())
            .prop_map(|(keyspace, name)| SchemaChangeTarget::Table { keyspace, name }),
        (string(), string())
            .prop_map(|(keyspace, name)| SchemaChangeTarget::Type { keyspace, name }),
        (string(), string(), vec(string(), 0..3)).prop_map(|(keyspace, name, args)| {
            SchemaChangeTarget::Function {
                keyspace,
                name,
                args,
            }
        }),
        (string(), string(), vec(string(), 0..3)).prop_map(|(keyspace, name, args)| {
            SchemaChangeTarget::Aggregate {
                keyspace,
                name,
                args,
            }
        }),
    ];
    (change, target).prop_map(|(change_type, target)| SchemaChange {
        change_type,
        target,
    })
}

pub(crate) fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            prop_oneof![
                Just(TopologyChangeType::NewNode),
                Just(TopologyChangeType::RemovedNode),
                Just(TopologyChangeType::MovedNode),
                "[a-z]{1,6}".prop_map(TopologyChangeType::Other),
            ],
            socket_addr()
        )
            .prop_map(|(change, addr)| Event::TopologyChange { change, addr }),
        (
            prop_oneof![
                Just(StatusChangeType::Up),
                Just(StatusChangeType::Down),
                "[a-z]{1,6}".prop_map(StatusChangeType::Other),
            ],
            socket_addr()
        )
            .prop_map(|(change, addr)| Event::StatusChange { change, addr }),
        schema_change().prop_map(Event::SchemaChange),
    ]
}

pub(crate) fn prepared(v: ProtocolVersion) -> impl Strategy<Value = Prepared> {
    let v5 = v.is_v5_or_later();
    (
        bytes(20),
        bytes(20),
        vec(any::<u16>(), 0..3),
        vec(column_spec(), 0..4),
        result_metadata(),
        any::<i32>(),
    )
        .prop_map(
            move |(id, m, pk_indexes, col_specs, result_metadata, extra)| Prepared {
                id,
                result_metadata_id: v5.then_some(m),
                metadata: PreparedMetadata {
                    // Any bits but GLOBAL_TABLES_SPEC (derived from the specs).
                    extra_flags: extra & !1,
                    pk_indexes,
                    col_specs,
                },
                result_metadata,
            },
        )
}

pub(crate) fn response(v: ProtocolVersion) -> impl Strategy<Value = Response> {
    prop_oneof![
        error_body(v).prop_map(Response::Error),
        Just(Response::Ready),
        string().prop_map(|authenticator| Response::Authenticate { authenticator }),
        hash_map(string(), vec(string(), 0..3), 0..4).prop_map(|options| Response::Supported {
            options: options.into_iter().collect(),
        }),
        Just(Response::Result(ResultBody::Void)),
        rows().prop_map(|r| Response::Result(ResultBody::Rows(r))),
        string().prop_map(|k| Response::Result(ResultBody::SetKeyspace(k))),
        prepared(v).prop_map(|p| Response::Result(ResultBody::Prepared(Box::new(p)))),
        schema_change().prop_map(|s| Response::Result(ResultBody::SchemaChange(s))),
        event().prop_map(Response::Event),
        option::of(bytes(16)).prop_map(|token| Response::AuthChallenge { token }),
        option::of(bytes(16)).prop_map(|token| Response::AuthSuccess { token }),
    ]
}

pub(crate) fn custom_payload() -> impl Strategy<Value = HashMap<String, Option<Bytes>>> {
    hash_map(string(), option::of(bytes(8)), 0..3)
}
