//! ERROR (section 4.2.1 and section 9): `<code: [int]><message: [string]>` and code-specific
//! details.

use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, Reader};
use crate::codes::{Consistency, ErrorCode, WriteType};
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;

/// A server error, kept as data; typing into user errors happens in the session layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error code.
    pub code: ErrorCode,
    /// The server's message.
    pub message: String,
    /// The code-specific details; must match `code` when encoding.
    pub details: ErrorDetails,
}

/// The details that follow an ERROR's message, by error code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorDetails {
    /// No details (server, protocol, credentials, overloaded, bootstrapping, truncate, syntax,
    /// unauthorized, invalid, config and CDC write errors).
    None,
    /// 0x1000: not enough live replicas.
    Unavailable {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Replicas required.
        required: i32,
        /// Replicas known alive.
        alive: i32,
    },
    /// 0x1100: a write timed out.
    WriteTimeout {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
        /// The kind of write.
        write_type: WriteType,
        /// Contentions during a CAS write (v5, only when `write_type` is CAS).
        contentions: Option<u16>,
    },
    /// 0x1200: a read timed out.
    ReadTimeout {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Responses received.
        received: i32,
        /// Responses required.
        block_for: i32,
        /// Whether the replica asked for data responded.
        data_present: bool,
    },
    /// 0x1300: a read failed.
    ReadFailure {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Responses received.
        received: i32,
        /// Responses required.
        block_for: i32,
        /// Failed replicas (v4 `<numfailures>`; in v5 the length of `reasons`).
        num_failures: i32,
        /// Failure reason per replica (v5 `<reasonmap>`; empty in v4).
        reasons: Vec<(IpAddr, u16)>,
        /// Whether the replica asked for data responded.
        data_present: bool,
    },
    /// 0x1400: a user-defined function failed.
    FunctionFailure {
        /// The function's keyspace.
        keyspace: String,
        /// The function's name.
        function: String,
        /// The function's argument types.
        arg_types: Vec<String>,
    },
    /// 0x1500: a write failed.
    WriteFailure {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
        /// Failed replicas (v4 `<numfailures>`; in v5 the length of `reasons`).
        num_failures: i32,
        /// Failure reason per replica (v5 `<reasonmap>`; empty in v4).
        reasons: Vec<(IpAddr, u16)>,
        /// The kind of write.
        write_type: WriteType,
    },
    /// 0x1700: a contended CAS write has an unknown outcome.
    CasWriteUnknown {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
    },
    /// 0x2400: the keyspace or table already exists.
    AlreadyExists {
        /// The keyspace.
        keyspace: String,
        /// The table, empty when the keyspace itself exists.
        table: String,
    },
    /// 0x2500: the prepared id is unknown.
    Unprepared {
        /// The unknown id.
        id: Bytes,
    },
    /// A code unknown to this crate (e.g. Scylla's negotiated rate-limit code): the rest of the
    /// body, kept raw.
    Unknown(Bytes),
}

/// Scylla's rate-limit error (`SCYLLA_RATE_LIMIT_ERROR` extension): its code is negotiated in
/// SUPPORTED, so it decodes as [`ErrorDetails::Unknown`] and is read with
/// [`RateLimitReached::from_error`]. Details: `<op_type: byte><rejected_by_coordinator: byte>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimitReached {
    /// The operation that hit the limit: [`Self::READ`] or [`Self::WRITE`].
    pub op_type: u8,
    /// Whether the coordinator (rather than replicas) rejected the operation.
    pub rejected_by_coordinator: bool,
}

impl RateLimitReached {
    /// `op_type` of a read.
    pub const READ: u8 = 0;
    /// `op_type` of a write.
    pub const WRITE: u8 = 1;

    /// The rate-limit details of `error`, when its code is the negotiated `code`.
    pub fn from_error(error: &ErrorBody, code: i32) -> Option<Self> {
        if error.code.0 != code {
            return None;
        }
        match &error.details {
            ErrorDetails::Unknown(raw) => match raw[..] {
                [op_type, by_coordinator] => Some(Self {
                    op_type,
                    rejected_by_coordinator: by_coordinator != 0,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    /// An ERROR body carrying these details under the negotiated `code` (for servers).
    pub fn to_error(self, code: i32, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: ErrorCode(code),
            message: message.into(),
            details: ErrorDetails::Unknown(Bytes::copy_from_slice(&[
                self.op_type,
                u8::from(self.rejected_by_coordinator),
            ])),
        }
    }
}

/// The layout of an error code's details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    None,
    Unavailable,
    WriteTimeout,
    ReadTimeout,
    ReadFailure,
    FunctionFailure,
    WriteFailure,
    CasWriteUnknown,
    AlreadyExists,
    Unprepared,
    Unknown,
}

fn layout_of_code(code: ErrorCode) -> Layout {
    match code {
        ErrorCode::SERVER_ERROR
        | ErrorCode::PROTOCOL_ERROR
        | ErrorCode::BAD_CREDENTIALS
        | ErrorCode::OVERLOADED
        | ErrorCode::IS_BOOTSTRAPPING
        | ErrorCode::TRUNCATE_ERROR
        | ErrorCode::CDC_WRITE_FAILURE
        | ErrorCode::SYNTAX_ERROR
        | ErrorCode::UNAUTHORIZED
        | ErrorCode::INVALID
        | ErrorCode::CONFIG_ERROR => Layout::None,
        ErrorCode::UNAVAILABLE => Layout::Unavailable,
        ErrorCode::WRITE_TIMEOUT => Layout::WriteTimeout,
        ErrorCode::READ_TIMEOUT => Layout::ReadTimeout,
        ErrorCode::READ_FAILURE => Layout::ReadFailure,
        ErrorCode::FUNCTION_FAILURE => Layout::FunctionFailure,
        ErrorCode::WRITE_FAILURE => Layout::WriteFailure,
        ErrorCode::CAS_WRITE_UNKNOWN => Layout::CasWriteUnknown,
        ErrorCode::ALREADY_EXISTS => Layout::AlreadyExists,
        ErrorCode::UNPREPARED => Layout::Unprepared,
        _ => Layout::Unknown,
    }
}

impl ErrorDetails {
    fn layout(&self) -> Layout {
        match self {
            Self::None => Layout::None,
            Self::Unavailable { .. } => Layout::Unavailable,
            Self::WriteTimeout { .. } => Layout::WriteTimeout,
            Self::ReadTimeout { .. } => Layout::ReadTimeout,
            Self::ReadFailure { .. } => Layout::ReadFailure,
            Self::FunctionFailure { .. } => Layout::FunctionFailure,
            Self::WriteFailure { .. } => Layout::WriteFailure,
            Self::CasWriteUnknown { .. } => Layout::CasWriteUnknown,
            Self::AlreadyExists { .. } => Layout::AlreadyExists,
            Self::Unprepared { .. } => Layout::Unprepared,
            Self::Unknown(_) => Layout::Unknown,
        }
    }

    /// Whether these details are the layout `code` carries on the wire.
    pub fn matches_code(&self, code: ErrorCode) -> bool {
        self.layout() == layout_of_code(code)
    }
}

fn write_reasons(buf: &mut BytesMut, reasons: &[(IpAddr, u16)]) -> Result<(), EncodeError> {
    let n = i32::try_from(reasons.len()).map_err(|_| EncodeError::TooLong {
        what: "reason map",
        len: reasons.len(),
    })?;
    codec::write_int(buf, n);
    for (ip, code) in reasons {
        codec::write_inetaddr(buf, ip);
        codec::write_short(buf, *code);
    }
    Ok(())
}

fn read_reasons(r: &mut Reader<'_>) -> Result<Vec<(IpAddr, u16)>, DecodeError> {
    let n = r.read_len("reason map")?;
    let mut v = Vec::with_capacity(n.min(r.remaining() / 7));
    for _ in 0..n {
        let ip = r.read_inetaddr("reason map address")?;
        let code = r.read_short("reason map code")?;
        v.push((ip, code));
    }
    Ok(v)
}

/// Writes the `<cl><received><blockfor>` that every timeout and failure error starts with.
fn write_acks(buf: &mut BytesMut, consistency: Consistency, received: i32, block_for: i32) {
    codec::write_short(buf, consistency.0);
    codec::write_int(buf, received);
    codec::write_int(buf, block_for);
}

/// Reads what [`write_acks`] writes.
fn read_acks(r: &mut Reader<'_>) -> Result<(Consistency, i32, i32), DecodeError> {
    Ok((
        Consistency(r.read_short("consistency")?),
        r.read_int("received")?,
        r.read_int("block_for")?,
    ))
}

/// Writes the failures of a READ_FAILURE or WRITE_FAILURE: the reason map in v5,
/// `<numfailures>` before.
fn write_failures(
    buf: &mut BytesMut,
    v5: bool,
    num_failures: i32,
    reasons: &[(IpAddr, u16)],
) -> Result<(), EncodeError> {
    if v5 {
        write_reasons(buf, reasons)
    } else {
        codec::write_int(buf, num_failures);
        Ok(())
    }
}

/// Reads what [`write_failures`] writes; in v5 the count is the size of the reason map.
fn read_failures(r: &mut Reader<'_>, v5: bool) -> Result<(i32, Vec<(IpAddr, u16)>), DecodeError> {
    if v5 {
        let reasons = read_reasons(r)?;
        Ok((i32::try_from(reasons.len()).unwrap_or(i32::MAX), reasons))
    } else {
        Ok((r.read_int("numfailures")?, Vec::new()))
    }
}

impl ErrorBody {
    /// Appends the body to `buf`; fails when `details` does not fit `code`.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !self.details.matches_code(self.code) {
            return Err(EncodeError::Invalid(format!(
                "error code {} does not carry {:?} details",
                self.code,
                self.details.layout()
            )));
        }
        codec::write_int(buf, self.code.0);
        codec::write_string(buf, &self.message)?;
        let v5 = version.is_v5_or_later();
        match &self.details {
            ErrorDetails::None => {}
            ErrorDetails::Unavailable {
                consistency,
                required,
                alive,
            } => {
                codec::write_short(buf, consistency.0);
                codec::write_int(buf, *required);
                codec::write_int(buf, *alive);
            }
            ErrorDetails::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
                contentions,
            } => {
                write_acks(buf, *consistency, *received, *block_for);
                codec::write_string(buf, write_type.as_str())?;
                if v5 && *write_type == WriteType::Cas {
                    codec::write_short(buf, contentions.unwrap_or(0));
                } else if contentions.is_some() {
                    return Err(EncodeError::Invalid(
                        "contentions are only sent for CAS writes in protocol v5".into(),
                    ));
                }
            }
            ErrorDetails::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => {
                write_acks(buf, *consistency, *received, *block_for);
                buf.put_u8(u8::from(*data_present));
            }
            ErrorDetails::ReadFailure {
                consistency,
                received,
                block_for,
                num_failures,
                reasons,
                data_present,
            } => {
                write_acks(buf, *consistency, *received, *block_for);
                write_failures(buf, v5, *num_failures, reasons)?;
                buf.put_u8(u8::from(*data_present));
            }
            ErrorDetails::FunctionFailure {
                keyspace,
                function,
                arg_types,
            } => {
                codec::write_string(buf, keyspace)?;
                codec::write_string(buf, function)?;
                codec::write_string_list(buf, arg_types)?;
            }
            ErrorDetails::WriteFailure {
                consistency,
                received,
                block_for,
                num_failures,
                reasons,
                write_type,
            } => {
                write_acks(buf, *consistency, *received, *block_for);
                write_failures(buf, v5, *num_failures, reasons)?;
                codec::write_string(buf, write_type.as_str())?;
            }
            ErrorDetails::CasWriteUnknown {
                consistency,
                received,
                block_for,
            } => {
                write_acks(buf, *consistency, *received, *block_for);
            }
            ErrorDetails::AlreadyExists { keyspace, table } => {
                codec::write_string(buf, keyspace)?;
                codec::write_string(buf, table)?;
            }
            ErrorDetails::Unprepared { id } => codec::write_short_bytes(buf, id)?,
            ErrorDetails::Unknown(raw) => buf.put_slice(raw),
        }
        Ok(())
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let code = ErrorCode(r.read_int("error code")?);
        let message = r.read_string("error message")?.to_owned();
        let v5 = version.is_v5_or_later();
        let cl = |r: &mut Reader<'_>| -> Result<Consistency, DecodeError> {
            Ok(Consistency(r.read_short("consistency")?))
        };
        let flag = |r: &mut Reader<'_>| -> Result<bool, DecodeError> {
            Ok(r.read_u8("data_present")? != 0)
        };
        let details = match layout_of_code(code) {
            Layout::None => ErrorDetails::None,
            Layout::Unavailable => ErrorDetails::Unavailable {
                consistency: cl(r)?,
                required: r.read_int("required")?,
                alive: r.read_int("alive")?,
            },
            Layout::WriteTimeout => {
                let (consistency, received, block_for) = read_acks(r)?;
                let write_type = WriteType::from_wire(r.read_string("write type")?);
                let contentions = if v5 && write_type == WriteType::Cas {
                    Some(r.read_short("contentions")?)
                } else {
                    None
                };
                ErrorDetails::WriteTimeout {
                    consistency,
                    received,
                    block_for,
                    write_type,
                    contentions,
                }
            }
            Layout::ReadTimeout => {
                let (consistency, received, block_for) = read_acks(r)?;
                ErrorDetails::ReadTimeout {
                    consistency,
                    received,
                    block_for,
                    data_present: flag(r)?,
                }
            }
            Layout::ReadFailure => {
                let (consistency, received, block_for) = read_acks(r)?;
                let (num_failures, reasons) = read_failures(r, v5)?;
                ErrorDetails::ReadFailure {
                    consistency,
                    received,
                    block_for,
                    num_failures,
                    reasons,
                    data_present: flag(r)?,
                }
            }
            Layout::FunctionFailure => ErrorDetails::FunctionFailure {
                keyspace: r.read_string("keyspace")?.to_owned(),
                function: r.read_string("function")?.to_owned(),
                arg_types: r.read_string_list("arg types")?,
            },
            Layout::WriteFailure => {
                let (consistency, received, block_for) = read_acks(r)?;
                let (num_failures, reasons) = read_failures(r, v5)?;
                ErrorDetails::WriteFailure {
                    consistency,
                    received,
                    block_for,
                    num_failures,
                    reasons,
                    write_type: WriteType::from_wire(r.read_string("write type")?),
                }
            }
            Layout::CasWriteUnknown => {
                let (consistency, received, block_for) = read_acks(r)?;
                ErrorDetails::CasWriteUnknown {
                    consistency,
                    received,
                    block_for,
                }
            }
            Layout::AlreadyExists => ErrorDetails::AlreadyExists {
                keyspace: r.read_string("keyspace")?.to_owned(),
                table: r.read_string("table")?.to_owned(),
            },
            Layout::Unprepared => ErrorDetails::Unprepared {
                id: body.slice_ref(r.read_short_bytes("unprepared id")?),
            },
            Layout::Unknown => {
                let rest = r.rest();
                let raw = body.slice_ref(rest);
                r.take(rest.len(), "error details")?;
                ErrorDetails::Unknown(raw)
            }
        };
        Ok(Self {
            code,
            message,
            details,
        })
    }
}
