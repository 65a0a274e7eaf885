//! Deserializing one value: the [`DeserializeValue`] trait of `cql-proto`, re-exported.

pub use proto::value::DeserializeValue;
