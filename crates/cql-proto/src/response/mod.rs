//! Response messages (section 4.2). Each body can be decoded (driver side) and encoded
//! (simulator side).

mod error;
mod event;
mod result;

use bytes::{Bytes, BytesMut};

pub use error::{ErrorBody, ErrorDetails, RateLimitReached};
pub use event::Event;
pub use result::{
    CellIter, ColumnSpec, Prepared, PreparedMetadata, RawRow, ResultBody, ResultMetadata, RowIter,
    Rows, RowsWriter, SchemaChange, SchemaChangeTarget, TableSpec,
};

use crate::codec::{self, Reader};
use crate::codes::Opcode;
use crate::error::{DecodeError, EncodeError};
use crate::frame::{BodyExtensions, ProtocolVersion};
use crate::string_map::StringMultimap;

/// A response other than the one the request expects (see [`Response::into_result`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnexpectedResponse {
    /// The server answered with an ERROR.
    #[error("server error {}: {}", .0.code, .0.message)]
    Error(Box<ErrorBody>),
    /// The server answered with another kind of response.
    #[error("unexpected {0} response")]
    Other(Opcode),
}

impl From<Response> for UnexpectedResponse {
    /// The response as the reason it was not the expected one.
    fn from(r: Response) -> Self {
        match r {
            Response::Error(e) => Self::Error(Box::new(e)),
            other => Self::Other(other.opcode()),
        }
    }
}

/// A response message body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// ERROR.
    Error(ErrorBody),
    /// READY (empty body).
    Ready,
    /// AUTHENTICATE: `<authenticator: [string]>`.
    Authenticate {
        /// The server's authenticator class.
        authenticator: String,
    },
    /// SUPPORTED: `[string multimap]` of options.
    Supported {
        /// The supported options (CQL_VERSION, COMPRESSION, Scylla keys, ...).
        /// Entries stay in wire order, so a decoded SUPPORTED re-encodes as it came.
        options: StringMultimap,
    },
    /// RESULT.
    Result(ResultBody),
    /// EVENT.
    Event(Event),
    /// AUTH_CHALLENGE: `<token: [bytes]>`.
    AuthChallenge {
        /// The challenge token.
        token: Option<Bytes>,
    },
    /// AUTH_SUCCESS: `<token: [bytes]>`.
    AuthSuccess {
        /// The final token.
        token: Option<Bytes>,
    },
}

impl Response {
    /// The opcode this response is sent with.
    pub const fn opcode(&self) -> Opcode {
        match self {
            Self::Error(_) => Opcode::ERROR,
            Self::Ready => Opcode::READY,
            Self::Authenticate { .. } => Opcode::AUTHENTICATE,
            Self::Supported { .. } => Opcode::SUPPORTED,
            Self::Result(_) => Opcode::RESULT,
            Self::Event(_) => Opcode::EVENT,
            Self::AuthChallenge { .. } => Opcode::AUTH_CHALLENGE,
            Self::AuthSuccess { .. } => Opcode::AUTH_SUCCESS,
        }
    }

    /// The RESULT body; an ERROR or any other response is the error.
    ///
    /// The one place the "RESULT, or ERROR, or unexpected" decision is made: callers map the
    /// error into their own types.
    pub fn into_result(self) -> Result<ResultBody, UnexpectedResponse> {
        match self {
            Self::Result(body) => Ok(body),
            other => Err(UnexpectedResponse::from(other)),
        }
    }

    /// `Ok` for READY (the answer to STARTUP and REGISTER); an ERROR or any other response is
    /// the error.
    pub fn into_ready(self) -> Result<(), UnexpectedResponse> {
        match self {
            Self::Ready => Ok(()),
            other => Err(UnexpectedResponse::from(other)),
        }
    }

    /// Whether `opcode` is a response opcode this crate can decode.
    pub const fn is_response_opcode(opcode: Opcode) -> bool {
        matches!(
            opcode,
            Opcode::ERROR
                | Opcode::READY
                | Opcode::AUTHENTICATE
                | Opcode::SUPPORTED
                | Opcode::RESULT
                | Opcode::EVENT
                | Opcode::AUTH_CHALLENGE
                | Opcode::AUTH_SUCCESS
        )
    }

    /// Appends the body (without frame header or envelope) to `buf`.
    pub fn encode_body(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        match self {
            Self::Error(e) => e.encode(version, buf),
            Self::Ready => Ok(()),
            Self::Authenticate { authenticator } => codec::write_string(buf, authenticator),
            Self::Supported { options } => codec::write_string_multimap(buf, options),
            Self::Result(r) => r.encode(version, buf),
            Self::Event(e) => e.encode(buf),
            Self::AuthChallenge { token } | Self::AuthSuccess { token } => {
                codec::write_bytes(buf, token.as_deref())
            }
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

    /// [`Response::decode_body`] under negotiated extensions.
    pub fn decode_body_with(
        opcode: Opcode,
        version: ProtocolVersion,
        ext: BodyExtensions,
        body: Bytes,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(&body);
        let resp = match opcode {
            Opcode::ERROR => Self::Error(ErrorBody::read(&mut r, &body, version)?),
            Opcode::READY => Self::Ready,
            Opcode::AUTHENTICATE => Self::Authenticate {
                authenticator: r.read_string("authenticator")?.to_owned(),
            },
            Opcode::SUPPORTED => Self::Supported {
                options: r.read_string_multimap("supported options")?,
            },
            Opcode::RESULT => Self::Result(ResultBody::read(&mut r, &body, version, ext)?),
            Opcode::EVENT => Self::Event(Event::read(&mut r)?),
            Opcode::AUTH_CHALLENGE => Self::AuthChallenge {
                token: r.read_bytes("auth token")?.map(|b| body.slice_ref(b)),
            },
            Opcode::AUTH_SUCCESS => Self::AuthSuccess {
                token: r.read_bytes("auth token")?.map(|b| body.slice_ref(b)),
            },
            other => {
                return Err(DecodeError::invalid(
                    "response opcode",
                    format!("{other} is not a response"),
                ));
            }
        };
        r.finish("response body")?;
        Ok(resp)
    }
}

impl From<ErrorBody> for Response {
    fn from(e: ErrorBody) -> Self {
        Self::Error(e)
    }
}

impl From<ResultBody> for Response {
    fn from(r: ResultBody) -> Self {
        Self::Result(r)
    }
}

impl From<Event> for Response {
    fn from(e: Event) -> Self {
        Self::Event(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ErrorCode;

    #[test]
    fn into_result_takes_results_and_types_everything_else() {
        assert_eq!(
            Response::Result(ResultBody::Void).into_result(),
            Ok(ResultBody::Void)
        );
        let error = ErrorBody {
            code: ErrorCode::SYNTAX_ERROR,
            message: "line 1:0 no viable alternative".into(),
            details: ErrorDetails::None,
        };
        let got = Response::Error(error.clone()).into_result();
        assert_eq!(got, Err(UnexpectedResponse::Error(Box::new(error))));
        assert_eq!(
            got.unwrap_err().to_string(),
            "server error SYNTAX_ERROR: line 1:0 no viable alternative"
        );
        assert_eq!(
            Response::Ready.into_result(),
            Err(UnexpectedResponse::Other(Opcode::READY))
        );
        assert_eq!(Response::Ready.into_ready(), Ok(()));
        assert_eq!(
            Response::Result(ResultBody::Void).into_ready(),
            Err(UnexpectedResponse::Other(Opcode::RESULT))
        );
    }
}
