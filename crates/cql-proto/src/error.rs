//! Errors of the codec, one enum per concern.

/// A body, value or primitive notation could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a value of the expected size.
    #[error("unexpected end of input: needed {needed} more bytes for {what}")]
    UnexpectedEof {
        /// What was being read.
        what: &'static str,
        /// How many bytes were missing.
        needed: usize,
    },
    /// A length field was negative where the spec does not allow it, or too large.
    #[error("invalid length {len} for {what}")]
    InvalidLength {
        /// What was being read.
        what: &'static str,
        /// The length found on the wire.
        len: i64,
    },
    /// A string was not valid UTF-8 (or not ASCII where ASCII is required).
    #[error("invalid {what} string: not valid UTF-8")]
    InvalidUtf8 {
        /// What was being read.
        what: &'static str,
    },
    /// Bytes were left after a body or value was fully read.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// What was being read.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// A field had a value the spec does not allow.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A value did not match the CQL type it was read as.
    #[error("type mismatch: expected {expected}, got {got}")]
    TypeMismatch {
        /// The type that was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// Type nesting went deeper than the decoder allows.
    #[error("type nesting deeper than {max} levels")]
    TooDeep {
        /// The nesting limit.
        max: usize,
    },
    /// A valid CQL value lies outside the range of the Rust type it was read as.
    #[error(
        "{value} is outside the range of {rust_type}; read it as the matching Cql* type instead"
    )]
    ValueOutOfRange {
        /// The CQL type and value, as CQL writes it (`timestamp 9999999-01-01 00:00:00.000Z`).
        value: String,
        /// The Rust type that cannot hold it.
        rust_type: &'static str,
    },
}

impl DecodeError {
    /// Shorthand for [`DecodeError::Invalid`].
    pub fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            detail: detail.into(),
        }
    }
}

/// A message or value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A length does not fit the field the protocol gives it.
    #[error("{what} of {len} bytes does not fit in the protocol's length field")]
    TooLong {
        /// What was being written.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A value does not match the CQL type it is written as.
    #[error("cannot encode {got} as CQL type {expected}")]
    TypeMismatch {
        /// The CQL type.
        expected: String,
        /// What was given.
        got: String,
    },
    /// The message or value is not valid for the protocol version.
    #[error("{0}")]
    Invalid(String),
    /// A Rust value lies outside the range of the CQL type it is written as.
    #[error("{rust_type} value {value} is outside the range of the CQL type it is written as")]
    ValueOutOfRange {
        /// The Rust type of the value.
        rust_type: &'static str,
        /// The value and the CQL type (`23:59:60.5 as time`).
        value: String,
    },
}
