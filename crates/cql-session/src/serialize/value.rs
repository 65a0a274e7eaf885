//! Serializing one value: the [`SerializeValue`] trait of `cql-proto`, re-exported.

pub use proto::value::SerializeValue;
