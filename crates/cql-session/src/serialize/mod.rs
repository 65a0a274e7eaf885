//! Serializing bound values.
//!
//! A statement's bound values are a *row*: a type implementing [`SerializeRow`]. A row writes one
//! `[value]` per bind marker into a [`RowWriter`], in the order of the bind markers given by the
//! [`RowSerializationContext`] (the prepared statement's bind metadata). Each single value goes
//! through [`SerializeValue`] (the trait of `cql-proto`, re-exported here), which checks the Rust
//! value against the marker's CQL type.
//!
//! Values are serialized once per request, into the request's own buffer, and type-checked before
//! anything is sent: a wrong arity or a wrong type is a [`SerializationError`], not a server error.

pub mod batch;
#[doc(hidden)]
pub mod derive_support;
pub mod row;
pub mod value;
mod writer;

use std::error::Error;
use std::sync::Arc;

pub use batch::BatchValues;
pub use row::{RowSerializationContext, SerializeRow};
pub use value::SerializeValue;
pub use writer::RowWriter;

use proto::EncodeError;

/// Bound values could not be serialized for a statement.
///
/// Raised before the request is sent, so the server never sees a malformed request.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SerializationError {
    /// The row has a different number of values than the statement has bind markers.
    #[error(
        "{rust_type} provides {got} values but the statement has {expected} bind markers; \
         pass exactly one value per `?`"
    )]
    WrongColumnCount {
        /// The Rust type of the row.
        rust_type: &'static str,
        /// The number of bind markers.
        expected: usize,
        /// The number of values given.
        got: usize,
    },
    /// A named row (a struct or a map) has no value for a bind marker.
    #[error(
        "{rust_type} has no value for bind marker `{name}`; add a field or map entry with that name"
    )]
    ValueMissingForColumn {
        /// The Rust type of the row.
        rust_type: &'static str,
        /// The bind marker's name.
        name: String,
    },
    /// A named row (a struct or a map) has a value the statement has no bind marker for.
    #[error(
        "{rust_type} has a value named `{name}` but the statement has no bind marker of that name"
    )]
    NoColumnWithName {
        /// The Rust type of the row.
        rust_type: &'static str,
        /// The value's name.
        name: String,
    },
    /// One value could not be serialized as its bind marker's CQL type.
    #[error("bind marker {index} (`{name}`): {source}")]
    Column {
        /// The position of the bind marker.
        index: usize,
        /// The bind marker's name.
        name: String,
        /// Why the value could not be written (it names the marker's CQL type).
        #[source]
        source: EncodeError,
    },
    /// More values than the protocol's `[short]` value count allows.
    #[error("{got} bound values exceed the protocol limit of 65535")]
    TooManyValues {
        /// The number of values.
        got: usize,
    },
    /// Values were given to a statement whose bind markers are unknown.
    #[error(
        "values were given but the bind markers' types are unknown; prepare the statement first"
    )]
    MissingBindMetadata,
    /// An error raised by a user's own implementation.
    #[error(transparent)]
    Custom(Arc<dyn Error + Send + Sync>),
}

impl SerializationError {
    /// Wraps any error from a user's own [`SerializeRow`] implementation.
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(err))
    }
}

#[cfg(test)]
mod tests;
