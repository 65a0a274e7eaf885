//! `cql-proto` is a sans-IO codec for the CQL native protocol (v4, v5 and Scylla's extensions).
//!
//! It turns bytes into frames, frames into typed request and response bodies, and back. It is
//! **not** a driver: it opens no sockets, spawns no tasks, reads no clock and draws no random
//! numbers. Callers pass bytes in and take bytes out.
//!
//! ```text
//!   bytes from a socket ──► FrameDecoder ──► Frame ──► Response / Request bodies
//!   Request / Response bodies ──► encode into BytesMut ──► bytes to a socket
//! ```
//!
//! # Features
//!
//! - `lz4` (default): LZ4 compression of v4 frame bodies and v5 segments.
//! - `snappy` (default): Snappy compression of v4 frame bodies.
//! - `bigdecimal-04`: `bigdecimal::BigDecimal` (0.4) as `decimal`, both ways.
//! - `chrono-04`: `chrono` (0.4) `NaiveDate` as `date`, `NaiveTime` as `time` and
//!   `DateTime<Utc>` as `timestamp`, both ways.
//! - `num-bigint-03`, `num-bigint-04`: `num_bigint::BigInt` (0.3 or 0.4) as `varint`, both
//!   ways.
//! - `secrecy-08`: `secrecy::Secret<T>` (0.8), written and read as its inner value.
//! - `time-03`: `time` (0.3) `Date` as `date`, `Time` as `time`, and `OffsetDateTime` and
//!   `PrimitiveDateTime` (taken as UTC) as `timestamp`, both ways.
//!
//! The value features use the `scylla` crate's names. Without default features the crate
//! builds with no compression.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub(crate) mod codec;
pub mod codes;
pub mod error;
pub mod frame;
pub mod request;
pub mod response;
pub mod scratch;
pub mod scylla;
pub mod segment;
pub mod string_map;
pub mod text;
pub mod token;
pub mod value;

pub use codec::RawValue;
pub use error::{DecodeError, EncodeError};
pub use scylla::{ScyllaExtensions, ShardingInfo, TabletRoutingInfo};
pub use string_map::{StringMap, StringMultimap};
pub use text::Text;
pub use token::{Token, murmur3_token, shard_of};
pub use value::{ColumnType, CqlValue};

pub use codes::{BatchType, Consistency, ErrorCode, Opcode, ResultKind, WriteType};
pub use frame::{
    Compression, Frame, FrameDecoder, FrameError, FrameFlags, FrameHeader, ProtocolVersion,
};
pub use request::{QueryParameters, Request, SerializedValues};
pub use response::{ErrorBody, ErrorDetails, Response, ResultBody, Rows, UnexpectedResponse};
