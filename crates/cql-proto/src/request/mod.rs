//! Request messages (section 4.1), one file per opcode. Each body can be encoded (driver side)
//! and decoded (simulator side).

mod auth_response;
mod batch;
mod execute;
mod params;
mod prepare;
mod query;
mod register;
mod startup;
mod values;

use bytes::{Bytes, BytesMut};

pub use auth_response::AuthResponse;
pub use batch::{Batch, BatchStatement, BatchStatementKind};
pub use execute::Execute;
pub use params::QueryParameters;
pub use prepare::Prepare;
pub use query::Query;
pub use register::Register;
pub use startup::Startup;
pub use values::{
    RawValues, SerializedValues, SerializedValuesBuilder, SerializedValuesIter, raw_values,
    values_len, write_raw_value,
};

use crate::codec::Reader;
use crate::codes::Opcode;
use crate::error::{DecodeError, EncodeError};
use crate::frame::{BodyExtensions, ProtocolVersion};

/// A request message body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// STARTUP: the connection's options.
    Startup(Startup),
    /// OPTIONS: asks for SUPPORTED (empty body).
    Options,
    /// QUERY: a CQL string with parameters.
    Query(Query),
    /// PREPARE: a CQL string to prepare.
    Prepare(Prepare),
    /// EXECUTE: runs a prepared statement.
    Execute(Execute),
    /// BATCH: several statements at once.
    Batch(Batch),
    /// REGISTER: subscribes to events.
    Register(Register),
    /// AUTH_RESPONSE: an authentication token.
    AuthResponse(AuthResponse),
}

impl Request {
    /// The opcode this request is sent with.
    pub const fn opcode(&self) -> Opcode {
        match self {
            Self::Startup(_) => Opcode::STARTUP,
            Self::Options => Opcode::OPTIONS,
            Self::Query(_) => Opcode::QUERY,
            Self::Prepare(_) => Opcode::PREPARE,
            Self::Execute(_) => Opcode::EXECUTE,
            Self::Batch(_) => Opcode::BATCH,
            Self::Register(_) => Opcode::REGISTER,
            Self::AuthResponse(_) => Opcode::AUTH_RESPONSE,
        }
    }

    /// Whether `opcode` is a request opcode this crate can decode.
    pub const fn is_request_opcode(opcode: Opcode) -> bool {
        matches!(
            opcode,
            Opcode::STARTUP
                | Opcode::OPTIONS
                | Opcode::QUERY
                | Opcode::PREPARE
                | Opcode::EXECUTE
                | Opcode::BATCH
                | Opcode::REGISTER
                | Opcode::AUTH_RESPONSE
        )
    }

    /// Appends the body (without frame header or envelope) to `buf`.
    pub fn encode_body(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        match self {
            Self::Startup(m) => m.encode(buf),
            Self::Options => Ok(()),
            Self::Query(m) => m.encode(version, buf),
            Self::Prepare(m) => m.encode(version, buf),
            Self::Execute(m) => m.encode(version, buf),
            Self::Batch(m) => m.encode(version, buf),
            Self::Register(m) => m.encode(buf),
            Self::AuthResponse(m) => m.encode(buf),
        }
    }

    /// Decodes a body of the given opcode; the whole body must be consumed.
    pub fn decode_body(
        opcode: Opcode,
        version: ProtocolVersion,
        body: Bytes,
    ) -> Result<Self, DecodeError> {
        Self::decode_body_with(opcode, version, BodyExtensions::NONE, body)
    }

    /// [`Request::decode_body`] under negotiated extensions.
    pub fn decode_body_with(
        opcode: Opcode,
        version: ProtocolVersion,
        ext: BodyExtensions,
        body: Bytes,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(&body);
        let req = match opcode {
            Opcode::STARTUP => Self::Startup(Startup::read(&mut r)?),
            Opcode::OPTIONS => Self::Options,
            Opcode::QUERY => Self::Query(Query::read(&mut r, &body, version)?),
            Opcode::PREPARE => Self::Prepare(Prepare::read(&mut r, &body, version)?),
            Opcode::EXECUTE => Self::Execute(Execute::read(&mut r, &body, version, ext)?),
            Opcode::BATCH => Self::Batch(Batch::read(&mut r, &body, version)?),
            Opcode::REGISTER => Self::Register(Register::read(&mut r)?),
            Opcode::AUTH_RESPONSE => Self::AuthResponse(AuthResponse::read(&mut r, &body)?),
            other => {
                return Err(DecodeError::invalid(
                    "request opcode",
                    format!("{other} is not a request"),
                ));
            }
        };
        r.finish("request body")?;
        Ok(req)
    }
}

macro_rules! from_body {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Request {
            fn from(m: $variant) -> Self {
                Self::$variant(m)
            }
        }
    )*};
}
from_body!(
    Startup,
    Query,
    Prepare,
    Execute,
    Batch,
    Register,
    AuthResponse
);
