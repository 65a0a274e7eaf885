//! Deserializing results: rows ([`row::DeserializeRow`]) and single values
//! ([`value::DeserializeValue`]).
//!
//! A result's rows stay in the response frame's bytes; a typed iterator checks the Rust row type
//! against the result's column specs once ([`DeserializeRow::type_check`]), then decodes each row
//! on demand ([`DeserializeRow::deserialize`]), borrowing `&str` and `&[u8]` from the frame where
//! the Rust type asks for it.

#[doc(hidden)]
pub mod derive_support;
pub mod result;
pub mod row;
pub mod value;

use std::error::Error;
use std::sync::Arc;

use proto::DecodeError;

pub use result::TypedRowIterator;
pub use row::{ColumnIterator, DeserializeOwnedRow, DeserializeRow, RawColumn};
pub use value::DeserializeValue;

/// A Rust row type does not fit a result's columns. Raised once per result, before any row is
/// decoded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TypeCheckError {
    /// A positional row type (a tuple) has a different number of values than the result has
    /// columns.
    #[error(
        "{rust_type} has {expected} values but the result has {got} columns; \
         select as many columns as the row type has values"
    )]
    WrongColumnCount {
        /// The Rust row type.
        rust_type: &'static str,
        /// The number of values of the Rust type.
        expected: usize,
        /// The number of columns in the result.
        got: usize,
    },
    /// A named row type has a field for which the result has no column.
    #[error(
        "{rust_type} needs column `{name}` but the result has no such column; \
         select it or rename the field"
    )]
    MissingColumn {
        /// The Rust row type.
        rust_type: &'static str,
        /// The column the type needs.
        name: String,
    },
    /// The result has a column a named row type has no field for.
    #[error(
        "the result has column `{name}` but {rust_type} has no field for it; \
         remove it from the SELECT or add a field"
    )]
    UnexpectedColumn {
        /// The Rust row type.
        rust_type: &'static str,
        /// The column's name.
        name: String,
    },
    /// A column's CQL type cannot be read as the Rust type of its field or tuple element.
    #[error("column {index} (`{name}`) does not fit {rust_type}: {source}")]
    ColumnType {
        /// The Rust row type.
        rust_type: &'static str,
        /// The column's position.
        index: usize,
        /// The column's name.
        name: String,
        /// Why the type does not fit (it names the column's CQL type).
        #[source]
        source: DecodeError,
    },
    /// An error raised by a user's own implementation.
    #[error(transparent)]
    Custom(Arc<dyn Error + Send + Sync>),
}

impl TypeCheckError {
    /// Wraps any error from a user's own [`DeserializeRow::type_check`].
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(err))
    }
}

/// A row could not be decoded (after its type check passed).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DeserializationError {
    /// A column's bytes could not be decoded as the Rust type asked for.
    #[error("column {index} (`{name}`) could not be read as {rust_type}: {source}")]
    Column {
        /// The Rust row type.
        rust_type: &'static str,
        /// The column's position.
        index: usize,
        /// The column's name.
        name: String,
        /// Why the bytes could not be decoded.
        #[source]
        source: DecodeError,
    },
    /// The row ended before a column the Rust type needs.
    #[error("{rust_type} needs column `{name}` but the row ended before it")]
    MissingColumn {
        /// The Rust row type.
        rust_type: &'static str,
        /// The column the type needs.
        name: String,
    },
    /// The rows data of the response is malformed.
    #[error("malformed rows in the response: {0}")]
    Malformed(#[source] DecodeError),
    /// An error raised by a user's own implementation.
    #[error(transparent)]
    Custom(Arc<dyn Error + Send + Sync>),
}

impl DeserializationError {
    /// Wraps any error from a user's own [`DeserializeRow::deserialize`].
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(err))
    }
}

#[cfg(test)]
mod tests;
